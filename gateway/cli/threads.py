"""`threadgate threads ...`: find, inspect and save threads."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from gateway.cli import render
from gateway.cli.app import Cli, command, threads_app
from gateway.cli.client import OK, given, segment
from gateway.cli.runs import ThreadArg
from gateway.cli.workflows import show_record


class Status(StrEnum):
    pending = "pending"
    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"
    paused = "paused"
    waiting = "waiting"


@command(threads_app, "list")
def threads_list(
    cli: Cli,
    workflow_id: Annotated[str | None, typer.Option(help="Threads of this workflow.")] = None,
    status: Annotated[Status | None, typer.Option(help="Threads showing this status.")] = None,
    schedule_id: Annotated[str | None, typer.Option(help="Threads a schedule started.")] = None,
    workflow_version: Annotated[
        int | None, typer.Option(help="Threads run from this version of a saved workflow.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Page size (at most 100).")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
) -> int:
    """Search threads, newest first."""
    params = {
        "limit": limit,
        "offset": offset,
        "workflow_id": workflow_id,
        "status": status.value if status else None,
        "schedule_id": schedule_id,
        "workflow_version": workflow_version,
    }
    page = cli.client.call("GET", "/api/threads", params=given(params))

    def human() -> None:
        render.table(render.thread_rows(page["threads"]), render.THREAD_COLUMNS)
        render.say(f"{len(page['threads'])} of {page['total']}")

    cli.emit(page, human)
    return OK


@command(threads_app, "show")
def threads_show(cli: Cli, thread_id: ThreadArg) -> int:
    """Progress, status, results, and the question a waiting thread asks."""
    thread = cli.client.call("GET", f"/api/threads/{segment(thread_id)}")
    cli.emit(thread, lambda: render.thread_details(thread))
    return OK


@command(threads_app, "history")
def threads_history(cli: Cli, thread_id: ThreadArg) -> int:
    """Checkpoints, newest first."""
    history = cli.client.call("GET", f"/api/threads/{segment(thread_id)}/history")
    columns = ["checkpoint_id", "step", "source", "completed_steps", "last_step", "created_at"]
    cli.emit(history, lambda: render.table(history, columns))
    return OK


@command(threads_app, "state")
def threads_state(
    cli: Cli,
    thread_id: ThreadArg,
    checkpoint: Annotated[str | None, typer.Option(help="State at this checkpoint id.")] = None,
) -> int:
    """State values, always as JSON (for people and scripts alike)."""
    params = {"checkpoint_id": checkpoint} if checkpoint else None
    render.as_json(
        cli.client.call("GET", f"/api/threads/{segment(thread_id)}/state", params=params)
    )
    return OK


@command(threads_app, "save-as-workflow")
def save_as_workflow(
    cli: Cli,
    thread_id: ThreadArg,
    workflow_id: Annotated[
        str | None,
        typer.Option("--id", help="Id of the new saved workflow; generated if omitted."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name of the saved workflow.")] = None,
) -> int:
    """Save the workflow a thread ran into the library."""
    body = given({"workflow_id": workflow_id, "name": name})
    record = cli.client.call(
        "POST", f"/api/threads/{segment(thread_id)}/save-as-workflow", json=body
    )
    cli.emit(record, lambda: show_record(record))
    return OK
