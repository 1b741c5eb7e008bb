"""`--follow`: a run's frames as they come. JSON lines for scripts; for people a live
Rich progress bar on a terminal, or one plain line per step when stdout is not one."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from gateway.cli import render
from gateway.cli.app import Cli
from gateway.cli.client import FAILED, INTERRUPTED, OK, UNAUTHORIZED, segment

STREAM = "/api/workflow/execute/stream"
# Error frames that refuse the caller: they exit as the same refusal over HTTP does
# (bad credentials, or a team role that may not run), not as a failed workflow.
REFUSALS = {"unauthorized", "forbidden"}


def follow(cli: Cli, request: dict[str, Any]) -> int:
    """Start `request` over the WebSocket and show it to the end; FAILED on an error frame."""
    last: dict[str, Any] = {}
    thread_id = None
    frames = cli.client.stream(STREAM, request)
    try:
        if cli.json:
            for last in frames:
                thread_id = thread_id or last.get("thread_id")
                render.json_line(last)
        else:
            out = render.console()
            with LiveView(out) if out.is_terminal else PlainView() as view:
                for last in frames:
                    thread_id = thread_id or last.get("thread_id")
                    view.show(last)
    except KeyboardInterrupt:
        if thread_id is None:
            raise
        render.error(f"stopped following; the run goes on: threadgate threads show {thread_id}")
        return INTERRUPTED
    if last.get("type") == "error":
        render.error(f"{last.get('error')}: {last.get('message')}")
        return UNAUTHORIZED if last.get("error") in REFUSALS else FAILED
    if not cli.json and last.get("thread_id"):
        render.thread_details(cli.client.call("GET", f"/api/threads/{segment(last['thread_id'])}"))
    return OK


def _question(frame: dict[str, Any]) -> Any:
    return (frame.get("question") or {}).get("question")


class PlainView:
    """One line per event, for logs and pipes."""

    def __enter__(self) -> PlainView:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def show(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "started":
            render.say(f"thread {frame['thread_id']}  execution {frame['execution_id']}")
        elif frame["type"] == "progress":
            render.say(render.progress_line(frame))
        elif frame["type"] == "interrupt":
            render.say(f"waiting for approval: {_question(frame)}")


class LiveView:
    """A live bar for the workflow (steps done of all), its current step, and a line
    above the bar for each finished step."""

    def __init__(self, out: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=out,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> LiveView:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.stop()

    def show(self, frame: dict[str, Any]) -> None:
        kind, say = frame["type"], self.progress.console.print
        if kind == "started":
            say(f"thread {frame['thread_id']}  execution {frame['execution_id']}", soft_wrap=True)
            self.task = self.progress.add_task("starting", total=None)
        if self.task is None:
            return
        if kind == "progress":
            step = escape(str(frame.get("current_step")))
            done, total = frame.get("completed_steps") or 0, frame.get("total_steps")
            self.progress.update(
                self.task, completed=done, total=total, description=step, refresh=True
            )
            if frame.get("event") == "step_finished":
                say(f"[green]✓[/green] {step}  {done}/{total}")
        elif kind == "interrupt":
            self.progress.update(self.task, description="waiting for approval", refresh=True)
            say(f"[yellow]?[/yellow] waiting for approval: {escape(str(_question(frame)))}")
        elif kind in ("end", "error"):
            status = frame.get("status") or frame.get("error")
            self.progress.update(self.task, description=escape(str(status)), refresh=True)
