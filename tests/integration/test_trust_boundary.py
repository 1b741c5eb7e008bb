"""The Agent Server's own door, probed directly (not through the gateway).

Only real credentials get in: the gateway's service key with the user it vouches for,
or a user's own API key or JWT, checked by the same code as the gateway's. Each user's
own `langgraph-sdk` client sees exactly their threads; anything no handler allows is
refused; and keys published at a JWKS URL rotate without restarting anything.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError, PermissionDeniedError

from agents.contract import LIBRARY_MARK, documents_namespace, workflow_assistant_id
from tests.integration.conftest import IDP, SERVICE_KEY, Stack
from tests.integration.helpers import ALICE_KEY, BOB_KEY, marker, react_flow, start, wait_for_status

ROOT = Path(__file__).parents[2]
SYSTEM = {"x-threadgate-service-key": SERVICE_KEY, "x-threadgate-user": "threadgate:system"}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def probes() -> dict[str, dict[str, str]]:
    """Every way in that must not work, by name (the closing note lists their answers)."""
    unsigned = jwt.encode({"sub": "alice", "exp": time.time() + 60}, key="", algorithm="none")
    return {
        "no credential": {},
        "Studio header": {"x-auth-scheme": "langsmith"},
        "Studio header with a user": {"x-auth-scheme": "langsmith", "x-threadgate-user": "alice"},
        "spoofed user header": {"x-threadgate-user": "alice"},
        "wrong service key": {"x-threadgate-service-key": "wrong-key-0123456789"}
        | {"x-threadgate-user": "alice"},
        "service key, no user": {"x-threadgate-service-key": SERVICE_KEY},
        "service key in x-api-key": {"x-api-key": SERVICE_KEY, "x-threadgate-user": "alice"},
        "service key as bearer": bearer(SERVICE_KEY) | {"x-threadgate-user": "alice"},
        "wrong API key": {"x-api-key": "not-a-key-0123456789"},
        "wrong API key with a user header": {"x-api-key": "nope", "x-threadgate-user": "bob"},
        "expired token": bearer(IDP.sign("k1", "alice", ttl=-120)),
        "token for another audience": bearer(IDP.sign("k1", "alice", aud="elsewhere")),
        "unsigned token (alg none)": bearer(unsigned),
        "token naming the system user": bearer(IDP.sign("k1", "threadgate:system")),
    }


# What each probe tries: reads, writes and a run, with no thread of its own to act on.
ATTEMPTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/threads", {}),
    ("POST", "/threads/search", {}),
    ("POST", "/runs", {"assistant_id": "workflow", "input": {}}),
    ("POST", "/assistants/search", {}),
    ("PUT", "/store/items", {"namespace": ["alice"], "key": "k", "value": {}}),
]


@pytest.fixture
async def direct(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.agent_url, timeout=30) as client:
        yield client


async def count_all_threads(direct: httpx.AsyncClient) -> int:
    response = await direct.post("/threads/count", json={}, headers=SYSTEM)
    response.raise_for_status()
    return int(response.json())


@pytest.mark.parametrize("probe", list(probes()))
async def test_no_way_in_without_a_real_credential(direct: httpx.AsyncClient, probe: str):
    headers = probes()[probe]
    before = await count_all_threads(direct)
    for method, path, body in ATTEMPTS:
        response = await direct.request(method, path, json=body, headers=headers)
        assert response.status_code in (401, 403), (probe, method, path, response.status_code)
    assert await count_all_threads(direct) == before, f"{probe} created a thread"


async def test_what_the_agent_server_serves_without_a_credential(direct: httpx.AsyncClient):
    """The README's list: health, server info, process metrics and API docs; no user data."""
    for path in ("/ok", "/info", "/metrics", "/docs", "/openapi.json"):
        assert (await direct.get(path)).status_code == 200, path
    assert (await direct.get("/threads/00000000-0000-4000-8000-000000000000")).status_code == 401


