"""The JavaScript `@langchain/langgraph-sdk`, from the npm registry, with a user's own key.

What a browser frontend (`useStream`) or a Node script does: talk to the Agent Server
directly. The SDK is installed once into `.venv/` by this module's setup and run with
the machine's Node.js.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Stack
from tests.integration.helpers import ALICE_KEY, BOB_KEY, marker, react_flow, start, wait_for_status

ROOT = Path(__file__).parents[2]
SDK_VERSION = "2.0.0"
PROBE = Path(__file__).parent / "js" / "sdk_probe.mjs"


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """`@langchain/langgraph-sdk` installed with npm under .venv (kept between runs)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI"):
            pytest.fail("Node.js and npm are needed for the JavaScript SDK tests")
        pytest.skip("Node.js and npm are not installed: JavaScript SDK tests skipped")
    prefix = ROOT / ".venv" / "js-sdk"
    installed = prefix / "node_modules" / "@langchain" / "langgraph-sdk" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != SDK_VERSION:
        prefix.mkdir(parents=True, exist_ok=True)
        package = f"@langchain/langgraph-sdk@{SDK_VERSION}"
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), package],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return prefix / "node_modules"


def run_probe(
    stack: Stack,
    node_modules: Path,
    key: str,
    thread_id: str,
    probe: str = "tour",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run `sdk_probe.mjs` as the holder of `key`: `probe` names what it does ("tour":
    search, read state, stream a run; "thread": read `thread_id`, try a run on it), and
    `headers` are added to the JS client's `defaultHeaders`."""
    # The probe lives in the repo; Node resolves its imports from NODE_PATH only for
    # CommonJS, so it is copied next to the installed modules.
    script = node_modules.parent / PROBE.name
    shutil.copyfile(PROBE, script)
    env = {
        **os.environ,
        "AGENT_URL": stack.agent_url,
        "USER_KEY": key,
        "THREAD_ID": thread_id,
        "PROBE": probe,
        "HEADERS": json.dumps(headers or {}),
    }
    result = subprocess.run(
        ["node", str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


async def test_the_js_sdk_searches_reads_and_streams_with_a_users_own_key(
    stack: Stack, gateway: httpx.AsyncClient, node_modules: Path
):
    thread_id = await start(gateway, react_flow(marker(), steps=2))
    await wait_for_status(gateway, thread_id, {"completed"})

    alice = await asyncio.to_thread(run_probe, stack, node_modules, ALICE_KEY, thread_id)
    assert thread_id in alice["search"]
    assert alice["readState"] == 200 and len(alice["completed"]) == 2
    assert alice["events"][:1] == ["metadata"]
    assert {"step_started", "step_finished"} <= set(alice["events"])
    assert alice["streamed"]["owner"] == "alice" and alice["streamed"]["phase"] == "done"
    # The thread the JS client streamed is alice's through the gateway too.
    details = await gateway.get(f"/api/threads/{alice['streamed']['id']}")
    assert details.status_code == 200 and details.json()["status"] == "completed"

    bob = await asyncio.to_thread(run_probe, stack, node_modules, BOB_KEY, thread_id)
    assert thread_id not in bob["search"] and alice["streamed"]["id"] not in bob["search"]
    assert bob["readState"] == 404
