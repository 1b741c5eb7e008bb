"""What the CLI prints: tables and progress bars for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO


def as_json(value: Any, out: TextIO = sys.stdout) -> None:
    out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], out: TextIO = sys.stdout) -> None:
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    out.write("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    out.write("\n")
    for row in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")
    if not rows:
        out.write("(none)\n")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
            "workflow": t.get("workflow_name") or t.get("workflow_id"),
            "status": t["status"],
            "progress": progress_bar(
                t["progress"]["completed_steps"], t["progress"]["total_steps"], width=10
            ),
            "current_step": t["progress"].get("current_step"),
            "updated_at": t["updated_at"],
        }
        for t in threads
    ]


def thread_details(thread: dict[str, Any], out: TextIO = sys.stdout) -> None:
    progress = thread["progress"]
    lines = [
        ("thread", thread["thread_id"]),
        ("workflow", f"{thread.get('workflow_name')} ({thread.get('workflow_id')})"),
        (
            "status",
            thread["status"] + (" (rejected)" if progress.get("outcome") == "rejected" else ""),
        ),
        ("progress", progress_bar(progress["completed_steps"], progress["total_steps"])),
        ("current step", progress.get("current_step")),
        ("updated", thread["updated_at"]),
    ]
    if progress.get("error_message"):
        lines.append(("error", progress["error_message"]))
    if thread.get("question"):
        lines.append(("waiting for", thread["question"].get("question")))
    for key, value in lines:
        out.write(f"{key + ':':14}{_cell(value) if key != 'error' else value}\n")
    for step_id, result in (thread.get("results") or {}).items():
        out.write(f"  {step_id}: {str(result.get('output'))[:200]}\n")


def say(text: str, out: TextIO = sys.stdout) -> None:
    """One line of output for a person, shown at once (progress must not sit in a buffer)."""
    out.write(text + "\n")
    out.flush()
