"""A person's first day: run a workflow, watch it, find it, read it, continue it, delete it.

Everything goes through real gateway processes over HTTP and WebSocket to a real
`langgraph dev` Agent Server.
"""

from __future__ import annotations

import json

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.integration.conftest import Stack, start_test_gateway
from tests.integration.helpers import (
    ALICE,
    marker,
    react_flow,
    stays,
    stream_frames,
    wait_for_status,
    ws_connect,
)
from tools.launcher import free_port, stop


async def test_three_steps_stream_progress_then_end(stack: Stack, gateway: httpx.AsyncClient):
    tag = marker()
    frames = await stream_frames(stack.ws_url, {"workflow_json": react_flow(tag)})

    assert frames[0]["type"] == "started"
    thread_id = frames[0]["thread_id"]
    assert frames[0]["execution_id"].startswith(thread_id)
    finished = [
        (f["completed_steps"], f["total_steps"], f["current_step"])
        for f in frames
        if f["type"] == "progress" and f["event"] == "step_finished"
    ]
    assert finished == [(1, 3, "Step 1"), (2, 3, "Step 2"), (3, 3, "Step 3")]
    assert any(f["type"] == "chunk" for f in frames)
    assert frames[-1]["type"] == "end" and frames[-1]["status"] == "completed"
    assert [f["type"] for f in frames].count("end") == 1
    assert stack.model.calls_mentioning(tag) == 3

    # Found again later by search, with exact progress.
    found = await gateway.get("/api/threads", params={"workflow_id": f"wf-{tag}"})
    page = found.json()
    assert page["total"] == 1 and page["threads"][0]["thread_id"] == thread_id
    progress = page["threads"][0]["progress"]
    assert (progress["status"], progress["completed_steps"], progress["total_steps"]) == (
        "completed",
        3,
        3,
    )
    completed = await gateway.get("/api/threads", params={"status": "completed", "limit": 100})
    assert thread_id in {t["thread_id"] for t in completed.json()["threads"]}
    running = await gateway.get("/api/threads", params={"status": "running", "limit": 100})
    assert thread_id not in {t["thread_id"] for t in running.json()["threads"]}

    # One checkpoint per finished step, and state readable at each of them.
    history = (await gateway.get(f"/api/threads/{thread_id}/history")).json()
    by_steps = {c["completed_steps"]: c for c in history if c["source"] == "loop"}
    assert sorted(by_steps) == [0, 1, 2, 3]
    assert [by_steps[n]["last_step"] for n in (1, 2, 3)] == ["Step 1", "Step 2", "Step 3"]
    after_first = by_steps[1]["checkpoint_id"]
    state = await gateway.get(
        f"/api/threads/{thread_id}/state", params={"checkpoint_id": after_first}
    )
    assert state.json()["values"]["completed"] == ["n1"]
    assert state.json()["next"] == ["task"]
    now = (await gateway.get(f"/api/threads/{thread_id}/state")).json()
    assert now["values"]["completed"] == ["n1", "n2", "n3"] and now["next"] == []
    assert now["values"]["results"]["n2"]["output"].startswith("echo: Step 2/3")


async def test_execute_in_background_and_read_it_from_another_gateway(
    stack: Stack, gateway: httpx.AsyncClient, second_gateway: str
):
    accepted = await gateway.post(
        "/api/workflow/execute", json={"workflow_json": react_flow(marker())}
    )
    assert accepted.status_code == 202
    body = accepted.json()
    assert body["status"] == "pending"
    await wait_for_status(gateway, body["thread_id"], {"completed"})

    # A different gateway process has never seen this execution: it must still resolve it.
    async with httpx.AsyncClient(base_url=second_gateway, headers=ALICE) as other:
        execution = (await other.get(f"/api/workflow/execution/{body['execution_id']}")).json()
    assert execution["status"] == "completed" and execution["run_status"] == "success"
    assert execution["thread_id"] == body["thread_id"]
    assert execution["progress"]["completed_steps"] == 3
    assert set(execution["result"]) == {"n1", "n2", "n3"}


async def test_busy_thread_answers_409_and_runs_nothing_extra(
    stack: Stack, gateway: httpx.AsyncClient
):
    tag = marker()
    first = await gateway.post(
        "/api/workflow/execute", json={"workflow_json": react_flow(tag, steps=2, slow=1)}
    )
    thread_id = first.json()["thread_id"]
    second = await gateway.post(
        "/api/workflow/execute",
        json={"workflow_json": react_flow(marker(), steps=1), "thread_id": thread_id},
    )
    assert second.status_code == 409
    assert second.json()["error"] == "already_running"
    details = await wait_for_status(gateway, thread_id, {"completed"})
    assert details["progress"]["total_steps"] == 2
    assert details["workflow_id"] == f"wf-{tag}"


