"""Agent Server custom auth: only the Threadgate gateway may call, one user at a time.

The gateway authenticates people itself and calls the Agent Server with its service
credential (`x-threadgate-service-key`) plus the verified user (`x-threadgate-user`).
Here every thread, run, cron and store item is stamped with that user as `owner` and
every read, search and write is filtered by it, so isolation holds even if the gateway
had a bug. A caller without the service credential is refused outright.
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from langgraph_sdk import Auth

SERVICE_KEY_ENV = "THREADGATE_SERVICE_KEY"
SERVICE_KEY_HEADER = b"x-threadgate-service-key"
USER_HEADER = b"x-threadgate-user"
# The gateway's own maintenance (scheduled retention) acts across all users.
SYSTEM_USER = "threadgate:system"

auth = Auth()


def namespace_label(identity: str) -> str:
    """A user id as a store namespace label: labels may not contain '.', so escape it."""
    return identity.replace("%", "%25").replace(".", "%2E")


def _refuse(detail: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=401, detail=detail)


@auth.authenticate
async def authenticate(headers: dict[bytes, bytes]) -> Auth.types.MinimalUserDict:
    expected = os.environ.get(SERVICE_KEY_ENV, "").encode()
    presented = headers.get(SERVICE_KEY_HEADER, b"")
    # With no key configured nothing gets in: a misconfigured server fails closed.
    if not expected or not hmac.compare_digest(presented, expected):
        raise _refuse("the Threadgate service credential is required")
    user = headers.get(USER_HEADER, b"").decode("utf-8", "replace").strip()
    if not user:
        raise _refuse("a user identity is required")
    return {"identity": user}


@auth.on.assistants
async def shared_assistants(ctx: Auth.types.AuthContext, value: Any) -> None:  # noqa: ARG001
    # Assistants are deployment configuration, read by every user's runs; only reading.
    if ctx.action not in ("read", "search"):
        raise Auth.exceptions.HTTPException(status_code=403, detail="assistants are read-only")


@auth.on.store
async def own_store_namespace(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Store items live under a namespace that starts with their owner's id."""
    user = ctx.user.identity
    if user == SYSTEM_USER:
        return
    namespace = tuple(value.get("namespace") or ())
    if not namespace or namespace[0] != namespace_label(user):
        raise Auth.exceptions.HTTPException(status_code=403, detail="not your namespace")


@auth.on
async def owner_only(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | None:
    """Threads, runs and crons: stamp the owner on writes, filter every access by it."""
    user = ctx.user.identity
    if user == SYSTEM_USER:
        return None
    if isinstance(value, dict) and ctx.action in ("create", "create_run", "update"):
        # In place: the server keeps its own reference to this dict. Overwrites any
        # owner the client tried to set.
        metadata = value.get("metadata")
        if not isinstance(metadata, dict):
            metadata = value["metadata"] = {}
        metadata["owner"] = user
    return {"owner": user}
