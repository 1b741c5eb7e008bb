"""(3) Streaming: added delivery latency of events, upstream streams and memory per socket.

Latency: one run is watched at once through a direct SDK `join_stream` and through the
gateway's WebSockets (1 socket, twice; then 100 sockets); for each progress event, each
socket's arrival minus the direct arrival is the latency the gateway adds. Fan-out:
1,000 WebSockets watching 10 running threads (100 each): the gateway's TCP connections
to the Agent Server (counted by the kernel) and its RSS per socket.

    .venv/bin/python -m bench.streams [label]    # writes bench/results/streams-<label>.json
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import ClientConnection, connect

from bench.stack import BenchStack, bench_stack, median_p95, rss_bytes, run_record
from gateway.threads.executions import STREAM_MODES, run_input
from gateway.workflows.parser import parse_workflow
from tests.fake_openai import FakeOpenAI

LATENCY_STEPS = 20
RUNS, SOCKETS = 10, 1000


async def direct_arrivals(stack: BenchStack, thread_id: str, run_id: str) -> dict[str, float]:
    sdk = stack.sdk()
    seen: dict[str, float] = {}
    async for part in sdk.runs.join_stream(thread_id, run_id):
        if part.event == "custom" and isinstance(part.data, dict):
            seen[f"{part.data['event']}:{part.data['step_id']}"] = time.perf_counter()
    await sdk.aclose()
    return seen


async def gateway_arrivals(stack: BenchStack, thread_id: str) -> dict[str, float]:
    url = stack.gateway_url.replace("http://", "ws://") + f"/api/threads/{thread_id}/stream"
    seen: dict[str, float] = {}
    async with connect(url, additional_headers=stack.headers, max_size=None) as ws:
        async for message in ws:
            frame = json.loads(message)
            if frame["type"] == "progress":
                seen[f"{frame['event']}:{frame['step_id']}"] = time.perf_counter()
    return seen


async def latency(stack: BenchStack, watchers: int) -> dict[str, Any]:
    """Per progress event, each gateway socket's arrival minus a direct SDK stream's."""
    plan = parse_workflow(
        {
            "name": "latency",
            "steps": [{"instructions": f"part {i} [slow 0.1]"} for i in range(LATENCY_STEPS)],
        }
    )
    sdk = stack.sdk()
    thread = await sdk.threads.create()
    # Starts in 2 s, so every watcher is attached before the first event.
    run = await sdk.runs.create(
        thread["thread_id"],
        "workflow",
        input=run_input(plan),
        stream_mode=STREAM_MODES,
        stream_resumable=True,
        after_seconds=2,
    )
    await sdk.aclose()
    direct, *via_gateway = await asyncio.gather(
        direct_arrivals(stack, thread["thread_id"], run["run_id"]),
        *(gateway_arrivals(stack, thread["thread_id"]) for _ in range(watchers)),
    )
    added = [(seen[k] - direct[k]) * 1000 for seen in via_gateway for k in direct if k in seen]
    med, p95 = median_p95(added)
    print(
        f"event delivery, {watchers} gateway socket(s) on the run: {len(added)} arrivals; "
        f"gateway adds median {med:.2f} ms, p95 {p95:.2f} ms over a direct SDK stream"
    )
    return {"watchers": watchers, "arrivals": len(added), "median_ms": med, "p95_ms": p95}


async def open_streams(stack: BenchStack, thread_id: str, count: int) -> list[ClientConnection]:
    url = stack.gateway_url.replace("http://", "ws://") + f"/api/threads/{thread_id}/stream"
    sockets: list[ClientConnection] = []
    for start in range(0, count, 50):
        batch = [
            connect(url, additional_headers=stack.headers) for _ in range(min(50, count - start))
        ]
        sockets += await asyncio.gather(*batch)
    for ws in sockets:  # each stream is live once its `started` frame has arrived
        frame = json.loads(await ws.recv())
        assert frame["type"] == "started", frame
    return sockets


def connections_now(stack: BenchStack) -> int:
    port = int(stack.agent_url.rsplit(":", 1)[1])
    return sum(
        1
        for c in psutil.Process(stack.gateway_pid).net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


async def upstream_connections(stack: BenchStack) -> int:
    """The gateway's open TCP connections to the Agent Server, counted by the kernel: the
    fewest seen over 10 s, so idle pooled connections (closed after 2 s idle, checked
    every few seconds) are not counted as streams."""
    fewest = connections_now(stack)
    for _ in range(10):
        await asyncio.sleep(1)
        fewest = min(fewest, connections_now(stack))
    return fewest


async def fan_out(stack: BenchStack) -> dict[str, Any]:
    """1,000 sockets watching 10 running threads: upstream streams and memory per socket."""
    client = httpx.AsyncClient(base_url=stack.gateway_url, headers=stack.headers, timeout=120)
    async with client as gw:
        workflow = {"name": "long", "steps": [{"instructions": "wait [slow 120]"}]}
        started = [
            (await gw.post("/api/workflow/execute", json={"workflow_json": workflow})).json()
            for _ in range(RUNS)
        ]
        threads = [s["thread_id"] for s in started]
        for thread_id in threads:
            while (await gw.get(f"/api/threads/{thread_id}")).json()["status"] != "running":
                await asyncio.sleep(0.2)
        idle_connections = await upstream_connections(stack)
        baseline = rss_bytes(stack.gateway_pid)
        sockets = [ws for t in threads for ws in await open_streams(stack, t, 20)]
        await asyncio.sleep(3)
        at_200 = rss_bytes(stack.gateway_pid)
        for thread_id in threads:
            sockets += await open_streams(stack, thread_id, SOCKETS // RUNS - 20)
        await asyncio.sleep(3)
        at_1000, connections = rss_bytes(stack.gateway_pid), await upstream_connections(stack)
        gauge = metric(await gw.get("/metrics"), "threadgate_run_streams_open")
        mib, kib = 1024 * 1024, 1024
        rss = {"idle": baseline / mib, "200": at_200 / mib, "1000": at_1000 / mib}
        result = {
            "runs": RUNS,
            "sockets": len(sockets),
            "upstream_connections_before": idle_connections,
            "upstream_connections": connections,
            "run_streams_open_gauge": gauge,
            "rss_mib": {k: round(v, 1) for k, v in rss.items()},
            "kib_per_socket_first_200": round((at_200 - baseline) / 200 / kib, 1),
            "kib_per_socket_next_800": round((at_1000 - at_200) / 800 / kib, 1),
        }
        print(
            f"{len(sockets)} sockets on {RUNS} running threads: {connections} gateway "
            f"connections to the Agent Server ({idle_connections} before the sockets; "
            f"gauge threadgate_run_streams_open = {gauge})"
        )
        print(
            f"gateway RSS: {rss['idle']:.1f} MiB before, {rss['200']:.1f} MiB with 200 "
            f"sockets, {rss['1000']:.1f} MiB with 1,000; per socket: "
            f"{result['kib_per_socket_first_200']} KiB (first 200), "
            f"{result['kib_per_socket_next_800']} KiB (next 800)"
        )
        await asyncio.gather(*(ws.close() for ws in sockets))
        for thread_id in threads:
            await gw.post(f"/api/threads/{thread_id}/cancel")
        return result


def metric(answer: httpx.Response, name: str) -> float | None:
    for line in answer.text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def main() -> None:
    model = FakeOpenAI().start()
    env: dict[str, Any] = {
        "THREADGATE_MODEL": "openai:fake-model",
        "OPENAI_BASE_URL": model.base_url,
        "OPENAI_API_KEY": "unused",
    }
    began = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        with bench_stack(env) as stack:
            relay = [asyncio.run(latency(stack, watchers)) for watchers in (1, 1, 100)]
            shared = asyncio.run(fan_out(stack))
    finally:
        model.stop()
    label = sys.argv[1] if len(sys.argv) > 1 else "latest"
    result = {**run_record(began), "relay": relay, "fan_out": shared}
    out = Path(__file__).parent / "results" / f"streams-{label}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
