"""Work on many threads at once: recover failed ones, prune old ones.

Both preview by default and act only with `--apply`; `--dry-run` is accepted and
changes nothing (it is the default).
"""

from __future__ import annotations

from typing import Annotated

import typer

from gateway.cli import render
from gateway.cli.app import Cli, app, command
from gateway.cli.client import FAILED, OK, given

ApplyFlag = Annotated[bool, typer.Option("--apply", help="Really do it (without: a preview).")]
DryRunFlag = Annotated[
    bool, typer.Option("--dry-run", help="Preview only: the default, so this flag changes nothing.")
]
WorkflowOption = Annotated[str | None, typer.Option(help="Only threads of this workflow.")]


def _mode(apply: bool, dry_run: bool) -> bool:
    if apply and dry_run:
        raise typer.BadParameter("give --apply or --dry-run, not both", param_hint="--apply")
    return apply


@command(app, "recover")
def recover(
    cli: Cli,
    older_than: Annotated[
        int | None, typer.Option(help="Failed and untouched for N minutes.", metavar="N")
    ] = None,
    created_within: Annotated[
        int | None, typer.Option(help="Created in the last N hours.", metavar="N")
    ] = None,
    workflow_id: WorkflowOption = None,
    limit: Annotated[int | None, typer.Option(help="At most this many threads.")] = None,
    apply: ApplyFlag = False,
    dry_run: DryRunFlag = False,
) -> int:
    """Resume failed threads, each at most once: lists them; --apply resumes them."""
    query = given(
        {
            "not_updated_for_minutes": older_than,
            "workflow_id": workflow_id,
            "created_within_hours": created_within,
            "limit": limit,
        }
    )
    if not _mode(apply, dry_run):
        failed = cli.client.call("GET", "/api/threads/failed", params=query)

        def human() -> None:
            render.table(render.thread_rows(failed), render.THREAD_COLUMNS)
            render.say(f"would resume {len(failed)} threads; add --apply to resume them")

        cli.emit(failed, human)
        return OK
    outcomes = cli.client.call("POST", "/api/threads/failed/resume", json=query)
    cli.emit(outcomes, lambda: render.table(outcomes, ["thread_id", "outcome", "message"]))
    return FAILED if any(o["outcome"] == "error" for o in outcomes) else OK


@command(app, "prune")
def prune(
    cli: Cli,
    older_than: Annotated[
        float, typer.Option(help="Not updated for N minutes.", metavar="N", show_default=False)
    ],
    workflow_id: WorkflowOption = None,
    keep_latest: Annotated[
        bool, typer.Option("--keep-latest", help="Trim old checkpoints, keep the threads.")
    ] = False,
    apply: ApplyFlag = False,
    dry_run: DryRunFlag = False,
) -> int:
    """Delete threads not updated for a while: lists them; --apply prunes them."""
    body = {
        "older_than_minutes": older_than,
        "dry_run": not _mode(apply, dry_run),
        "keep_latest_checkpoint": keep_latest,
        "workflow_id": workflow_id,
    }
    result = cli.client.call("POST", "/api/threads/prune", json=body)

    def human() -> None:
        verb = "would prune" if result["dry_run"] else "pruned"
        render.say(
            f"{verb} {len(result['thread_ids'])} threads not updated since {result['cutoff']}"
        )
        for thread_id in result["thread_ids"]:
            render.say(f"  {thread_id}")
        if result.get("skipped"):
            render.say(f"skipped (running or touched again): {', '.join(result['skipped'])}")
        if result["dry_run"]:
            render.say("add --apply to prune them")

    cli.emit(result, human)
    return OK