async def test_what_no_handler_allows_is_refused(
    direct: httpx.AsyncClient, gateway: httpx.AsyncClient
):
    """The platform allows what has no auth handler; ours refuses it by default. The
    graph's own assistant is read by everyone and changed by nobody."""
    alice = {"x-api-key": ALICE_KEY}
    created = await direct.post("/assistants", json={"graph_id": "workflow"}, headers=alice)
    assert created.status_code == 403, created.text
    found = await direct.post("/assistants/search", json={}, headers=alice)
    assert found.status_code == 200
    assert all(a["metadata"].get("owner") == "alice" for a in found.json()), "only her own"
    # The graph's own assistant: the one every workflow thread ran on.
    thread_id = await start(gateway, react_flow(marker(), steps=1))
    thread = await direct.get(f"/threads/{thread_id}", headers=alice)
    assistant_id = thread.json()["metadata"]["assistant_id"]
    system = await direct.get(f"/assistants/{assistant_id}", headers=alice)
    assert system.status_code == 200, "reading the graph's own assistant stays allowed"
    changed = await direct.patch(f"/assistants/{assistant_id}", json={}, headers=alice)
    assert changed.status_code == 404
    deleted = await direct.delete(f"/assistants/{assistant_id}", headers=alice)
    assert deleted.status_code == 404
    assert (await direct.get(f"/assistants/{assistant_id}", headers=alice)).status_code == 200


@pytest.fixture
async def own_clients(stack: Stack) -> AsyncIterator[tuple[LangGraphClient, LangGraphClient]]:
    """alice's and bob's own langgraph-sdk clients, with their own API keys."""
    alice = get_client(url=stack.agent_url, api_key=ALICE_KEY)
    bob = get_client(url=stack.agent_url, api_key=BOB_KEY)
    try:
        yield alice, bob
    finally:
        await alice.aclose()
        await bob.aclose()


async def test_users_own_sdk_clients_see_exactly_their_own_threads(
    gateway: httpx.AsyncClient, own_clients: tuple[LangGraphClient, LangGraphClient]
):
    alice, bob = own_clients
    thread_id = await start(gateway, react_flow(marker(), steps=2))
    await wait_for_status(gateway, thread_id, {"completed"})

    thread = await alice.threads.get(thread_id)
    assert (thread["metadata"] or {})["owner"] == "alice"
    state = await alice.threads.get_state(thread_id)
    values: Any = state["values"]
    assert values["phase"] == "done" and len(values["completed"]) == 2
    assert len(await alice.threads.get_history(thread_id, limit=10)) >= 3
    assert thread_id in [t["thread_id"] for t in await alice.threads.search(limit=100)]

    assert thread_id not in [t["thread_id"] for t in await bob.threads.search(limit=100)]
    spying = await bob.threads.search(metadata={"owner": "alice"}, limit=100)
    assert thread_id not in [t["thread_id"] for t in spying]
    by_id: list[Callable[[], Awaitable[Any]]] = [
        lambda: bob.threads.get(thread_id),
        lambda: bob.threads.get_state(thread_id),
        lambda: bob.threads.get_history(thread_id),
        lambda: bob.threads.update(thread_id, metadata={"owner": "bob"}),
        lambda: bob.threads.update_state(thread_id, {"phase": "pending"}),
        lambda: bob.runs.list(thread_id),
        lambda: bob.runs.create(thread_id, "workflow", input={}),
        lambda: bob.threads.delete(thread_id),
    ]
    for call in by_id:
        with pytest.raises(NotFoundError):
            await call()
    after = await alice.threads.get_state(thread_id)
    assert after["checkpoint"] == state["checkpoint"], "bob changed alice's thread"


