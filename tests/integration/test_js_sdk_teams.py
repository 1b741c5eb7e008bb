"""Teams with the real JavaScript SDK: `x-threadgate-team` in the client's `defaultHeaders`.

The line test_teams.py draws with the Python SDK, drawn again from a user's own Node
script (`js/sdk_probe.mjs`, `PROBE=thread`) straight on the Agent Server: a viewer of
team "eng" reads the team's thread but may not start a run on it; erin, in no team, is
refused when she names the team and does not find the thread when she does not.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from tests.integration import test_js_sdk
from tests.integration.conftest import Stack
from tests.integration.helpers import KEYS, TEAM, marker, react_flow, start, wait_for_status

# The npm-installed SDK, shared with test_js_sdk.py (a fixture found by its name here).
node_modules = test_js_sdk.node_modules
IN_TEAM = {"x-threadgate-team": TEAM}


async def probe(
    stack: Stack, modules: Path, user: str, thread_id: str, headers: dict[str, str] | None
) -> dict[str, Any]:
    """What `user`'s JS client, with `headers` as its default headers, may do to the thread."""
    return await asyncio.to_thread(
        test_js_sdk.run_probe, stack, modules, KEYS[user], thread_id, "thread", headers
    )


@pytest.fixture
async def team_thread(stack: Stack) -> str:
    """A finished thread of team "eng", started by bob (operator) through the gateway."""
    headers = {"X-API-Key": KEYS["bob"], "X-Threadgate-Team": TEAM}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=30) as bob:
        thread_id = await start(bob, react_flow(marker(), steps=1))
        await wait_for_status(bob, thread_id, {"completed"})
    return thread_id


async def runs_on(stack: Stack, thread_id: str) -> int:
    """How many runs the team thread has, as bob sees it in the team."""
    client = get_client(url=stack.agent_url, api_key=KEYS["bob"], headers=IN_TEAM)
    try:
        return len(await client.runs.list(thread_id))
    finally:
        await client.aclose()


async def test_a_viewer_reads_a_team_thread_from_js_but_starts_no_run(
    stack: Stack, node_modules: Path, team_thread: str
):
    dave = await probe(stack, node_modules, "dave", team_thread, IN_TEAM)
    assert dave["read"]["status"] == 200, dave["read"]
    assert dave["metadata"]["started_by"] == "bob"
    assert dave["metadata"]["owner"] == f"team:{TEAM}"
    assert team_thread in dave["search"]
    # A viewer may not start a run: refused by the role, and nothing was started.
    assert dave["run"]["status"] == 403, dave["run"]
    assert dave["run"]["detail"].startswith("forbidden:")
    assert await runs_on(stack, team_thread) == 1
    # The header is what puts dave's JS client in the team: without it, his own space.
    alone = await probe(stack, node_modules, "dave", team_thread, None)
    assert alone["read"]["status"] == 404 and alone["run"]["status"] == 404
    assert team_thread not in alone["search"]


async def test_someone_in_no_team_is_refused_naming_it_and_finds_nothing_without(
    stack: Stack, node_modules: Path, team_thread: str
):
    named = await probe(stack, node_modules, "erin", team_thread, IN_TEAM)
    assert named["read"]["status"] == 403, named["read"]
    assert named["read"]["detail"].startswith("forbidden:")
    assert named["metadata"] is None
    assert named["search"] == 403 and named["run"]["status"] == 403
    alone = await probe(stack, node_modules, "erin", team_thread, None)
    assert alone["read"]["status"] == 404, alone["read"]
    assert team_thread not in alone["search"] and alone["run"]["status"] == 404
    assert await runs_on(stack, team_thread) == 1
