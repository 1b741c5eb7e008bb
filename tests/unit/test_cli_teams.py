"""`threadgate` and teams, against a fake gateway: `--team` / THREADGATE_TEAM puts every
request (and the run stream) in the team's space, `approvals` and `audit` show what a
team reviews, and a refusal (403) ends the command with exit code 5."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.frames import Close

from agents.teams import TEAM_HEADER, TEAM_NAME_PATTERN
from gateway.cli.app import TEAM_NAME
from gateway.cli.client import TEAM_HEADER as CLI_TEAM_HEADER
from tests.unit.test_cli_harness import URL, FakeGateway, fake_gateway, invoke
from tests.unit.test_cli_json_golden import ACCEPTED, PAGE, T

__all__ = ["fake_gateway"]

Capture = pytest.CaptureFixture[str]
EXAMPLE = str(Path(__file__).parents[2] / "examples" / "quickstart.json")
WAITING = {
    "thread_id": T,
    "step_id": "ship",
    "title": "Ship",
    "question": "Ship it? ✓",
    "four_eyes": True,
    "waiting_since": "2026-01-01T00:02:00.123456+00:00",
    "started_by": "bob",
}
APPROVALS = {"approvals": [WAITING], "total": 3, "limit": 1, "offset": 0, "next_offset": 1}
EXECUTE = {
    "at": "2026-01-01T00:00:00.000001+00:00",
    "actor": "bob",
    "action": "execute",
    "thread_id": T,
    "details": {"execution_id": "run-1"},
}
REJECT = {
    "at": "2026-01-01T00:03:00.5+00:00",
    "actor": "carol",
    "action": "reject",
    "thread_id": T,
    "details": {"execution_id": "run-2", "comment": "not today"},
}
THREAD_AUDIT = {"thread_id": T, "events": [EXECUTE, REJECT]}
AUDIT = {"events": [REJECT, EXECUTE], "limit": 2, "offset": 0, "next_offset": 2}
FORBIDDEN = {
    "error": "forbidden",
    "message": "'run' in team 'eng' needs the role operator or admin; you are viewer",
    "details": {"team": "eng"},
}


@pytest.fixture
def gateway(fake_gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch) -> FakeGateway:
    monkeypatch.delenv("THREADGATE_TEAM", raising=False)  # a developer's own must not leak in
    fake_gateway.reply("GET", "/api/threads", 200, PAGE)
    fake_gateway.reply("POST", "/api/workflow/execute", 202, ACCEPTED)
    fake_gateway.reply("GET", "/api/approvals", 200, APPROVALS)
    fake_gateway.reply("GET", f"/api/threads/{T}/audit", 200, THREAD_AUDIT)
    fake_gateway.reply("GET", "/api/audit", 200, AUDIT)
    return fake_gateway


def teams_sent(gateway: FakeGateway) -> list[str | None]:
    return [h.get("x-threadgate-team") for h in gateway.headers]


def printed(body: Any) -> str:
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def test_the_cli_names_the_header_and_team_names_as_the_gateway_does():
    assert CLI_TEAM_HEADER.lower() == TEAM_HEADER
    assert TEAM_NAME.pattern == TEAM_NAME_PATTERN


@pytest.mark.parametrize(
    ("env", "argv", "team"),
    [
        ({}, ["--team", "eng", "threads", "list"], "eng"),
        ({}, ["threads", "list", "--team", "eng"], "eng"),
        ({"THREADGATE_TEAM": "eng"}, ["threads", "list"], "eng"),
        ({"THREADGATE_TEAM": "eng"}, ["--team", "ops", "threads", "list"], "ops"),
        ({"THREADGATE_TEAM": "eng"}, ["--team", "ops", "threads", "list", "--team", "qa"], "qa"),
        ({"THREADGATE_TEAM": "eng"}, ["threads", "list", "--team", ""], None),
        ({}, ["threads", "list"], None),
        ({"THREADGATE_TEAM": ""}, ["threads", "list"], None),
    ],
    ids=[
        "before",
        "after",
        "env",
        "before-beats-env",
        "after-wins",
        "empty-is-own",
        "none",
        "env-empty",
    ],
)
def test_every_request_acts_in_the_team_given_and_none_otherwise(
    gateway: FakeGateway,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    argv: list[str],
    team: str | None,
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, _, err = invoke(capsys, "--url", URL, *argv)
    assert code == 0, err
    assert teams_sent(gateway) == [team]


@pytest.mark.parametrize("where", ["before", "after", "env"])
def test_a_followed_run_opens_its_stream_in_the_team(
    gateway: FakeGateway, capsys: Capture, monkeypatch: pytest.MonkeyPatch, where: str
):
    gateway.frames = [{"type": "started", "execution_id": "r", "thread_id": T}, {"type": "end"}]
    run = ["run", EXAMPLE, "--follow", "--json"]
    argv = {"before": ["--team", "eng", *run], "after": [*run, "--team", "eng"], "env": run}
    if where == "env":
        monkeypatch.setenv("THREADGATE_TEAM", "eng")
    assert invoke(capsys, "--url", URL, *argv[where])[0] == 0
    assert [s["headers"].get("X-Threadgate-Team") for s in gateway.sockets] == ["eng"]


def test_without_a_team_the_stream_is_in_one_s_own_space(gateway: FakeGateway, capsys: Capture):
    gateway.frames = [{"type": "started", "execution_id": "r", "thread_id": T}, {"type": "end"}]
    assert invoke(capsys, "--url", URL, "run", EXAMPLE, "--follow", "--json")[0] == 0
    assert "X-Threadgate-Team" not in gateway.sockets[0]["headers"]


@pytest.mark.parametrize("name", ["Eng", "é", "eng\nx-api-key: k", "-eng"])
def test_a_name_no_team_can_have_is_bad_input_and_sends_nothing(
    gateway: FakeGateway, capsys: Capture, name: str
):
    for argv in (["--team", name, "threads", "list"], ["threads", "list", "--team", name]):
        code, out, err = invoke(capsys, "--url", URL, *argv)
        assert (code, out) == (2, "") and "no team name" in err
    assert gateway.calls == []


def test_a_refusal_exits_5_with_the_gateway_s_message(gateway: FakeGateway, capsys: Capture):
    gateway.reply("POST", "/api/workflow/execute", 403, FORBIDDEN)
    code, out, err = invoke(capsys, "--url", URL, "--team", "eng", "run", EXAMPLE)
    assert (code, out) == (5, "")
    assert err == f"threadgate: {FORBIDDEN['message']}\n"
    code, out, _ = invoke(capsys, "--url", URL, "--team", "eng", "run", EXAMPLE, "--json")
    assert code == 5 and json.loads(out) == FORBIDDEN


@pytest.mark.parametrize("code", ["forbidden", "unauthorized"])
def test_a_refused_stream_exits_5_not_as_a_failed_workflow(
    gateway: FakeGateway, capsys: Capture, code: str
):
    gateway.frames = [{"type": "error", "error": code, "message": FORBIDDEN["message"]}]
    argv = ["--url", URL, "--team", "eng", "run", EXAMPLE, "--follow"]
    exit_code, out, err = invoke(capsys, *argv)
    assert (exit_code, out) == (5, "") and err == f"threadgate: {code}: {FORBIDDEN['message']}\n"
    failed = {"type": "error", "error": "workflow_failed", "message": "boom"}
    gateway.frames = [{"type": "started", "execution_id": "r", "thread_id": T}, failed]
    assert invoke(capsys, *argv)[0] == 1


CLOSED = ConnectionClosedError(Close(1008, "refused"), Close(1008, "refused"), True)


class RefusingSocket:
    """A gateway refusing the caller before reading their message, as the real one does:
    its error frame arrives, it closes (1008), and sending the request fails."""

    def __init__(self, frames: list[dict[str, Any]]) -> None:
        self.frames = frames

    def __enter__(self) -> RefusingSocket:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def send(self, _: str) -> None:
        raise CLOSED

    def __iter__(self) -> Iterator[str]:
        yield from (json.dumps(frame) for frame in self.frames)
        raise CLOSED


def test_a_stream_refused_before_the_request_is_sent_still_says_why(
    gateway: FakeGateway, capsys: Capture, monkeypatch: pytest.MonkeyPatch
):
    refusal = {"type": "error", "error": "forbidden", "message": FORBIDDEN["message"]}
    monkeypatch.setattr("gateway.cli.client.connect", lambda *_, **__: RefusingSocket([refusal]))
    code, out, err = invoke(capsys, "--url", URL, "--team", "eng", "run", EXAMPLE, "--follow")
    assert (code, out) == (5, "") and err == f"threadgate: forbidden: {FORBIDDEN['message']}\n"
    # Closed with no error frame to say why: the stream failed.
    monkeypatch.setattr("gateway.cli.client.connect", lambda *_, **__: RefusingSocket([]))
    code, _, err = invoke(capsys, "--url", URL, "--team", "eng", "run", EXAMPLE, "--follow")
    assert code == 6 and "stream from ws://gw.test" in err


def test_help_documents_the_team_option_and_the_forbidden_exit_code(capsys: Capture):
    code, out, _ = invoke(capsys, "--help")
    text = " ".join(out.split())
    assert code == 0 and "--team" in text and "THREADGATE_TEAM" in text
    assert "5 unauthorized or forbidden" in text
    assert "approvals" in text and "audit" in text


def test_approvals_lists_the_inbox_for_people(gateway: FakeGateway, capsys: Capture):
    code, out, _ = invoke(capsys, "--url", URL, "--team", "eng", "approvals")
    assert code == 0
    header, _, row, footer = out.splitlines()
    assert header.split() == ["THREAD_ID", "QUESTION", "FOUR_EYES", "WAITING_SINCE", "STARTED_BY"]
    assert row.split() == [T, "Ship", "it?", "✓", "yes", "2026-01-01", "00:02:00", "bob"]
    assert footer == "1 of 3"
    assert [(c["method"], c["path"], c["params"]) for c in gateway.calls] == [
        ("GET", "/api/approvals", {"limit": "20", "offset": "0"})
    ]
    assert teams_sent(gateway) == ["eng"]


def test_approvals_json_is_the_gateway_s_body_and_pages(gateway: FakeGateway, capsys: Capture):
    code, out, _ = invoke(
        capsys, "--url", URL, "approvals", "--json", "--limit", "1", "--offset", "2"
    )
    assert (code, out) == (0, printed(APPROVALS))
    assert gateway.calls[-1]["params"] == {"limit": "1", "offset": "2"}


def test_an_empty_inbox_says_so(gateway: FakeGateway, capsys: Capture):
    gateway.reply("GET", "/api/approvals", 200, {**APPROVALS, "approvals": [], "total": 0})
    code, out, _ = invoke(capsys, "--url", URL, "approvals")
    assert code == 0 and out.splitlines()[-2:] == ["(none)", "0 of 0"]


def test_a_thread_s_audit_trail_oldest_first(gateway: FakeGateway, capsys: Capture):
    code, out, _ = invoke(capsys, "--url", URL, "audit", T, "--team", "eng")
    assert code == 0
    header, _, first, second = out.splitlines()
    assert header.split() == ["AT", "ACTOR", "ACTION", "THREAD", "DETAILS"]
    assert first.split() == ["2026-01-01", "00:00:00", "bob", "execute", T, "execution_id=run-1"]
    assert second.split()[2:] == [
        "carol",
        "reject",
        T,
        "execution_id=run-2",
        "comment=not",
        "today",
    ]
    assert [c["path"] for c in gateway.calls] == [f"/api/threads/{T}/audit"]
    assert teams_sent(gateway) == ["eng"]
    code, out, _ = invoke(capsys, "--url", URL, "audit", T, "--json")
    assert (code, out) == (0, printed(THREAD_AUDIT))


def test_the_space_s_audit_trail_newest_first_paged(gateway: FakeGateway, capsys: Capture):
    code, out, _ = invoke(capsys, "--url", URL, "audit")
    lines = out.splitlines()
    assert code == 0 and [line.split()[3] for line in lines[2:4]] == ["reject", "execute"]
    assert lines[-1] == "more: --offset 2"
    assert gateway.calls[-1]["params"] == {}  # the gateway's default page
    code, out, _ = invoke(capsys, "--url", URL, "--json", "audit", "--limit", "2", "--offset", "4")
    assert (code, out) == (0, printed(AUDIT))
    last = gateway.calls[-1]
    assert (last["path"], last["params"]) == ("/api/audit", {"limit": "2", "offset": "4"})


def test_a_thread_s_trail_is_not_paged(gateway: FakeGateway, capsys: Capture):
    code, out, err = invoke(capsys, "--url", URL, "audit", T, "--limit", "5")
    assert (code, out) == (2, "") and "not a thread's" in err
    assert gateway.calls == []


def test_a_thread_outside_the_space_is_not_found(gateway: FakeGateway, capsys: Capture):
    gone = {"error": "not_found", "message": f"thread {T} not found"}
    gateway.reply("GET", f"/api/threads/{T}/audit", 404, gone)
    code, out, err = invoke(capsys, "--url", URL, "audit", T)
    assert (code, out) == (3, "") and err == f"threadgate: thread {T} not found\n"
