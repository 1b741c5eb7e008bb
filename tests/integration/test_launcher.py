"""`make up` itself: the launcher starts both processes, runs the README example, stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tools.launcher import ROOT, free_port, wait_until_ok

QUICKSTART = json.loads((ROOT / "examples" / "quickstart.json").read_text())


def launch(
    tmp_path: Path, agent_port: int, gateway_port: int, extra: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        **(extra or {}),
        "THREADGATE_AGENT_PORT": str(agent_port),
        "THREADGATE_PORT": str(gateway_port),
        "THREADGATE_DATA_DIR": str(tmp_path),
        "THREADGATE_MODEL": "offline",  # what a fresh clone with no key gets
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tools.launcher"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_up_runs_the_readme_example_offline_and_stops_cleanly(tmp_path: Path):
    agent_port, gateway_port = free_port(), free_port()
    proc = launch(tmp_path, agent_port, gateway_port)
    try:
        base = f"http://127.0.0.1:{gateway_port}"
        wait_until_ok(f"{base}/readyz", proc, "the stack", timeout=90)
        accepted = httpx.post(f"{base}/api/workflow/execute", json=QUICKSTART, timeout=10)
        assert accepted.status_code == 202, accepted.text
        thread_id = accepted.json()["thread_id"]
        deadline = time.monotonic() + 30
        while (thread := httpx.get(f"{base}/api/threads/{thread_id}").json())[
            "status"
        ] != "completed":
            assert time.monotonic() < deadline, thread
            time.sleep(0.3)
        assert (thread["progress"]["completed_steps"], thread["progress"]["total_steps"]) == (2, 2)
        assert thread["workflow_id"] == "otter-brief"
        assert list(thread["results"]) == ["research", "write"]
        assert thread["results"]["write"]["output"].startswith("[offline model ")
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, output
    assert "Threadgate is up" in output
    # A clean stop flushes the in-memory runtime to disk, so the thread outlives it.
    assert (tmp_path / ".langgraph_api" / ".langgraph_ops.pckl").stat().st_size > 0
    for port in (agent_port, gateway_port):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still served"


@pytest.mark.parametrize("busy", ["agent", "gateway"])
def test_a_busy_port_is_a_clear_error_not_a_silent_move(tmp_path: Path, busy: str):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports = (taken, free_port()) if busy == "agent" else (free_port(), taken)
        proc = launch(tmp_path, *ports)
        output = proc.communicate(timeout=90)[0]
    assert proc.returncode == 1
    assert f"127.0.0.1:{taken} is in use" in output
    assert "Threadgate is up" not in output


def test_make_up_runs_the_agent_server_with_the_configuration_it_is_given(tmp_path: Path):
    """THREADGATE_AGENT_CONFIG: e.g. a copy of langgraph.json allowing loopback webhooks."""
    config = json.loads((ROOT / "langgraph.json").read_text())
    config["dependencies"] = [str(ROOT) if d == "." else d for d in config["dependencies"]]
    config["webhooks"]["url"].update(disable_loopback=False, require_https=False)
    dev = tmp_path / "langgraph.dev.json"
    dev.write_text(json.dumps(config))
    gateway_port = free_port()
    proc = launch(tmp_path, free_port(), gateway_port, {"THREADGATE_AGENT_CONFIG": str(dev)})
    try:
        wait_until_ok(f"http://127.0.0.1:{gateway_port}/readyz", proc, "the stack", timeout=90)
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, output
    assert f"its configuration: {dev}" in output


def test_a_key_setting_that_can_never_match_is_named_by_make_up(tmp_path: Path):
    """The README's sha256sum recipe misread (its whole line pasted): the agent server
    refuses to start, and `make up` says why, not only that it exited."""
    pasted = {"alice": "sha256:" + "ab" * 32 + "  -"}
    proc = launch(tmp_path, free_port(), free_port(), {"THREADGATE_API_KEYS": json.dumps(pasted)})
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 1, output
    assert "the agent server said: RuntimeError: Threadgate auth settings" in output
    assert "the key of user 'alice'" in output and "ab" * 32 not in output


def test_a_busy_gateway_port_starts_nothing(tmp_path: Path):
    """Both ports are checked before the agent server starts (it would otherwise be left
    to write its data over the folder's on exit)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        agent_port = free_port()
        proc = launch(tmp_path, agent_port, holder.getsockname()[1])
        output = proc.communicate(timeout=90)[0]
    assert proc.returncode == 1, output
    assert "starting the agent server" not in output
    assert not (tmp_path / ".langgraph_api" / "agent-server.log").exists()


def test_one_data_folder_one_stack(tmp_path: Path):
    first = launch(tmp_path, free_port(), free_port())
    try:
        started = tmp_path / ".langgraph_api" / "agent-server.log"  # made once it holds the lock
        deadline = time.monotonic() + 60
        while not started.exists():
            assert first.poll() is None and time.monotonic() < deadline, "first never started"
            time.sleep(0.2)
        second = launch(tmp_path, free_port(), free_port())
        output = second.communicate(timeout=60)[0]
        assert second.returncode == 1, output
        assert "in use by another `make up`" in output
        assert "starting the agent server" not in output
    finally:
        first.send_signal(signal.SIGINT)  # possibly while it still waits for its servers
        first.communicate(timeout=60)
    assert first.returncode in (0, 1)
    # Whatever it had started, it stopped: no server is left behind on the data folder.
    assert not servers_in(tmp_path)


def servers_in(folder: Path) -> list[int]:
    """Processes whose working directory is `folder` (the launcher runs its Agent Server
    there)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cwd").resolve() == folder.resolve():
                found.append(int(proc.name))
        except OSError:
            continue
    return found
