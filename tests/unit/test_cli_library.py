"""`threadgate workflows|schedules ...` and the library side of `threads`, against a
fake gateway with the routes' documented bodies: what each command sends, and that
`--json` prints the body with the one JSON printer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_cli_harness import URL, FakeGateway, fake_gateway, invoke
from tests.unit.test_cli_json_golden import ACCEPTED, PAGE, T

__all__ = ["fake_gateway"]

Capture = pytest.CaptureFixture[str]
WF = "wf-otter"
S = "5c4e0000-0000-4000-8000-0000000000aa"
WORKFLOW = {"name": "Otter brief", "steps": [{"id": "a", "title": "Research", "instructions": "x"}]}
SUMMARY = {
    "workflow_id": WF,
    "version": 2,
    "name": "Otter brief ✓",
    "step_count": 1,
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-02T00:00:00Z",
}
# As the API sends it: `steps` (the compiled plan) always, whatever the document's shape.
STEPS = [{"id": "a", "type": "task", "title": "Research"}]
RECORD = {**SUMMARY, "workflow_json": WORKFLOW, "steps": STEPS}
LIBRARY = {"workflows": [SUMMARY], "total": 1, "limit": 20, "offset": 0, "next_offset": None}
# A version's `created_at` is the workflow's, `updated_at` when that version was saved.
VERSIONS = [{**SUMMARY, "version": n} for n in (2, 1)]
SCHEDULE = {
    "schedule_id": S,
    "workflow_id": WF,
    "version": None,
    "cron": "*/5 * * * *",
    "timezone": "UTC",
    "enabled": True,
    "end_time": None,
    "webhook": None,
    "next_run_at": "2026-01-01T00:05:00Z",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}
SCHEDULES = {"schedules": [SCHEDULE], "total": 1, "limit": 20, "offset": 0, "next_offset": None}


def printed(body: Any) -> str:
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


@pytest.fixture
def gateway(fake_gateway: FakeGateway) -> FakeGateway:
    reply = fake_gateway.reply
    reply("POST", "/api/workflows", 201, RECORD)
    reply("GET", "/api/workflows", 200, LIBRARY)
    reply("GET", f"/api/workflows/{WF}", 200, RECORD)
    reply("PUT", f"/api/workflows/{WF}", 200, {**RECORD, "version": 3})
    reply("DELETE", f"/api/workflows/{WF}", 204)
    reply("GET", f"/api/workflows/{WF}/versions", 200, VERSIONS)
    reply("POST", f"/api/workflows/{WF}/rollback", 200, {**RECORD, "version": 4})
    reply("POST", "/api/workflow/execute", 202, ACCEPTED)
    reply("POST", f"/api/threads/{T}/save-as-workflow", 201, RECORD)
    reply("GET", "/api/threads", 200, PAGE)
    reply("POST", "/api/schedules", 201, SCHEDULE)
    reply("GET", "/api/schedules", 200, SCHEDULES)
    reply("GET", f"/api/schedules/{S}", 200, SCHEDULE)
    reply("PATCH", f"/api/schedules/{S}", 200, {**SCHEDULE, "enabled": False})
    reply("DELETE", f"/api/schedules/{S}", 204)
    return fake_gateway


def sent(gateway: FakeGateway) -> tuple[str, str, dict[str, str], Any]:
    call = gateway.calls[-1]
    return call["method"], call["path"], call["params"], call["json"]


@pytest.mark.parametrize("shape", ["request", "bare"])
def test_save_and_update_send_the_workflow_of_either_file_shape(
    gateway: FakeGateway, capsys: Capture, tmp_path: Path, shape: str
):
    path = tmp_path / "flow.json"
    path.write_text(json.dumps({"workflow_json": WORKFLOW} if shape == "request" else WORKFLOW))
    code, out, _ = invoke(capsys, "workflows", "save", str(path), "--json", "--url", URL)
    assert code == 0 and out == printed(RECORD)
    assert sent(gateway) == ("POST", "/api/workflows", {}, {"workflow_json": WORKFLOW})
    code, out, _ = invoke(capsys, "--url", URL, "workflows", "update", WF, str(path))
    assert code == 0 and "version:      3" in out and "Research" in out
    assert sent(gateway) == ("PUT", f"/api/workflows/{WF}", {}, {"workflow_json": WORKFLOW})


def test_list_show_and_versions(gateway: FakeGateway, capsys: Capture):
    code, out, _ = invoke(capsys, "--url", URL, "workflows", "list", "--limit", "5", "--json")
    assert code == 0 and out == printed(LIBRARY)
    assert sent(gateway) == ("GET", "/api/workflows", {"limit": "5", "offset": "0"}, None)
    code, out, _ = invoke(capsys, "--url", URL, "workflows", "list")
    assert out.splitlines()[0].split() == [
        "WORKFLOW_ID",
        "VERSION",
        "NAME",
        "STEP_COUNT",
        "UPDATED_AT",
    ]
    assert WF in out and "Otter brief ✓" in out and out.endswith("1 of 1\n")

    code, out, _ = invoke(capsys, "--url", URL, "workflows", "show", WF, "--version", "2", "--json")
    assert code == 0 and out == printed(RECORD)
    assert sent(gateway) == ("GET", f"/api/workflows/{WF}", {"version": "2"}, None)
    code, out, _ = invoke(capsys, "--url", URL, "workflows", "show", WF)
    assert sent(gateway)[2] == {} and f"workflow:     {WF}" in out and "Research" in out

    code, out, _ = invoke(capsys, "--url", URL, "workflows", "versions", WF, "--json")
    assert code == 0 and out == printed(VERSIONS)
    assert sent(gateway) == ("GET", f"/api/workflows/{WF}/versions", {}, None)
    code, out, _ = invoke(capsys, "--url", URL, "workflows", "versions", WF)
    assert out.splitlines()[0].split() == ["VERSION", "NAME", "STEP_COUNT", "UPDATED_AT"]

    code, out, _ = invoke(capsys, "--url", URL, "workflows", "rollback", WF, "1", "--json")
    assert code == 0 and out == printed({**RECORD, "version": 4})
    assert sent(gateway) == ("POST", f"/api/workflows/{WF}/rollback", {}, {"version": 1})
    code, out, _ = invoke(capsys, "--url", URL, "workflows", "rollback", WF, "1")
    assert code == 0 and f"workflow:     {WF}" in out


def test_show_lists_the_steps_in_the_order_they_run(gateway: FakeGateway, capsys: Capture):
    ordered = [
        {"id": "research", "type": "task", "title": "Research"},
        {"id": "publish", "type": "approval", "title": "Publish"},
    ]
    gateway.reply("GET", f"/api/workflows/{WF}", 200, {**RECORD, "steps": ordered})
    code, out, _ = invoke(capsys, "--url", URL, "workflows", "show", WF)
    assert code == 0 and out.index("research") < out.index("publish")


def test_delete_prints_nothing_for_scripts(gateway: FakeGateway, capsys: Capture):
    assert invoke(capsys, "--url", URL, "--json", "workflows", "delete", WF) == (0, "", "")
    assert sent(gateway) == ("DELETE", f"/api/workflows/{WF}", {}, None)
    assert invoke(capsys, "--url", URL, "workflows", "delete", WF)[1] == f"deleted {WF}\n"
    assert invoke(capsys, "--url", URL, "--json", "schedules", "delete", S) == (0, "", "")
    assert sent(gateway) == ("DELETE", f"/api/schedules/{S}", {}, None)


def test_run_a_saved_workflow(gateway: FakeGateway, capsys: Capture):
    code, out, _ = invoke(capsys, "--url", URL, "--json", "workflows", "run", WF)
    assert code == 0 and out == printed(ACCEPTED)
    assert sent(gateway)[3] == {"workflow_id": WF}
    invoke(capsys, "--url", URL, "workflows", "run", WF, "--version", "1")
    assert sent(gateway)[3] == {"workflow_id": WF, "version": 1}
    gateway.frames = [{"type": "started", "execution_id": "e", "thread_id": T}, {"type": "end"}]
    code, out, _ = invoke(capsys, "--url", URL, "workflows", "run", WF, "--follow", "--json")
    assert code == 0 and [json.loads(line)["type"] for line in out.splitlines()] == [
        "started",
        "end",
    ]
    assert gateway.sockets[-1]["sent"] == [{"workflow_id": WF}]
    assert invoke(capsys, "--url", URL, "workflows", "run", WF, "--version", "0")[0] == 2


def test_threads_save_as_workflow_and_the_new_filters(gateway: FakeGateway, capsys: Capture):
    argv = ["threads", "save-as-workflow", T, "--id", WF, "--name", "Otters"]
    code, out, _ = invoke(capsys, "--url", URL, *argv, "--json")
    assert code == 0 and out == printed(RECORD)
    path = f"/api/threads/{T}/save-as-workflow"
    assert sent(gateway) == ("POST", path, {}, {"workflow_id": WF, "name": "Otters"})
    invoke(capsys, "--url", URL, "threads", "save-as-workflow", T)
    assert sent(gateway)[3] == {}
    invoke(capsys, "--url", URL, "threads", "list", "--schedule-id", S, "--workflow-version", "2")
    assert sent(gateway)[2] == {
        "limit": "20",
        "offset": "0",
        "schedule_id": S,
        "workflow_version": "2",
    }


def test_schedules_create_with_and_without_options(gateway: FakeGateway, capsys: Capture):
    argv = ["schedules", "create", WF, "--cron", "*/5 * * * *"]
    code, out, _ = invoke(capsys, "--url", URL, *argv, "--json")
    assert code == 0 and out == printed(SCHEDULE)
    assert sent(gateway) == (
        "POST",
        "/api/schedules",
        {},
        {"workflow_id": WF, "cron": "*/5 * * * *"},
    )
    more = ["--version", "2", "--timezone", "Europe/Paris", "--end-time", "2026-12-31T00:00:00Z"]
    more += ["--webhook", "https://hooks.test/x", "--disabled"]
    code, out, _ = invoke(capsys, "--url", URL, *argv, *more)
    assert code == 0 and "latest at each run" in out and "*/5 * * * * (UTC)" in out
    assert sent(gateway)[3] == {
        "workflow_id": WF,
        "version": 2,
        "cron": "*/5 * * * *",
        "timezone": "Europe/Paris",
        "end_time": "2026-12-31T00:00:00Z",
        "webhook": "https://hooks.test/x",
        "enabled": False,
    }
    assert invoke(capsys, "--url", URL, "schedules", "create", WF)[0] == 2  # --cron required


def test_schedules_list_show_enable_disable_update(gateway: FakeGateway, capsys: Capture):
    code, out, _ = invoke(capsys, "--url", URL, "schedules", "list", "--workflow-id", WF, "--json")
    assert code == 0 and out == printed(SCHEDULES)
    assert sent(gateway)[2] == {"workflow_id": WF, "limit": "20", "offset": "0"}
    code, out, _ = invoke(capsys, "--url", URL, "schedules", "list")
    assert out.splitlines()[0].split()[0] == "SCHEDULE_ID" and S in out
    code, out, _ = invoke(capsys, "--url", URL, "schedules", "show", S, "--json")
    assert code == 0 and out == printed(SCHEDULE)
    for command, body in (("enable", {"enabled": True}), ("disable", {"enabled": False})):
        assert invoke(capsys, "--url", URL, "schedules", command, S)[0] == 0
        assert sent(gateway) == ("PATCH", f"/api/schedules/{S}", {}, body)
    invoke(capsys, "--url", URL, "schedules", "update", S, "--cron", "0 9 * * 1")
    assert sent(gateway)[3] == {"cron": "0 9 * * 1"}
    calls = len(gateway.calls)
    assert invoke(capsys, "--url", URL, "schedules", "update", S)[0] == 2
    assert len(gateway.calls) == calls


def test_a_missing_workflow_is_exit_3_with_the_error_body(gateway: FakeGateway, capsys: Capture):
    error = {"error": "not_found", "message": "no workflow ghost", "details": None}
    gateway.reply("GET", "/api/workflows/ghost", 404, error)
    code, out, err = invoke(capsys, "--url", URL, "workflows", "show", "ghost", "--json")
    assert code == 3 and out == printed(error) and err == "threadgate: no workflow ghost\n"


@pytest.mark.parametrize(
    ("argv", "path"),
    [
        (["workflows", "show", "a/b?c#d"], "/api/workflows/a%2Fb%3Fc%23d"),
        (["workflows", "versions", "../x"], "/api/workflows/..%2Fx/versions"),
        (["workflows", "delete", ".."], "/api/workflows/%2E%2E"),
        (["schedules", "show", "s/1"], "/api/schedules/s%2F1"),
        (["schedules", "disable", "%2F"], "/api/schedules/%252F"),
        (["threads", "show", "t 1"], "/api/threads/t%201"),
        (["threads", "history", "."], "/api/threads/%2E/history"),
        (["threads", "save-as-workflow", "t/1"], "/api/threads/t%2F1/save-as-workflow"),
        (["pause", "t/../1"], "/api/threads/t%2F..%2F1/pause"),
        (["resume", "t?x=1"], "/api/threads/t%3Fx%3D1/resume"),
    ],
)
def test_an_id_is_one_path_segment_whatever_it_holds(
    gateway: FakeGateway, capsys: Capture, argv: list[str], path: str
):
    invoke(capsys, "--url", URL, *argv)
    assert gateway.raw_paths == [path]
