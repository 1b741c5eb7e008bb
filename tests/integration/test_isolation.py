"""Two users on one gateway and one Agent Server: neither ever sees the other's threads.

For every endpoint that takes a thread or execution id, bob gets 404 for alice's
thread and alice's thread is unchanged afterwards; searches and counts never show it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.integration.conftest import Stack
from tests.integration.helpers import (
    BOB,
    marker,
    react_flow,
    stream_frames,
    wait_for_status,
    ws_connect,
)


async def alices_threads(gateway: httpx.AsyncClient, tag: str) -> dict[str, Any]:
    """A finished thread and one waiting at an approval, both alice's."""
    done = await gateway.post(
        "/api/workflow/execute", json={"workflow_json": react_flow(tag, steps=2)}
    )
    waiting_flow = {**react_flow(f"{tag}w", steps=1), "id": f"wf-{tag}"}
    waiting_flow["nodes"].append({"id": "ok", "type": "approval", "data": {"question": "ok?"}})
    waiting_flow["edges"].append({"source": "n1", "target": "ok"})
    waiting = await gateway.post("/api/workflow/execute", json={"workflow_json": waiting_flow})
    await wait_for_status(gateway, done.json()["thread_id"], {"completed"})
    await wait_for_status(gateway, waiting.json()["thread_id"], {"waiting"})
    return {"done": done.json(), "waiting": waiting.json()}


async def all_not_found(bob: httpx.AsyncClient, attempts: dict[str, tuple[str, str, Any]]) -> None:
    """Each (method, path, body) answers bob 404 `not_found`, whatever it would do."""
    matrix = {}
    for name, (method, path, body) in attempts.items():
        response = await bob.request(method, path, json=body)
        matrix[name] = response.status_code
        assert response.json()["error"] == "not_found", (name, response.text)
    assert set(matrix.values()) == {404}, matrix


async def snapshot(gateway: httpx.AsyncClient, sdk: LangGraphClient, thread_id: str) -> Any:
    details = (await gateway.get(f"/api/threads/{thread_id}")).json()
    history = (await gateway.get(f"/api/threads/{thread_id}/history")).json()
    runs = await sdk.runs.list(thread_id)
    return details, [c["checkpoint_id"] for c in history], [r["run_id"] for r in runs]


async def test_bob_gets_404_for_every_way_into_alices_threads(
    stack: Stack, gateway: httpx.AsyncClient, bob: httpx.AsyncClient, sdk: LangGraphClient
):
    tag = marker()
    alice = await alices_threads(gateway, tag)
    done, waiting = alice["done"]["thread_id"], alice["waiting"]["thread_id"]
    checkpoint = (await gateway.get(f"/api/threads/{done}/history")).json()[1]["checkpoint_id"]
    before = {t: await snapshot(gateway, sdk, t) for t in (done, waiting)}

    attempts = {
        "GET thread": ("GET", f"/api/threads/{done}", None),
        "GET state": ("GET", f"/api/threads/{done}/state", None),
        "GET state at checkpoint": (
            "GET",
            f"/api/threads/{done}/state?checkpoint_id={checkpoint}",
            None,
        ),
        "GET history": ("GET", f"/api/threads/{done}/history", None),
        "DELETE thread": ("DELETE", f"/api/threads/{done}", None),
        "POST pause": ("POST", f"/api/threads/{waiting}/pause", None),
        "POST cancel": ("POST", f"/api/threads/{waiting}/cancel", None),
        "POST resume (answer)": ("POST", f"/api/threads/{waiting}/resume", {"approved": True}),
        "POST resume": ("POST", f"/api/threads/{done}/resume", None),
        "POST fork": ("POST", f"/api/threads/{done}/fork", {"checkpoint_id": checkpoint}),
        "GET execution": ("GET", f"/api/workflow/execution/{alice['done']['execution_id']}", None),
        "POST execute on thread": (
            "POST",
            "/api/workflow/execute",
            {"workflow_json": react_flow(tag), "thread_id": done},
        ),
        "POST follow-up on thread": (
            "POST",
            "/api/workflow/execute",
            {"message": "hi", "thread_id": done},
        ),
        "POST save as workflow": ("POST", f"/api/threads/{done}/save-as-workflow", {}),
    }
    await all_not_found(bob, attempts)

    base = stack.gateway_url.replace("http://", "ws://")
    async with ws_connect(f"{base}/api/threads/{done}/stream", BOB) as ws:
        joined = [json.loads(m) async for m in ws]
    assert joined[0]["error"] == "not_found"
    frames = await stream_frames(
        stack.ws_url, {"workflow_json": react_flow(tag), "thread_id": done}, BOB
    )
    assert frames[0]["error"] == "not_found"

    batch = await bob.post("/api/threads/failed/resume", json={"thread_ids": [done, waiting]})
    assert {r["outcome"] for r in batch.json()} == {"not_found"}
    pruned = await bob.post(
        "/api/threads/prune", json={"older_than_minutes": 0, "dry_run": False, "limit": 10_000}
    )
    assert not {done, waiting} & set(pruned.json()["thread_ids"])

    for thread_id in (done, waiting):
        assert await snapshot(gateway, sdk, thread_id) == before[thread_id]


