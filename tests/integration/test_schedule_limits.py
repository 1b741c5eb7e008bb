"""The schedule rules hold on both layers: through the gateway, and straight on the
Agent Server for a script with the user's own key (on a stack whose cap is 2)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, UnprocessableEntityError

from tests.integration.conftest import stack_of_its_own
from tests.integration.helpers import ALICE, ALICE_KEY, BOB, marker

CAP = 2
LIMITS = {"THREADGATE_MAX_SCHEDULES_PER_USER": str(CAP)}


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """An Agent Server and a gateway that allow two schedules per user."""
    with stack_of_its_own(tmp_path_factory.mktemp("capped"), None, LIMITS) as urls:
        yield urls


@pytest.fixture
async def alice_direct(capped: tuple[str, str]) -> AsyncIterator[LangGraphClient]:
    client = get_client(url=capped[0], api_key=ALICE_KEY)
    try:
        yield client
    finally:
        await client.aclose()


async def saved(gateway: httpx.AsyncClient) -> str:
    workflow_id = f"capped-{marker()}"
    document = {"id": workflow_id, "name": "Capped", "steps": [{"instructions": "do it"}]}
    answer = await gateway.post("/api/workflows", json={"workflow_json": document})
    assert answer.status_code == 201, answer.text
    return workflow_id


async def test_a_seconds_field_is_refused_straight_on_the_agent_server(
    alice_direct: LangGraphClient,
):
    """The Agent Server's own parser takes a sixth (seconds) field: a run per second."""
    for schedule in ("* * * * * *", "@daily", "61 * * * *", "0 0 31 2 *"):
        with pytest.raises(UnprocessableEntityError) as refused:
            await alice_direct.crons.create("workflow", schedule=schedule, input={})
        assert "invalid_cron" in str(refused.value), schedule
    created: Any = await alice_direct.crons.create(
        "workflow", schedule="0 9 * * *", input={}, enabled=False
    )
    with pytest.raises(UnprocessableEntityError) as refused:
        await alice_direct.crons.update(created["cron_id"], schedule="*/5 * * * * *")
    assert "invalid_cron" in str(refused.value)
    await alice_direct.crons.delete(created["cron_id"])


async def test_schedules_per_user_are_capped_on_both_layers(
    capped: tuple[str, str], alice_direct: LangGraphClient
):
    async with (
        httpx.AsyncClient(base_url=capped[1], headers=ALICE, timeout=30) as alice,
        httpx.AsyncClient(base_url=capped[1], headers=BOB, timeout=30) as bob,
    ):
        workflow_id = await saved(alice)
        body = {"workflow_id": workflow_id, "cron": "0 9 * * *", "enabled": False}
        made = [await alice.post("/api/schedules", json=body) for _ in range(CAP)]
        assert [m.status_code for m in made] == [201] * CAP, [m.text for m in made]

        over = await alice.post("/api/schedules", json=body)
        assert over.status_code == 409, over.text
        assert over.json()["error"] == "too_many_schedules"
        assert over.json()["details"]["max_schedules"] == CAP
        with pytest.raises(ConflictError) as refused:  # her own key meets the same cap
            await alice_direct.crons.create("workflow", schedule="0 9 * * *", input={})
        assert "too_many_schedules" in str(refused.value)
        listed = await alice.get("/api/schedules", params={"workflow_id": workflow_id})
        assert listed.json()["total"] == CAP

        # Another user has a cap of their own.
        bobs = await saved(bob)
        mine = await bob.post("/api/schedules", json={**body, "workflow_id": bobs})
        assert mine.status_code == 201, mine.text

        # Deleting one makes room again.
        first = made[0].json()["schedule_id"]
        assert (await alice.delete(f"/api/schedules/{first}")).status_code == 204
        again = await alice.post("/api/schedules", json=body)
        assert again.status_code == 201, again.text
