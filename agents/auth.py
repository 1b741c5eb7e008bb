"""Agent Server custom auth: what each caller may do in the space they act in.

Who is calling, and in which space, is `agents.identity`: the identity the server
sees is the space's owner label (the user id, or `team:<name>`), so threads, runs,
crons and library assistants are stamped with it and every access is filtered by that
one equality; store items live under its namespace. In a team each action also needs
the caller's role to allow it (`_ability`, one table the README lists), and a thread
waiting at an approval takes only its answer (`agents.approvals`, four-eyes there).
The graph's own assistant is read-only; the caps and the cron rule (`agents.limits`)
are checked here, where SDK scripts meet them too. Anything no handler below allows is
refused, since the platform allows what has no handler.
"""

from __future__ import annotations

import os
from typing import Any

from langgraph_sdk import Auth

from agents.approvals import STARTED_BY, check_run_on_thread, resumes
from agents.contract import (
    AUDIT,
    GRAPH_ID,
    LIBRARY_DOCUMENTS,
    LIBRARY_MARK,
    SYSTEM_USER,
    namespace_label,
    workflow_assistant_id,
)
from agents.identity import check_settings_at_start, forbidden, identify
from agents.limits import (
    INVALID_END_TIME,
    refuse_bad_cron,
    refuse_past_active_run_limit,
    refuse_past_schedule_limit,
)
from agents.loopback import system_assistants
from agents.teams import (
    Ability,
    Role,
    may,
    refusal,
)

auth = Auth()


check_settings_at_start()
auth.authenticate(identify)


# What marks the assistants the server made for its graphs (everyone reads those).
SYSTEM_MARK = "created_by"
# Who created a schedule (in a team: which member); who started a thread or run is
# `STARTED_BY` (agents.approvals reads it for four-eyes).
CREATED_BY = "created_by"


def _caller(ctx: Auth.types.AuthContext, field: str) -> Any:
    # What `authenticate` returned beside the identity (the server's user proxy has `get`).
    return getattr(ctx.user, "get", lambda _: None)(field)


def _person(ctx: Auth.types.AuthContext) -> str:
    return str(_caller(ctx, "person") or ctx.user.identity)


def _require(ctx: Auth.types.AuthContext, ability: Ability) -> None:
    """In a team, refuse what the caller's role does not allow (their own space: all)."""
    team, role = _caller(ctx, "team"), _caller(ctx, "role")
    if team is not None and not may(Role(role), ability):
        raise forbidden(refusal(ability, team, Role(role)))


_READS = {"read", "search", "get", "list_namespaces"}


def _namespace(value: Any) -> tuple[str, ...]:
    return tuple(value.get("namespace") or ()) if isinstance(value, dict) else ()


def _ability(ctx: Auth.types.AuthContext, value: Any) -> Ability:
    """What this resource and action needs (answering an approval is a run that resumes
    with a command; every other run is the operator's)."""
    if ctx.action in _READS:
        return Ability.READ
    if ctx.action == "delete" and ctx.resource in ("threads", "assistants"):
        return Ability.DELETE
    if ctx.action == "delete" and _namespace(value)[1:3] == LIBRARY_DOCUMENTS:
        return Ability.DELETE  # a saved workflow's content: deleting it deletes the workflow
    if ctx.action == "create_run" and resumes(value):
        return Ability.APPROVE
    return Ability.RUN


@auth.on
async def refuse_by_default(ctx: Auth.types.AuthContext, value: Any) -> None:  # noqa: ARG001
    """Whatever no handler below names (assistant writes, new resources) is refused."""
    raise Auth.exceptions.HTTPException(
        status_code=403, detail=f"{ctx.resource}.{ctx.action} is not allowed"
    )


