"""`threadgate workflows ...`: the workflow library (saved, versioned workflows)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gateway.cli import render
from gateway.cli.app import Cli, command, workflows_app
from gateway.cli.client import OK, given, segment
from gateway.cli.files import load_workflow
from gateway.cli.runs import FollowFlag, start

IdArg = Annotated[
    str, typer.Argument(help="Saved workflow id.", metavar="WORKFLOW_ID", show_default=False)
]
FileArg = Annotated[
    str,
    typer.Argument(
        help='A JSON file: {"workflow_json": ...} (as in examples/) or a bare workflow.',
        metavar="FILE",
        show_default=False,
    ),
]
VersionOption = Annotated[
    int | None, typer.Option("--version", help="This version; the latest if omitted.", min=1)
]
SUMMARY = ["workflow_id", "version", "name", "step_count", "updated_at"]


def show_record(record: dict[str, Any]) -> None:
    """A saved workflow for people: who it is, and its steps."""
    render.details(
        [
            ("workflow", record["workflow_id"]),
            ("name", record.get("name")),
            ("version", record.get("version")),
            ("steps", record.get("step_count")),
            ("created", record.get("created_at")),
            ("updated", record.get("updated_at")),
        ]
    )
    # The compiled steps in the order they run (the gateway always sends them).
    steps = record.get("steps")
    if steps:
        render.table(steps, ["id", "type", "title"])


@command(workflows_app, "list")
def workflows_list(
    cli: Cli,
    limit: Annotated[int, typer.Option(help="Page size.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
) -> int:
    """Saved workflows (the latest version of each)."""
    page = cli.client.call("GET", "/api/workflows", params={"limit": limit, "offset": offset})

    def human() -> None:
        render.table(page["workflows"], SUMMARY)
        render.say(f"{len(page['workflows'])} of {page['total']}")

    cli.emit(page, human)
    return OK


@command(workflows_app, "show")
def workflows_show(cli: Cli, workflow_id: IdArg, version: VersionOption = None) -> int:
    """One saved workflow with its document (JSON) or its steps (people)."""
    params = given({"version": version})
    record = cli.client.call("GET", f"/api/workflows/{segment(workflow_id)}", params=params)
    cli.emit(record, lambda: show_record(record))
    return OK


@command(workflows_app, "versions")
def workflows_versions(cli: Cli, workflow_id: IdArg) -> int:
    """Every saved version of a workflow."""
    versions = cli.client.call("GET", f"/api/workflows/{segment(workflow_id)}/versions")
    columns = ["version", "name", "step_count", "updated_at"]
    cli.emit(versions, lambda: render.table(versions, columns))
    return OK


@command(workflows_app, "save")
def workflows_save(cli: Cli, file: FileArg) -> int:
    """Save a workflow file into the library (version 1 of a new saved workflow)."""
    body = {"workflow_json": load_workflow(file)}
    record = cli.client.call("POST", "/api/workflows", json=body)
    cli.emit(record, lambda: show_record(record))
    return OK


@command(workflows_app, "update")
def workflows_update(cli: Cli, workflow_id: IdArg, file: FileArg) -> int:
    """Save a file as the next version of a saved workflow (none if it is unchanged)."""
    body = {"workflow_json": load_workflow(file)}
    record = cli.client.call("PUT", f"/api/workflows/{segment(workflow_id)}", json=body)
    cli.emit(record, lambda: show_record(record))
    return OK


@command(workflows_app, "rollback")
def workflows_rollback(
    cli: Cli,
    workflow_id: IdArg,
    version: Annotated[
        int, typer.Argument(help="The version to bring back.", min=1, show_default=False)
    ],
) -> int:
    """Save an earlier version's document as the newest version (none if it already is)."""
    path = f"/api/workflows/{segment(workflow_id)}/rollback"
    record = cli.client.call("POST", path, json={"version": version})
    cli.emit(record, lambda: show_record(record))
    return OK


@command(workflows_app, "delete")
def workflows_delete(cli: Cli, workflow_id: IdArg) -> int:
    """Delete a saved workflow, its versions and its schedules (--json: prints nothing)."""
    cli.client.call("DELETE", f"/api/workflows/{segment(workflow_id)}")
    if not cli.json:
        render.say(f"deleted {workflow_id}")
    return OK


@command(workflows_app, "run")
def workflows_run(
    cli: Cli, workflow_id: IdArg, version: VersionOption = None, live: FollowFlag = False
) -> int:
    """Run a saved workflow (its latest version unless --version)."""
    return start(cli, given({"workflow_id": workflow_id, "version": version}), live)