async def test_users_own_sdk_clients_reach_only_their_own_library_and_schedules(
    gateway: httpx.AsyncClient, own_clients: tuple[LangGraphClient, LangGraphClient]
):
    """Saved workflows are assistants (documents in the store) and schedules are crons:
    probed directly with bob's own key, alice's are absent (404), refused (403), or
    not listed."""
    alice, bob = own_clients
    tag = marker()
    workflow_id = f"lib-{tag}"
    flow = {**react_flow(tag, steps=1), "id": workflow_id}
    await gateway.post("/api/workflows", json={"workflow_json": flow})
    await gateway.post("/api/schedules", json={"workflow_id": workflow_id, "cron": "0 3 1 1 *"})

    assistant_id = workflow_assistant_id("alice", workflow_id)
    mine = await alice.assistants.get(assistant_id)
    assert mine["version"] == 1
    document, incarnation = ((mine["metadata"] or {})[k] for k in ("document", "incarnation"))
    documents = list(documents_namespace("alice", workflow_id, incarnation))
    assert (await alice.store.get_item(documents, document))["value"]["workflow_json"] == flow
    assert len(await alice.crons.search(metadata={"workflow_id": workflow_id})) == 1

    absent: list[Callable[[], Awaitable[Any]]] = [
        lambda: bob.assistants.get(assistant_id),
        lambda: bob.assistants.get_versions(assistant_id),
        lambda: bob.assistants.update(assistant_id, metadata={"name": "bob's now"}),
        lambda: bob.assistants.delete(assistant_id),
    ]
    for call in absent:
        with pytest.raises(NotFoundError):
            await call()
    refused: list[Callable[[], Awaitable[Any]]] = [
        # Taking the id alice's workflow has, or any assistant that is not his own
        # library workflow, is refused.
        lambda: bob.assistants.create(
            "workflow",
            assistant_id=assistant_id,
            metadata={**LIBRARY_MARK, "workflow_id": workflow_id},
        ),
        lambda: bob.assistants.create("workflow", metadata={"workflow_id": workflow_id}),
        lambda: bob.store.get_item(documents, document),
        lambda: bob.store.search_items(documents),
        lambda: bob.store.put_item(documents, document, {}),
        lambda: bob.store.delete_item(documents, document),
        # And alice may not move her own "latest" back (a rollback adds a version), nor
        # mark her assistant as the server's own (everyone reads and runs those).
        lambda: alice.assistants.set_latest(assistant_id, 1),
        lambda: alice.assistants.update(assistant_id, metadata={"created_by": "system"}),
        lambda: alice.assistants.create(
            "workflow",
            assistant_id=workflow_assistant_id("alice", f"sys-{tag}"),
            metadata={**LIBRARY_MARK, "workflow_id": f"sys-{tag}", "created_by": "system"},
        ),
    ]
    for call in refused:
        with pytest.raises(PermissionDeniedError):
            await call()
    assert assistant_id not in {a["assistant_id"] for a in await bob.assistants.search(limit=100)}
    assert await bob.crons.search(metadata={"workflow_id": workflow_id}) == []
    assert (await alice.assistants.get(assistant_id))["metadata"] == mine["metadata"]
    # Giving it away does not work either: the owner is stamped on every version.
    given = await alice.assistants.update(assistant_id, metadata={"owner": "bob"})
    assert (given["metadata"] or {})["owner"] == "alice"
    with pytest.raises(NotFoundError):
        await bob.assistants.get(assistant_id)
    await gateway.delete(f"/api/workflows/{workflow_id}")


async def test_a_users_own_run_is_theirs_through_the_gateway_too(
    gateway: httpx.AsyncClient, bob: httpx.AsyncClient, own_clients: Any
):
    """A thread alice makes with her own key belongs to her, whichever way she reads it."""
    alice, _ = own_clients
    thread = await alice.threads.create(metadata={"owner": "bob", "workflow_id": "mine"})
    try:
        assert (thread["metadata"] or {})["owner"] == "alice", "a client cannot choose the owner"
        assert (await gateway.get(f"/api/threads/{thread['thread_id']}")).status_code == 200
        assert (await bob.get(f"/api/threads/{thread['thread_id']}")).status_code == 404
    finally:
        # A thread that never ran has `values: None`, on which the in-memory runtime's
        # values-filtered search fails (500) for its owner (README, known limits).
        await alice.threads.delete(thread["thread_id"])


