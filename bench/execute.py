"""(2) Throughput of starting workflows: gateway execute vs direct `runs.create`.

Both sides ask the same of the Agent Server per request: one `runs.create` that makes a
new thread and a background run of the same 3-step plan (the gateway also authenticates
the caller and parses and validates the workflow JSON).

    .venv/bin/python -m bench.execute
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx

from bench.stack import BenchStack, bench_stack
from gateway.threads.executions import STREAM_MODES, run_input
from gateway.workflows.parser import parse_workflow

WORKFLOW = {"name": "bench", "steps": [{"instructions": f"part {i}"} for i in range(3)]}
ROUNDS = 2


async def throughput(start_one: Callable[[], Awaitable[object]], clients: int, total: int) -> float:
    """Requests per second with `clients` concurrent callers sharing `total` requests."""
    remaining = total

    async def caller() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await start_one()

    began = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(clients)))
    return total / (time.perf_counter() - began)


async def measure(stack: BenchStack) -> None:
    sdk = stack.sdk()
    plan = parse_workflow(WORKFLOW)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=stack.gateway_url, headers=stack.headers, limits=limits, timeout=60
    ) as gw:

        async def via_gateway() -> None:
            response = await gw.post("/api/workflow/execute", json={"workflow_json": WORKFLOW})
            response.raise_for_status()

        async def direct() -> None:
            # What the gateway asks of the Agent Server for a new workflow: one call.
            await sdk.runs.create(
                str(uuid.uuid4()),
                "workflow",
                input=run_input(plan),
                metadata={"workflow_id": plan.workflow_id, "workflow_name": plan.name},
                if_not_exists="create",
                stream_mode=STREAM_MODES,
                stream_resumable=True,
                multitask_strategy="reject",
            )

        await throughput(via_gateway, 4, 20)  # warm up both paths
        await throughput(direct, 4, 20)
        print(f"{'clients':>7} {'gateway req/s':>14} {'direct req/s':>13} {'ratio':>6}")
        for clients in (1, 8, 32):
            total = max(40, clients * 6)
            gateway_rates, direct_rates = [], []
            for _ in range(ROUNDS):  # alternate, so the growing run queue weighs on both
                direct_rates.append(await throughput(direct, clients, total))
                gateway_rates.append(await throughput(via_gateway, clients, total))
            g, d = sum(gateway_rates) / ROUNDS, sum(direct_rates) / ROUNDS
            print(f"{clients:>7} {g:14.1f} {d:13.1f} {g / d:6.2f}")
    await sdk.aclose()


def main() -> None:
    with bench_stack() as stack:
        asyncio.run(measure(stack))


if __name__ == "__main__":
    main()
