"""`Idempotency-Key`: a request sent again, to any gateway replica, concurrently or
after its run finished, answers with the execution the first one started; counted on
the Agent Server, not taken from the answers."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient

from gateway.threads.executions import IDEMPOTENCY_KEY
from tests.integration.conftest import Stack
from tests.integration.helpers import (
    ALICE,
    marker,
    react_flow,
    start,
    stream_frames,
    wait_for_execution,
    wait_for_status,
)

EXECUTE = "/api/workflow/execute"
RETRIES = 20


@pytest.fixture
async def replicas(stack: Stack, second_gateway: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """alice on each of two gateway processes over the one Agent Server."""
    clients = [
        httpx.AsyncClient(base_url=url, timeout=60, headers=ALICE)
        for url in (stack.gateway_url, second_gateway)
    ]
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def threads_marked(sdk: LangGraphClient, key: str) -> list[str]:
    """alice's threads whose metadata names this key (as its hash), on the Agent Server."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    found = await sdk.threads.search(metadata={IDEMPOTENCY_KEY: digest}, limit=100)
    return [str(t["thread_id"]) for t in found]


async def run_ids(sdk: LangGraphClient, thread_id: str) -> list[str]:
    return [str(r["run_id"]) for r in await sdk.runs.list(thread_id, limit=100)]


def one_execution(answers: list[httpx.Response]) -> dict[str, Any]:
    """All answered 2xx with one execution: exactly one 202 (the start), 200s (retries)."""
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * (len(answers) - 1) + [202], [a.text for a in answers]
    bodies: list[dict[str, Any]] = [a.json() for a in answers]
    assert len({(b["thread_id"], b["execution_id"]) for b in bodies}) == 1, bodies
    return bodies[0]


async def test_concurrent_executes_with_one_key_on_two_replicas_start_one_run(
    stack: Stack, replicas: list[httpx.AsyncClient], sdk: LangGraphClient
):
    tag, key = marker(), f"order-{marker()}"
    body = {"workflow_json": react_flow(tag, steps=2)}
    answers = await asyncio.gather(
        *(replicas[i % 2].post(EXECUTE, json=body, headers=keyed(key)) for i in range(RETRIES))
    )
    execution = one_execution(answers)
    thread_id = execution["thread_id"]
    assert await threads_marked(sdk, key) == [thread_id]
    [run_id] = await run_ids(sdk, thread_id)
    assert execution["execution_id"] == f"{thread_id}.{run_id}"
    workflow_threads = await sdk.threads.search(metadata={"workflow_id": f"wf-{tag}"})
    assert [str(t["thread_id"]) for t in workflow_threads] == [thread_id]

    await wait_for_execution(replicas[0], execution["execution_id"])
    again = await replicas[1].post(EXECUTE, json=body, headers=keyed(key))
    assert again.status_code == 200, again.text
    assert again.json() == execution
    assert await run_ids(sdk, thread_id) == [run_id]
    calls = [stack.model.calls_mentioning(f"{tag} do part {i}") for i in (1, 2)]
    assert calls == [1, 1], calls