async def test_a_bearer_token_acts_as_its_subject(stack: Stack, gateway: httpx.AsyncClient):
    thread_id = await start(gateway, react_flow(marker(), steps=1))
    client = get_client(url=stack.agent_url, api_key=None, headers=bearer(IDP.sign("k1", "alice")))
    try:
        assert (await client.threads.get(thread_id))["thread_id"] == thread_id
    finally:
        await client.aclose()


async def wait_for_answer(
    call: Callable[[], Awaitable[int]], wanted: int, what: str, timeout: float = 15
) -> float:
    """Seconds until `call` answers `wanted`; fails with `what` after `timeout`."""
    started = time.monotonic()
    while (status := await call()) != wanted:
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: still {status} after {timeout:.0f} s")
        await asyncio.sleep(0.25)
    return time.monotonic() - started


@pytest.fixture
def rotation() -> Iterator[None]:
    yield
    IDP.publish("k1")  # what the rest of the session signs with


async def test_jwks_keys_rotate_without_restarts(
    stack: Stack, direct: httpx.AsyncClient, rotation: None
):
    """A new key is accepted when first seen; a retired one is refused once the cache
    expires; on the gateway and on the Agent Server alike, with no restart."""

    async def gateway_says(token: str) -> int:
        async with httpx.AsyncClient(base_url=stack.gateway_url, headers=bearer(token)) as gw:
            return (await gw.get("/api/threads", params={"limit": 1})).status_code

    async def agent_server_says(token: str) -> int:
        response = await direct.post("/threads/search", json={"limit": 1}, headers=bearer(token))
        return response.status_code

    IDP.publish("k1")
    old = IDP.sign("k1", "alice")
    for says in (gateway_says, agent_server_says):
        assert await says(old) == 200

    IDP.publish("k1", "k2")
    new = IDP.sign("k2", "alice")
    for says in (gateway_says, agent_server_says):
        await wait_for_answer(lambda s=says: s(new), 200, f"{says.__name__} new key")  # type: ignore[misc]
        assert await says(old) == 200, "both keys are published"

    IDP.publish("k2")  # k1 retired
    for says in (gateway_says, agent_server_says):
        await wait_for_answer(lambda s=says: s(old), 401, f"{says.__name__} retired key")  # type: ignore[misc]
        assert await says(new) == 200


def run_example(stack: Stack, key: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADGATE_")}
    env["THREADGATE_AGENT_URL"] = stack.agent_url
    if key is not None:
        env["THREADGATE_API_KEY"] = key
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / "query_threads.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_example_script_reads_threads_with_a_users_own_key(
    stack: Stack, gateway: httpx.AsyncClient
):
    thread_id = await start(gateway, react_flow(marker(), steps=2))
    await wait_for_status(gateway, thread_id, {"completed"})
    listed = await asyncio.to_thread(run_example, stack, ALICE_KEY)
    assert listed.returncode == 0, listed.stderr
    assert f"{thread_id} idle 2/2" in listed.stdout
    history = await asyncio.to_thread(run_example, stack, ALICE_KEY, "--thread", thread_id)
    assert history.returncode == 0 and history.stdout.count("\n") >= 3, history.stderr
    as_bob = await asyncio.to_thread(run_example, stack, BOB_KEY)
    assert as_bob.returncode == 0 and thread_id not in as_bob.stdout


def test_the_example_script_without_a_key_says_so_in_one_line(stack: Stack):
    missing = run_example(stack, None)
    assert missing.returncode == 2
    assert missing.stdout == "" and missing.stderr.count("\n") == 1, missing.stderr
    assert "THREADGATE_API_KEY" in missing.stderr
    wrong = run_example(stack, "not-a-key-0123456789")
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1, wrong.stderr
    assert "401" in wrong.stderr
