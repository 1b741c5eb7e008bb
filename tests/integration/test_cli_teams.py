"""The `threadgate` CLI in a team's space, against the real stack: bob (operator of
"eng") starts a four-eyes workflow with `--team eng`, carol (approver) finds it in her
inbox and reads its audit trail, and dave (viewer) is refused with exit code 5."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.integration.conftest import Stack
from tests.integration.helpers import KEYS, TEAM, marker, react_flow
from tests.integration.test_cli import THREADGATE
from tests.integration.test_teams import approval_flow


def cli_as(
    stack: Stack, user: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "THREADGATE_TEAM"}
    env = {
        **base,
        "THREADGATE_URL": stack.gateway_url,
        "THREADGATE_API_KEY": KEYS[user],
        **(env or {}),
    }
    return subprocess.run(
        [THREADGATE, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def waits(stack: Stack, user: str, thread_id: str, wanted: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        shown = as_json(cli_as(stack, user, "threads", "show", thread_id, "--team", TEAM, "--json"))
        if shown["status"] == wanted:
            return
        assert time.monotonic() < deadline, f"still {shown['status']}, wanted {wanted}"
        time.sleep(0.2)


def inbox(stack: Stack, user: str) -> list[dict[str, Any]]:
    """Every approval waiting for `user` in the team, page after page."""
    found: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        page = as_json(
            cli_as(stack, user, "approvals", "--team", TEAM, "--json", "--offset", str(offset))
        )
        found += page["approvals"]
        offset = page["next_offset"]
    return found


def test_a_team_s_four_eyes_approval_from_the_terminal(stack: Stack, tmp_path: Path):
    request = tmp_path / "release.json"
    request.write_text(json.dumps({"workflow_json": approval_flow(marker(), four_eyes=True)}))
    started = as_json(cli_as(stack, "bob", "--team", TEAM, "--json", "run", str(request)))
    thread_id = started["thread_id"]
    waits(stack, "bob", thread_id, "waiting")

    # Not in the team's space, the thread is nobody's business: not found.
    assert cli_as(stack, "bob", "threads", "show", thread_id).returncode == 3
    assert thread_id not in {a["thread_id"] for a in inbox(stack, "bob")}  # an operator
    [waiting] = [a for a in inbox(stack, "carol") if a["thread_id"] == thread_id]
    assert (waiting["four_eyes"], waiting["started_by"]) == (True, "bob")
    assert waiting["question"] == "Ship it?"

    # THREADGATE_TEAM does what --team does.
    trail = as_json(
        cli_as(stack, "carol", "audit", thread_id, "--json", env={"THREADGATE_TEAM": TEAM})
    )
    assert [(e["actor"], e["action"]) for e in trail["events"]] == [("bob", "execute")]
    table = cli_as(stack, "carol", "audit", thread_id, "--team", TEAM)
    assert table.returncode == 0 and "bob" in table.stdout and "execute" in table.stdout

    answered = cli_as(stack, "carol", "resume", thread_id, "--approve", "--team", TEAM)
    assert answered.returncode == 0, answered.stderr
    waits(stack, "carol", thread_id, "completed")
    trail = as_json(cli_as(stack, "carol", "--team", TEAM, "--json", "audit", thread_id))
    assert [(e["actor"], e["action"]) for e in trail["events"]] == [
        ("bob", "execute"),
        ("carol", "approve"),
    ]
    newest = as_json(cli_as(stack, "carol", "--team", TEAM, "--json", "audit", "--limit", "5"))
    assert any(e["thread_id"] == thread_id for e in newest["events"])


def test_a_viewer_is_refused_with_exit_code_5(stack: Stack, tmp_path: Path):
    request = tmp_path / "flow.json"
    request.write_text(json.dumps({"workflow_json": react_flow(marker(), steps=1)}))
    for argv in (["--team", TEAM, "run", str(request)], ["run", str(request), "--team", TEAM]):
        refused = cli_as(stack, "dave", *argv)
        assert refused.returncode == 5, refused.stderr
        assert "operator" in refused.stderr and refused.stdout == ""
    followed = cli_as(stack, "dave", "run", str(request), "--follow", env={"THREADGATE_TEAM": TEAM})
    assert followed.returncode == 5 and "forbidden" in followed.stderr, followed.stderr
    stranger = cli_as(
        stack, "dave", "run", str(request), "--follow", env={"THREADGATE_API_KEY": "k"}
    )
    assert stranger.returncode == 5 and "unauthorized" in stranger.stderr, stranger.stderr
    # In dave's own space the same command is his to run.
    assert cli_as(stack, "dave", "run", str(request)).returncode == 0
