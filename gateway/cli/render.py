"""What the CLI prints: JSON for scripts (exactly the gateway's bodies), Rich tables and
key/value blocks for people, and one-line messages."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table


def as_json(value: Any) -> None:
    """The one JSON printer: indented, non-ASCII kept, one trailing newline. Scripts
    depend on these bytes; tests/unit/test_cli_json_golden.py holds them."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def json_line(frame: Any) -> None:
    """One streamed frame, one line."""
    say(json.dumps(frame, ensure_ascii=False))


def say(text: str) -> None:
    """One line of output for a person, shown at once (progress must not sit in a buffer)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def error(message: str) -> None:
    sys.stderr.write(f"threadgate: {message}\n")
    sys.stderr.flush()


def console() -> Console:
    """A console on the current stdout; when that is not a terminal, wide enough that a
    row is never wrapped (ids stay whole for grep), with no colour or markup codes."""
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=10_000, no_color=True)
    return out


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None) -> None:
    """Rows as a table with one column per key (headers in capitals); `(none)` if empty."""
    grid = Table(
        box=box.SIMPLE_HEAD, title=title, header_style="bold", show_edge=False, pad_edge=False
    )
    for column in columns:
        grid.add_column(column.upper())
    for row in rows:
        grid.add_row(*(escape(cell(row.get(c))) for c in columns))
    show(grid)
    if not rows:
        say("(none)")


def show(renderable: RenderableType) -> None:
    """Print for people at the renderable's natural width, so no cell is ever wrapped
    or cut (ids are copied from here): styled on a terminal (which wraps a row wider
    than itself); elsewhere plain lines with no padding at their ends, so a pipe or a
    log gets text that greps and diffs cleanly."""
    out = console()
    if out.is_terminal:
        natural = Measurement.get(out, out.options.update_width(10_000), renderable).maximum
        if natural > out.width:
            out = Console(highlight=False, width=natural)
        out.print(renderable, crop=False)
        return
    with out.capture() as captured:
        out.print(renderable)
    for line in captured.get().splitlines():
        say(line.rstrip())


def details(lines: Sequence[tuple[str, Any]]) -> None:
    """`key:` padded to 14 columns, then the value (long values are not cut)."""
    out = console()
    for key, value in lines:
        text = "-" if value is None else str(value)
        out.print(f"[bold]{escape(key + ':'):14}[/bold]{escape(text)}", soft_wrap=True)


def cell(value: Any) -> str:
    """A table cell: `-` for nothing, UTC times to the second, long text cut."""
    if value is None:
        return "-"
    text = UTC_TIME.sub(r"\1 \2", str(value))
    return text if len(text) <= 60 else text[:57] + "..."


UTC_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(?:Z|\+00:00)$")


def progress_bar(done: int, total: int, width: int = 24) -> str:
    filled = width * done // total if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + f"] {done}/{total}"


def progress_line(frame: dict[str, Any]) -> str:
    verb = "started " if frame.get("event") == "step_started" else "finished"
    bar = progress_bar(frame.get("completed_steps") or 0, frame.get("total_steps") or 0)
    return f"{bar}  {verb} {frame.get('current_step')}"


def thread_rows(threads: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "thread_id": t["thread_id"],
            "workflow": _workflow(t),
            "status": t["status"],
            "progress": progress_bar(
                t["progress"]["completed_steps"], t["progress"]["total_steps"], width=10
            ),
            "current_step": t["progress"].get("current_step"),
            "updated_at": t["updated_at"],
        }
        for t in threads
    ]


def _workflow(thread: dict[str, Any]) -> str | None:
    name = thread.get("workflow_name") or thread.get("workflow_id")
    version = thread.get("workflow_version")
    return f"{name} v{version}" if name and version else name


THREAD_COLUMNS = ["thread_id", "workflow", "status", "progress", "current_step", "updated_at"]


def thread_details(thread: dict[str, Any]) -> None:
    progress = thread["progress"]
    outcome = " (rejected)" if progress.get("outcome") == "rejected" else ""
    lines: list[tuple[str, Any]] = [
        ("thread", thread["thread_id"]),
        ("workflow", f"{thread.get('workflow_name')} ({thread.get('workflow_id')})"),
        ("status", thread["status"] + outcome),
        ("progress", progress_bar(progress["completed_steps"], progress["total_steps"])),
        ("current step", progress.get("current_step")),
        ("updated", thread["updated_at"]),
    ]
    if progress.get("error_message"):
        lines.append(("error", progress["error_message"]))
    if thread.get("question"):
        lines.append(("waiting for", thread["question"].get("question")))
    details(lines)
    out = console()
    for step_id, result in (thread.get("results") or {}).items():
        output = escape(str(result.get("output"))[:200])
        out.print(f"  [bold]{escape(step_id)}:[/bold] {output}", soft_wrap=True)
