"""Each action a caller takes through the gateway, written to the Agent Server's store
after it succeeded, and read back per thread or per space.

Events live under the space's namespace, one namespace per UTC day, so the newest
come first without relying on how a runtime orders a store search (the in-memory
store answers oldest first, the Postgres one newest first). Only the gateway's system
identity may write there (`agents.auth`); members of the space read it. The gateway
keeps nothing: any replica writes and reads the same trail.

An action whose event cannot be written stands (it happened): the failure is logged.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import APIError

from agents.contract import audit_namespace
from gateway.agent.client import SYSTEM, Actor, as_user

logger = logging.getLogger(__name__)

Action = Literal[
    "execute",
    "pause",
    "resume",
    "approve",
    "reject",
    "cancel",
    "fork",
    "delete",
    "save_as_workflow",
    "handover",
]
# Store searches answer at most this many items a call.
_PAGE = 100
# The most days with events `GET /api/audit` lists (ten years of daily use).
MAX_DAYS = 3_660


@dataclass(frozen=True)
class AuditEvent:
    at: str
    actor: str
    action: str
    thread_id: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, value: dict[str, Any]) -> AuditEvent:
        details = value.get("details")
        return cls(
            at=str(value.get("at", "")),
            actor=str(value.get("actor", "")),
            action=str(value.get("action", "")),
            thread_id=value.get("thread_id"),
            details=details if isinstance(details, dict) else {},
        )


async def record(
    agent: LangGraphClient,
    user: Actor,
    action: Action,
    thread_id: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write one event to the trail of the space `user` acts in."""
    now = datetime.now(UTC)
    at = now.isoformat(timespec="microseconds")
    event = {
        "at": at,
        "actor": user.person,
        "action": action,
        "thread_id": thread_id,
        "details": details or {},
    }
    # The key sorts as the time does; the suffix keeps two events of one instant apart.
    key = f"{at}-{uuid.uuid4().hex[:12]}"
    namespace = list(audit_namespace(user.owner, now.date().isoformat()))
    try:
        await agent.store.put_item(namespace, key, event, index=False, headers=as_user(SYSTEM))
    except (APIError, httpx.HTTPError) as exc:
        logger.warning(
            "audit event not written (%s on thread %s by %s): %s",
            action,
            thread_id,
            user,
            type(exc).__name__,
        )


async def thread_events(agent: LangGraphClient, user: Actor, thread_id: str) -> list[AuditEvent]:
    """The thread's events, oldest first."""
    found = await _all(
        agent, user, list(audit_namespace(user.owner)), filter={"thread_id": thread_id}
    )
    return [AuditEvent.of(item["value"]) for item in sorted(found, key=_key)]


async def space_events(
    agent: LangGraphClient, user: Actor, *, limit: int, offset: int
) -> tuple[list[AuditEvent], bool]:
    """A page of the space's events, newest first, and whether more follow."""
    days = sorted(await _days(agent, user), reverse=True)
    wanted = offset + limit + 1  # one more tells whether a next page exists
    newest_first: list[dict[str, Any]] = []
    for day in days:
        items = await _all(agent, user, list(audit_namespace(user.owner, day)))
        newest_first += sorted(items, key=_key, reverse=True)
        if len(newest_first) >= wanted:
            break
    page = newest_first[offset : offset + limit]
    return [AuditEvent.of(item["value"]) for item in page], len(newest_first) > offset + limit


async def _days(agent: LangGraphClient, user: Actor) -> set[str]:
    """The days the space has events on (listed in no order a runtime promises)."""
    prefix = audit_namespace(user.owner)
    days: set[str] = set()
    for offset in range(0, MAX_DAYS, _PAGE):
        found = await agent.store.list_namespaces(
            prefix=list(prefix),
            max_depth=len(prefix) + 1,
            limit=_PAGE,
            offset=offset,
            headers=as_user(user),
        )
        days |= {tuple(ns)[-1] for ns in found["namespaces"]}
        if len(found["namespaces"]) < _PAGE:
            break
    return days


def _key(item: dict[str, Any]) -> str:
    return str(item["key"])


async def _all(
    agent: LangGraphClient,
    user: Actor,
    namespace: list[str],
    filter: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = await agent.store.search_items(
            namespace, filter=filter, limit=_PAGE, offset=len(found), headers=as_user(user)
        )
        items = [dict(item) for item in page["items"]]
        found += items
        if len(items) < _PAGE:
            return found
