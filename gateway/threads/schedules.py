"""Schedules: saved workflows run on a cron, by the Agent Server's own crons.

A schedule is one Agent Server cron whose input is a library reference (the agent
loads the version it names, or the latest one, when each run starts) and whose
metadata names it; each firing runs on a new thread that keeps that metadata, so
thread search by `schedule_id` finds its runs. The gateway stores nothing: the
schedule id lives in the cron's metadata and is found again by it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import BadRequestError, UnprocessableEntityError
from langgraph_sdk.schema import Cron
from pydantic import BaseModel, Field

from agents.contract import LibraryRef
from gateway.threads.agent import as_user
from gateway.threads.errors import Invalid, NotFound
from gateway.threads.executions import STREAM_MODES
from gateway.threads.library import saved_plan

# Marks the crons that are schedules, so listings skip any other cron the user made.
KIND = {"threadgate": "schedule"}


class Schedule(BaseModel):
    schedule_id: str
    workflow_id: str
    version: int | None = Field(description="The version each run uses; null: the latest.")
    cron: str = Field(description="Five-field cron expression.")
    timezone: str | None
    enabled: bool
    end_time: datetime | None = Field(description="No runs after this time.")
    webhook: str | None
    next_run_at: datetime | None
    created_at: datetime
    updated_at: datetime


def check_cron(expression: str) -> str:
    """Five fields, as the README documents; the Agent Server checks each field.

    Its parser also takes a sixth (seconds) field, which would let one schedule start
    a run every second: refused here.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise Invalid(
            "cron",
            f"cron must have five fields (minute hour day month weekday), got {len(fields)}",
        )
    return " ".join(fields)


async def create_schedule(
    agent: LangGraphClient,
    user: str,
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
    cron = check_cron(cron)
    await saved_plan(agent, user, workflow_id, version)  # 404 if not saved
    schedule_id = str(uuid.uuid4())
    metadata: dict[str, Any] = {
        **KIND,
        "schedule_id": schedule_id,
        "workflow_id": workflow_id,
    }
    if version is not None:
        metadata["workflow_version"] = version
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
        )
    )
    return schedule_view(created)


async def find_schedules(
    agent: LangGraphClient, user: str, *, workflow_id: str | None, limit: int, offset: int
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
    return [schedule_view(c) for c in found], total


async def get_schedule(agent: LangGraphClient, user: str, schedule_id: str) -> Schedule:
    return schedule_view(await _cron(agent, user, schedule_id))


async def change_schedule(
    agent: LangGraphClient, user: str, schedule_id: str, changes: dict[str, Any]
) -> Schedule:
    """Enable, disable, re-time: only the given fields change (`end_time` None clears it)."""
    for field in ("enabled", "cron", "timezone"):
        if field in changes and changes[field] is None:
            raise Invalid(field, f"{field} cannot be null; leave it out to keep it")
    if not changes:
        raise Invalid("body", "nothing to change: send enabled, cron, timezone or end_time")
    cron = await _cron(agent, user, schedule_id)
    if "cron" in changes:
        changes["schedule"] = check_cron(changes.pop("cron"))
    updated = await _refusing_invalid(
        agent.crons.update(cron["cron_id"], **changes, headers=as_user(user))
    )
    return schedule_view(updated)


async def delete_schedule(agent: LangGraphClient, user: str, schedule_id: str) -> None:
    """No more runs; the threads of earlier runs stay."""
    cron = await _cron(agent, user, schedule_id)
    await agent.crons.delete(cron["cron_id"], headers=as_user(user))


async def delete_schedules_of(agent: LangGraphClient, user: str, workflow_id: str) -> int:
    """Remove every schedule of a workflow (it is being deleted); how many there were."""
    removed = 0
    while True:
        page, _ = await find_schedules(agent, user, workflow_id=workflow_id, limit=100, offset=0)
        for schedule in page:
            await delete_schedule(agent, user, schedule.schedule_id)
        removed += len(page)
        if len(page) < 100:
            return removed


def schedule_view(cron: Cron) -> Schedule:
    metadata = cron.get("metadata") or {}
    payload: dict[str, Any] = dict(cron.get("payload") or {})
    return Schedule(
        schedule_id=str(metadata.get("schedule_id")),
        workflow_id=str(metadata.get("workflow_id")),
        version=metadata.get("workflow_version"),
        cron=cron["schedule"],
        timezone=cron.get("timezone") or payload.get("timezone"),
        enabled=bool(cron.get("enabled", True)),
        end_time=cron.get("end_time"),
        webhook=payload.get("webhook"),
        next_run_at=cron.get("next_run_date"),
        created_at=cron["created_at"],
        updated_at=cron["updated_at"],
    )


async def _cron(agent: LangGraphClient, user: str, schedule_id: str) -> Cron:
    found = await agent.crons.search(
        metadata={**KIND, "schedule_id": schedule_id}, limit=1, headers=as_user(user)
    )
    if not found:
        raise NotFound("schedule", schedule_id)
    return found[0]


async def _refusing_invalid(call: Any) -> Any:
    """The Agent Server checks cron, timezone, webhook and end time; its refusal (422,
    or 400 for a cron or timezone its parser rejects later) becomes a 422 naming the field."""
    try:
        return await call
    except (UnprocessableEntityError, BadRequestError) as exc:
        text = exc.message or ""
        lowered = text.lower().replace("_", " ")
        # Whatever else it refuses is about when to run (e.g. "failed to find next
        # date" for a cron that can never fire).
        field = next(
            (f for f in ("timezone", "webhook", "end_time") if f.replace("_", " ") in lowered),
            "cron",
        )
        raise Invalid(field, text) from None
