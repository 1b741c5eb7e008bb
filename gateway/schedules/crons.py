"""Schedules: saved workflows run on a cron, by the Agent Server's own crons.

A schedule is one Agent Server cron whose input is a library reference (the agent
loads the version it names, or the latest one, when each run starts) and whose
metadata names it (and its webhook); each firing runs on a new thread that keeps
that metadata, so thread search by `schedule_id` finds its runs and their later runs
post to the webhook too. The gateway stores nothing: the schedule id lives in the
cron's metadata. A cron whose metadata the owner broke by hand is left out of listings
(a 409 `unreadable_schedule` when read by id).
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
)
from langgraph_sdk.schema import Cron

from agents.contract import LibraryRef
from agents.limits import (
    CRON_PATTERN,
    INVALID_CRON,
    INVALID_END_TIME,
    TOO_MANY_SCHEDULES,
    cron_fields_problem,
    limit_settings,
)
from gateway.agent.client import Actor, as_user
from gateway.errors import Conflict, Invalid, NotFound
from gateway.library.reads import delete_workflow, saved_plan, workflow_exists
from gateway.schedules.views import Schedule, schedule_view
from gateway.threads.executions import STREAM_MODES, WEBHOOK

logger = logging.getLogger(__name__)

# Marks the crons that are schedules, so listings skip any other cron the user made.
KIND = {"threadgate": "schedule"}


def check_cron(expression: str) -> str:
    """Five fields, as the README documents; the Agent Server's auth applies the same
    rule (`agents.limits`), for scripts that never pass the gateway."""
    if (problem := cron_fields_problem(expression)) is not None:
        raise Invalid("cron", problem)
    if re.fullmatch(CRON_PATTERN, expression) is None:  # what the OpenAPI document says
        raise Invalid(
            "cron",
            "cron is five fields (minute hour day month weekday) of numbers, `*`, ranges, "
            "lists and steps, separated by spaces, e.g. `*/15 9-17 * * 1-5`",
        )
    return " ".join(expression.split())


def check_timezone(timezone: str | None) -> str | None:
    """An IANA time zone, checked here so a refusal names the field for certain."""
    if timezone is None:
        return None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("timezone", f"'{timezone}' is not a known time zone") from None
    return timezone


async def create_schedule(
    agent: LangGraphClient,
    user: Actor,
    assistant_id: str,
    *,
    workflow_id: str,
    version: int | None,
    cron: str,
    timezone: str | None,
    end_time: datetime | None,
    enabled: bool,
    webhook: str | None,
) -> Schedule:
    cron, timezone = check_cron(cron), check_timezone(timezone)
    await saved_plan(agent, user, workflow_id, version)  # 404 if not saved
    schedule_id = str(uuid.uuid4())
    metadata: dict[str, Any] = {
        **KIND,
        "schedule_id": schedule_id,
        "workflow_id": workflow_id,
    }
    if version is not None:
        metadata["workflow_version"] = version
    if webhook is not None:
        metadata[WEBHOOK] = webhook  # each run's thread keeps it: its later runs post too
    ref: dict[str, Any] = dict(LibraryRef(workflow_id=workflow_id, version=version))
    created = await _refusing_invalid(
        agent.crons.create(
            assistant_id,
            schedule=cron,
            input={"library": ref},
            metadata=metadata,
            webhook=webhook,
            # Each firing's thread stays, to be found and read like any other run.
            on_run_completed="keep",
            enabled=enabled,
            timezone=timezone,
            end_time=end_time,
            stream_mode=STREAM_MODES,
            stream_resumable=True,
            headers=as_user(user),
        ),
        webhook=webhook,
    )
    # A delete of the workflow removes it first, then its schedules: a cron created
    # meanwhile is either listed by that delete or finds the workflow gone here.
    if not await workflow_exists(agent, user, workflow_id):
        await _delete_cron(agent, user, created["cron_id"])
        raise NotFound("workflow", workflow_id)
    return schedule_view(created)


async def find_schedules(
    agent: LangGraphClient, user: Actor, *, workflow_id: str | None, limit: int, offset: int
) -> tuple[list[Schedule], int]:
    """A page of the user's schedules, newest first, and how many in all."""
    metadata: dict[str, Any] = {**KIND}
    if workflow_id is not None:
        metadata["workflow_id"] = workflow_id
    headers = as_user(user)
    found = await agent.crons.search(
        metadata=metadata,
        limit=limit,
        offset=offset,
        sort_by="created_at",
        sort_order="desc",
        headers=headers,
    )
    total = await agent.crons.count(metadata=metadata, headers=headers)
    readable = []
    for cron in found:
        try:
            readable.append(schedule_view(cron))
        except Conflict as exc:
            logger.warning("schedule listing skips cron %s: %s", cron["cron_id"], exc.message)
    return readable, total


