"""Workflows and waiting helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
from websockets.asyncio.client import connect

# Two users of the gateway under test (see conftest.STACK_ENV); keys are test-only.
ALICE_KEY = "alice-test-key-0123456789"
BOB_KEY = "bob-test-key-0123456789"
FUZZ_KEY = "fuzz-test-key-0123456789"
ALICE = {"X-API-Key": ALICE_KEY}
BOB = {"X-API-Key": BOB_KEY}
FUZZ = {"X-API-Key": FUZZ_KEY}
# Team "eng" (conftest.STACK_ENV): alice admin, bob operator, carol approver, dave
# viewer; erin belongs to no team.
CAROL_KEY = "carol-test-key-0123456789"
DAVE_KEY = "dave-test-key-0123456789"
ERIN_KEY = "erin-test-key-0123456789"
TEAM = "eng"
TEAM_ROLES = {"alice": "admin", "bob": "operator", "carol": "approver", "dave": "viewer"}
KEYS = {"alice": ALICE_KEY, "bob": BOB_KEY, "carol": CAROL_KEY, "dave": DAVE_KEY, "erin": ERIN_KEY}


def ws_connect(url: str, user: dict[str, str] = ALICE) -> connect:
    """A WebSocket to the gateway, authenticated by header as `user`."""
    return connect(url, additional_headers=user)


def marker() -> str:
    """A unique word to find one test's model calls among all of the session's."""
    return f"m{uuid.uuid4().hex[:10]}"


def react_flow(tag: str, steps: int = 3, slow: float = 0, name: str = "Report") -> dict[str, Any]:
    """A builder's React Flow export: steps listed out of order, edges chaining them."""
    delay = f" [slow {slow}]" if slow else ""
    nodes = [
        {
            "id": f"n{i}",
            "type": "task",
            "position": {"x": 100 * i, "y": 0},
            "data": {"label": f"Step {i}", "instructions": f"{tag} do part {i}{delay}"},
        }
        for i in range(1, steps + 1)
    ]
    edges = [{"id": f"e{i}", "source": f"n{i}", "target": f"n{i + 1}"} for i in range(1, steps)]
    return {"id": f"wf-{tag}", "name": name, "nodes": list(reversed(nodes)), "edges": edges}


async def start(gateway: httpx.AsyncClient, workflow: dict[str, Any]) -> str:
    """Start a workflow through the gateway; its thread id."""
    response = await gateway.post("/api/workflow/execute", json={"workflow_json": workflow})
    assert response.status_code == 202, response.text
    thread_id: str = response.json()["thread_id"]
    return thread_id


async def wait_for_status(
    gateway: httpx.AsyncClient, thread_id: str, wanted: set[str], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = await gateway.get(f"/api/threads/{thread_id}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        if body["status"] in wanted:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"thread {thread_id} still {body['status']}, wanted {wanted}")
        await asyncio.sleep(0.2)


async def wait_for_execution(
    gateway: httpx.AsyncClient, execution_id: str, wanted: str = "completed", timeout: float = 30
) -> dict[str, Any]:
    """The execution's view once it reads `wanted`; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = (await gateway.get(f"/api/workflow/execution/{execution_id}")).json()
        if body["status"] == wanted:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(
                f"execution {execution_id} still {body['status']}, wanted {wanted}"
            )
        await asyncio.sleep(0.1)


async def wait_for_steps(
    gateway: httpx.AsyncClient, thread_id: str, done: int, timeout: float = 60
) -> dict[str, Any]:
    """Until the thread has finished at least `done` steps; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = (await gateway.get(f"/api/threads/{thread_id}")).json()
        if body["progress"]["completed_steps"] >= done:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"thread {thread_id} finished fewer than {done} steps: {body}")
        await asyncio.sleep(0.1)


async def stays(check: Any, seconds: float = 1.0) -> None:
    """Absence over time: `check()` holds at every look for `seconds`, not just once."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert await check()
        await asyncio.sleep(0.1)


async def stream_frames(
    ws_url: str, payload: dict[str, Any], user: dict[str, str] = ALICE
) -> list[dict[str, Any]]:
    """Send one execute message and read frames until the server closes the socket."""
    frames: list[dict[str, Any]] = []
    async with ws_connect(ws_url, user) as ws:
        await ws.send(json.dumps(payload))
        async for message in ws:
            frames.append(json.loads(message))
    return frames
