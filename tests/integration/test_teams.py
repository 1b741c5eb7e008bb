"""Teams on the real stack: roles on both layers, four-eyes, the inbox, the audit trail.

Team "eng" (conftest.STACK_ENV): alice admin, bob operator, carol approver, dave
viewer; erin is in no team. Every check is made through the gateway and straight on
the Agent Server with the user's own key (an SDK script), since the Agent Server's
auth must hold the same line for callers who never pass the gateway.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import APIStatusError
from websockets.asyncio.client import connect

from tests.integration.conftest import IDP, Stack
from tests.integration.helpers import (
    KEYS,
    TEAM,
    marker,
    react_flow,
    stream_frames,
    wait_for_status,
)

pytestmark = pytest.mark.asyncio
IN_TEAM = {"X-Threadgate-Team": TEAM}


def approval_flow(tag: str, four_eyes: bool = True) -> dict[str, Any]:
    return {
        "name": f"Release {tag}",
        "steps": [
            {"id": "check", "instructions": f"{tag} check the release"},
            {"id": "ship", "type": "approval", "question": "Ship it?", "four_eyes": four_eyes},
        ],
    }


@asynccontextmanager
async def as_member(
    stack: Stack, user: str, team: str | None = TEAM, url: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"X-API-Key": KEYS[user], **({"X-Threadgate-Team": team} if team else {})}
    async with httpx.AsyncClient(
        base_url=url or stack.gateway_url, headers=headers, timeout=30
    ) as client:
        yield client


@asynccontextmanager
async def sdk_as(
    stack: Stack, user: str, team: str | None = TEAM
) -> AsyncIterator[LangGraphClient]:
    """The user's own SDK script on the Agent Server (their key, no gateway)."""
    headers = {"x-threadgate-team": team} if team else {}
    client = get_client(url=stack.agent_url, api_key=KEYS[user], headers=headers)
    try:
        yield client
    finally:
        await client.aclose()


async def team_thread(stack: Stack, starter: str = "bob", four_eyes: bool = True) -> str:
    """A team thread waiting at its approval, started by `starter`."""
    async with as_member(stack, starter) as client:
        response = await client.post(
            "/api/workflow/execute", json={"workflow_json": approval_flow(marker(), four_eyes)}
        )
        assert response.status_code == 202, response.text
        thread_id: str = response.json()["thread_id"]
        await wait_for_status(client, thread_id, {"waiting"})
    return thread_id


async def refused_with(call: Callable[[], Any]) -> int:
    try:
        await call()
    except APIStatusError as exc:
        return exc.status_code
    return 200


# What each role gets through the gateway, in the team's space: read a thread, start a
# workflow, answer an approval, delete a thread.
GATEWAY_MATRIX = {
    "alice": {"read": 200, "execute": 202, "delete": 204},
    "bob": {"read": 200, "execute": 202, "delete": 403},
    "carol": {"read": 200, "execute": 403, "delete": 403},
    "dave": {"read": 200, "execute": 403, "delete": 403},
    "erin": {"read": 403, "execute": 403, "delete": 403},
}


@pytest.mark.parametrize("user", sorted(GATEWAY_MATRIX))
async def test_each_role_may_do_what_its_role_allows_through_the_gateway(stack: Stack, user: str):
    expected = GATEWAY_MATRIX[user]
    thread_id = await team_thread(stack, four_eyes=False)
    async with as_member(stack, user) as client:
        got = {
            "read": (await client.get(f"/api/threads/{thread_id}")).status_code,
            "execute": (
                await client.post(
                    "/api/workflow/execute", json={"workflow_json": react_flow(marker(), 1)}
                )
            ).status_code,
            "delete": (await client.delete(f"/api/threads/{thread_id}")).status_code,
        }
        assert got == expected
        refused = await client.delete(f"/api/threads/{thread_id}")
        if expected["delete"] == 403:
            body = refused.json()
            assert body["error"] == "forbidden"
            # Members are told the role they need; non-members that they are not members.
            assert ("admin" in body["message"]) if user != "erin" else ("member" in body["message"])


