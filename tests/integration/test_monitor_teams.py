"""The monitor page in a team's space, in a real browser against the real stack: the
space switcher, the approvals inbox, and the gateway's refusals shown in red.

Team "eng" (conftest.STACK_ENV): alice admin, bob operator, carol approver, dave
viewer; erin is in no team. Workflows are started and outcomes checked through the
REST API with each user's own key; the page only ever acts as whoever signed in.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, Route, expect

from tests.integration.browser import (  # noqa: F401
    Seen,
    browser_fixture,
    row,
    signed_in,
    snap,
)
from tests.integration.conftest import Stack
from tests.integration.helpers import (
    ALICE_KEY,
    CAROL_KEY,
    ERIN_KEY,
    KEYS,
    TEAM,
    marker,
    react_flow,
    wait_for_status,
)
from tests.integration.test_teams import approval_flow, as_member

pytestmark = pytest.mark.asyncio


def inbox_row(page: Page, thread_id: str) -> Locator:
    """A thread's approval in the inbox."""
    return page.locator(f'li.approval[data-thread-id="{thread_id}"]')


async def switch_to(tab: Page, team: str) -> None:
    """Pick a space with the switcher ("" for one's own)."""
    await tab.fill("#space", team)
    await tab.click("#space-form button[type=submit]")


async def listed(tab: Page) -> None:
    """Until the page has drawn a listing (the thread list's page line says something)."""
    await expect(tab.locator("#page-info")).not_to_have_text("", timeout=10_000)


async def started_in_team(stack: Stack, user: str, workflow: dict[str, Any], status: str) -> str:
    """A workflow started in team eng through the REST API by `user`; its thread id,
    once it reads `status`."""
    async with as_member(stack, user) as client:
        assert client.headers["X-API-Key"] == KEYS[user]
        assert client.headers["X-Threadgate-Team"] == TEAM
        response = await client.post("/api/workflow/execute", json={"workflow_json": workflow})
        assert response.status_code == 202, response.text
        thread_id: str = response.json()["thread_id"]
        await wait_for_status(client, thread_id, {status})
    return thread_id


async def frames_of(seen: Seen, thread_id: str, timeout: float = 20) -> list[dict[str, Any]]:
    """The frames the page's rejoin socket for `thread_id` received, once at least one
    `progress` frame is among them."""
    deadline = time.monotonic() + timeout
    while True:
        frames = [
            json.loads(payload)
            for url, payload in seen.received
            if url.endswith(f"/api/threads/{thread_id}/stream")
        ]
        if any(f.get("type") == "progress" for f in frames):
            return frames
        if time.monotonic() > deadline:
            raise AssertionError(f"no progress frame for {thread_id}: {frames}")
        await asyncio.sleep(0.1)


async def test_an_approver_answers_a_team_approval_from_the_inbox(browser: Browser, stack: Stack):
    tag = marker()
    # bob (operator) starts a four-eyes approval workflow in team eng, and a slow one.
    waiting = await started_in_team(stack, "bob", approval_flow(tag), "waiting")
    running = await started_in_team(
        stack, "bob", react_flow(tag, steps=3, slow=2, name="Team job"), "running"
    )
    async with signed_in(browser, stack, CAROL_KEY) as (tab, seen):
        # Her own space first: the team's threads are not there.
        await listed(tab)
        await expect(tab.locator("#space")).to_have_value("")
        await expect(tab.locator("#threads-heading")).to_have_text("Threads")
        await expect(row(tab, waiting)).to_have_count(0)
        await expect(inbox_row(tab, waiting)).to_have_count(0)

        await switch_to(tab, TEAM)
        await expect(tab.locator("#threads-heading")).to_have_text(f"Threads of team {TEAM}")
        approval = inbox_row(tab, waiting)
        await expect(approval).to_be_visible(timeout=10_000)
        await expect(approval.locator(".asks")).to_have_text("Ship it?")
        await expect(approval.locator(".four-eyes")).to_have_text("four eyes")
        await expect(approval.locator(".by")).to_have_text("started by bob")
        await expect(approval.locator(".since")).to_contain_text("waiting since ")
        await expect(approval.locator("a.name")).to_have_attribute("href", f"#/threads/{waiting}")
        await expect(row(tab, waiting).locator(".asks")).to_have_text("Asks: Ship it?")
        await expect(row(tab, running)).to_be_visible()
        await snap(tab, "teams-1-inbox")

        # The running team thread is watched live: its socket named the team, and got
        # the run's frames (another space's socket would get a not-found error frame).
        frames = await frames_of(seen, running)
        assert not [f for f in frames if f.get("type") == "error"], frames
        auth = {"type": "auth", "token": CAROL_KEY, "team": TEAM}
        assert auth in [json.loads(m) for m in seen.sent]

        # The space is kept like the key: a reload stays in the team.
        await tab.reload()
        await expect(tab.locator("#space")).to_have_value(TEAM)
        await expect(inbox_row(tab, waiting)).to_be_visible(timeout=10_000)

        await inbox_row(tab, waiting).locator(".comment").fill("fine by me")
        await inbox_row(tab, waiting).locator("button.approve").click()
        await expect(tab.locator("#notice")).to_have_text("Approve: done (Ship it?).")
        await expect(tab.locator("#notice")).not_to_have_class("error")
        await expect(inbox_row(tab, waiting)).to_have_count(0, timeout=10_000)
        await expect(row(tab, waiting)).to_have_attribute(
            "data-status", "completed", timeout=20_000
        )
        await snap(tab, "teams-2-approved")

    # Through the API: completed with carol's answer, and the trail says she gave it.
    async with as_member(stack, "carol") as carol:
        done = await wait_for_status(carol, waiting, {"completed"})
        assert done["results"]["ship"]["output"] == "approved: fine by me"
        trail = (await carol.get(f"/api/threads/{waiting}/audit")).json()["events"]
        assert [(e["actor"], e["action"]) for e in trail] == [
            ("bob", "execute"),
            ("carol", "approve"),
        ]


