"""The active-run cap, on a dedicated Agent Server and gateway that allow 2 per user:
past it, execute and resume answer 429 `too_many_active_runs` with Retry-After, and the
Agent Server itself refuses a user's own SDK script the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import RateLimitError

from tests.fake_openai import FakeOpenAI
from tests.integration.conftest import stack_of_its_own
from tests.integration.helpers import (
    ALICE,
    ALICE_KEY,
    BOB,
    marker,
    react_flow,
    start,
    stream_frames,
    wait_for_status,
)

CAP = {"THREADGATE_MAX_ACTIVE_RUNS_PER_USER": "2"}
EXECUTE = "/api/workflow/execute"


@dataclass
class Capped:
    agent_url: str
    gateway_url: str

    @property
    def ws_url(self) -> str:
        return self.gateway_url.replace("http://", "ws://") + "/api/workflow/execute/stream"


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Capped]:
    workdir = tmp_path_factory.mktemp("capped-agent-server")
    model = FakeOpenAI().start()
    try:
        with stack_of_its_own(workdir, model, CAP) as (agent_url, gateway_url):
            yield Capped(agent_url=agent_url, gateway_url=gateway_url)
    finally:
        model.stop()


@pytest.fixture
async def alice(capped: Capped) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=capped.gateway_url, timeout=60, headers=ALICE) as c:
        yield c


@pytest.fixture
async def bob(capped: Capped) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=capped.gateway_url, timeout=60, headers=BOB) as c:
        yield c


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "too_many_active_runs"
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["details"]["retry_after_seconds"] == int(response.headers["Retry-After"])


async def test_past_the_cap_execute_and_resume_wait_and_others_do_not(
    capped: Capped, alice: httpx.AsyncClient, bob: httpx.AsyncClient
):
    # A paused thread to resume later (idle: it does not count).
    paused = await start(alice, react_flow(marker(), steps=2, slow=1))
    await wait_for_status(alice, paused, {"running"})
    assert (await alice.post(f"/api/threads/{paused}/pause")).status_code == 202
    await wait_for_status(alice, paused, {"paused"}, timeout=30)

    busy = [await start(alice, react_flow(marker(), steps=1, slow=4)) for _ in range(2)]
    assert_refused(await alice.post(EXECUTE, json={"workflow_json": react_flow(marker())}))
    assert_refused(await alice.post(f"/api/threads/{paused}/resume"))
    frames = await stream_frames(capped.ws_url, {"workflow_json": react_flow(marker())})
    assert [(f["type"], f["error"]) for f in frames] == [("error", "too_many_active_runs")]
    assert frames[0]["details"]["retry_after_seconds"] > 0

    # Straight on the Agent Server, with alice's own key: the same refusal.
    own = get_client(url=capped.agent_url, api_key=ALICE_KEY)
    try:
        thread = await own.threads.create()
        with pytest.raises(RateLimitError) as refused:
            await own.runs.create(thread["thread_id"], "workflow", input={})
        assert refused.value.message.startswith("too_many_active_runs:")
        assert int(refused.value.response.headers["Retry-After"]) > 0
    finally:
        await own.aclose()

    # bob has a cap of his own.
    bobs = await bob.post(EXECUTE, json={"workflow_json": react_flow(marker(), steps=1)})
    assert bobs.status_code == 202, bobs.text

    for thread_id in busy:
        await wait_for_status(alice, thread_id, {"completed"}, timeout=60)
    resumed = await alice.post(f"/api/threads/{paused}/resume")
    assert resumed.status_code == 202, resumed.text
    again = await alice.post(EXECUTE, json={"workflow_json": react_flow(marker(), steps=1)})
    assert again.status_code == 202, again.text
