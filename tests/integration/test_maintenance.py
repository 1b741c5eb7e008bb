"""Failed-workflow recovery and retention against the real Agent Server."""

from __future__ import annotations

import asyncio
import re

import httpx

from tests.integration.conftest import Stack, start_test_gateway
from tests.integration.helpers import marker, react_flow, start, wait_for_status
from tools.launcher import stop


async def test_find_failed_and_resume_each_once(stack: Stack, gateway: httpx.AsyncClient):
    tag = marker()
    flows = []
    for copy in ("a", "b"):
        flow = react_flow(f"{tag}{copy}", steps=3)
        flow["id"] = f"wf-{tag}"
        flow["nodes"][1]["data"]["instructions"] += " [fail once] [slow 1.5]"  # step 2
        flows.append(flow)
    first, second = [await start(gateway, flow) for flow in flows]
    for thread_id in (first, second):
        await wait_for_status(gateway, thread_id, {"failed"})
    ok = await start(gateway, {**react_flow(f"{tag}ok", steps=1), "id": f"wf-{tag}"})
    await wait_for_status(gateway, ok, {"completed"})

    found = await gateway.get("/api/threads/failed", params={"workflow_id": f"wf-{tag}"})
    assert found.status_code == 200, found.text
    assert {t["thread_id"] for t in found.json()} == {first, second}
    assert all(t["progress"]["completed_steps"] == 1 for t in found.json())
    quiet = await gateway.get(
        "/api/threads/failed", params={"workflow_id": f"wf-{tag}", "not_updated_for_minutes": 30}
    )
    assert quiet.json() == []

    resumed = await gateway.post("/api/threads/failed/resume", json={"workflow_id": f"wf-{tag}"})
    assert sorted(r["outcome"] for r in resumed.json()) == ["resumed", "resumed"]

    ghost = "00000000-0000-4000-8000-000000000000"
    again = await gateway.post(
        "/api/threads/failed/resume", json={"thread_ids": [first, first, second, ghost, ok]}
    )
    outcomes = {(r["thread_id"], r["outcome"]) for r in again.json()}
    assert len(again.json()) == 4  # the duplicate was resumed once at most
    assert outcomes == {
        (first, "already_running"),
        (second, "already_running"),
        (ghost, "not_found"),
        (ok, "error"),
    }
    for thread_id in (first, second):
        await wait_for_status(gateway, thread_id, {"completed"})
    for copy in ("a", "b"):
        calls = [stack.model.calls_mentioning(f"{tag}{copy} do part {i}") for i in (1, 2, 3)]
        assert calls == [1, 2, 1]


async def test_prune_dry_run_then_delete_or_keep_latest(gateway: httpx.AsyncClient):
    tag = marker()
    ids = [await start(gateway, {**react_flow(f"{tag}{i}", steps=2), "id": f"wf-{tag}"})
           for i in range(3)]  # fmt: skip
    for thread_id in ids:
        await wait_for_status(gateway, thread_id, {"completed"})
    scope = {"workflow_id": f"wf-{tag}", "older_than_minutes": 0}

    dry = (await gateway.post("/api/threads/prune", json=scope)).json()
    assert dry["dry_run"] is True and sorted(dry["thread_ids"]) == sorted(ids)
    for thread_id in ids:
        assert (await gateway.get(f"/api/threads/{thread_id}")).status_code == 200
    fresh = await gateway.post("/api/threads/prune", json={**scope, "older_than_minutes": 60})
    assert fresh.json()["thread_ids"] == []

    # Trimming to the latest checkpoint is the Agent Server's own operation; the
    # in-memory runtime cannot, and a dry run says so exactly as the real run does.
    for dry_run in (True, False):
        trimmed = await gateway.post(
            "/api/threads/prune",
            json={**scope, "dry_run": dry_run, "keep_latest_checkpoint": True},
        )
        assert trimmed.status_code == 422, trimmed.text
        assert trimmed.json()["error"] == "not_supported"
        assert "in-memory runtime" in trimmed.json()["message"]
    for thread_id in ids:
        assert (await gateway.get(f"/api/threads/{thread_id}")).status_code == 200

    deleted = await gateway.post("/api/threads/prune", json={**scope, "dry_run": False})
    assert sorted(deleted.json()["thread_ids"]) == sorted(ids)
    for thread_id in ids:
        assert (await gateway.get(f"/api/threads/{thread_id}")).status_code == 404


async def test_scheduled_retention_prunes_idle_threads_but_not_running_ones(
    stack: Stack, gateway: httpx.AsyncClient
):
    tag = marker()
    idle = await start(gateway, react_flow(f"{tag}idle", steps=1))
    await wait_for_status(gateway, idle, {"completed"})
    busy = await start(gateway, react_flow(f"{tag}busy", steps=2, slow=2))
    await wait_for_status(gateway, busy, {"running"})

    env = {
        "THREADGATE_RETENTION_TTL_MINUTES": "0.01",
        "THREADGATE_RETENTION_INTERVAL_MINUTES": "0.01",
    }
    proc, _ = start_test_gateway(stack.agent_url, stack.logs, "gateway-retention", env=env)
    try:
        for _ in range(100):
            if (await gateway.get(f"/api/threads/{idle}")).status_code == 404:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the scheduled prune never removed the idle thread")
        assert (await gateway.get(f"/api/threads/{busy}")).json()["status"] == "running"
    finally:
        stop(proc)
    await wait_for_status(gateway, busy, {"completed"})


async def test_the_scheduled_prune_sweeps_each_interval_once_across_replicas(stack: Stack):
    """Two gateway processes, each pruning every 1.2 s: every interval is swept by one
    of them, never by both (the lease is a thread created atomically on the Agent Server)."""
    env = {
        "THREADGATE_RETENTION_TTL_MINUTES": "600",
        "THREADGATE_RETENTION_INTERVAL_MINUTES": "0.02",
    }
    names = [f"gateway-lease-{marker()}-{i}" for i in (1, 2)]
    procs = [start_test_gateway(stack.agent_url, stack.logs, name, env=env)[0] for name in names]
    try:
        await asyncio.sleep(8)
    finally:
        for proc in procs:
            stop(proc)
    swept = [
        re.findall(r"sweeps interval (\d+)", (stack.logs / f"{name}.log").read_text())
        for name in names
    ]
    every = [int(i) for found in swept for i in found]
    assert len(every) == len(set(every)), f"an interval was swept twice: {swept}"
    assert len(every) >= 4, swept  # about 8 s / 1.2 s intervals, none skipped for long
