"""(4) Workflows side by side: N slow-model workflows started at once against one alone.

A one-step workflow whose step is one model call answering after MODEL_DELAY seconds (a
loopback OpenAI-compatible model, `tests/fake_openai.py`, `[slow N]`). Each workflow is
timed from just before its execute (`POST /api/workflow/execute`) to the first poll of
`GET /api/threads/{id}` through the gateway that shows it `completed`: one alone (several
times; median), then SIZES at once, each from its own execute. The same, in the same run,
on an Agent Server running one run at a time (`--n-jobs-per-worker 1`, what `langgraph
dev` does unless told) and on one running the launcher's default (10 jobs). Reported as
ratios: N at once (slowest) / one alone, and the overhead per workflow beyond its model
call, (one alone - model delay) / model delay. Results are printed and written as JSON.

    .venv/bin/python -m bench.concurrency   # writes bench/results/concurrency-latest.json
"""

from __future__ import annotations

import asyncio
import json
import secrets
import statistics
import time
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.stack import BenchStack, bench_stack, run_record
from tests.fake_openai import FakeOpenAI
from tools.launcher import DEFAULT_AGENT_JOBS

MODEL_DELAY = 2.0  # seconds the model takes to answer the step
SIZES = (6, 10)  # workflows started at once
JOBS = (1, DEFAULT_AGENT_JOBS)  # before (langgraph dev's own default), after
# How many start at once, in order: one alone before, between and after the batches.
PLAN = (1, 1, 6, 1, 10, 1, 1)
POLL = 0.1  # seconds between status polls once the model delay has passed
WORKFLOW_TIMEOUT = 120.0  # seconds one workflow may take before the run is abandoned
RESULTS = Path(__file__).parent / "results"


def stack_with_jobs(jobs: int, model: FakeOpenAI) -> AbstractContextManager[BenchStack]:
    """`bench.stack.bench_stack` running up to `jobs` runs at once, its model the fake."""
    fake = {
        "THREADGATE_MODEL": "openai:fake-model",
        "OPENAI_BASE_URL": model.base_url,
        "OPENAI_API_KEY": "unused",
    }
    return bench_stack(fake, jobs=jobs)


async def one_workflow(gw: httpx.AsyncClient, delay: float) -> float:
    """Seconds from this workflow's execute to the poll that sees it completed."""
    instructions = f"answer {secrets.token_hex(4)}" + (f" [slow {delay:g}]" if delay else "")
    workflow = {"name": "side-by-side", "steps": [{"instructions": instructions}]}
    began = time.perf_counter()
    response = await gw.post("/api/workflow/execute", json={"workflow_json": workflow})
    response.raise_for_status()
    thread_id = response.json()["thread_id"]
    # Nothing completes before its model has answered: no polls before then.
    await asyncio.sleep(max(0.0, began + delay - time.perf_counter()))
    while True:
        thread = (await gw.get(f"/api/threads/{thread_id}")).raise_for_status().json()
        if thread["status"] == "completed":
            return time.perf_counter() - began
        if thread["status"] not in ("pending", "running"):
            raise RuntimeError(f"workflow {thread_id} ended {thread['status']}: {thread}")
        await asyncio.sleep(POLL)


async def at_once(gw: httpx.AsyncClient, count: int) -> list[float]:
    """Each one's seconds, `count` workflows started together."""
    batch = asyncio.gather(*(one_workflow(gw, MODEL_DELAY) for _ in range(count)))
    return sorted(await asyncio.wait_for(batch, WORKFLOW_TIMEOUT))


async def measure(stack: BenchStack) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=stack.gateway_url, headers=stack.headers, timeout=30
    ) as gw:
        await asyncio.wait_for(one_workflow(gw, 0), WORKFLOW_TIMEOUT)  # warm up: graph, model
        alone: list[float] = []
        batches: dict[int, list[float]] = {}
        for count in PLAN:
            if count == 1:
                alone += await at_once(gw, 1)
            else:
                batches[count] = await at_once(gw, count)
    one = statistics.median(alone)
    out: dict[str, Any] = {
        "alone_s": [round(s, 3) for s in alone],
        "alone_median_s": round(one, 3),
        "overhead": round((one - MODEL_DELAY) / MODEL_DELAY, 3),
    }
    for size, times in batches.items():
        out[f"at_once_{size}_s"] = [round(s, 3) for s in times]
        out[f"at_once_{size}_slowest_over_alone"] = round(max(times) / one, 3)
        out[f"at_once_{size}_median_over_alone"] = round(statistics.median(times) / one, 3)
    return out


def report(results: dict[str, dict[str, Any]]) -> None:
    ratios = "".join(f" {f'{n} at once / one alone':>21}" for n in SIZES)
    print(f"\n{'jobs per worker':>15}{ratios} {'overhead':>9}   one alone, N at once (s)")
    for jobs, r in results.items():
        cells = "".join(f" {r[f'at_once_{n}_slowest_over_alone']:>21.2f}" for n in SIZES)
        seconds = ", ".join(f"{max(r[f'at_once_{n}_s']):.2f}" for n in SIZES)
        print(f"{jobs:>15}{cells} {r['overhead']:>9.2f}   {r['alone_median_s']:.2f}, {seconds}")
    print(
        f"(N at once: the slowest of the N over the median of {PLAN.count(1)} alone; overhead: "
        f"(one alone - {MODEL_DELAY:g} s model) / {MODEL_DELAY:g} s; target: 6 at once <= 1.2x)"
    )


def main() -> None:
    began = datetime.now(UTC).isoformat(timespec="seconds")
    model = FakeOpenAI().start()
    results: dict[str, dict[str, Any]] = {}
    try:
        for jobs in JOBS:
            print(f"jobs per worker {jobs}: starting a stack", flush=True)
            with stack_with_jobs(jobs, model) as stack:
                results[str(jobs)] = asyncio.run(measure(stack))
            print(f"jobs per worker {jobs}: {results[str(jobs)]}", flush=True)
    finally:
        model.stop()
    report(results)
    RESULTS.mkdir(exist_ok=True)
    record = {
        **run_record(began),
        "model_delay_s": MODEL_DELAY,
        "poll_s": POLL,
        "plan": list(PLAN),
        "note": "keys of results: --n-jobs-per-worker of the Agent Server; times per workflow "
        "from its execute to the poll that saw it completed",
        "results": results,
    }
    out = RESULTS / "concurrency-latest.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written: {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")


if __name__ == "__main__":
    main()
