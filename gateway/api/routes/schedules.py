"""Schedules: run a saved workflow on a cron (the Agent Server's crons)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic.json_schema import SkipJsonSchema

from agents.limits import CRON_PATTERN
from gateway.api.deps import AgentDep, CurrentUser, Operator, SettingsDep
from gateway.api.models import (
    BodyVersion,
    LibraryId,
    Page,
    PageLimit,
    PageOffset,
    Webhook,
    page_size,
)
from gateway.api.routes.common import AUTHENTICATED, ERRORS
from gateway.schedules.crons import (
    change_schedule,
    create_schedule,
    delete_schedule,
    find_schedules,
    get_schedule,
)
from gateway.schedules.views import Schedule
from gateway.threads.ids import UUID_PATTERN

router = APIRouter(
    prefix="/api/schedules", tags=["schedules"], dependencies=AUTHENTICATED, responses=ERRORS
)

ScheduleIdPath = Annotated[str, Path(pattern=UUID_PATTERN, description="A schedule id.")]


# The pattern is published, and checked (naming the field) by `check_cron`.
CronExpression = Annotated[
    str,
    Field(
        max_length=200,
        json_schema_extra={"pattern": CRON_PATTERN},
        description="Five-field cron, e.g. `*/15 * * * *`; evaluated in `timezone` (UTC if "
        "unset). A date no month has (`0 0 30 2 *`) is refused: it never fires.",
        examples=["0 9 * * 1-5"],
    ),
]
# The time zones this machine knows, by name (checked again, naming the field, in the route).
TimeZone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        examples=["Europe/Paris"],
        json_schema_extra={"enum": sorted(available_timezones())},
    ),
]


class ScheduleRequest(BaseModel):
    workflow_id: LibraryId
    version: BodyVersion | None = Field(default=None, description="Pin a version; else the latest.")
    cron: CronExpression
    timezone: TimeZone | None = None
    end_time: datetime | None = Field(default=None, description="No runs after this time.")
    enabled: StrictBool = True
    webhook: Webhook | None = None


class ScheduleChange(BaseModel):
    """Only the fields sent change; `end_time: null` clears it, and the others cannot be
    null (leave them out to keep them)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    enabled: StrictBool | SkipJsonSchema[None] = None
    cron: CronExpression | SkipJsonSchema[None] = None
    timezone: TimeZone | SkipJsonSchema[None] = None
    end_time: datetime | None = None


class SchedulePage(Page):
    schedules: list[Schedule]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Schedule)
async def add_schedule(
    request: ScheduleRequest, agent: AgentDep, user: Operator, settings: SettingsDep
) -> Schedule:
    """Run a saved workflow on a cron; each run gets a new thread naming the schedule."""
    return await create_schedule(
        agent,
        user,
        settings.assistant_id,
        workflow_id=request.workflow_id,
        version=request.version,
        cron=request.cron,
        timezone=request.timezone,
        end_time=request.end_time,
        enabled=request.enabled,
        webhook=str(request.webhook) if request.webhook is not None else None,
    )


@router.get("", response_model=SchedulePage)
async def list_schedules(
    agent: AgentDep,
    user: CurrentUser,
    settings: SettingsDep,
    workflow_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: PageLimit = 20,
    offset: PageOffset = 0,
) -> SchedulePage:
    """The caller's schedules, newest first."""
    limit = page_size(limit, settings)
    found, total = await find_schedules(
        agent, user, workflow_id=workflow_id, limit=limit, offset=offset
    )
    return SchedulePage.of(found, total=total, limit=limit, offset=offset)


@router.get("/{schedule_id}", response_model=Schedule)
async def read_schedule(
    schedule_id: ScheduleIdPath, agent: AgentDep, user: CurrentUser
) -> Schedule:
    return await get_schedule(agent, user, schedule_id)


@router.patch("/{schedule_id}", response_model=Schedule)
async def update_schedule(
    schedule_id: ScheduleIdPath, change: ScheduleChange, agent: AgentDep, user: Operator
) -> Schedule:
    """Enable or disable it, or change its cron, timezone or end time."""
    changes: dict[str, Any] = change.model_dump(exclude_unset=True)
    return await change_schedule(agent, user, schedule_id, changes)


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_schedule(schedule_id: ScheduleIdPath, agent: AgentDep, user: Operator) -> Response:
    """No more runs; threads of earlier runs stay."""
    await delete_schedule(agent, user, schedule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