async def get_schedule(agent: LangGraphClient, user: Actor, schedule_id: str) -> Schedule:
    return schedule_view(await _cron(agent, user, schedule_id))


async def change_schedule(
    agent: LangGraphClient, user: Actor, schedule_id: str, changes: dict[str, Any]
) -> Schedule:
    """Enable, disable, re-time: only the given fields change (`end_time` None clears it)."""
    for field in ("enabled", "cron", "timezone"):
        if field in changes and changes[field] is None:
            raise Invalid(field, f"{field} cannot be null; leave it out to keep it")
    if not changes:
        raise Invalid("body", "nothing to change: send enabled, cron, timezone or end_time")
    cron = await _cron(agent, user, schedule_id)
    schedule_view(cron)  # an unreadable schedule is refused before it is changed
    if "cron" in changes:
        changes["schedule"] = check_cron(changes.pop("cron"))
    if "timezone" in changes:
        check_timezone(changes["timezone"])
    updated = await _refusing_invalid(
        agent.crons.update(cron["cron_id"], **changes, headers=as_user(user)), webhook=None
    )
    return schedule_view(updated)


async def delete_schedule(agent: LangGraphClient, user: Actor, schedule_id: str) -> None:
    """No more runs; the threads of earlier runs stay."""
    cron = await _cron(agent, user, schedule_id)
    await agent.crons.delete(cron["cron_id"], headers=as_user(user))


async def delete_workflow_with_schedules(
    agent: LangGraphClient, user: Actor, workflow_id: str
) -> None:
    """Delete a saved workflow, then every schedule of it; threads that ran it stay.

    The workflow goes first, so a schedule created meanwhile cannot outlive it (see
    `create_schedule`). A workflow already gone is a 404, after removing any schedules
    an interrupted delete left behind.
    """
    try:
        await delete_workflow(agent, user, workflow_id)
    except NotFound:
        await delete_schedules_of(agent, user, workflow_id)
        raise
    await delete_schedules_of(agent, user, workflow_id)


async def delete_schedules_of(agent: LangGraphClient, user: Actor, workflow_id: str) -> None:
    """Remove every schedule of a workflow, readable or not, until none is left."""
    metadata, seen = {**KIND, "workflow_id": workflow_id}, set[str]()
    while page := await agent.crons.search(metadata=metadata, limit=100, headers=as_user(user)):
        fresh = {cron["cron_id"] for cron in page} - seen
        if not fresh:
            return  # none of these would go: never loop on them
        seen |= fresh
        for cron_id in fresh:
            await _delete_cron(agent, user, cron_id)


async def _cron(agent: LangGraphClient, user: Actor, schedule_id: str) -> Cron:
    found = await agent.crons.search(
        metadata={**KIND, "schedule_id": schedule_id}, limit=1, headers=as_user(user)
    )
    if not found:
        raise NotFound("schedule", schedule_id)
    return found[0]


async def _delete_cron(agent: LangGraphClient, user: Actor, cron_id: str) -> None:
    """Delete a cron that may be deleted at the same moment by another request."""
    with contextlib.suppress(NotFoundError):
        await agent.crons.delete(cron_id, headers=as_user(user))


# The Agent Server's auth refuses a cron write with one of these codes first in its
# message (`agents.limits`, `agents.auth`); each names the field at fault.
_REFUSAL_FIELDS = {INVALID_CRON: "cron", INVALID_END_TIME: "end_time"}


async def _refusing_invalid(call: Any, *, webhook: str | None) -> Any:
    """A cron write, its refusals in the gateway's words: a code our auth put first in
    its message names the field; the cron and time zone are checked before the call,
    so what the Agent Server itself refuses is the webhook (its URL policy) when one
    was given, else the request as a whole."""
    try:
        return await call
    except (UnprocessableEntityError, BadRequestError, ConflictError) as exc:
        text = exc.message or ""
        code, _, said = text.partition(": ")
        if code == TOO_MANY_SCHEDULES:
            max_schedules = limit_settings().max_schedules_per_user
            raise Conflict(code, said, {"max_schedules": max_schedules}) from None
        if isinstance(exc, ConflictError):
            raise
        if code in _REFUSAL_FIELDS:
            raise Invalid(_REFUSAL_FIELDS[code], said) from None
        raise Invalid("webhook" if webhook is not None else "body", text) from None
