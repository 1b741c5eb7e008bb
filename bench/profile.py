"""Where the gateway's CPU goes for one kind of request: py-spy on the gateway process.

    .venv/bin/pip install py-spy
    .venv/bin/python -m bench.profile [get|state|execute] [seconds]

Sends that request in a loop for `seconds` (10) while py-spy samples the gateway at
400 Hz, then prints the functions holding the most samples, inclusive and own.
"""

from __future__ import annotations

import asyncio
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.stack import BenchStack, bench_stack

WORKFLOW = {"name": "bench", "steps": [{"instructions": f"part {i}"} for i in range(3)]}
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>.*?):\d+\)$")


async def load(stack: BenchStack, kind: str, seconds: float, out: Path) -> int:
    async with httpx.AsyncClient(
        base_url=stack.gateway_url, headers=stack.headers, timeout=30
    ) as gw:
        started = await gw.post("/api/workflow/execute", json={"workflow_json": WORKFLOW})
        thread_id = started.json()["thread_id"]
        await asyncio.sleep(3)  # the run finishes

        async def one() -> object:
            if kind == "execute":
                return await gw.post("/api/workflow/execute", json={"workflow_json": WORKFLOW})
            suffix = "/state" if kind == "state" else ""
            return await gw.get(f"/api/threads/{thread_id}{suffix}")

        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        target = ["-p", str(stack.gateway_pid), "-d", str(int(seconds)), "-r", "400"]
        output = ["-f", "raw", "-o", str(out), "--nonblocking"]
        spy = subprocess.Popen([py_spy, "record", *target, *output], stdout=subprocess.DEVNULL)
        count, end = 0, time.monotonic() + seconds + 1
        while time.monotonic() < end:
            await one()
            count += 1
        spy.wait()
        return count


def summary(raw: Path, top: int = 25) -> None:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        names = []
        for frame in stack.split(";"):
            match = _FRAME.match(frame)
            where = match["file"].split("site-packages/")[-1] if match else ""
            names.append(f"{match['name'] if match else frame}  {where}")
        for name in set(names):
            inclusive[name] += samples
        own[names[-1]] += samples
    for title, counter in (("inclusive", inclusive), ("own", own)):
        print(f"-- {title} (% of {total} samples)")
        for name, samples in counter.most_common(top):
            print(f"{100 * samples / total:5.1f}%  {name}")


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "get"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    with tempfile.TemporaryDirectory() as tmp, bench_stack() as stack:
        out = Path(tmp) / "profile.txt"
        count = asyncio.run(load(stack, kind, seconds, out))
        print(f"{count} {kind} requests")
        summary(out)


if __name__ == "__main__":
    main()