async def test_only_approvers_and_admins_answer_a_team_approval(stack: Stack):
    answered = {}
    for user in ("dave", "bob", "carol"):
        thread_id = await team_thread(stack, starter="alice", four_eyes=False)
        async with as_member(stack, user) as client:
            response = await client.post(
                f"/api/threads/{thread_id}/resume", json={"approved": True}
            )
            answered[user] = response.status_code
            if response.status_code == 403:
                assert "approver" in response.json()["message"]
    assert answered == {"dave": 403, "bob": 403, "carol": 202}


# The same lines straight on the Agent Server, with each user's own key.
SDK_MATRIX = {
    "alice": {"read": 200, "run": 200, "answer": 200, "delete": 200},
    "bob": {"read": 200, "run": 200, "answer": 403, "delete": 403},
    "carol": {"read": 200, "run": 403, "answer": 200, "delete": 403},
    "dave": {"read": 200, "run": 403, "answer": 403, "delete": 403},
    "erin": {"read": 403, "run": 403, "answer": 403, "delete": 403},
}


@pytest.mark.parametrize("user", sorted(SDK_MATRIX))
async def test_each_role_holds_straight_on_the_agent_server(stack: Stack, user: str):
    waiting = await team_thread(stack, starter="bob", four_eyes=False)
    async with as_member(stack, "bob") as bob:
        started = await bob.post(
            "/api/workflow/execute", json={"workflow_json": react_flow(marker(), 1)}
        )
        finished = started.json()["thread_id"]
        await wait_for_status(bob, finished, {"completed"})
    async with sdk_as(stack, user) as sdk:
        got = {
            "read": await refused_with(lambda: sdk.threads.get(finished)),
            # A run on a finished thread (a waiting one takes nothing but its answer).
            "run": await refused_with(
                lambda: sdk.runs.create(finished, "workflow", input={"phase": "running"})
            ),
            "answer": await refused_with(
                lambda: sdk.runs.create(waiting, "workflow", command={"resume": {"approved": True}})
            ),
            "delete": await refused_with(lambda: sdk.threads.delete(finished)),
        }
    # A run refused for the role comes before any other check; a delete let through may
    # meet the thread busy with the run just started (409): still not a role refusal.
    assert {k: (200 if v in (200, 204, 409) else v) for k, v in got.items()} == SDK_MATRIX[user]


async def test_team_and_personal_spaces_do_not_see_each_other(stack: Stack):
    thread_id = await team_thread(stack, starter="bob", four_eyes=False)
    async with as_member(stack, "bob", team=None) as personal:
        assert (await personal.get(f"/api/threads/{thread_id}")).status_code == 404
        mine = await personal.post(
            "/api/workflow/execute", json={"workflow_json": react_flow(marker(), 1)}
        )
        own_thread = mine.json()["thread_id"]
    async with as_member(stack, "bob") as in_team:
        assert (await in_team.get(f"/api/threads/{own_thread}")).status_code == 404
        listed = (await in_team.get("/api/threads", params={"limit": 100})).json()["threads"]
        assert own_thread not in {t["thread_id"] for t in listed}
    # Straight on the Agent Server: erin cannot name the team, nor read its thread without it.
    async with sdk_as(stack, "erin") as erin:
        assert await refused_with(lambda: erin.threads.get(thread_id)) == 403
    async with sdk_as(stack, "erin", team=None) as erin:
        assert await refused_with(lambda: erin.threads.get(thread_id)) == 404
    async with sdk_as(stack, "bob", team=None) as bob:
        assert await refused_with(lambda: bob.threads.get(thread_id)) == 404


