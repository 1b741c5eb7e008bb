"""(0) What each request costs in CPU: the gateway, the floor, the Agent Server.

For each operation, N sequential requests through the gateway, through the floor (a
minimal FastAPI pass-through on the same client, `bench/floor.py`) and directly with
langgraph-sdk, in the same run, interleaved in rounds. CPU per request is utime+stime
of each process and its descendants (psutil, `bench/proc.py`) over all N (clock ticks
are 10 ms; N makes that noise small); latency is the median and p95 of each request's
wall time. Results are printed and written as JSON.

    .venv/bin/python -m bench.cpu [label]      # writes bench/results/cpu-<label>.json
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.proc import cpu_seconds
from bench.stack import HOST, BenchStack, bench_stack, median_p95
from gateway.threads.executions import run_input
from gateway.workflows.parser import parse_workflow
from tools.launcher import answering, free_port, stop

N = 600
ROUNDS = 3
WORKFLOW = {"name": "bench", "steps": [{"instructions": f"part {i}"} for i in range(3)]}
RESULTS = Path(__file__).parent / "results"

Call = Callable[[], Awaitable[Any]]


def start_floor(stack: BenchStack) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port(HOST)
    env = {"THREADGATE_SERVICE_KEY": stack.service_key, "THREADGATE_AGENT_URL": stack.agent_url}
    command = [sys.executable, "-m", "uvicorn", "bench.floor:app", "--host", HOST]
    command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(command, env={**os.environ, **env}, start_new_session=True)
    answering(proc, f"http://{HOST}:{port}/openapi.json", "floor", 30)
    return proc, f"http://{HOST}:{port}"


async def measure(calls: dict[str, Call], pids: dict[str, int], n: int) -> dict[str, Any]:
    """Run each side's call n times (in ROUNDS, alternating); CPU and latency per side."""
    samples: dict[str, list[float]] = {side: [] for side in calls}
    cpu: dict[str, dict[str, float]] = {side: {} for side in calls}
    for _ in range(ROUNDS):
        for side, call in calls.items():
            for _ in range(5):  # warm connections
                await call()
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            for _ in range(n // ROUNDS):
                began = time.perf_counter()
                await call()
                samples[side].append((time.perf_counter() - began) * 1000)
            for name, pid in pids.items():
                spent = cpu_seconds(pid) - before[name]
                cpu[side][name] = cpu[side].get(name, 0.0) + spent
    out: dict[str, Any] = {}
    for side in calls:
        med, p95 = median_p95(samples[side])
        done = len(samples[side])
        per = {name: round(seconds * 1000 / done, 3) for name, seconds in cpu[side].items()}
        out[side] = {
            "requests": done,
            "median_ms": round(med, 3),
            "p95_ms": round(p95, 3),
            "cpu_ms": per,
        }
    return out


async def run(stack: BenchStack, floor_url: str, floor_pid: int, agent_pid: int) -> dict[str, Any]:
    sdk = stack.sdk()
    gw = httpx.AsyncClient(base_url=stack.gateway_url, headers=stack.headers, timeout=30)
    fl = httpx.AsyncClient(base_url=floor_url, timeout=30)
    accepted = (await gw.post("/api/workflow/execute", json={"workflow_json": WORKFLOW})).json()
    thread_id = accepted["thread_id"]
    await sdk.runs.join(thread_id, accepted["execution_id"].split(".")[1])
    for _ in range(4):  # 200 more threads, so a search has something to count
        await asyncio.gather(*(sdk.threads.create(metadata={"f": 1}) for _ in range(50)))
    plan = parse_workflow(WORKFLOW)
    fresh = run_input(plan)
    pids = {"gateway": stack.gateway_pid, "floor": floor_pid, "agent_server": agent_pid}

    def ok(response: httpx.Response) -> httpx.Response:
        response.raise_for_status()
        return response

    async def gw_get(path: str, **kw: Any) -> Any:
        return ok(await gw.get(path, **kw))

    async def fl_get(path: str) -> Any:
        return ok(await fl.get(path))

    operations: dict[str, dict[str, Call]] = {
        "thread get": {
            "gateway": lambda: gw_get(f"/api/threads/{thread_id}"),
            "floor": lambda: fl_get(f"/threads/{thread_id}"),
            "direct": lambda: sdk.threads.get(thread_id),
        },
        "state": {
            "gateway": lambda: gw_get(f"/api/threads/{thread_id}/state"),
            "floor": lambda: fl_get(f"/threads/{thread_id}/state"),
            "direct": lambda: sdk.threads.get_state(thread_id),
        },
        "history (20)": {
            "gateway": lambda: gw_get(f"/api/threads/{thread_id}/history", params={"limit": 20}),
            "floor": lambda: fl_get(f"/threads/{thread_id}/history"),
            "direct": lambda: sdk.threads.get_history(thread_id, limit=20),
        },
        "search + total": {
            "gateway": lambda: gw_get("/api/threads", params={"limit": 20}),
            "floor": lambda: fl_get("/threads"),
            "direct": lambda: asyncio.gather(sdk.threads.search(limit=20), sdk.threads.count()),
        },
        "execute (new thread)": {
            "gateway": lambda: gw.post("/api/workflow/execute", json={"workflow_json": WORKFLOW}),
            "floor": lambda: fl.post("/execute", json={"input": fresh}),
            "direct": lambda: sdk.runs.create(
                str(uuid.uuid4()), "workflow", input=fresh, if_not_exists="create"
            ),
        },
    }
    results: dict[str, Any] = {}
    for name, calls in operations.items():
        # Executes queue runs the Agent Server works through meanwhile: fewer of them.
        n = N // 3 if name.startswith("execute") else N
        results[name] = await measure(calls, pids, n)
        _print(name, results[name])
    await gw.aclose()
    await fl.aclose()
    await sdk.aclose()
    return results


def _print(name: str, result: dict[str, Any]) -> None:
    g, f, d = result["gateway"], result["floor"], result["direct"]
    gw_cpu, fl_cpu = g["cpu_ms"]["gateway"], f["cpu_ms"]["floor"]
    agent_cpu = d["cpu_ms"]["agent_server"]
    print(
        f"{name:22} gateway CPU {gw_cpu:5.2f} ms  floor {fl_cpu:5.2f} ms  "
        f"(x{gw_cpu / fl_cpu if fl_cpu else 0:4.2f})  agent server {agent_cpu:5.2f} ms  "
        f"(x{gw_cpu / agent_cpu if agent_cpu else 0:4.2f})  | added median "
        f"{g['median_ms'] - d['median_ms']:5.2f} ms, p95 {g['p95_ms'] - d['p95_ms']:5.2f} ms "
        f"(floor {f['median_ms'] - d['median_ms']:5.2f})"
    )


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "latest"
    began = datetime.now(UTC).isoformat(timespec="seconds")
    with bench_stack() as stack:
        agent_pid = stack.agent_pid
        floor, floor_url = start_floor(stack)
        try:
            results = asyncio.run(run(stack, floor_url, floor.pid, agent_pid))
        finally:
            stop(floor)
    RESULTS.mkdir(exist_ok=True)
    record = {
        "label": label,
        "started": began,
        "ended": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
        "python": platform.python_version(),
        # For an execute the Agent Server's CPU includes running the queued 3-step run
        # (langgraph dev runs it in the same process), not only creating it.
        "note": "agent_server cpu for execute includes running the run",
        "results": results,
    }
    out = RESULTS / f"cpu-{label}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written: {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")


if __name__ == "__main__":
    main()
