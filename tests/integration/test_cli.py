"""The `threadgate` CLI end to end: the installed console script against the real stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.integration.conftest import Stack
from tests.integration.helpers import ALICE_KEY, marker, react_flow
from tools.launcher import ROOT, free_port

THREADGATE = str(Path(sys.executable).parent / "threadgate")


def cli(stack: Stack, *args: str, key: str = ALICE_KEY, url: str | None = None):
    env = {**os.environ, "THREADGATE_URL": url or stack.gateway_url, "THREADGATE_API_KEY": key}
    return subprocess.run(
        [THREADGATE, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_run_follow_shows_progress_per_step_and_the_result(stack: Stack):
    done = cli(stack, "run", str(ROOT / "examples" / "support-triage.json"), "--follow")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("thread ")
    bars = [line for line in lines if "finished" in line]
    assert [b.split("]")[1].split()[0] for b in bars] == ["1/3", "2/3", "3/3"]
    assert "status:       completed" in done.stdout
    assert "  answer: echo: Step 2/3: Draft reply" in done.stdout


def test_json_output_lets_scripts_chain_commands(stack: Stack, tmp_path: Path):
    tag = marker()
    workflow = tmp_path / "flow.json"
    workflow.write_text(json.dumps(react_flow(tag, steps=2)))
    frames = cli(stack, "--json", "run", str(workflow), "--follow")
    assert frames.returncode == 0, frames.stderr
    parsed = [json.loads(line) for line in frames.stdout.splitlines()]
    assert parsed[0]["type"] == "started" and parsed[-1]["type"] == "end"
    thread_id = parsed[0]["thread_id"]

    listed = json.loads(
        cli(stack, "--json", "threads", "list", "--workflow-id", f"wf-{tag}").stdout
    )
    assert [t["thread_id"] for t in listed["threads"]] == [thread_id]
    shown = json.loads(cli(stack, "--json", "threads", "show", thread_id).stdout)
    assert shown["progress"]["completed_steps"] == 2
    history = json.loads(cli(stack, "--json", "threads", "history", thread_id).stdout)
    first = next(c for c in history if c["completed_steps"] == 1)
    state = json.loads(
        cli(stack, "threads", "state", thread_id, "--checkpoint", first["checkpoint_id"]).stdout
    )
    assert state["values"]["completed"] == ["n1"]

    human = cli(stack, "threads", "list", "--workflow-id", f"wf-{tag}")
    assert "THREAD_ID" in human.stdout and thread_id in human.stdout and "completed" in human.stdout


def test_exit_codes_a_script_can_branch_on(stack: Stack, tmp_path: Path):
    workflow = tmp_path / "flow.json"
    workflow.write_text(json.dumps(react_flow(marker(), steps=1)))
    started = json.loads(cli(stack, "--json", "run", str(workflow)).stdout)
    thread_id = started["thread_id"]
    cli(stack, "run", str(workflow), "--thread", thread_id)  # may be busy or not: either is fine
    ghost = "00000000-0000-4000-8000-000000000000"

    assert cli(stack, "threads", "show", ghost).returncode == 3
    assert cli(stack, "threads", "show", thread_id, key="wrong-key").returncode == 5
    nowhere = f"http://127.0.0.1:{free_port()}"
    assert cli(stack, "threads", "list", url=nowhere).returncode == 6
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"nodes": [{"id": "x", "type": "oracle"}]}))
    refused = cli(stack, "--json", "run", str(bad))
    assert refused.returncode == 2 and json.loads(refused.stdout)["error"] == "invalid_workflow"

    subprocess.run([THREADGATE, "--help"], capture_output=True, check=True)
    for _ in range(100):
        shown = json.loads(cli(stack, "--json", "threads", "show", thread_id).stdout)
        if shown["status"] == "completed":
            break
        time.sleep(0.1)
    paused = cli(stack, "pause", thread_id)
    assert paused.returncode == 4 and "only a running thread pauses" in paused.stderr


def test_pause_resume_recover_and_prune_from_the_terminal(stack: Stack, tmp_path: Path):
    tag = marker()
    flow = react_flow(tag, steps=2, slow=1)
    flow["nodes"][0]["data"]["instructions"] += " [fail once]"  # step 2 fails the first time
    workflow = tmp_path / "flow.json"
    workflow.write_text(json.dumps(flow))
    thread_id = json.loads(cli(stack, "--json", "run", str(workflow)).stdout)["thread_id"]

    def reaches(wanted: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            shown = json.loads(cli(stack, "--json", "threads", "show", thread_id).stdout)
            if shown["status"] == wanted:
                return dict(shown)
            assert time.monotonic() < deadline, f"still {shown['status']}, wanted {wanted}"
            time.sleep(0.2)

    assert cli(stack, "pause", thread_id).returncode == 0
    reaches("paused")
    assert cli(stack, "resume", thread_id).returncode == 0
    reaches("failed")

    listed = cli(stack, "recover", "--dry-run", "--workflow-id", f"wf-{tag}")
    assert thread_id in listed.stdout and listed.returncode == 0
    # Without --apply, recover only lists (as prune does): the thread stays failed.
    preview = json.loads(cli(stack, "recover", "--workflow-id", f"wf-{tag}", "--json").stdout)
    assert [t["thread_id"] for t in preview] == [thread_id]
    assert reaches("failed", timeout=1)["status"] == "failed"
    recovered = json.loads(
        cli(stack, "--json", "recover", "--apply", "--workflow-id", f"wf-{tag}").stdout
    )
    assert recovered == [
        {
            "thread_id": thread_id,
            "outcome": "resumed",
            "execution_id": recovered[0]["execution_id"],
            "message": None,
        }
    ]
    # The recovered thread really finishes: the failed step ran again, once.
    finished = reaches("completed")
    assert finished["progress"]["completed_steps"] == 2
    assert stack.model.calls_mentioning(f"{tag} do part 2") == 2

    dry = cli(stack, "prune", "--older-than", "0", "--workflow-id", f"wf-{tag}")
    assert dry.returncode == 0 and dry.stdout.startswith("would prune")
    answered = cli(stack, "resume", thread_id, "--approve")  # nothing is waiting: a conflict
    assert answered.returncode == 4, answered.stderr


def test_global_options_go_before_or_after_the_command(stack: Stack, tmp_path: Path):
    tag = marker()
    workflow = tmp_path / "flow.json"
    workflow.write_text(json.dumps(react_flow(tag, steps=1)))
    frames = cli(stack, "run", str(workflow), "--follow", "--json")
    assert frames.returncode == 0, frames.stderr
    thread_id = json.loads(frames.stdout.splitlines()[0])["thread_id"]

    before = cli(stack, "--json", "threads", "list", "--workflow-id", f"wf-{tag}")
    after = cli(stack, "threads", "list", "--workflow-id", f"wf-{tag}", "--json")
    assert after.returncode == 0, after.stderr
    assert after.stdout == before.stdout
    assert [t["thread_id"] for t in json.loads(after.stdout)["threads"]] == [thread_id]
    # A key or URL given after the command is the one used.
    keyed = cli(stack, "threads", "show", thread_id, "--api-key", ALICE_KEY, key="wrong-key")
    assert keyed.returncode == 0, keyed.stderr
    nowhere = f"http://127.0.0.1:{free_port()}"
    assert cli(stack, "threads", "show", thread_id, "--url", nowhere).returncode == 6


def test_every_example_is_one_file_for_curl_and_the_cli(stack: Stack):
    for path in sorted((ROOT / "examples").glob("*.json")):
        # What `curl -d @file` sends: the file's bytes as they are.
        sent = httpx.post(
            f"{stack.gateway_url}/api/workflow/execute",
            content=path.read_bytes(),
            headers={"content-type": "application/json", "X-API-Key": ALICE_KEY},
            timeout=30,
        )
        assert sent.status_code == 202, (path.name, sent.text)
        started = cli(stack, "--json", "run", str(path))
        assert started.returncode == 0, (path.name, started.stderr)
        assert json.loads(started.stdout)["status"] == "pending"


def test_workflow_library_and_schedules_from_the_terminal(stack: Stack, tmp_path: Path):
    tag = marker()
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"workflow_json": react_flow(tag, steps=2)}))
    saved = cli(stack, "workflows", "save", str(request), "--json")
    assert saved.returncode == 0, saved.stderr
    record = json.loads(saved.stdout)
    workflow_id = record["workflow_id"]
    assert (workflow_id, record["version"], record["step_count"]) == (f"wf-{tag}", 1, 2)
    assert cli(stack, "workflows", "save", str(request)).returncode == 4  # it exists

    bare = tmp_path / "bare.json"  # a bare workflow document is accepted too
    bare.write_text(json.dumps(react_flow(tag, steps=3)))
    updated = json.loads(cli(stack, "--json", "workflows", "update", workflow_id, str(bare)).stdout)
    assert (updated["version"], updated["step_count"]) == (2, 3)
    shown = cli(stack, "workflows", "show", workflow_id, "--version", "1")
    assert shown.returncode == 0 and "version:      1" in shown.stdout and "Step 2" in shown.stdout
    versions = json.loads(cli(stack, "workflows", "versions", workflow_id, "--json").stdout)
    assert [v["version"] for v in versions] == [2, 1]
    listed = cli(stack, "workflows", "list", "--limit", "100")
    assert listed.returncode == 0 and workflow_id in listed.stdout

    frames = cli(stack, "workflows", "run", workflow_id, "--version", "1", "--follow", "--json")
    assert frames.returncode == 0, frames.stderr
    parsed = [json.loads(line) for line in frames.stdout.splitlines()]
    assert parsed[0]["type"] == "started" and parsed[-1]["type"] == "end"
    thread_id = parsed[0]["thread_id"]
    assert parsed[-1]["progress"]["completed_steps"] == 2  # version 1 has two steps
    found = cli(stack, "--json", "threads", "list", "--workflow-id", workflow_id)
    by_version = json.loads(
        cli(stack, "threads", "list", "--workflow-version", "1", "--json").stdout
    )
    assert thread_id in found.stdout
    assert thread_id in [t["thread_id"] for t in by_version["threads"]]
    human = cli(stack, "threads", "list", "--workflow-id", workflow_id)
    assert "v1" in human.stdout and thread_id in human.stdout

    copied = cli(
        stack, "threads", "save-as-workflow", thread_id, "--id", f"copy-{tag}", "--name", "Copy"
    )
    assert copied.returncode == 0, copied.stderr
    copy = json.loads(cli(stack, "workflows", "show", f"copy-{tag}", "--json").stdout)
    assert (copy["name"], copy["version"], copy["step_count"]) == ("Copy", 1, 2)

    created = cli(
        stack, "schedules", "create", workflow_id, "--cron", "*/5 * * * *", "--disabled", "--json"
    )
    assert created.returncode == 0, created.stderr
    schedule = json.loads(created.stdout)
    schedule_id = schedule["schedule_id"]
    assert (schedule["workflow_id"], schedule["enabled"], schedule["version"]) == (
        workflow_id,
        False,
        None,
    )
    by_schedule = cli(stack, "threads", "list", "--schedule-id", schedule_id, "--json")
    assert json.loads(by_schedule.stdout)["threads"] == []  # created disabled: never fired
    mine = json.loads(
        cli(stack, "schedules", "list", "--workflow-id", workflow_id, "--json").stdout
    )
    assert [s["schedule_id"] for s in mine["schedules"]] == [schedule_id]
    assert "enabled:      no" in cli(stack, "schedules", "show", schedule_id).stdout
    enabled = json.loads(cli(stack, "--json", "schedules", "enable", schedule_id).stdout)
    assert enabled["enabled"] is True and enabled["next_run_at"]
    disabled = json.loads(cli(stack, "schedules", "disable", schedule_id, "--json").stdout)
    assert disabled["enabled"] is False
    assert cli(stack, "--json", "schedules", "delete", schedule_id).stdout == ""
    assert cli(stack, "schedules", "show", schedule_id).returncode == 3

    for gone in (workflow_id, f"copy-{tag}"):
        assert cli(stack, "workflows", "delete", gone).returncode == 0
        assert cli(stack, "workflows", "show", gone).returncode == 3