async def test_a_team_thread_records_who_started_it(stack: Stack):
    thread_id = await team_thread(stack, starter="bob", four_eyes=False)
    async with sdk_as(stack, "dave") as dave:
        thread = await dave.threads.get(thread_id)
    metadata = thread["metadata"] or {}
    assert metadata["started_by"] == "bob"
    assert metadata["owner"] == f"team:{TEAM}"
    # Nobody rewrites it afterwards, not even an admin.
    async with sdk_as(stack, "alice") as alice:
        status = await refused_with(
            lambda: alice.threads.update(thread_id, metadata={"started_by": "carol"})
        )
    assert status == 403


async def test_four_eyes_leaves_the_answer_to_someone_else(stack: Stack):
    thread_id = await team_thread(stack, starter="alice")
    async with as_member(stack, "alice") as alice:
        refused = await alice.post(f"/api/threads/{thread_id}/resume", json={"approved": True})
        assert refused.status_code == 403, refused.text
        assert "four_eyes" in refused.json()["message"]
        inbox = (await alice.get("/api/approvals")).json()
        assert thread_id not in {a["thread_id"] for a in inbox["approvals"]}
    async with sdk_as(stack, "alice") as sdk:
        status = await refused_with(
            lambda: sdk.runs.create(thread_id, "workflow", command={"resume": {"approved": True}})
        )
        assert status == 403
    async with as_member(stack, "carol") as carol:
        inbox = (await carol.get("/api/approvals")).json()
        [waiting] = [a for a in inbox["approvals"] if a["thread_id"] == thread_id]
        assert waiting["question"] == "Ship it?" and waiting["four_eyes"] is True
        assert waiting["started_by"] == "alice" and waiting["waiting_since"]
        answered = await carol.post(f"/api/threads/{thread_id}/resume", json={"approved": True})
        assert answered.status_code == 202, answered.text
        done = await wait_for_status(carol, thread_id, {"completed"})
        assert done["status"] == "completed"


async def test_the_inbox_is_empty_for_who_cannot_answer(stack: Stack):
    await team_thread(stack, starter="bob", four_eyes=False)
    for user in ("dave", "bob"):
        async with as_member(stack, user) as client:
            page = (await client.get("/api/approvals")).json()
            assert page["approvals"] == [] and page["total"] == 0


async def test_the_audit_trail_is_the_same_whichever_replica_acted(
    stack: Stack, second_gateway: str
):
    async with (
        as_member(stack, "bob") as first,
        as_member(stack, "carol", url=second_gateway) as second,
    ):
        started = await first.post(
            "/api/workflow/execute", json={"workflow_json": approval_flow(marker(), True)}
        )
        thread_id = started.json()["thread_id"]
        await wait_for_status(first, thread_id, {"waiting"})
        answered = await second.post(
            f"/api/threads/{thread_id}/resume", json={"approved": False, "comment": "not today"}
        )
        assert answered.status_code == 202
        await wait_for_status(second, thread_id, {"completed"})
        for client in (first, second):
            trail = (await client.get(f"/api/threads/{thread_id}/audit")).json()["events"]
            assert [(e["actor"], e["action"]) for e in trail] == [
                ("bob", "execute"),
                ("carol", "reject"),
            ]
            assert trail[1]["details"]["comment"] == "not today"
    async with as_member(stack, "alice") as admin:
        assert (await admin.delete(f"/api/threads/{thread_id}")).status_code == 204
        newest = (await admin.get("/api/audit", params={"limit": 5})).json()["events"]
        assert (newest[0]["actor"], newest[0]["action"], newest[0]["thread_id"]) == (
            "alice",
            "delete",
            thread_id,
        )
        # A deleted thread's trail is kept.
        trail = (await admin.get(f"/api/threads/{thread_id}/audit")).json()["events"]
        assert [e["action"] for e in trail] == ["execute", "reject", "delete"]
    # Another space's trail is not the team's.
    async with as_member(stack, "bob", team=None) as personal:
        assert (await personal.get(f"/api/threads/{thread_id}/audit")).status_code == 404


