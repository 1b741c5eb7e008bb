"""`threadgate` against a fake gateway: where global options go, the one convention of
recover and prune, the examples' shape, and `run --follow` for people."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_cli_harness import CTRL_C, URL, FakeGateway, fake_gateway, invoke
from tests.unit.test_cli_json_golden import ACCEPTED, DETAILS, OUTCOMES, PAGE, PRUNED, SUMMARY, T

__all__ = ["fake_gateway"]

EXAMPLES = Path(__file__).parents[2] / "examples"
Capture = pytest.CaptureFixture[str]


@pytest.fixture
def gateway(fake_gateway: FakeGateway) -> FakeGateway:
    fake_gateway.reply("GET", "/api/threads", 200, PAGE)
    fake_gateway.reply("GET", f"/api/threads/{T}", 200, DETAILS)
    fake_gateway.reply("POST", "/api/workflow/execute", 202, ACCEPTED)
    fake_gateway.reply("GET", "/api/threads/failed", 200, [SUMMARY])
    fake_gateway.reply("POST", "/api/threads/failed/resume", 200, OUTCOMES[:1])
    fake_gateway.reply("POST", "/api/threads/prune", 200, PRUNED)
    return fake_gateway


@pytest.mark.parametrize(
    "argv",
    [
        ["threads", "list"],
        ["threads", "show", T],
        ["recover", "--older-than", "5"],
        ["prune", "--older-than", "5"],
    ],
)
def test_global_options_work_after_the_command_as_before_it(
    gateway: FakeGateway, capsys: Capture, argv: list[str]
):
    before = invoke(capsys, "--json", "--url", URL, "--api-key", "k-1", *argv)
    after = invoke(capsys, *argv, "--json", "--url", URL, "--api-key", "k-1")
    assert before == after and before[0] == 0
    assert json.loads(after[1])  # JSON, not a table
    assert [h["x-api-key"] for h in gateway.headers] == ["k-1", "k-1"]
    assert gateway.calls[0] == gateway.calls[1]


def test_an_option_after_the_command_wins_and_the_environment_is_the_default(
    gateway: FakeGateway, capsys: Capture, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("THREADGATE_URL", URL)
    monkeypatch.setenv("THREADGATE_API_KEY", "from-env")
    assert invoke(capsys, "threads", "list", "--json")[0] == 0
    assert invoke(capsys, "--api-key", "before", "threads", "list", "--api-key", "after")[0] == 0
    assert [h["x-api-key"] for h in gateway.headers] == ["from-env", "after"]
    assert invoke(capsys, "--url", URL, "threads", "list", "--url", "http://elsewhere.test")[0] == 0
    assert gateway.headers[-1]["host"] == "elsewhere.test"


@pytest.mark.parametrize(
    ("env", "options", "host", "key"),
    [
        ({}, [], "127.0.0.1:8002", None),
        (
            {"THREADGATE_URL": "http://env.test", "THREADGATE_API_KEY": "k-env"},
            [],
            "env.test",
            "k-env",
        ),
        (
            {"THREADGATE_URL": "http://env.test", "THREADGATE_API_KEY": "k-env"},
            ["--url", "http://before.test", "--api-key", "k-before", "threads", "list"],
            "before.test",
            "k-before",
        ),
        (
            {"THREADGATE_URL": "http://env.test", "THREADGATE_API_KEY": "k-env"},
            ["threads", "list", "--url", "http://after.test", "--api-key", "k-after"],
            "after.test",
            "k-after",
        ),
        (
            {"THREADGATE_URL": "http://env.test", "THREADGATE_API_KEY": "k-env"},
            ["--api-key", "k-before", "threads", "list", "--url", "http://after.test"],
            "after.test",
            "k-before",
        ),
    ],
    ids=["default", "environment", "option-before-beats-env", "option-after-beats-env", "mixed"],
)
def test_the_environment_fills_in_an_option_the_command_line_leaves_out(
    gateway: FakeGateway,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    options: list[str],
    host: str,
    key: str | None,
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    argv = options or ["threads", "list"]
    assert invoke(capsys, *argv)[0] == 0
    assert gateway.headers[-1]["host"] == host
    assert gateway.headers[-1].get("x-api-key") == key


def test_help_names_the_environment_variables_but_never_their_values(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("THREADGATE_API_KEY", "k-secret")
    monkeypatch.setenv("COLUMNS", "200")
    for argv in (["--help"], ["threads", "list", "--help"]):
        code, out, _ = invoke(capsys, *argv)
        assert code == 0 and "THREADGATE_URL" in out and "THREADGATE_API_KEY" in out
        assert "k-secret" not in out


def test_recover_previews_unless_apply(gateway: FakeGateway, capsys: Capture):
    for flags in ([], ["--dry-run"]):
        code, out, _ = invoke(capsys, "--url", URL, "recover", "--workflow-id", "wf", *flags)
        assert code == 0 and T in out and "add --apply" in out
    assert {c["path"] for c in gateway.calls} == {"/api/threads/failed"}
    code, out, _ = invoke(capsys, "--url", URL, "recover", "--workflow-id", "wf", "--apply")
    assert code == 0 and "resumed" in out
    assert gateway.calls[-1] == {
        "method": "POST",
        "path": "/api/threads/failed/resume",
        "params": {},
        "json": {"workflow_id": "wf"},
    }


def test_prune_previews_unless_apply(gateway: FakeGateway, capsys: Capture):
    for flags in ([], ["--dry-run"]):
        code, out, _ = invoke(capsys, "--url", URL, "prune", "--older-than", "60", *flags)
        assert code == 0 and out.startswith("would prune 1 threads") and "add --apply" in out
    invoke(capsys, "--url", URL, "prune", "--older-than", "60", "--apply")
    assert [c["json"]["dry_run"] for c in gateway.calls] == [True, True, False]


@pytest.mark.parametrize("command", ["recover", "prune"])
def test_apply_and_dry_run_together_is_bad_input(
    gateway: FakeGateway, capsys: Capture, command: str
):
    code, _, err = invoke(capsys, command, "--older-than", "1", "--apply", "--dry-run")
    assert code == 2 and "not both" in err and gateway.calls == []


@pytest.mark.parametrize("command", ["recover", "prune"])
def test_help_says_dry_run_is_the_default(capsys: Capture, command: str):
    code, out, _ = invoke(capsys, command, "--help")
    text = " ".join(out.split())
    assert code == 0 and "--apply" in text and "Preview only: the default" in text


def test_bad_input_never_reaches_the_gateway(gateway: FakeGateway, capsys: Capture):
    assert invoke(capsys, "resume", T, "--approve", "--reject")[0] == 2
    assert invoke(capsys, "threads", "list", "--status", "sleepy")[0] == 2
    assert invoke(capsys, "prune")[0] == 2  # --older-than is required
    assert invoke(capsys, "threads", "frobnicate")[0] == 2
    assert gateway.calls == []


def test_a_comment_without_an_answer_is_refused_not_dropped(gateway: FakeGateway, capsys: Capture):
    code, out, err = invoke(capsys, "--url", URL, "resume", T, "--comment", "ship it")
    assert (code, out) == (2, "")
    assert err == "threadgate: --comment goes with --approve or --reject\n"
    assert gateway.calls == []
    gateway.reply("POST", f"/api/threads/{T}/resume", 202, ACCEPTED)
    assert invoke(capsys, "--url", URL, "resume", T, "--reject", "--comment", "not yet")[0] == 0
    assert gateway.calls[-1]["json"] == {"approved": False, "comment": "not yet"}


def test_help_and_shell_completion(capsys: Capture):
    code, out, _ = invoke(capsys, "--help")
    assert code == 0 and "--install-completion" in out
    for name in ("run", "threads", "workflows", "schedules", "recover", "prune"):
        assert name in out
    code, out, _ = invoke(capsys, "threads", "list", "--help")
    assert code == 0 and "--json" in out and "--schedule-id" in out


@pytest.mark.parametrize(
    ("words", "offered"),
    [("threadgate wor", "workflows"), ("threadgate threads list --status w", "waiting")],
)
def test_shell_completion_completes_commands_and_choices(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch, words: str, offered: str
):
    monkeypatch.setenv("_THREADGATE_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split()) - 1))
    code, out, _ = invoke(capsys)
    assert code == 0 and out.split() == [offered]


def test_every_example_is_an_execute_request_and_the_cli_sends_it_as_it_is(
    gateway: FakeGateway, capsys: Capture
):
    files = sorted(EXAMPLES.glob("*.json"))
    assert files
    for path in files:
        document = json.loads(path.read_text())
        assert list(document) == ["workflow_json"], path.name  # what curl -d @file sends
        assert isinstance(document["workflow_json"], dict), path.name
        assert invoke(capsys, "--url", URL, "run", str(path))[0] == 0
        assert gateway.calls[-1]["json"] == document


def test_a_bare_workflow_file_is_still_accepted(
    gateway: FakeGateway, capsys: Capture, tmp_path: Path
):
    workflow = json.loads((EXAMPLES / "support-triage.json").read_text())["workflow_json"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(workflow))
    code, out, _ = invoke(capsys, "--url", URL, "run", str(bare), "--thread", T)
    assert code == 0 and out == f"started {ACCEPTED['execution_id']}\n"
    assert gateway.calls[-1]["json"] == {"workflow_json": workflow, "thread_id": T}


FRAMES: list[dict[str, Any]] = [
    {"type": "started", "execution_id": f"{T}.r", "thread_id": T, "status": "running"},
    *(
        {
            "type": "progress",
            "event": event,
            "step_id": f"s{i}",
            "current_step": f"Step [{i}]",
            "completed_steps": i - (event == "step_started"),
            "total_steps": 2,
        }
        for i in (1, 2)
        for event in ("step_started", "step_finished")
    ),
    {"type": "interrupt", "question": {"question": "Ship it?"}, "interrupts": []},
    {"type": "end", "thread_id": T, "status": "completed", "progress": {}},
]


def test_follow_prints_a_line_per_step_when_stdout_is_not_a_terminal(
    gateway: FakeGateway, capsys: Capture
):
    gateway.frames = FRAMES
    code, out, _ = invoke(
        capsys, "--url", URL, "run", str(EXAMPLES / "quickstart.json"), "--follow"
    )
    lines = out.splitlines()
    assert code == 0 and lines[0] == f"thread {T}  execution {T}.r"
    assert lines[1:6] == [
        "[------------------------] 0/2  started  Step [1]",
        "[############------------] 1/2  finished Step [1]",
        "[############------------] 1/2  started  Step [2]",
        "[########################] 2/2  finished Step [2]",
        "waiting for approval: Ship it?",
    ]
    assert "status:       completed" in out  # then the thread, read once it ended
    assert gateway.sockets[-1]["url"] == "ws://gw.test/api/workflow/execute/stream"


def test_follow_draws_a_live_bar_on_a_terminal(
    gateway: FakeGateway, capsys: Capture, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # Rich: stdout is a terminal
    gateway.frames = FRAMES
    code, out, _ = invoke(
        capsys, "--url", URL, "run", str(EXAMPLES / "quickstart.json"), "--follow"
    )
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)
    assert code == 0 and f"thread {T}  execution {T}.r" in text
    assert "✓ Step [1]  1/2" in text and "✓ Step [2]  2/2" in text
    assert "waiting for approval: Ship it?" in text and "2/2" in text


def test_follow_ends_with_the_error_frame_s_exit_code(gateway: FakeGateway, capsys: Capture):
    gateway.frames = [FRAMES[0], {"type": "error", "error": "workflow_failed", "message": "boom"}]
    code, _, err = invoke(
        capsys, "--url", URL, "run", str(EXAMPLES / "quickstart.json"), "--follow"
    )
    assert code == 1 and "workflow_failed: boom" in err
    assert [c["path"] for c in gateway.calls] == []  # no thread read after a failure


def test_people_get_tables(gateway: FakeGateway, capsys: Capture):
    code, out, _ = invoke(capsys, "--url", URL, "threads", "list")
    assert code == 0
    header, rule, row, footer = out.splitlines()
    assert header.split() == [
        "THREAD_ID", "WORKFLOW", "STATUS", "PROGRESS", "CURRENT_STEP", "UPDATED_AT"
    ]  # fmt: skip
    assert set(rule) == {"─"} and row.startswith(T) and "[##########] 2/2" in row
    assert row.endswith("2026-01-01 00:01:00")  # UTC times to the second
    assert footer == "1 of 7"
    code, out, _ = invoke(capsys, "--url", URL, "threads", "show", T)
    assert code == 0 and "status:       completed" in out and "  n1: ok ✓" in out


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_ctrl_c_stops_following_but_not_the_run(
    gateway: FakeGateway, capsys: Capture, json_flag: list[str]
):
    gateway.frames = [FRAMES[0], CTRL_C]
    argv = ["--url", URL, *json_flag, "run", str(EXAMPLES / "quickstart.json"), "--follow"]
    code, out, err = invoke(capsys, *argv)
    assert code == 130 and f"the run goes on: threadgate threads show {T}" in err
    assert T in out.splitlines()[0]
