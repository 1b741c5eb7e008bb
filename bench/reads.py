"""(1) Added latency of proxied reads: gateway vs direct SDK, 1,000 threads present.

.venv/bin/python -m bench.reads
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.stack import BenchStack, bench_stack, median_p95

THREADS = 1_000
SAMPLES = 300
WORKFLOW = {"name": "bench", "steps": [{"instructions": f"part {i}"} for i in range(3)]}


async def timed(call: Callable[[], Awaitable[object]], samples: int) -> list[float]:
    for _ in range(20):  # warm up connections and caches
        await call()
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        await call()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def measure(stack: BenchStack) -> None:
    sdk = stack.sdk()
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=stack.headers) as gw:
        accepted = (await gw.post("/api/workflow/execute", json={"workflow_json": WORKFLOW})).json()
        thread_id = accepted["thread_id"]
        await sdk.runs.join(thread_id, accepted["execution_id"].split(".")[1])
        for start in range(0, THREADS - 1, 50):
            await asyncio.gather(
                *(
                    sdk.threads.create(metadata={"workflow_id": "filler"})
                    for _ in range(min(50, THREADS - 1 - start))
                )
            )
        total = await sdk.threads.count()

        reads = {
            "thread get": (
                lambda: gw.get(f"/api/threads/{thread_id}"),
                lambda: sdk.threads.get(thread_id),
            ),
            "state": (
                lambda: gw.get(f"/api/threads/{thread_id}/state"),
                lambda: sdk.threads.get_state(thread_id),
            ),
            "history": (
                lambda: gw.get(f"/api/threads/{thread_id}/history"),
                lambda: sdk.threads.get_history(thread_id, limit=100),
            ),
            "search (20 of 1,000)": (
                lambda: gw.get("/api/threads", params={"limit": 20}),
                lambda: sdk.threads.search(limit=20, sort_by="created_at", sort_order="desc"),
            ),
        }
        print(f"threads present: {total}; {SAMPLES} sequential samples per read, interleaved")
        print(
            f"{'read':22} {'gateway med/p95 ms':>20} {'direct med/p95 ms':>19} "
            f"{'added med ms':>13} {'ratio':>6}"
        )
        for name, (via_gateway, direct) in reads.items():
            gateway_ms: list[float] = []
            direct_ms: list[float] = []
            for _ in range(3):  # alternate, so drift hits both sides alike
                gateway_ms += await timed(via_gateway, SAMPLES // 3)
                direct_ms += await timed(direct, SAMPLES // 3)
            g_med, g_p95 = median_p95(gateway_ms)
            d_med, d_p95 = median_p95(direct_ms)
            print(
                f"{name:22} {g_med:9.2f} / {g_p95:7.2f} {d_med:8.2f} / {d_p95:7.2f} "
                f"{g_med - d_med:13.2f} {g_med / d_med:6.2f}"
            )
    await sdk.aclose()


def main() -> None:
    with bench_stack() as stack:
        asyncio.run(measure(stack))


if __name__ == "__main__":
    main()