async def test_nobody_writes_the_audit_trail_but_the_gateway(stack: Stack):
    async with sdk_as(stack, "alice") as sdk:
        status = await refused_with(
            lambda: sdk.store.put_item(
                [f"team:{TEAM}", "threadgate", "audit", "2026-01-01"], "forged", {"a": 1}
            )
        )
    assert status == 403


async def test_a_new_token_s_teams_take_effect_at_once(stack: Stack):
    user = f"frank-{uuid.uuid4().hex[:6]}"

    def token(teams: Any) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {IDP.sign('k1', user, teams=teams)}",
            "X-Threadgate-Team": "ops",
        }

    flow = {"workflow_json": react_flow(marker(), 1)}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        as_operator = await client.post(
            "/api/workflow/execute", json=flow, headers=token({"ops": "operator"})
        )
        assert as_operator.status_code == 202, as_operator.text
        thread_id = as_operator.json()["thread_id"]
        as_viewer = await client.post(
            "/api/workflow/execute", json=flow, headers=token(["ops:viewer"])
        )
        assert as_viewer.status_code == 403
        read = await client.get(f"/api/threads/{thread_id}", headers=token(["ops:viewer"]))
        assert read.status_code == 200
        gone = await client.get(f"/api/threads/{thread_id}", headers=token({}))
        assert gone.status_code == 403
    # The Agent Server reads the same claim from the same token.
    bearer = IDP.sign("k1", user, teams=["ops:viewer"])
    sdk = get_client(
        url=stack.agent_url,
        api_key=None,
        headers={"Authorization": f"Bearer {bearer}", "x-threadgate-team": "ops"},
    )
    try:
        assert (await sdk.threads.get(thread_id))["thread_id"] == thread_id
        status = await refused_with(
            lambda: sdk.runs.create(thread_id, "workflow", input={"phase": "running"})
        )
        assert status == 403
    finally:
        await sdk.aclose()


async def test_the_websocket_holds_the_same_roles(stack: Stack):
    payload = {"workflow_json": react_flow(marker(), 1)}
    viewer = {"X-API-Key": KEYS["dave"], "X-Threadgate-Team": TEAM}
    [refused] = await stream_frames(stack.ws_url, payload, viewer)
    assert refused["type"] == "error" and refused["error"] == "forbidden", refused
    # A browser names the team in its first message; an operator's run is the team's.
    async with connect(stack.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "api_key": KEYS["bob"], "team": TEAM}))
        await ws.send(json.dumps(payload))
        frames = [json.loads(message) async for message in ws]
    assert frames[0]["type"] == "started" and frames[-1]["type"] == "end", frames
    async with as_member(stack, "dave") as dave:
        thread = (await dave.get(f"/api/threads/{frames[0]['thread_id']}")).json()
        assert thread["metadata"]["started_by"] == "bob"


async def test_an_answer_that_came_too_late_is_told_so_whatever_the_role(stack: Stack):
    thread_id = await team_thread(stack, starter="bob", four_eyes=False)
    async with as_member(stack, "carol") as carol:
        first = await carol.post(f"/api/threads/{thread_id}/resume", json={"approved": True})
        assert first.status_code == 202
        await wait_for_status(carol, thread_id, {"completed"})
        late = await carol.post(f"/api/threads/{thread_id}/resume", json={"approved": False})
    assert (late.status_code, late.json()["error"]) == (409, "not_waiting")