async def test_the_same_key_with_another_body_is_refused_and_starts_nothing(
    gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    key = f"order-{marker()}"
    first = await gateway.post(
        EXECUTE, json={"workflow_json": react_flow(marker())}, headers=keyed(key)
    )
    assert first.status_code == 202, first.text
    other_tag = marker()
    other = await gateway.post(
        EXECUTE, json={"workflow_json": react_flow(other_tag)}, headers=keyed(key)
    )
    assert other.status_code == 422, other.text
    assert other.json()["error"] == "idempotency_key_reused"
    assert other.json()["details"] == {"field": "Idempotency-Key"}
    assert await sdk.threads.search(metadata={"workflow_id": f"wf-{other_tag}"}) == []
    assert await run_ids(sdk, first.json()["thread_id"]) == [
        first.json()["execution_id"].split(".")[1]
    ]


async def test_another_users_same_key_is_an_independent_execution(
    gateway: httpx.AsyncClient, bob: httpx.AsyncClient
):
    key = f"order-{marker()}"
    body = {"workflow_json": react_flow(marker(), steps=1)}
    alices = await gateway.post(EXECUTE, json=body, headers=keyed(key))
    bobs = await bob.post(EXECUTE, json=body, headers=keyed(key))
    assert (alices.status_code, bobs.status_code) == (202, 202), (alices.text, bobs.text)
    assert alices.json()["thread_id"] != bobs.json()["thread_id"]
    await wait_for_execution(gateway, alices.json()["execution_id"])
    await wait_for_execution(bob, bobs.json()["execution_id"])
    # Each one's retry finds their own.
    assert (await bob.post(EXECUTE, json=body, headers=keyed(key))).json() == bobs.json()


async def test_concurrent_follow_ups_with_one_key_start_one_run(
    replicas: list[httpx.AsyncClient], sdk: LangGraphClient
):
    thread_id = await start(replicas[0], react_flow(marker(), steps=1))
    await wait_for_status(replicas[0], thread_id, {"completed"})
    before = await run_ids(sdk, thread_id)
    body = {"thread_id": thread_id, "message": "and summarise it"}
    key = f"follow-{marker()}"
    answers = await asyncio.gather(
        *(replicas[i % 2].post(EXECUTE, json=body, headers=keyed(key)) for i in range(RETRIES))
    )
    execution = one_execution(answers)
    after = await run_ids(sdk, thread_id)
    assert len(after) == len(before) + 1
    await wait_for_execution(replicas[1], execution["execution_id"])
    again = await replicas[0].post(EXECUTE, json=body, headers=keyed(key))
    assert (again.status_code, again.json()) == (200, execution)
    assert len(await run_ids(sdk, thread_id)) == len(after)


async def test_a_resume_sent_twice_with_one_key_starts_one_run(
    replicas: list[httpx.AsyncClient], sdk: LangGraphClient
):
    gateway = replicas[0]
    thread_id = await start(gateway, react_flow(marker(), steps=3, slow=1))
    await wait_for_status(gateway, thread_id, {"running"})
    assert (await gateway.post(f"/api/threads/{thread_id}/pause")).status_code == 202
    await wait_for_status(gateway, thread_id, {"paused"})
    before = await run_ids(sdk, thread_id)
    key = f"resume-{marker()}"
    resume = f"/api/threads/{thread_id}/resume"
    answers = await asyncio.gather(
        *(replicas[i % 2].post(resume, headers=keyed(key)) for i in range(10))
    )
    execution = one_execution(answers)
    assert len(await run_ids(sdk, thread_id)) == len(before) + 1
    await wait_for_status(gateway, thread_id, {"completed"})
    again = await replicas[1].post(resume, headers=keyed(key))
    assert (again.status_code, again.json()) == (200, execution)
    other = await gateway.post(resume, json={"approved": True}, headers=keyed(key))
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    assert len(await run_ids(sdk, thread_id)) == len(before) + 1


async def test_the_websocket_key_joins_the_run_it_started(
    stack: Stack, gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    key = f"socket-{marker()}"
    workflow = react_flow(marker(), steps=1)
    first = await stream_frames(stack.ws_url, {"workflow_json": workflow, "idempotency_key": key})
    started = first[0]
    assert started["type"] == "started" and started["replayed"] is False
    assert first[-1]["type"] == "end", first[-1]
    again = await stream_frames(stack.ws_url, {"workflow_json": workflow, "idempotency_key": key})
    assert again[0]["type"] == "started" and again[0]["replayed"] is True
    assert again[0]["execution_id"] == started["execution_id"]
    assert again[-1]["type"] == "end" and again[-1]["status"] == "completed", again[-1]
    # The same request over REST, with the key as the header, is that execution too.
    rest = await gateway.post(EXECUTE, json={"workflow_json": workflow}, headers=keyed(key))
    assert (rest.status_code, rest.json()["execution_id"]) == (200, started["execution_id"])
    assert len(await run_ids(sdk, started["thread_id"])) == 1
    reused = await stream_frames(
        stack.ws_url, {"workflow_json": react_flow(marker()), "idempotency_key": key}
    )
    assert [f["type"] for f in reused] == ["error"]
    assert reused[0]["error"] == "idempotency_key_reused"
    assert reused[0]["details"] == {"field": "idempotency_key"}
    assert json.dumps(reused).count(started["thread_id"]) == 0
