"""`bench.proc.cpu_seconds`: the CPU of a whole process tree, grandchildren included."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.proc import cpu_seconds

BURN = 0.3  # CPU seconds the grandchild spends

# Burns BURN CPU seconds, says so, then stays alive (unreaped) until stdin closes.
GRANDCHILD = f"""
import sys, time
while time.process_time() < {BURN}:
    pass
print("burnt", flush=True)
sys.stdin.read()
"""
# Starts the grandchild, sharing its stdin and stdout, and waits for it.
CHILD = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {GRANDCHILD!r}])"


def test_the_cpu_of_a_grandchild_is_counted():
    before = cpu_seconds(os.getpid())
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline() == "burnt\n"
        spent = cpu_seconds(os.getpid()) - before
    finally:
        child.stdin.close()  # both read the same pipe: EOF ends the grandchild, then the child
        child.wait(timeout=30)
        child.stdout.close()
    # This process and the child spend well under BURN - 0.05 between the two readings.
    assert spent >= BURN - 0.05, f"{spent:.3f} s: the grandchild's {BURN} s are missing"