@auth.on.assistants.create
async def create_library_workflow(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType:
    """Users create assistants only as their own library workflows: of the workflow
    graph, marked, and with the id derived from their own identity and the workflow's,
    so nobody can take the id another user's workflow will have."""
    _require(ctx, _ability(ctx, value))
    user = ctx.user.identity
    metadata = value.get("metadata")
    if not isinstance(metadata, dict):
        metadata = value["metadata"] = {}
    workflow_id = metadata.get("workflow_id")
    if (
        value.get("graph_id") != GRAPH_ID
        or SYSTEM_MARK in metadata
        or any(metadata.get(k) != v for k, v in LIBRARY_MARK.items())
        or not isinstance(workflow_id, str)
        or str(value.get("assistant_id")) != workflow_assistant_id(user, workflow_id)
    ):
        raise Auth.exceptions.HTTPException(
            status_code=403,
            detail="assistants are created only as library workflows "
            "(POST /api/workflows on the gateway)",
        )
    metadata["owner"] = user
    return {"owner": user}


@auth.on.assistants.update
async def update_own_workflow(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType:
    """A new version of one's own library workflow. Moving "latest" back is refused:
    a rollback adds a version, so the latest version is always the highest."""
    _require(ctx, _ability(ctx, value))
    user = ctx.user.identity
    if value.get("version") is not None:
        raise Auth.exceptions.HTTPException(
            status_code=403,
            detail="set_latest is not allowed; POST /api/workflows/<id>/rollback adds the "
            "old version as the newest",
        )
    if value.get("graph_id") not in (None, GRAPH_ID):
        raise Auth.exceptions.HTTPException(status_code=403, detail="the graph cannot change")
    metadata = value.get("metadata")
    if isinstance(metadata, dict):
        if SYSTEM_MARK in metadata:
            raise Auth.exceptions.HTTPException(
                status_code=403, detail=f"metadata.{SYSTEM_MARK} is the server's own"
            )
        metadata["owner"] = user  # in place: the server keeps this dict
    return {"owner": user}


@auth.on.assistants.delete
async def delete_own_workflow(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType:
    _require(ctx, _ability(ctx, value))
    return {"owner": ctx.user.identity}


@auth.on.assistants.read
async def read_assistants(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | None:
    """The graph's own assistant (deployment configuration, run by everyone) and one's
    own library workflows."""
    if str(value.get("assistant_id")) in await system_assistants():
        return None
    _require(ctx, _ability(ctx, value))
    return {"owner": ctx.user.identity}


@auth.on.assistants.search
async def search_assistants(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType:
    """One's own library workflows (filters are ANDed: the graph's own assistant,
    which has no owner, is read by id)."""
    _require(ctx, _ability(ctx, value))
    return {"owner": ctx.user.identity}


@auth.on.store
async def own_store_namespace(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Store items live under a namespace that starts with their owner's label. The
    audit trail under it is written by the gateway's system identity alone."""
    user = ctx.user.identity
    if user == SYSTEM_USER:
        return
    namespace = _namespace(value)
    if not namespace or namespace[0] != namespace_label(user):
        raise Auth.exceptions.HTTPException(status_code=403, detail="not your namespace")
    ability = _ability(ctx, value)
    if ability is not Ability.READ and namespace[1 : 1 + len(AUDIT)] == AUDIT:
        raise forbidden("the audit trail is written by the gateway alone")
    _require(ctx, ability)


@auth.on.threads
async def own_threads(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | None:
    """Threads and their runs: stamp the owner (and who started it) on writes, filter
    every access by the owner. A new run past the space's active-run cap is refused
    (429, with Retry-After); so is answering a four-eyes approval one started."""
    if ctx.user.identity == SYSTEM_USER:
        return None
    _require(ctx, _ability(ctx, value))
    if ctx.action == "create_run":
        await check_run_on_thread(value, _person(ctx))
        await refuse_past_active_run_limit(ctx.user.identity)
    if isinstance(value, dict) and ctx.action in ("create", "create_run"):
        _metadata(value)[STARTED_BY] = _person(ctx)
    if ctx.action == "update" and STARTED_BY in _metadata(value):
        raise forbidden(f"metadata.{STARTED_BY} is recorded by the server")
    return _owner_only(ctx, value)


@auth.on.crons
async def own_crons(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | None:
    """Crons (schedules): the same rule as threads."""
    if ctx.user.identity != SYSTEM_USER:
        _require(ctx, _ability(ctx, value))
    if isinstance(value, dict) and value.get("end_time") and _in_memory_runtime():
        # runtime-inmem keeps end_time as the string it was sent and then compares it
        # with a datetime: the scheduler's loop fails, and no cron of anyone fires.
        raise Auth.exceptions.HTTPException(
            status_code=422,
            detail=f"{INVALID_END_TIME}: end_time is not supported by the in-memory runtime; "
            "disable or delete the schedule instead",
        )
    if ctx.user.identity != SYSTEM_USER and isinstance(value, dict):
        if ctx.action == "create" or value.get("schedule") is not None:
            refuse_bad_cron(value.get("schedule"))
        if ctx.action == "create":
            await refuse_past_schedule_limit(ctx.user.identity)
            _metadata(value)[CREATED_BY] = _person(ctx)
        elif ctx.action == "update" and CREATED_BY in (value.get("metadata") or {}):
            raise forbidden(f"metadata.{CREATED_BY} is recorded by the server")
    return _owner_only(ctx, value)


def _in_memory_runtime() -> bool:
    # `langgraph dev` sets this; the platform's images run the Postgres runtime.
    return os.environ.get("LANGGRAPH_RUNTIME_EDITION", "inmem") == "inmem"


def _metadata(value: Any) -> dict[str, Any]:
    """The metadata of a write, made if absent. In place: the server keeps its own
    reference to this dict."""
    if not isinstance(value, dict):
        return {}
    metadata = value.get("metadata")
    if not isinstance(metadata, dict):
        metadata = value["metadata"] = {}
    return metadata


def _owner_only(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | None:
    user = ctx.user.identity
    if user == SYSTEM_USER:
        return None
    if ctx.action in ("create", "create_run", "update"):
        # Overwrites any owner the client tried to set.
        _metadata(value)["owner"] = user
    return {"owner": user}
