"""The Agent Server's own API, called in process by code that runs inside it (auth
handlers, graph nodes).

`get_client()` with no URL talks to the server it runs in. A call made while a request
is being served acts as that request's user (the auth context is inherited), so the
user's own filters apply; `as_server` runs a call outside any request instead. Using
the public API rather than the runtime's internals keeps this working on the in-memory
and the Postgres runtime alike.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from functools import cache
from typing import TypeVar

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

T = TypeVar("T")
_system: set[str] = set()


@cache
def loopback() -> LangGraphClient:
    return get_client()


async def as_server(call: Callable[[], Awaitable[T]]) -> T:
    """Run `call` in a fresh context: no caller's identity, so no user's filters."""
    return await asyncio.create_task(_awaited(call), context=contextvars.Context())


async def _awaited(call: Callable[[], Awaitable[T]]) -> T:
    return await call()


async def system_assistants() -> set[str]:
    """The ids of the assistants the server made for its graphs (read by every user)."""
    if not _system:  # made at start-up, unchanged while the server runs
        found = await as_server(
            lambda: loopback().assistants.search(metadata={"created_by": "system"}, limit=100)
        )
        # Users' assistants always carry their owner (agents.auth stamps it).
        _system.update(
            str(a["assistant_id"]) for a in found if "owner" not in (a["metadata"] or {})
        )
    return _system
