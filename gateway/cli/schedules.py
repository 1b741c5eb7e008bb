"""`threadgate schedules ...`: run saved workflows on a cron schedule."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gateway.cli import render
from gateway.cli.app import Cli, command, schedules_app
from gateway.cli.client import OK, given, segment

IdArg = Annotated[
    str, typer.Argument(help="Schedule id.", metavar="SCHEDULE_ID", show_default=False)
]
CronOption = Annotated[
    str | None, typer.Option(help='Cron expression, e.g. "*/5 * * * *".', metavar="CRON")
]
ZoneOption = Annotated[
    str | None, typer.Option(help="IANA time zone of the cron, e.g. Europe/Paris.", metavar="TZ")
]
EndOption = Annotated[
    str | None, typer.Option(help="No runs after this ISO 8601 time.", metavar="TIME")
]
COLUMNS = ["schedule_id", "workflow_id", "version", "cron", "timezone", "enabled", "next_run_at"]


def show_schedule(schedule: dict[str, Any]) -> None:
    version = schedule.get("version")
    render.details(
        [
            ("schedule", schedule["schedule_id"]),
            ("workflow", schedule.get("workflow_id")),
            ("version", "latest at each run" if version is None else version),
            ("cron", f"{schedule.get('cron')} ({schedule.get('timezone') or 'UTC'})"),
            ("enabled", "yes" if schedule.get("enabled") else "no"),
            ("next run", schedule.get("next_run_at")),
            ("ends", schedule.get("end_time")),
            ("webhook", schedule.get("webhook")),
            ("updated", schedule.get("updated_at")),
        ]
    )


@command(schedules_app, "list")
def schedules_list(
    cli: Cli,
    workflow_id: Annotated[str | None, typer.Option(help="Schedules of this workflow.")] = None,
    limit: Annotated[int, typer.Option(help="Page size.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
) -> int:
    """Schedules, with when each runs next."""
    params = given({"workflow_id": workflow_id, "limit": limit, "offset": offset})
    page = cli.client.call("GET", "/api/schedules", params=params)

    def human() -> None:
        render.table(page["schedules"], COLUMNS)
        render.say(f"{len(page['schedules'])} of {page['total']}")

    cli.emit(page, human)
    return OK


@command(schedules_app, "show")
def schedules_show(cli: Cli, schedule_id: IdArg) -> int:
    """One schedule."""
    schedule = cli.client.call("GET", f"/api/schedules/{segment(schedule_id)}")
    cli.emit(schedule, lambda: show_schedule(schedule))
    return OK


@command(schedules_app, "create")
def schedules_create(
    cli: Cli,
    workflow_id: Annotated[
        str, typer.Argument(help="Saved workflow id.", metavar="WORKFLOW_ID", show_default=False)
    ],
    cron: Annotated[
        str, typer.Option(help='Cron expression, e.g. "*/5 * * * *".', show_default=False)
    ],
    version: Annotated[
        int | None, typer.Option(help="Always this version; the latest at each run if omitted.")
    ] = None,
    timezone: ZoneOption = None,
    end_time: EndOption = None,
    webhook: Annotated[
        str | None, typer.Option(help="URL told of each run's end.", metavar="URL")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
) -> int:
    """Run a saved workflow on a cron schedule."""
    body = given(
        {
            "workflow_id": workflow_id,
            "version": version,
            "cron": cron,
            "timezone": timezone,
            "end_time": end_time,
            "webhook": webhook,
            "enabled": False if disabled else None,
        }
    )
    schedule = cli.client.call("POST", "/api/schedules", json=body)
    cli.emit(schedule, lambda: show_schedule(schedule))
    return OK


def _patch(cli: Cli, schedule_id: str, body: dict[str, Any]) -> int:
    schedule = cli.client.call("PATCH", f"/api/schedules/{segment(schedule_id)}", json=body)
    cli.emit(schedule, lambda: show_schedule(schedule))
    return OK


@command(schedules_app, "update")
def schedules_update(
    cli: Cli,
    schedule_id: IdArg,
    cron: CronOption = None,
    timezone: ZoneOption = None,
    end_time: EndOption = None,
) -> int:
    """Change a schedule's cron, time zone or end."""
    body = given({"cron": cron, "timezone": timezone, "end_time": end_time})
    if not body:
        raise typer.BadParameter("nothing to change: give --cron, --timezone or --end-time")
    return _patch(cli, schedule_id, body)


@command(schedules_app, "enable")
def schedules_enable(cli: Cli, schedule_id: IdArg) -> int:
    """Switch a schedule on."""
    return _patch(cli, schedule_id, {"enabled": True})


@command(schedules_app, "disable")
def schedules_disable(cli: Cli, schedule_id: IdArg) -> int:
    """Switch a schedule off (it stays, and can be enabled again)."""
    return _patch(cli, schedule_id, {"enabled": False})


@command(schedules_app, "delete")
def schedules_delete(cli: Cli, schedule_id: IdArg) -> int:
    """Delete a schedule; threads it started stay (--json: prints nothing)."""
    cli.client.call("DELETE", f"/api/schedules/{segment(schedule_id)}")
    if not cli.json:
        render.say(f"deleted {schedule_id}")
    return OK