async def test_continue_a_finished_thread_with_its_history(
    stack: Stack, gateway: httpx.AsyncClient
):
    accepted = await gateway.post(
        "/api/workflow/execute", json={"workflow_json": react_flow(marker(), steps=2)}
    )
    thread_id = accepted.json()["thread_id"]
    await wait_for_status(gateway, thread_id, {"completed"})
    before = (await gateway.get(f"/api/threads/{thread_id}/state")).json()["values"]["messages"]

    follow_up = await gateway.post(
        "/api/workflow/execute", json={"thread_id": thread_id, "message": "Now summarise it all"}
    )
    assert follow_up.status_code == 202 and follow_up.json()["thread_id"] == thread_id
    details = await wait_for_status(gateway, thread_id, {"completed"})
    assert details["results"]["follow-up"]["output"].startswith("echo: Step 1/1: Follow-up")

    after = (await gateway.get(f"/api/threads/{thread_id}/state")).json()["values"]["messages"]
    assert [m["id"] for m in after[: len(before)]] == [m["id"] for m in before]
    assert after[-1]["content"] == details["results"]["follow-up"]["output"]


async def test_client_leaving_mid_stream_loses_nothing(stack: Stack, gateway: httpx.AsyncClient):
    tag = marker()
    async with ws_connect(stack.ws_url) as ws:
        await ws.send(json.dumps({"workflow_json": react_flow(tag, steps=3, slow=0.5)}))
        started = json.loads(await ws.recv())
        while json.loads(await ws.recv())["type"] != "progress":
            pass
    # The socket is closed while the first step runs; the run must carry on alone.
    details = await wait_for_status(gateway, started["thread_id"], {"completed"})
    assert details["progress"]["completed_steps"] == 3
    assert stack.model.calls_mentioning(tag) == 3


async def test_delete_then_every_read_is_404(gateway: httpx.AsyncClient):
    accepted = await gateway.post(
        "/api/workflow/execute", json={"workflow_json": react_flow(marker(), steps=1)}
    )
    thread_id = accepted.json()["thread_id"]
    await wait_for_status(gateway, thread_id, {"completed"})
    assert (await gateway.delete(f"/api/threads/{thread_id}")).status_code == 204
    for path in ("", "/state", "/history"):
        response = await gateway.get(f"/api/threads/{thread_id}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"
    gone = await gateway.get(f"/api/workflow/execution/{accepted.json()['execution_id']}")
    assert gone.status_code == 404


async def test_bad_workflow_is_422_naming_the_node_and_creates_no_thread(
    stack: Stack, gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    before = await sdk.threads.count()
    bad = react_flow(marker())
    bad["edges"].append({"id": "loop", "source": "n3", "target": "n1"})
    response = await gateway.post("/api/workflow/execute", json={"workflow_json": bad})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_workflow"
    assert "n1" in response.json()["message"] and response.json()["details"]["node_id"]

    frames = await stream_frames(
        stack.ws_url, {"workflow_json": {"nodes": [{"id": "x", "type": "oracle"}]}}
    )
    assert frames == [
        {
            "type": "error",
            "error": "invalid_workflow",
            "message": frames[0]["message"],
            "details": {"field": "workflow_json.nodes[0].type", "node_id": "x"},
        }
    ]

    async def nothing_written() -> bool:
        return bool(await sdk.threads.count() == before)

    await stays(nothing_written)


async def test_failed_step_is_reported_with_its_error(stack: Stack, gateway: httpx.AsyncClient):
    flow = react_flow(marker(), steps=2)
    flow["nodes"][0]["data"]["instructions"] += " [fail]"  # nodes are listed last step first
    frames = await stream_frames(stack.ws_url, {"workflow_json": flow})
    assert frames[-1]["type"] == "error" and frames[-1]["error"] == "workflow_failed"
    details = await wait_for_status(gateway, frames[0]["thread_id"], {"failed"})
    assert details["progress"]["completed_steps"] == 1
    assert "step failed on purpose" in (details["progress"]["error_message"] or "")
    failed = await gateway.get(f"/api/workflow/execution/{frames[0]['execution_id']}")
    assert failed.json()["status"] == "failed"
    assert "step failed on purpose" in failed.json()["error"]


async def test_readiness_follows_the_agent_server(gateway: httpx.AsyncClient):
    assert (await gateway.get("/readyz")).json() == {"status": "ready"}


async def test_readiness_is_503_while_the_agent_server_is_unreachable(stack: Stack):
    nowhere = f"http://127.0.0.1:{free_port()}"
    proc, url = start_test_gateway(nowhere, stack.logs, "gateway-no-agent")
    try:
        async with httpx.AsyncClient(base_url=url, headers=ALICE) as client:
            ready = await client.get("/readyz")
            listing = await client.get("/api/threads")
            alive = await client.get("/healthz")
    finally:
        stop(proc)
    assert ready.status_code == 503 and ready.json()["error"] == "agent_unavailable"
    assert listing.status_code == 503 and "Traceback" not in listing.text
    assert alive.status_code == 200
