"""The monitor page in a real browser (Debian's Chromium, driven by Playwright) against
the real stack: a signed-in person watches a workflow's bar reach 100 %, approves,
pauses, and sees the API's own message when an action is refused.

Screenshots of each state go to `.artifacts/monitor/`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from playwright.async_api import Browser, Page, expect

from tests.integration.browser import Seen, browser_fixture, row, signed_in, snap  # noqa: F401
from tests.integration.conftest import Stack
from tests.integration.helpers import (
    ALICE_KEY,
    marker,
    react_flow,
    start,
    wait_for_status,
)


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[tuple[Page, Seen]]:
    async with signed_in(browser, stack, ALICE_KEY) as opened:
        yield opened


async def open_a_completed_thread(tab: Page, gateway: httpx.AsyncClient, stack: Stack) -> str:
    """A one-step workflow, finished, open on its own page."""
    thread_id = await start(gateway, react_flow(marker(), steps=1))
    await wait_for_status(gateway, thread_id, {"completed"})
    await tab.goto(f"{stack.gateway_url}/ui/#/threads/{thread_id}")
    return thread_id


async def test_a_started_workflow_appears_and_its_bar_reaches_100(
    page: tuple[Page, Seen], gateway: httpx.AsyncClient
):
    tab, seen = page
    thread_id = await start(gateway, react_flow(marker(), steps=3, slow=1.5, name="Weekly report"))
    bar = row(tab, thread_id).locator("progress")
    await expect(bar).to_be_visible(timeout=10_000)  # the list noticed the new thread
    # Live: the bar moves step by step while the run goes on.
    await expect(bar).to_have_attribute("aria-label", "1 of 3 steps", timeout=20_000)
    await expect(row(tab, thread_id)).to_have_attribute("data-status", "running")
    await snap(tab, "1-running")
    await expect(bar).to_have_attribute("aria-label", "3 of 3 steps", timeout=30_000)
    await expect(row(tab, thread_id)).to_have_attribute("data-status", "completed", timeout=10_000)
    assert await bar.evaluate("b => b.value === b.max")
    await snap(tab, "2-completed")
    # It watched over the gateway's rejoin socket, authenticated by its first message.
    assert any(url.endswith(f"/api/threads/{thread_id}/stream") for url in seen.urls)
    assert {"type": "auth", "token": ALICE_KEY} in [json.loads(m) for m in seen.sent]


async def test_approving_from_the_page_completes_the_thread(
    page: tuple[Page, Seen], gateway: httpx.AsyncClient
):
    tab, _ = page
    flow = react_flow(marker(), steps=1, name="Release")
    flow["nodes"].append({"id": "ok", "type": "approval", "data": {"question": "Ship it?"}})
    flow["edges"].append({"source": "n1", "target": "ok"})
    thread_id = await start(gateway, flow)
    await wait_for_status(gateway, thread_id, {"waiting"})
    await expect(row(tab, thread_id).locator(".asks")).to_have_text(
        "Asks: Ship it?", timeout=10_000
    )
    await tab.click(f'li.thread[data-thread-id="{thread_id}"] a.name')
    await expect(tab.locator("#question-text")).to_have_text("Ship it?")
    await snap(tab, "3-waiting")
    await tab.fill("#comment", "looks good")
    await tab.click("#approve")
    await expect(tab.locator("#thread-status")).to_have_text("completed", timeout=20_000)
    details = (await gateway.get(f"/api/threads/{thread_id}")).json()
    assert details["status"] == "completed" and details["progress"]["outcome"] == "completed"
    assert details["results"]["ok"]["output"] == "approved: looks good"


async def test_pause_from_the_page_stops_at_a_step_boundary(
    page: tuple[Page, Seen], gateway: httpx.AsyncClient, stack: Stack
):
    tab, _ = page
    tag = marker()
    thread_id = await start(gateway, react_flow(tag, steps=3, slow=2, name="Long job"))
    await tab.goto(f"{stack.gateway_url}/ui/#/threads/{thread_id}")
    await expect(tab.locator("#thread-status")).to_have_text("running", timeout=15_000)
    await tab.click("#pause")
    await expect(tab.locator("#notice")).to_have_text("Pause: done.")
    await expect(tab.locator("#thread-status")).to_have_text("paused", timeout=30_000)
    await snap(tab, "4-paused")
    details = await wait_for_status(gateway, thread_id, {"paused"})
    done = details["progress"]["completed_steps"]
    assert 1 <= done < 3
    assert [stack.model.calls_mentioning(f"{tag} do part {i}") for i in (1, 2, 3)][done:] == [0] * (
        3 - done
    ), "a step after the boundary ran"


async def test_a_refused_action_shows_the_apis_message(
    page: tuple[Page, Seen], gateway: httpx.AsyncClient, stack: Stack
):
    tab, _ = page
    thread_id = await open_a_completed_thread(tab, gateway, stack)
    await expect(tab.locator("#thread-status")).to_have_text("completed")
    # A finished thread offers no pause, resume or cancel.
    for control in ("#pause", "#resume", "#cancel"):
        await expect(tab.locator(control)).to_be_hidden()
    # Deleted elsewhere (by another tab, a teammate) after the page read it.
    assert (await gateway.delete(f"/api/threads/{thread_id}")).status_code == 204
    await tab.click("#delete")
    await tab.click("#delete-yes")
    await expect(tab.locator("#notice")).to_have_text(
        re.compile(rf"^Delete refused: .*{thread_id}.* not found$")
    )
    await expect(tab.locator("#notice")).to_have_class("error")
    await snap(tab, "5-refused")
    await tab.goto(f"{stack.gateway_url}/ui/#/")
    await expect(row(tab, thread_id)).to_have_count(0)
    await snap(tab, "6-list")
    # Readable in a narrow window: nothing wider than the screen.
    await tab.set_viewport_size({"width": 380, "height": 800})
    assert await tab.evaluate("document.documentElement.scrollWidth <= 380")
    await snap(tab, "7-narrow")


async def test_delete_asks_first_then_the_thread_is_gone(
    page: tuple[Page, Seen], gateway: httpx.AsyncClient, stack: Stack
):
    tab, _ = page
    thread_id = await open_a_completed_thread(tab, gateway, stack)
    await tab.click("#delete")
    await expect(tab.locator("#confirm-delete")).to_be_visible()
    await tab.click("#delete-no")
    assert (await gateway.get(f"/api/threads/{thread_id}")).status_code == 200
    await tab.click("#delete")
    await tab.click("#delete-yes")
    await expect(tab.locator("#notice")).to_have_text("Deleted.")
    assert (await gateway.get(f"/api/threads/{thread_id}")).status_code == 404


async def test_a_saved_workflow_runs_from_the_page_and_shows_its_tokens(
    page: tuple[Page, Seen], gateway: httpx.AsyncClient
):
    tab, _ = page
    tag = marker()
    document = {**react_flow(tag, steps=2, name=f"Saved {tag}"), "id": f"saved-{tag}"}
    saved = await gateway.post("/api/workflows", json={"workflow_json": document})
    assert saved.status_code == 201, saved.text
    await tab.reload()  # the list reads the library when it is entered
    await tab.select_option("#saved-workflow", f"saved-{tag}")
    await tab.click("#run-saved-button")
    await expect(tab).to_have_url(re.compile(r"#/threads/[0-9a-f-]{36}$"), timeout=10_000)
    thread_id = tab.url.rsplit("/", 1)[1]
    done = await wait_for_status(gateway, thread_id, {"completed"})
    assert (done["workflow_id"], done["workflow_version"]) == (f"saved-{tag}", 1)
    await tab.reload()
    await expect(tab.locator("#thread-status")).to_have_text("completed")
    total = done["usage"]["total_tokens"]
    await expect(tab.locator("#thread-usage")).to_contain_text(f"Tokens: {total}")
    await expect(tab.locator("#steps .usage")).to_have_count(2)
    await snap(tab, "6-saved-workflow-run")


async def test_a_thread_with_no_plan_yet_reads_starting_not_0_of_0(
    page: tuple[Page, Seen], sdk: LangGraphClient
):
    # What a scheduled run looks like until its first step has read the saved workflow.
    tab, _ = page
    thread = await sdk.threads.create(metadata={"workflow_name": "Nightly"})
    count = row(tab, thread["thread_id"]).locator(".count")
    await expect(count).to_have_text("starting", timeout=10_000)
    await expect(row(tab, thread["thread_id"]).locator("progress")).to_have_attribute(
        "aria-label", "starting"
    )
