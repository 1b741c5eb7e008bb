"""Limits a shared deployment needs, enforced by the Agent Server's auth for every caller.

SDK scripts reach the Agent Server without passing the gateway, so the rules live here,
where both kinds of request are seen: five-field crons only, at most
`THREADGATE_MAX_SCHEDULES_PER_USER` schedules and `THREADGATE_MAX_ACTIVE_RUNS_PER_USER`
pending or running runs per user. The gateway reads the same settings, so its answers
say the same numbers.

Counts are read through the Agent Server's own API, in process (`agents.loopback`):
that works on every runtime, and it is not atomic with the write that follows, so
under concurrent requests a user can pass a cap by at most the number of requests that
counted at the same moment. The cron rule is exact.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from langgraph_sdk import Auth
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from agents.loopback import loopback

# Refusals start with these codes: the gateway maps them to its own error codes.
TOO_MANY_ACTIVE_RUNS = "too_many_active_runs"
TOO_MANY_SCHEDULES = "too_many_schedules"
INVALID_CRON = "invalid_cron"
INVALID_END_TIME = "invalid_end_time"
# How long a caller over the run cap is told to wait before trying again.
RETRY_AFTER_SECONDS = 5
# Cron metadata that marks a Threadgate schedule (the gateway sets it; listings use it).
SCHEDULE_KIND = {"threadgate": "schedule"}


class LimitSettings(BaseSettings):
    """Per-user caps; read by the gateway and the Agent Server from the same variables."""

    model_config = SettingsConfigDict(
        env_prefix="THREADGATE_", extra="ignore", env_ignore_empty=True
    )

    max_schedules_per_user: int = Field(
        default=20, ge=0, description="Schedules (crons) one user may have."
    )
    max_active_runs_per_user: int = Field(
        default=20, ge=1, description="Pending or running runs one user may have."
    )


@cache
def limit_settings() -> LimitSettings:
    return LimitSettings()


def _cron_field(value: str) -> str:
    item = rf"(?:\*|{value}(?:-{value})?)(?:/[1-9][0-9]{{0,2}})?"
    return rf"{item}(?:,{item})*"


# The five fields in numbers, as the OpenAPI document publishes them: what this pattern
# matches, the check below accepts, except a date no month has (`0 0 30 2 *`).
# (The check also takes tabs, and month and weekday names.)
CRON_PATTERN = (
    r"^ *"
    + r" +".join(
        _cron_field(value)
        for value in (
            r"[0-5]?[0-9]",  # minute
            r"(?:[01]?[0-9]|2[0-3])",  # hour
            r"(?:0?[1-9]|[12][0-9]|3[01])",  # day of month
            r"(?:0?[1-9]|1[0-2])",  # month
            r"[0-7]",  # weekday, 0 and 7 both Sunday
        )
    )
    + r" *$"
)


def cron_fields_problem(expression: Any) -> str | None:
    """Why a cron expression is refused, or None. The Agent Server's parser also takes a
    sixth (seconds) field, which would start a run every second."""
    if not isinstance(expression, str):
        return "cron must be a string"
    fields = expression.split()
    if len(fields) != 5:
        return f"cron must have five fields (minute hour day month weekday), got {len(fields)}"
    try:  # the Agent Server's own parser; the gateway's image does not have it
        from croniter import CroniterBadDateError, croniter
    except ImportError:
        return None
    if not croniter.is_valid(expression):
        return f"'{expression}' is not a valid cron expression"
    try:
        croniter(expression).get_next()
    except CroniterBadDateError:
        return f"'{expression}' never fires"
    return None


def refuse_bad_cron(expression: Any) -> None:
    if (problem := cron_fields_problem(expression)) is not None:
        raise Auth.exceptions.HTTPException(status_code=422, detail=f"{INVALID_CRON}: {problem}")


async def refuse_past_schedule_limit(user: str) -> None:
    """Refuse a new cron when the user already has as many as allowed (any cron counts:
    each one starts runs)."""
    cap = limit_settings().max_schedules_per_user
    count = await loopback().crons.count(metadata={"owner": user})
    if count >= cap:
        raise Auth.exceptions.HTTPException(
            status_code=409,
            detail=f"{TOO_MANY_SCHEDULES}: {count} schedules, the most one user may have "
            f"is {cap}; delete one first",
        )


async def refuse_past_active_run_limit(user: str) -> None:
    """Refuse a new run when the user's threads already have as many runs pending or
    running as allowed (a busy thread is one with a run pending or running)."""
    cap = limit_settings().max_active_runs_per_user
    count = await loopback().threads.count(metadata={"owner": user}, status="busy")
    if count >= cap:
        raise Auth.exceptions.HTTPException(
            status_code=429,
            detail=f"{TOO_MANY_ACTIVE_RUNS}: {count} workflows pending or running, the most "
            f"one user may have is {cap}; try again when one has finished",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