async def test_a_team_schedule_fires_as_the_team_and_runs_the_team_s_workflow(stack: Stack):
    tag = marker()
    document = {**react_flow(tag, 2), "id": f"team-sched-{tag}"}
    async with as_member(stack, "bob") as bob, as_member(stack, "dave") as dave:
        saved = await bob.post("/api/workflows", json={"workflow_json": document})
        assert saved.status_code == 201, saved.text
        body = {"workflow_id": document["id"], "cron": "* * * * *"}
        assert (await dave.post("/api/schedules", json=body)).status_code == 403
        created = await bob.post("/api/schedules", json=body)
        assert created.status_code == 201, created.text
        schedule_id = created.json()["schedule_id"]
        async with sdk_as(stack, "dave") as sdk:
            [cron] = await sdk.crons.search(metadata={"schedule_id": schedule_id})
            assert (cron["metadata"] or {}).get("created_by") == "bob"
        try:
            deadline = time.monotonic() + 80  # the next minute boundary, and a look
            while not (
                found := (
                    await dave.get("/api/threads", params={"schedule_id": schedule_id})
                ).json()["threads"]
            ):
                assert time.monotonic() < deadline, "no scheduled run within 80 s"
                await asyncio.sleep(1)
            done = await wait_for_status(dave, found[0]["thread_id"], {"completed"})
            assert (done["workflow_id"], done["progress"]["total_steps"]) == (document["id"], 2)
        finally:
            assert (await bob.delete(f"/api/schedules/{schedule_id}")).status_code == 204


async def test_a_waiting_thread_takes_only_its_bare_answer_straight_on_the_agent_server(
    stack: Stack,
):
    thread_id = await team_thread(stack, starter="alice", four_eyes=True)
    answer: Any = {"resume": {"approved": True}}
    async with sdk_as(stack, "bob") as operator:
        # Marking the approval done by input is not an operator's way past it.
        sneak: dict[str, Any] = {"completed": ["check", "ship"], "phase": "running"}
        assert (
            await refused_with(lambda: operator.runs.create(thread_id, "workflow", input=sneak))
            == 403
        )
    async with sdk_as(stack, "carol") as approver:
        # An approver answers; an answer that also rewrites state is not an answer.
        assert (
            await refused_with(
                lambda: approver.runs.create(
                    thread_id, "workflow", command=cast(Any, {**answer, "update": {"plan": []}})
                )
            )
            == 403
        )
        assert (
            await refused_with(
                lambda: approver.runs.create(thread_id, "workflow", command=answer, after_seconds=5)
            )
            == 403
        )
    async with sdk_as(stack, "alice") as starter:
        # Nor may the starter answer ahead of the question: on a thread not waiting, any
        # answer is refused (queued, it would answer the four-eyes step unseen).
        other = await team_thread(stack, starter="alice", four_eyes=False)
        async with as_member(stack, "carol") as carol:
            await carol.post(f"/api/threads/{other}/resume", json={"approved": True})
            await wait_for_status(carol, other, {"completed"})
        assert (
            await refused_with(lambda: starter.runs.create(other, "workflow", command=answer))
            == 409
        )
    async with as_member(stack, "dave") as viewer:
        assert (await viewer.get(f"/api/threads/{thread_id}")).json()["status"] == "waiting"


async def test_a_fork_that_decides_an_approval_is_an_approver_s(stack: Stack):
    thread_id = await team_thread(stack, starter="bob", four_eyes=False)
    async with as_member(stack, "carol") as carol:
        await carol.post(f"/api/threads/{thread_id}/resume", json={"approved": False})
        await wait_for_status(carol, thread_id, {"completed"})
    async with as_member(stack, "bob") as operator:
        history = (await operator.get(f"/api/threads/{thread_id}/history")).json()
        last = history[0]["checkpoint_id"]
        # Going on past a reviewer's "no" by editing the thread is refused to an operator.
        past_no = {"checkpoint_id": last, "values": {"completed": ["check"]}}
        refused = await operator.post(f"/api/threads/{thread_id}/fork", json=past_no)
        assert refused.status_code == 403, refused.text
        assert "approver" in refused.json()["message"]


async def test_four_eyes_needs_a_team(stack: Stack):
    async with as_member(stack, "bob", team=None) as personal:
        response = await personal.post(
            "/api/workflow/execute", json={"workflow_json": approval_flow(marker())}
        )
    assert response.status_code == 422
    assert "team" in response.json()["message"]