async def test_a_non_member_switching_to_the_team_is_told_so(browser: Browser, stack: Stack):
    waiting = await started_in_team(
        stack, "bob", approval_flow(marker(), four_eyes=False), "waiting"
    )
    async with signed_in(browser, stack, ERIN_KEY) as (tab, _):
        await listed(tab)
        await switch_to(tab, TEAM)
        notice = tab.locator("#notice")
        await expect(notice).to_have_text(
            f"Team {TEAM} refused: you are not a member of team '{TEAM}'", timeout=10_000
        )
        await expect(notice).to_have_class("error")
        await expect(tab.locator("#threads li")).to_have_count(0)
        await expect(tab.locator("#approvals li")).to_have_count(0)
        await expect(row(tab, waiting)).to_have_count(0)
        await snap(tab, "teams-3-not-a-member")
        # Back to her own space: the refusal goes, her (empty) list comes back.
        await switch_to(tab, "")
        await expect(notice).to_have_text("Acting in your own space.")
        await expect(notice).not_to_have_class("error")
        await listed(tab)
        await expect(tab.locator("#threads-heading")).to_have_text("Threads")


async def test_refused_answers_are_shown_not_swallowed(browser: Browser, stack: Stack):
    tag = marker()
    answered_elsewhere = await started_in_team(stack, "bob", approval_flow(tag), "waiting")
    # alice's own four-eyes approval: never in her inbox, and refused if she answers it.
    her_own = await started_in_team(stack, "alice", approval_flow(tag), "waiting")
    async with signed_in(browser, stack, ALICE_KEY) as (tab, _):
        await switch_to(tab, TEAM)
        await expect(inbox_row(tab, answered_elsewhere)).to_be_visible(timeout=10_000)
        await expect(inbox_row(tab, her_own)).to_have_count(0)
        await expect(row(tab, her_own)).to_be_visible()

        # Someone answers first while the page still shows the approval: the page's own
        # inbox reads are held back (not answered for it), so the row stays on screen.
        held: list[Route] = []
        released = asyncio.Event()

        async def hold(route: Route) -> None:
            if released.is_set():
                await route.continue_()
            else:
                held.append(route)

        pattern = re.compile(r"/api/approvals\?")
        await tab.route(pattern, hold)
        async with as_member(stack, "carol") as carol:
            first = await carol.post(
                f"/api/threads/{answered_elsewhere}/resume", json={"approved": True}
            )
            assert first.status_code == 202, first.text
            await wait_for_status(carol, answered_elsewhere, {"completed"})
        await inbox_row(tab, answered_elsewhere).locator("button.approve").click()
        notice = tab.locator("#notice")
        await expect(notice).to_have_text(
            "Approve refused: thread is completed, not waiting for an approval"
        )
        await expect(notice).to_have_class("error")
        await snap(tab, "teams-4-answered-first")
        released.set()
        for route in held:
            await route.continue_()
        await tab.unroute(pattern)
        await expect(inbox_row(tab, answered_elsewhere)).to_have_count(0, timeout=10_000)

        # Four-eyes: from the thread's own page, the gateway's 403 is shown as it says it.
        await tab.click(f'li.thread[data-thread-id="{her_own}"] a.name')
        await expect(tab.locator("#question-text")).to_have_text("Ship it?")
        await tab.click("#approve")
        await expect(notice).to_contain_text("Approve refused: ")
        await expect(notice).to_contain_text("four_eyes")
        await expect(notice).to_have_class("error")
        await snap(tab, "teams-5-four-eyes")
    async with as_member(stack, "alice") as alice:
        assert (await alice.get(f"/api/threads/{her_own}")).json()["status"] == "waiting"