async def test_bobs_searches_never_include_alices_threads(
    gateway: httpx.AsyncClient, bob: httpx.AsyncClient
):
    tag = marker()
    alice = await alices_threads(gateway, tag)
    ids = {alice["done"]["thread_id"], alice["waiting"]["thread_id"]}
    searches: list[dict[str, str | int]] = [
        {"workflow_id": f"wf-{tag}"},
        {"status": "waiting", "limit": 1000},
        {"status": "completed", "limit": 1000},
        {"limit": 1000},
    ]
    # Naming an owner is no parameter of the listing: refused, not quietly ignored.
    spoofed = await bob.get("/api/threads", params={"workflow_id": f"wf-{tag}", "owner": "alice"})
    assert spoofed.status_code == 422, spoofed.text
    for params in searches:
        page = (await bob.get("/api/threads", params=params)).json()
        assert not ids & {t["thread_id"] for t in page["threads"]}, params
    assert (await bob.get("/api/threads", params={"workflow_id": f"wf-{tag}"})).json()["total"] == 0
    mine = await gateway.get("/api/threads", params={"workflow_id": f"wf-{tag}"})
    assert mine.json()["total"] == 2
    failed = await bob.get("/api/threads/failed", params={"workflow_id": f"wf-{tag}"})
    assert failed.json() == []


async def test_a_client_supplied_owner_is_overwritten(
    gateway: httpx.AsyncClient, bob: httpx.AsyncClient
):
    flow = {**react_flow(marker(), steps=1), "owner": "alice", "metadata": {"owner": "alice"}}
    accepted = await bob.post(
        "/api/workflow/execute", json={"workflow_json": flow, "owner": "alice", "user_id": "alice"}
    )
    assert accepted.status_code == 202
    thread_id = accepted.json()["thread_id"]
    details = await wait_for_status(bob, thread_id, {"completed"})
    assert details["metadata"]["owner"] == "bob"
    assert (await gateway.get(f"/api/threads/{thread_id}")).status_code == 404


async def test_bob_gets_404_for_alices_workflows_and_schedules(
    stack: Stack, gateway: httpx.AsyncClient, bob: httpx.AsyncClient, sdk: LangGraphClient
):
    tag = marker()
    workflow_id = f"own-{tag}"
    flow = {**react_flow(tag, steps=1), "id": workflow_id}
    await gateway.post("/api/workflows", json={"workflow_json": flow})
    scheduled = await gateway.post(
        "/api/schedules", json={"workflow_id": workflow_id, "cron": "0 3 1 1 *"}
    )
    schedule_id = scheduled.json()["schedule_id"]
    other = {"workflow_json": {**react_flow(f"{tag}b", steps=2), "id": workflow_id}}
    attempts = {
        "GET workflow": ("GET", f"/api/workflows/{workflow_id}", None),
        "GET workflow version": ("GET", f"/api/workflows/{workflow_id}?version=1", None),
        "GET versions": ("GET", f"/api/workflows/{workflow_id}/versions", None),
        "PUT workflow": ("PUT", f"/api/workflows/{workflow_id}", other),
        "DELETE workflow": ("DELETE", f"/api/workflows/{workflow_id}", None),
        "POST execute saved": ("POST", "/api/workflow/execute", {"workflow_id": workflow_id}),
        "POST schedule for it": (
            "POST",
            "/api/schedules",
            {"workflow_id": workflow_id, "cron": "0 9 * * *"},
        ),
        "GET schedule": ("GET", f"/api/schedules/{schedule_id}", None),
        "PATCH schedule": ("PATCH", f"/api/schedules/{schedule_id}", {"enabled": False}),
        "DELETE schedule": ("DELETE", f"/api/schedules/{schedule_id}", None),
    }
    await all_not_found(bob, attempts)
    listed = (await bob.get("/api/workflows", params={"limit": 100})).json()["workflows"]
    assert workflow_id not in {w["workflow_id"] for w in listed}
    schedules = (await bob.get("/api/schedules", params={"limit": 100})).json()["schedules"]
    assert schedule_id not in {s["schedule_id"] for s in schedules}

    # Alice's are as they were.
    mine = (await gateway.get(f"/api/workflows/{workflow_id}")).json()
    assert (mine["version"], mine["step_count"]) == (1, 1)
    assert (await gateway.get(f"/api/schedules/{schedule_id}")).json()["enabled"] is True
    assert len(await sdk.crons.search(metadata={"schedule_id": schedule_id})) == 1
    await gateway.delete(f"/api/workflows/{workflow_id}")
