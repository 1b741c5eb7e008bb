"""CPU time of a process tree, from psutil: what a request costs, free of wall-clock noise."""

from __future__ import annotations

import psutil


def cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of `pid` and all its live descendants (uvicorn workers,
    say, and whatever they start)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:  # ended since it was listed
            continue
        total += times.user + times.system
    return total
