"""A workflow whose run waits for a free Agent Server worker shows `queued`, not
`running` (issue: bob's workflow queued behind alice's looked stuck at 0 of 2)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fake_openai import FakeOpenAI
from tests.integration.conftest import stack_of_its_own
from tests.integration.helpers import ALICE, marker, react_flow, wait_for_status

pytestmark = pytest.mark.asyncio


async def listed(gateway: httpx.AsyncClient, status: str) -> set[str]:
    page = (await gateway.get("/api/threads", params={"status": status, "limit": 100})).json()
    return {t["thread_id"] for t in page["threads"]}


async def test_a_run_waiting_for_a_worker_reads_queued_until_one_takes_it(tmp_path: Path):
    model = FakeOpenAI().start()
    try:
        # One worker: the second workflow waits behind the first.
        with stack_of_its_own(tmp_path, model, {"THREADGATE_AGENT_JOBS": "1"}) as (_, url):
            async with httpx.AsyncClient(base_url=url, headers=ALICE, timeout=30) as gateway:
                slow = react_flow(marker(), steps=1, slow=4)
                first = (
                    await gateway.post("/api/workflow/execute", json={"workflow_json": slow})
                ).json()
                await wait_for_status(gateway, first["thread_id"], {"running"})
                second = (
                    await gateway.post(
                        "/api/workflow/execute", json={"workflow_json": react_flow(marker(), 1)}
                    )
                ).json()
                shown = (await gateway.get(f"/api/threads/{second['thread_id']}")).json()
                assert shown["status"] == "queued", shown
                execution = await gateway.get(f"/api/workflow/execution/{second['execution_id']}")
                assert execution.json()["status"] == "queued"
                assert second["thread_id"] in await listed(gateway, "queued")
                assert first["thread_id"] not in await listed(gateway, "queued")
                assert first["thread_id"] in await listed(gateway, "running")
                assert second["thread_id"] not in await listed(gateway, "running")
                # A queued workflow is busy: a follow-up is refused like a running one's.
                follow = await gateway.post(
                    "/api/workflow/execute",
                    json={"thread_id": second["thread_id"], "message": "and then?"},
                )
                assert follow.status_code == 409
                await wait_for_status(gateway, second["thread_id"], {"completed"}, timeout=60)
    finally:
        model.stop()
