"""Start workflows and steer one thread: run, pause, cancel, resume."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gateway.cli import render
from gateway.cli.app import Cli, app, command
from gateway.cli.client import OK, USAGE, CommandError, segment
from gateway.cli.files import load_request
from gateway.cli.follow import follow

ThreadArg = Annotated[str, typer.Argument(help="Thread id.", metavar="THREAD", show_default=False)]
FollowFlag = Annotated[
    bool,
    typer.Option("--follow", help="Show live progress, then the result (JSON: a frame a line)."),
]


def start(cli: Cli, request: dict[str, Any], live: bool) -> int:
    """POST an execute request (202 `{execution_id, thread_id, status}`), or follow it."""
    if live:
        return follow(cli, request)
    accepted = cli.client.call("POST", "/api/workflow/execute", json=request)
    cli.emit(accepted, lambda: render.say(f"started {accepted['execution_id']}"))
    return OK


@command(app, "run")
def run(
    cli: Cli,
    workflow: Annotated[
        str,
        typer.Argument(
            help='A JSON file: an execute request {"workflow_json": ...} or a bare workflow.',
            metavar="FILE",
            show_default=False,
        ),
    ],
    thread: Annotated[str | None, typer.Option("--thread", help="Continue this thread.")] = None,
    live: FollowFlag = False,
) -> int:
    """Start a workflow from a JSON file (React Flow export, step list or request)."""
    request = load_request(workflow)
    if thread:
        request["thread_id"] = thread
    return start(cli, request, live)


@command(app, "pause")
def pause(cli: Cli, thread_id: ThreadArg) -> int:
    """Stop at the next step boundary (the step in flight finishes)."""
    result = cli.client.call("POST", f"/api/threads/{segment(thread_id)}/pause")
    cli.emit(result, lambda: render.say("pausing after the step in flight"))
    return OK


@command(app, "cancel")
def cancel(cli: Cli, thread_id: ThreadArg) -> int:
    """Stop now (the step in flight runs again on resume)."""
    result = cli.client.call("POST", f"/api/threads/{segment(thread_id)}/cancel")
    cli.emit(result, lambda: render.say("cancelled; resume re-runs the unfinished step"))
    return OK


@command(app, "resume")
def resume(
    cli: Cli,
    thread_id: ThreadArg,
    approve: Annotated[
        bool, typer.Option("--approve", help="Answer a waiting approval: yes.")
    ] = False,
    reject: Annotated[
        bool, typer.Option("--reject", help="Answer a waiting approval: no.")
    ] = False,
    comment: Annotated[str | None, typer.Option("--comment", help="With the answer.")] = None,
) -> int:
    """Continue a paused, failed or waiting thread."""
    if approve and reject:
        raise typer.BadParameter("give --approve or --reject, not both", param_hint="--approve")
    if comment is not None and not (approve or reject):
        # Only an approval's answer carries a comment: sent alone it would be dropped.
        raise CommandError(USAGE, "--comment goes with --approve or --reject")
    body = {"approved": approve, "comment": comment} if approve or reject else None
    accepted = cli.client.call("POST", f"/api/threads/{segment(thread_id)}/resume", json=body)
    cli.emit(accepted, lambda: render.say(f"resumed {accepted['execution_id']}"))
    return OK
