"""The monitor page's browser tests' shared parts: Debian's Chromium driven by
Playwright, a page signed in with a user's key, what the page asked for and sent, and
screenshots in `.artifacts/monitor/`.

A test module that drives the browser imports `browser_fixture` (the fixture named
`browser`, one browser per module).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.integration.conftest import Stack

ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / ".artifacts" / "monitor"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module", name="browser")
async def browser_fixture() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing; .ci/run installs Debian's chromium package")
        pytest.skip("browser tests skipped: no Chromium (apt-get install -y chromium)")
    async with async_playwright() as playwright:
        # launch() gives every run a fresh, temporary user-data-dir.
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


class Seen:
    """Every URL the page asked for, every WebSocket message it sent, and every one it
    received (with its socket's URL)."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.sent: list[str] = []
        self.received: list[tuple[str, str]] = []


@asynccontextmanager
async def signed_in(browser: Browser, stack: Stack, key: str) -> AsyncIterator[tuple[Page, Seen]]:
    """The monitor page in a fresh browser context, signed in with `key`; on leaving,
    checks that the page asked no other host and put the key in no URL."""
    context = await browser.new_context(viewport={"width": 900, "height": 900})
    page = await context.new_page()
    seen = Seen()
    page.on("request", lambda request: seen.urls.append(request.url))

    def on_socket(socket: Any) -> None:
        url = socket.url
        seen.urls.append(url)
        socket.on("framesent", lambda payload: seen.sent.append(str(payload)))
        socket.on("framereceived", lambda payload: seen.received.append((url, str(payload))))

    page.on("websocket", on_socket)
    await page.goto(f"{stack.gateway_url}/ui/")
    # API keys are configured: the page asks once, then uses the key for everything.
    await expect(page.locator("#login")).to_be_visible()
    await page.fill("#credential", key)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#login")).to_be_hidden()
    try:
        yield page, seen
    finally:
        await context.close()
    gateway = urlsplit(stack.gateway_url).netloc
    assert all(urlsplit(url).netloc == gateway for url in seen.urls), "another host was asked"
    assert not [url for url in seen.urls if key in url], "a credential went into a URL"


async def snap(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def row(page: Page, thread_id: str) -> Any:
    """A thread's row in the list."""
    return page.locator(f'li.thread[data-thread-id="{thread_id}"]')
