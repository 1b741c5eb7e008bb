"""CPU time of a process tree, from /proc: what a request costs, free of wall-clock noise."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name is in parentheses and may hold spaces: split after it.
    return raw[raw.rindex(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        listed = (task / "children").read_text().split()
        found += [int(child) for child in listed]
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and its live children (uvicorn workers, say)."""
    total = 0.0
    for proc in [pid, *_children(pid)]:
        try:
            fields = _stat(proc)
        except FileNotFoundError:
            continue
        # Fields 14 and 15 of stat (utime, stime); index 11 and 12 after the name.
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total
