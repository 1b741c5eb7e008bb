"""What was made while authentication was off belongs to `dev`; an admin takes it over."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.conftest import Stack, start_test_gateway
from tests.integration.helpers import KEYS, TEAM, marker, react_flow, wait_for_status
from tests.integration.test_cli_teams import cli_as
from tools.launcher import stop

pytestmark = pytest.mark.asyncio


@pytest.fixture
def open_gateway(stack: Stack) -> Iterator[str]:
    """A gateway with authentication off on the same Agent Server: a laptop's `make up`
    before anyone configured keys (every caller is `dev`)."""
    proc, url = start_test_gateway(
        stack.agent_url, stack.logs, "gateway-open", {"THREADGATE_AUTH_DISABLED": "true"}
    )
    try:
        yield url
    finally:
        stop(proc)


async def test_an_admin_takes_over_what_dev_made(stack: Stack, open_gateway: str):
    tag = marker()
    flow = react_flow(tag, 1)
    async with httpx.AsyncClient(base_url=open_gateway, timeout=30) as dev:
        started = await dev.post("/api/workflow/execute", json={"workflow_json": flow})
        thread_id = started.json()["thread_id"]
        await wait_for_status(dev, thread_id, {"completed"})
        saved = await dev.post("/api/workflows", json={"workflow_json": flow})
        assert saved.status_code == 201, saved.text
        edited = {**flow, "name": "Report v2"}
        assert (
            await dev.put(f"/api/workflows/{flow['id']}", json={"workflow_json": edited})
        ).status_code == 200

    team = {"X-API-Key": KEYS["alice"], "X-Threadgate-Team": TEAM}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30, headers=team) as alice:
        # With keys on, dev's work is nobody's: invisible in the team.
        assert (await alice.get(f"/api/threads/{thread_id}")).status_code == 404
        async with httpx.AsyncClient(
            base_url=stack.gateway_url, timeout=30, headers={**team, "X-API-Key": KEYS["bob"]}
        ) as operator:
            refused = await operator.post("/api/handover")
            assert refused.status_code == 403 and "admin" in refused.json()["message"]
        # Into a team only: one's own space is nobody's to claim dev's work for.
        personal = await alice.post("/api/handover", headers={"X-Threadgate-Team": ""})
        assert personal.status_code == 403, personal.text
        moved = await alice.post("/api/handover")
        assert moved.status_code == 200, moved.text
        body = moved.json()
        assert thread_id in body["threads"] and flow["id"] in body["workflows"]

        thread = (await alice.get(f"/api/threads/{thread_id}")).json()
        assert thread["status"] == "completed"
        versions = (await alice.get(f"/api/workflows/{flow['id']}/versions")).json()
        assert [v["version"] for v in versions] == [2, 1]
        latest = (await alice.get(f"/api/workflows/{flow['id']}")).json()
        assert latest["name"] == "Report v2" and latest["workflow_json"]["name"] == "Report v2"
        # The team can run what it received.
        run = await alice.post("/api/workflow/execute", json={"workflow_id": flow["id"]})
        assert run.status_code == 202, run.text

        trail = (await alice.get(f"/api/threads/{thread_id}/audit")).json()["events"]
        assert [(e["actor"], e["action"]) for e in trail] == [("alice", "handover")]
        # Nothing is left with dev: a second handover (here from the CLI) moves nothing.
        again = cli_as(stack, "alice", "handover", "--team", TEAM, "--json")
        assert json.loads(again.stdout) == {"threads": [], "workflows": [], "skipped": []}
        assert cli_as(stack, "bob", "handover", "--team", TEAM).returncode == 5
    async with httpx.AsyncClient(base_url=open_gateway, timeout=30) as dev:
        assert (await dev.get(f"/api/threads/{thread_id}")).status_code == 404
        assert (await dev.get(f"/api/workflows/{flow['id']}")).status_code == 404
