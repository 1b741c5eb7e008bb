"""What a team reviews: the approvals waiting for the caller, and the audit trail; and
an admin taking over what was made while authentication was off."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gateway.cli import render
from gateway.cli.app import Cli, app, command
from gateway.cli.client import OK, USAGE, CommandError, given, segment

APPROVAL_COLUMNS = ["thread_id", "question", "four_eyes", "waiting_since", "started_by"]
AUDIT_COLUMNS = ["at", "actor", "action", "thread", "details"]


@command(app, "approvals")
def approvals(
    cli: Cli,
    limit: Annotated[int, typer.Option(help="Page size (at most 100).")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
) -> int:
    """Threads waiting for an answer you may give, longest waiting first."""
    page = cli.client.call("GET", "/api/approvals", params={"limit": limit, "offset": offset})

    def human() -> None:
        rows = [
            {**item, "four_eyes": "yes" if item.get("four_eyes") else "no"}
            for item in page["approvals"]
        ]
        render.table(rows, APPROVAL_COLUMNS)
        render.say(f"{len(rows)} of {page['total']}")

    cli.emit(page, human)
    return OK


@command(app, "audit")
def audit(
    cli: Cli,
    thread_id: Annotated[
        str | None,
        typer.Argument(
            help="Only this thread's trail, oldest first.", metavar="THREAD", show_default=False
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="Page size of the space's trail (default 50, at most 100).")
    ] = None,
    offset: Annotated[int | None, typer.Option(help="Skip this many.")] = None,
) -> int:
    """Who did what: the space's trail newest first, or one thread's oldest first."""
    if thread_id is None:
        params = given({"limit": limit, "offset": offset})
        page = cli.client.call("GET", "/api/audit", params=params)
        cli.emit(page, lambda: _trail(page["events"], page.get("next_offset")))
        return OK
    if limit is not None or offset is not None:
        # A thread's trail comes whole: a page option there would be silently ignored.
        raise CommandError(USAGE, "--limit and --offset page the space's trail, not a thread's")
    trail = cli.client.call("GET", f"/api/threads/{segment(thread_id)}/audit")
    cli.emit(trail, lambda: _trail(trail["events"], None))
    return OK


@command(app, "handover")
def handover(cli: Cli) -> int:
    """Take over what user `dev` made while authentication was off (its threads and saved
    workflows) into your space, or with --team into that team's (its admins only)."""
    moved = cli.client.call("POST", "/api/handover")

    def human() -> None:
        render.say(
            f"{len(moved['threads'])} threads and {len(moved['workflows'])} workflows handed over"
        )
        if moved["skipped"]:
            render.say(f"kept with dev (the id is taken here): {', '.join(moved['skipped'])}")

    cli.emit(moved, human)
    return OK


def _trail(events: list[dict[str, Any]], next_offset: int | None) -> None:
    rows = [
        {**event, "thread": event.get("thread_id"), "details": _compact(event.get("details"))}
        for event in events
    ]
    render.table(rows, AUDIT_COLUMNS)
    if next_offset is not None:
        render.say(f"more: --offset {next_offset}")


def _compact(details: dict[str, Any] | None) -> str | None:
    """`key=value` pairs on one line (`--json` has them whole)."""
    if not details:
        return None
    return " ".join(f"{key}={value}" for key, value in details.items())
