"""Library writes raced on purpose through two gateway processes on one Agent Server:
what each caller is told must match what the Agent Server kept."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from agents.contract import workflow_assistant_id
from tests.integration.conftest import Stack
from tests.integration.helpers import ALICE, marker

WRITERS = 20


def document(workflow_id: str, writer: int) -> dict[str, Any]:
    """A document only this writer sends."""
    return {
        "id": workflow_id,
        "name": f"Raced by writer {writer}",
        "steps": [{"title": "Only", "instructions": f"writer {writer} wrote this"}],
    }


async def both_gateways(stack: Stack, second_gateway: str) -> list[httpx.AsyncClient]:
    return [
        httpx.AsyncClient(base_url=url, timeout=60, headers=ALICE)
        for url in (stack.gateway_url, second_gateway)
    ]


async def test_concurrent_creates_of_one_id_keep_exactly_the_one_told_created(
    stack: Stack, second_gateway: str, sdk: LangGraphClient
):
    workflow_id = f"race-new-{marker()}"
    clients = await both_gateways(stack, second_gateway)
    try:
        answers = await asyncio.gather(
            *(
                clients[i % 2].post(
                    "/api/workflows", json={"workflow_json": document(workflow_id, i)}
                )
                for i in range(WRITERS)
            )
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [201] + [409] * (WRITERS - 1), codes
        assert {a.json()["error"] for a in answers if a.status_code == 409} == {"workflow_exists"}
        winner = next(i for i, a in enumerate(answers) if a.status_code == 201)
        kept = await clients[0].get(f"/api/workflows/{workflow_id}")
        assert kept.json()["workflow_json"] == document(workflow_id, winner)
        assert kept.json()["version"] == 1
        # Counted on the Agent Server: one workflow, one version.
        versions = await sdk.assistants.get_versions(workflow_assistant_id("alice", workflow_id))
        assert [v["version"] for v in versions] == [1]
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def test_concurrent_new_versions_each_keep_their_callers_document(
    stack: Stack, second_gateway: str, sdk: LangGraphClient
):
    workflow_id = f"race-put-{marker()}"
    clients = await both_gateways(stack, second_gateway)
    try:
        first = await clients[0].post(
            "/api/workflows", json={"workflow_json": document(workflow_id, -1)}
        )
        assert first.status_code == 201, first.text
        answers = await asyncio.gather(
            *(
                clients[i % 2].put(
                    f"/api/workflows/{workflow_id}",
                    json={"workflow_json": document(workflow_id, i)},
                )
                for i in range(WRITERS)
            )
        )
        assert [a.status_code for a in answers] == [200] * WRITERS, [a.text for a in answers]
        told = {a.json()["version"]: i for i, a in enumerate(answers)}
        assert sorted(told) == list(range(2, WRITERS + 2)), "each caller got its own version"
        for version, writer in told.items():
            saved = await clients[version % 2].get(
                f"/api/workflows/{workflow_id}", params={"version": version}
            )
            assert saved.json()["workflow_json"] == document(workflow_id, writer), version
        listed = await clients[1].get(f"/api/workflows/{workflow_id}/versions")
        assert [v["version"] for v in listed.json()] == list(range(WRITERS + 1, 0, -1))
        on_server = await sdk.assistants.get_versions(
            workflow_assistant_id("alice", workflow_id), limit=100
        )
        assert len(on_server) == WRITERS + 1
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def test_a_retried_save_with_its_idempotency_key_returns_what_it_saved(
    stack: Stack, second_gateway: str, sdk: LangGraphClient
):
    """A create and a new version retried (on either replica) after others saved since:
    the answer is the version that request saved; nothing is saved twice."""
    workflow_id = f"retry-{marker()}"
    clients = await both_gateways(stack, second_gateway)
    try:
        key = {"Idempotency-Key": f"create-{workflow_id}"}
        body = {"workflow_json": document(workflow_id, 1)}
        first = await clients[0].post("/api/workflows", json=body, headers=key)
        assert first.status_code == 201, first.text
        again = await clients[1].post("/api/workflows", json=body, headers=key)
        assert (again.status_code, again.json()) == (201, first.json())
        plain_retry = await clients[1].post("/api/workflows", json=body)
        assert plain_retry.status_code == 409, "without the key it is a second create"

        put_key = {"Idempotency-Key": f"put-{workflow_id}"}
        second = {"workflow_json": document(workflow_id, 2)}
        saved = await clients[0].put(f"/api/workflows/{workflow_id}", json=second, headers=put_key)
        assert saved.json()["version"] == 2, saved.text
        # Someone else saves version 3; the retry still answers version 2, adds nothing.
        other = {"workflow_json": document(workflow_id, 3)}
        assert (await clients[1].put(f"/api/workflows/{workflow_id}", json=other)).is_success
        retried = await clients[1].put(
            f"/api/workflows/{workflow_id}", json=second, headers=put_key
        )
        assert (retried.status_code, retried.json()["version"]) == (200, 2), retried.text
        versions = await sdk.assistants.get_versions(workflow_assistant_id("alice", workflow_id))
        assert [v["version"] for v in versions] == [3, 2, 1]

        # The same key with another document is a mistake, said so.
        reused = await clients[0].put(f"/api/workflows/{workflow_id}", json=other, headers=put_key)
        assert reused.status_code == 422, reused.text
        assert reused.json()["error"] == "idempotency_key_reused"
        assert reused.json()["details"]["field"] == "Idempotency-Key"
        reused_create = await clients[0].post("/api/workflows", json=other, headers=key)
        assert reused_create.json()["error"] == "idempotency_key_reused"
        # ... also for a document naming another workflow (while the first is unchanged).
        fresh_key = {"Idempotency-Key": f"fresh-{workflow_id}"}
        made = await clients[0].post(
            "/api/workflows",
            json={"workflow_json": document(f"{workflow_id}-a", 1)},
            headers=fresh_key,
        )
        assert made.status_code == 201, made.text
        elsewhere = await clients[1].post(
            "/api/workflows",
            json={"workflow_json": document(f"{workflow_id}-b", 1)},
            headers=fresh_key,
        )
        assert (elsewhere.status_code, elsewhere.json()["error"]) == (422, "idempotency_key_reused")
        assert (await clients[1].get(f"/api/workflows/{workflow_id}-b")).status_code == 404
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def test_one_key_sent_at_once_by_two_replicas_gets_one_answer(
    stack: Stack, second_gateway: str
):
    """A client that timed out and retried while its first request still ran: both
    answers name the same workflow and version (a document without an id, too)."""
    clients = await both_gateways(stack, second_gateway)
    try:
        tag = marker()
        unnamed = {"name": f"Unnamed {tag}", "steps": [{"instructions": f"{tag} go"}]}
        key = {"Idempotency-Key": f"unnamed-{tag}"}
        created = await asyncio.gather(
            *(
                clients[i % 2].post("/api/workflows", json={"workflow_json": unnamed}, headers=key)
                for i in range(6)
            )
        )
        assert [c.status_code for c in created] == [201] * 6, [c.text for c in created]
        assert len({c.json()["workflow_id"] for c in created}) == 1
        workflow_id = created[0].json()["workflow_id"]

        put_key = {"Idempotency-Key": f"put-{tag}"}
        body = {"workflow_json": {**unnamed, "steps": [{"instructions": f"{tag} again"}]}}
        saved = await asyncio.gather(
            *(
                clients[i % 2].put(f"/api/workflows/{workflow_id}", json=body, headers=put_key)
                for i in range(6)
            )
        )
        assert [s.status_code for s in saved] == [200] * 6, [s.text for s in saved]
        assert len({s.json()["version"] for s in saved}) == 1, [s.json()["version"] for s in saved]
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
