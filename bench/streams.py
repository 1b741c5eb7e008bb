"""(3) Streaming: added delivery latency of events, and gateway memory per open stream.

Latency: one run is watched at once through a direct SDK `join_stream` and through the
gateway's WebSocket; for each progress event both receive, the gateway's arrival minus
the direct arrival is the latency the gateway adds. Memory: the gateway's RSS with 200
and with 1,000 WebSockets open on a long-running thread.

    .venv/bin/python -m bench.streams
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.stack import BenchStack, bench_stack, median_p95, rss_bytes
from gateway.threads.executions import STREAM_MODES, run_input
from gateway.workflows.parser import parse_workflow
from tests.fake_openai import FakeOpenAI

LATENCY_STEPS = 20


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


async def latency(stack: BenchStack) -> None:
    plan = parse_workflow(
        {
            "name": "latency",
            "steps": [{"instructions": f"part {i} [slow 0.1]"} for i in range(LATENCY_STEPS)],
        }
    )
    sdk = stack.sdk()
    thread = await sdk.threads.create()
    # Starts in 2 s, so both watchers are attached before the first event.
    run = await sdk.runs.create(
        thread["thread_id"],
        "workflow",
        input=run_input(plan),
        stream_mode=STREAM_MODES,
        stream_resumable=True,
        after_seconds=2,
    )
    await sdk.aclose()
    direct, via_gateway = await asyncio.gather(
        direct_arrivals(stack, thread["thread_id"], run["run_id"]),
        gateway_arrivals(stack, thread["thread_id"]),
    )
    added = [(via_gateway[k] - direct[k]) * 1000 for k in direct if k in via_gateway]
    med, p95 = median_p95(added)
    print(
        f"event delivery: {len(added)} events seen by both; gateway adds "
        f"median {med:.2f} ms, p95 {p95:.2f} ms over a direct SDK stream"
    )


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


async def memory(stack: BenchStack) -> None:
    client = httpx.AsyncClient(base_url=stack.gateway_url, headers=stack.headers, timeout=120)
    async with client as gw:
        workflow = {"name": "long", "steps": [{"instructions": "wait [slow 120]"}]}
        accepted = (await gw.post("/api/workflow/execute", json={"workflow_json": workflow})).json()
        thread_id = accepted["thread_id"]
        while (await gw.get(f"/api/threads/{thread_id}")).json()["status"] != "running":
            await asyncio.sleep(0.2)
        baseline = rss_bytes(stack.gateway_pid)
        first = await open_streams(stack, thread_id, 200)
        await asyncio.sleep(1)
        at_200 = rss_bytes(stack.gateway_pid)
        more = await open_streams(stack, thread_id, 800)
        await asyncio.sleep(1)
        at_1000 = rss_bytes(stack.gateway_pid)
        report_memory(baseline, at_200, at_1000)
        for ws in first + more:
            await ws.close()
        await gw.post(f"/api/threads/{thread_id}/cancel")


def report_memory(baseline: int, at_200: int, at_1000: int) -> None:
    mib = 1024 * 1024
    print(
        f"gateway RSS: {baseline / mib:.1f} MiB idle, {at_200 / mib:.1f} MiB with 200 streams, "
        f"{at_1000 / mib:.1f} MiB with 1,000 streams"
    )
    print(
        f"per open stream: {(at_200 - baseline) / 200 / 1024:.1f} KiB (first 200), "
        f"{(at_1000 - at_200) / 800 / 1024:.1f} KiB (next 800)"
    )


def main() -> None:
    model = FakeOpenAI().start()
    env: dict[str, Any] = {
        "THREADGATE_MODEL": "openai:fake-model",
        "OPENAI_BASE_URL": model.base_url,
        "OPENAI_API_KEY": "unused",
    }
    try:
        with bench_stack(env) as stack:
            asyncio.run(latency(stack))
            asyncio.run(memory(stack))
    finally:
        model.stop()


if __name__ == "__main__":
    main()
