"""What a schedule looks like to callers, read from its cron. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from langgraph_sdk.schema import Cron
from pydantic import BaseModel, Field, StrictInt, StrictStr, ValidationError

from gateway.errors import Conflict, first_problem


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


class _Names(BaseModel):
    """What a schedule's cron metadata must hold."""

    schedule_id: StrictStr
    workflow_id: StrictStr
    workflow_version: StrictInt | None = Field(default=None, ge=1)


def schedule_view(cron: Cron) -> Schedule:
    """A schedule as callers see it; 409 `unreadable_schedule` if its metadata was
    changed outside the gateway."""
    try:
        names = _Names.model_validate(cron.get("metadata") or {})
    except ValidationError as exc:
        where, message = first_problem(exc, "metadata")
        raise Conflict(
            "unreadable_schedule",
            f"cron {cron['cron_id']} is not a readable schedule (was it changed outside the "
            f"gateway?): {where}: {message}; DELETE /api/schedules/<id> (or "
            "the SDK's crons.delete) removes it",
            {"cron_id": cron["cron_id"]},
        ) from None
    payload: dict[str, Any] = dict(cron.get("payload") or {})
    return Schedule(
        schedule_id=names.schedule_id,
        workflow_id=names.workflow_id,
        version=names.workflow_version,
        cron=cron["schedule"],
        timezone=cron.get("timezone") or payload.get("timezone"),
        enabled=bool(cron.get("enabled", True)),
        end_time=cron.get("end_time"),
        webhook=payload.get("webhook"),
        next_run_at=cron.get("next_run_date"),
        created_at=cron["created_at"],
        updated_at=cron["updated_at"],
    )
