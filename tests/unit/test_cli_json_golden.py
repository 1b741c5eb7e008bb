"""`threadgate --json` prints exactly what it printed before Typer and Rich: golden bytes.

The cases run in a real `python` process (stdout captured at its file descriptor)
against fake gateways with fixed bodies; each case's exit code, every byte of its stdout,
and the requests it sent are compared with the golden recorded from
the argparse CLI (commit e4e4b4b). Global options go before the command here, the one
place the old CLI accepted them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_cli_harness import URL, FakeGateway, invoke_processes

T = "6f1c2d3e-0000-4000-8000-000000000001"
C = "1ef00000-0000-6000-8000-00000000000c"
PROGRESS = {
    "thread_id": T,
    "status": "completed",
    "current_step": "Draft",
    "total_steps": 2,
    "completed_steps": 2,
    "start_time": "2026-01-01T00:00:00Z",
    "last_updated": "2026-01-01T00:01:00Z",
    "error_message": None,
    "outcome": "completed",
}
SUMMARY = {
    "thread_id": T,
    "workflow_id": "wf-café",
    "workflow_name": "Café ✓ report",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:01:00Z",
    "status": "completed",
    "progress": PROGRESS,
    "question": None,
}
DETAILS = {**SUMMARY, "metadata": {"owner": "alice"}, "results": {"n1": {"output": "ok ✓"}}}
PAGE = {"threads": [SUMMARY], "total": 7, "limit": 5, "offset": 0, "next_offset": 5}
HISTORY = [
    {
        "checkpoint_id": C,
        "parent_checkpoint_id": None,
        "created_at": "2026-01-01T00:00:30Z",
        "step": 1,
        "source": "loop",
        "next": ["step"],
        "completed_steps": 1,
        "last_step": "Research",
    }
]
STATE: dict[str, Any] = {
    "thread_id": T,
    "checkpoint_id": C,
    "parent_checkpoint_id": None,
    "created_at": None,
    "next": [],
    "values": {"completed": ["n1"], "note": "naïve"},
    "tasks": [],
}
ACCEPTED = {"execution_id": f"{T}.run-1", "thread_id": T, "status": "pending"}
CONTROL = {"thread_id": T, "status": "pausing", "progress": PROGRESS}
OUTCOMES = [
    {"thread_id": T, "outcome": "resumed", "execution_id": f"{T}.r", "message": None},
    {"thread_id": "t-2", "outcome": "error", "execution_id": None, "message": "boom"},
]
PRUNED = {
    "dry_run": True,
    "strategy": "delete",
    "cutoff": "2026-01-01T00:00:00Z",
    "thread_ids": [T],
    "skipped": [],
}
FRAMES: list[dict[str, Any]] = [
    {"type": "started", "execution_id": f"{T}.r", "thread_id": T},
    {"type": "progress", "event": "step_finished", "step_id": "n1", "completed_steps": 1},
    {"type": "chunk", "mode": "messages", "data": {"id": "m", "content": "héllo"}},
    {"type": "end", "status": "completed", "progress": {"completed_steps": 2}},
]
WORKFLOW = {"id": "wf", "steps": [{"id": "a", "instructions": "do ✓"}]}


def setup(fake: FakeGateway, case: str) -> None:
    """The fixed gateway each case talks to."""
    fake.reply("POST", "/api/workflow/execute", 202, ACCEPTED)
    fake.reply("GET", "/api/threads", 200, PAGE)
    fake.reply("GET", f"/api/threads/{T}", 200, DETAILS)
    fake.reply("GET", f"/api/threads/{T}/history", 200, HISTORY)
    fake.reply("GET", f"/api/threads/{T}/state", 200, STATE)
    fake.reply("POST", f"/api/threads/{T}/pause", 202, CONTROL)
    fake.reply("POST", f"/api/threads/{T}/cancel", 200, {**CONTROL, "status": "cancelled"})
    fake.reply("POST", f"/api/threads/{T}/resume", 202, ACCEPTED)
    fake.reply("GET", "/api/threads/failed", 200, [SUMMARY])
    fake.reply("POST", "/api/threads/failed/resume", 200, OUTCOMES)
    fake.reply("POST", "/api/threads/prune", 200, PRUNED)
    fake.frames = FRAMES
    error = {"error": "x", "message": "refused ✗", "details": {"field": "y"}}
    if case == "error_404":
        fake.reply("GET", f"/api/threads/{T}", 404, {**error, "error": "not_found"})
    elif case == "error_409":
        fake.reply("POST", f"/api/threads/{T}/pause", 409, {**error, "error": "not_running"})
    elif case == "error_401":
        fake.reply("GET", "/api/threads", 401, {**error, "error": "unauthorized"})
    elif case == "error_422":
        fake.reply("POST", "/api/workflow/execute", 422, {**error, "error": "invalid_workflow"})
    elif case == "error_503":
        fake.reply("GET", "/api/threads", 503, {**error, "error": "agent_unavailable"})
    elif case == "error_500_text":
        fake.reply("GET", "/api/threads", 500, text="<html>oops</html>")
    elif case == "error_unreachable":
        fake.reply("GET", "/api/threads", fails=True)
    elif case == "run_follow_error":
        fake.frames = [
            FRAMES[0],
            {"type": "error", "error": "workflow_failed", "message": "step n1", "details": {}},
        ]


# name -> argv after `threadgate --json --url URL` ("FILE": a bare workflow, "REQ": a request)
CASES: dict[str, list[str]] = {
    "run": ["run", "FILE"],
    "run_request_file": ["run", "REQ"],
    "run_thread": ["run", "FILE", "--thread", T],
    "run_follow": ["run", "FILE", "--follow"],
    "run_follow_error": ["run", "REQ", "--follow"],
    "threads_list": ["threads", "list"],
    "threads_list_filtered": [
        "threads",
        "list",
        "--status",
        "failed",
        "--workflow-id",
        "wf-café",
        "--limit",
        "5",
        "--offset",
        "10",
    ],
    "threads_show": ["threads", "show", T],
    "threads_history": ["threads", "history", T],
    "threads_state": ["threads", "state", T],
    "threads_state_checkpoint": ["threads", "state", T, "--checkpoint", C],
    "pause": ["pause", T],
    "cancel": ["cancel", T],
    "resume": ["resume", T],
    "resume_approve": ["resume", T, "--approve", "--comment", "ship it ✓"],
    "resume_reject": ["resume", T, "--reject"],
    "recover_preview": [
        "recover",
        "--dry-run",
        "--older-than",
        "10",
        "--created-within",
        "24",
        "--workflow-id",
        "wf",
        "--limit",
        "3",
    ],
    # The argparse CLI acted with no flag; now acting takes --apply (issue 15). Same bytes.
    "recover_apply": ["recover", "--apply", "--older-than", "10", "--workflow-id", "wf"],
    "prune_preview": ["prune", "--older-than", "1440"],
    "prune_dry_run": ["prune", "--older-than", "1440", "--dry-run"],
    "prune_apply": [
        "prune",
        "--older-than",
        "1440.5",
        "--apply",
        "--keep-latest",
        "--workflow-id",
        "wf",
    ],
    "error_404": ["threads", "show", T],
    "error_409": ["pause", T],
    "error_401": ["threads", "list"],
    "error_422": ["run", "FILE"],
    "error_503": ["threads", "list"],
    "error_500_text": ["threads", "list"],
    "error_unreachable": ["threads", "list"],
    "error_no_file": ["run", "MISSING"],
}


def argv_of(name: str, tmp: Path) -> list[str]:
    files = {"FILE": "flow.json", "REQ": "request.json", "MISSING": "missing.json"}
    return [
        "--json",
        "--url",
        URL,
        *(str(tmp / files.get(a, a)) if a in files else a for a in CASES[name]),
    ]


def run_cases(names: list[str], tmp: Path) -> dict[str, dict[str, Any]]:
    """Each case's exit code, stdout (the temporary folder's path read as TMP), and the
    HTTP requests and WebSocket first messages it sent."""
    (tmp / "flow.json").write_text(json.dumps(WORKFLOW))
    (tmp / "request.json").write_text(json.dumps({"workflow_json": WORKFLOW}))
    fakes = {name: FakeGateway() for name in names}
    for name, fake in fakes.items():
        setup(fake, name)
    ran = invoke_processes(tmp, [(fakes[name], argv_of(name, tmp)) for name in names])
    return {
        name: {
            "code": result.code,
            "stdout": result.stdout.decode("utf-8").replace(str(tmp), "TMP"),  # strict
            "calls": fakes[name].calls,
            "sockets": [{"url": s["url"], "sent": s["sent"]} for s in fakes[name].sockets],
        }
        for name, result in zip(names, ran, strict=True)
    }


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return run_cases(list(CASES), tmp_path_factory.mktemp("golden"))


@pytest.mark.parametrize("name", list(CASES))
def test_json_output_is_byte_for_byte_the_golden(name: str, outputs: dict[str, dict[str, Any]]):
    assert outputs[name] == GOLDEN[name]


# --- golden: generated from the argparse CLI, then frozen -------------------------------
GOLDEN: dict[str, dict[str, Any]] = {
    "run": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "execution_id": "6f1c2d3e-0000-4000-8000-000000000001.run-1",\n'
            '  "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '  "status": "pending"\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/workflow/execute",
                "params": {},
                "json": {
                    "workflow_json": {"id": "wf", "steps": [{"id": "a", "instructions": "do ✓"}]}
                },
            }
        ],
        "sockets": [],
    },
    "run_request_file": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "execution_id": "6f1c2d3e-0000-4000-8000-000000000001.run-1",\n'
            '  "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '  "status": "pending"\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/workflow/execute",
                "params": {},
                "json": {
                    "workflow_json": {"id": "wf", "steps": [{"id": "a", "instructions": "do ✓"}]}
                },
            }
        ],
        "sockets": [],
    },
    "run_thread": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "execution_id": "6f1c2d3e-0000-4000-8000-000000000001.run-1",\n'
            '  "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '  "status": "pending"\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/workflow/execute",
                "params": {},
                "json": {
                    "workflow_json": {"id": "wf", "steps": [{"id": "a", "instructions": "do ✓"}]},
                    "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",
                },
            }
        ],
        "sockets": [],
    },
    "run_follow": {
        "code": 0,
        "stdout": (
            '{"type": "started", "execution_id": "6f1c2d3e-0000-4000-8000-000000000001.r", "thread_id": "6f1c2d3e-0000-4000-8000-000000000001"}\n'  # noqa: E501
            '{"type": "progress", "event": "step_finished", "step_id": "n1", "completed_steps": 1}\n'  # noqa: E501
            '{"type": "chunk", "mode": "messages", "data": {"id": "m", "content": "héllo"}}\n'
            '{"type": "end", "status": "completed", "progress": {"completed_steps": 2}}\n'
        ),
        "calls": [],
        "sockets": [
            {
                "url": "ws://gw.test/api/workflow/execute/stream",
                "sent": [
                    {"workflow_json": {"id": "wf", "steps": [{"id": "a", "instructions": "do ✓"}]}}
                ],
            }
        ],
    },
    "run_follow_error": {
        "code": 1,
        "stdout": (
            '{"type": "started", "execution_id": "6f1c2d3e-0000-4000-8000-000000000001.r", "thread_id": "6f1c2d3e-0000-4000-8000-000000000001"}\n'  # noqa: E501
            '{"type": "error", "error": "workflow_failed", "message": "step n1", "details": {}}\n'
        ),
        "calls": [],
        "sockets": [
            {
                "url": "ws://gw.test/api/workflow/execute/stream",
                "sent": [
                    {"workflow_json": {"id": "wf", "steps": [{"id": "a", "instructions": "do ✓"}]}}
                ],
            }
        ],
    },
    "threads_list": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "threads": [\n'
            "    {\n"
            '      "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '      "workflow_id": "wf-café",\n'
            '      "workflow_name": "Café ✓ report",\n'
            '      "created_at": "2026-01-01T00:00:00Z",\n'
            '      "updated_at": "2026-01-01T00:01:00Z",\n'
            '      "status": "completed",\n'
            '      "progress": {\n'
            '        "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '        "status": "completed",\n'
            '        "current_step": "Draft",\n'
            '        "total_steps": 2,\n'
            '        "completed_steps": 2,\n'
            '        "start_time": "2026-01-01T00:00:00Z",\n'
            '        "last_updated": "2026-01-01T00:01:00Z",\n'
            '        "error_message": null,\n'
            '        "outcome": "completed"\n'
            "      },\n"
            '      "question": null\n'
            "    }\n"
            "  ],\n"
            '  "total": 7,\n'
            '  "limit": 5,\n'
            '  "offset": 0,\n'
            '  "next_offset": 5\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "GET",
                "path": "/api/threads",
                "params": {"limit": "20", "offset": "0"},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "threads_list_filtered": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "threads": [\n'
            "    {\n"
            '      "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '      "workflow_id": "wf-café",\n'
            '      "workflow_name": "Café ✓ report",\n'
            '      "created_at": "2026-01-01T00:00:00Z",\n'
            '      "updated_at": "2026-01-01T00:01:00Z",\n'
            '      "status": "completed",\n'
            '      "progress": {\n'
            '        "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '        "status": "completed",\n'
            '        "current_step": "Draft",\n'
            '        "total_steps": 2,\n'
            '        "completed_steps": 2,\n'
            '        "start_time": "2026-01-01T00:00:00Z",\n'
            '        "last_updated": "2026-01-01T00:01:00Z",\n'
            '        "error_message": null,\n'
            '        "outcome": "completed"\n'
            "      },\n"
            '      "question": null\n'
            "    }\n"
            "  ],\n"
            '  "total": 7,\n'
            '  "limit": 5,\n'
            '  "offset": 0,\n'
            '  "next_offset": 5\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "GET",
                "path": "/api/threads",
                "params": {
                    "limit": "5",
                    "offset": "10",
                    "workflow_id": "wf-café",
                    "status": "failed",
                },
                "json": None,
            }
        ],
        "sockets": [],
    },
    "threads_show": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '  "workflow_id": "wf-café",\n'
            '  "workflow_name": "Café ✓ report",\n'
            '  "created_at": "2026-01-01T00:00:00Z",\n'
            '  "updated_at": "2026-01-01T00:01:00Z",\n'
            '  "status": "completed",\n'
            '  "progress": {\n'
            '    "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '    "status": "completed",\n'
            '    "current_step": "Draft",\n'
            '    "total_steps": 2,\n'
            '    "completed_steps": 2,\n'
            '    "start_time": "2026-01-01T00:00:00Z",\n'
            '    "last_updated": "2026-01-01T00:01:00Z",\n'
            '    "error_message": null,\n'
            '    "outcome": "completed"\n'
            "  },\n"
            '  "question": null,\n'
            '  "metadata": {\n'
            '    "owner": "alice"\n'
            "  },\n"
            '  "results": {\n'
            '    "n1": {\n'
            '      "output": "ok ✓"\n'
            "    }\n"
            "  }\n"
            "}\n"
        ),
        "calls": [
            {
                "method": "GET",
                "path": "/api/threads/6f1c2d3e-0000-4000-8000-000000000001",
                "params": {},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "threads_history": {
        "code": 0,
        "stdout": (
            "[\n"
            "  {\n"
            '    "checkpoint_id": "1ef00000-0000-6000-8000-00000000000c",\n'
            '    "parent_checkpoint_id": null,\n'
            '    "created_at": "2026-01-01T00:00:30Z",\n'
            '    "step": 1,\n'
            '    "source": "loop",\n'
            '    "next": [\n'
            '      "step"\n'
            "    ],\n"
            '    "completed_steps": 1,\n'
            '    "last_step": "Research"\n'
            "  }\n"
            "]\n"
        ),
        "calls": [
            {
                "method": "GET",
                "path": "/api/threads/6f1c2d3e-0000-4000-8000-000000000001/history",
                "params": {},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "threads_state": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '  "checkpoint_id": "1ef00000-0000-6000-8000-00000000000c",\n'
            '  "parent_checkpoint_id": null,\n'
            '  "created_at": null,\n'
            '  "next": [],\n'
            '  "values": {\n'
            '    "completed": [\n'
            '      "n1"\n'
            "    ],\n"
            '    "note": "naïve"\n'
            "  },\n"
            '  "tasks": []\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "GET",
                "path": "/api/threads/6f1c2d3e-0000-4000-8000-000000000001/state",
                "params": {},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "threads_state_checkpoint": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '  "checkpoint_id": "1ef00000-0000-6000-8000-00000000000c",\n'
            '  "parent_checkpoint_id": null,\n'
            '  "created_at": null,\n'
            '  "next": [],\n'
            '  "values": {\n'
            '    "completed": [\n'
            '      "n1"\n'
            "    ],\n"
            '    "note": "naïve"\n'
            "  },\n"
            '  "tasks": []\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "GET",
                "path": "/api/threads/6f1c2d3e-0000-4000-8000-000000000001/state",
                "params": {"checkpoint_id": "1ef00000-0000-6000-8000-00000000000c"},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "pause": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '  "status": "pausing",\n'
            '  "progress": {\n'
            '    "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '    "status": "completed",\n'
            '    "current_step": "Draft",\n'
            '    "total_steps": 2,\n'
            '    "completed_steps": 2,\n'
            '    "start_time": "2026-01-01T00:00:00Z",\n'
            '    "last_updated": "2026-01-01T00:01:00Z",\n'
            '    "error_message": null,\n'
            '    "outcome": "completed"\n'
            "  }\n"
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/threads/6f1c2d3e-0000-4000-8000-000000000001/pause",
                "params": {},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "cancel": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '  "status": "cancelled",\n'
            '  "progress": {\n'
            '    "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '    "status": "completed",\n'
            '    "current_step": "Draft",\n'
            '    "total_steps": 2,\n'
            '    "completed_steps": 2,\n'
            '    "start_time": "2026-01-01T00:00:00Z",\n'
            '    "last_updated": "2026-01-01T00:01:00Z",\n'
            '    "error_message": null,\n'
            '    "outcome": "completed"\n'
            "  }\n"
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/threads/6f1c2d3e-0000-4000-8000-000000000001/cancel",
                "params": {},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "resume": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "execution_id": "6f1c2d3e-0000-4000-8000-000000000001.run-1",\n'
            '  "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '  "status": "pending"\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/threads/6f1c2d3e-0000-4000-8000-000000000001/resume",
                "params": {},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "resume_approve": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "execution_id": "6f1c2d3e-0000-4000-8000-000000000001.run-1",\n'
            '  "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '  "status": "pending"\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/threads/6f1c2d3e-0000-4000-8000-000000000001/resume",
                "params": {},
                "json": {"approved": True, "comment": "ship it ✓"},
            }
        ],
        "sockets": [],
    },
    "resume_reject": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "execution_id": "6f1c2d3e-0000-4000-8000-000000000001.run-1",\n'
            '  "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '  "status": "pending"\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/threads/6f1c2d3e-0000-4000-8000-000000000001/resume",
                "params": {},
                "json": {"approved": False, "comment": None},
            }
        ],
        "sockets": [],
    },
    "recover_preview": {
        "code": 0,
        "stdout": (
            "[\n"
            "  {\n"
            '    "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '    "workflow_id": "wf-café",\n'
            '    "workflow_name": "Café ✓ report",\n'
            '    "created_at": "2026-01-01T00:00:00Z",\n'
            '    "updated_at": "2026-01-01T00:01:00Z",\n'
            '    "status": "completed",\n'
            '    "progress": {\n'
            '      "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '      "status": "completed",\n'
            '      "current_step": "Draft",\n'
            '      "total_steps": 2,\n'
            '      "completed_steps": 2,\n'
            '      "start_time": "2026-01-01T00:00:00Z",\n'
            '      "last_updated": "2026-01-01T00:01:00Z",\n'
            '      "error_message": null,\n'
            '      "outcome": "completed"\n'
            "    },\n"
            '    "question": null\n'
            "  }\n"
            "]\n"
        ),
        "calls": [
            {
                "method": "GET",
                "path": "/api/threads/failed",
                "params": {
                    "not_updated_for_minutes": "10",
                    "workflow_id": "wf",
                    "created_within_hours": "24",
                    "limit": "3",
                },
                "json": None,
            }
        ],
        "sockets": [],
    },
    "recover_apply": {
        "code": 1,
        "stdout": (
            "[\n"
            "  {\n"
            '    "thread_id": "6f1c2d3e-0000-4000-8000-000000000001",\n'
            '    "outcome": "resumed",\n'
            '    "execution_id": "6f1c2d3e-0000-4000-8000-000000000001.r",\n'
            '    "message": null\n'
            "  },\n"
            "  {\n"
            '    "thread_id": "t-2",\n'
            '    "outcome": "error",\n'
            '    "execution_id": null,\n'
            '    "message": "boom"\n'
            "  }\n"
            "]\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/threads/failed/resume",
                "params": {},
                "json": {"not_updated_for_minutes": 10, "workflow_id": "wf"},
            }
        ],
        "sockets": [],
    },
    "prune_preview": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "dry_run": true,\n'
            '  "strategy": "delete",\n'
            '  "cutoff": "2026-01-01T00:00:00Z",\n'
            '  "thread_ids": [\n'
            '    "6f1c2d3e-0000-4000-8000-000000000001"\n'
            "  ],\n"
            '  "skipped": []\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/threads/prune",
                "params": {},
                "json": {
                    "older_than_minutes": 1440.0,
                    "dry_run": True,
                    "keep_latest_checkpoint": False,
                    "workflow_id": None,
                },
            }
        ],
        "sockets": [],
    },
    "prune_dry_run": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "dry_run": true,\n'
            '  "strategy": "delete",\n'
            '  "cutoff": "2026-01-01T00:00:00Z",\n'
            '  "thread_ids": [\n'
            '    "6f1c2d3e-0000-4000-8000-000000000001"\n'
            "  ],\n"
            '  "skipped": []\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/threads/prune",
                "params": {},
                "json": {
                    "older_than_minutes": 1440.0,
                    "dry_run": True,
                    "keep_latest_checkpoint": False,
                    "workflow_id": None,
                },
            }
        ],
        "sockets": [],
    },
    "prune_apply": {
        "code": 0,
        "stdout": (
            "{\n"
            '  "dry_run": true,\n'
            '  "strategy": "delete",\n'
            '  "cutoff": "2026-01-01T00:00:00Z",\n'
            '  "thread_ids": [\n'
            '    "6f1c2d3e-0000-4000-8000-000000000001"\n'
            "  ],\n"
            '  "skipped": []\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/threads/prune",
                "params": {},
                "json": {
                    "older_than_minutes": 1440.5,
                    "dry_run": False,
                    "keep_latest_checkpoint": True,
                    "workflow_id": "wf",
                },
            }
        ],
        "sockets": [],
    },
    "error_404": {
        "code": 3,
        "stdout": (
            "{\n"
            '  "error": "not_found",\n'
            '  "message": "refused ✗",\n'
            '  "details": {\n'
            '    "field": "y"\n'
            "  }\n"
            "}\n"
        ),
        "calls": [
            {
                "method": "GET",
                "path": "/api/threads/6f1c2d3e-0000-4000-8000-000000000001",
                "params": {},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "error_409": {
        "code": 4,
        "stdout": (
            "{\n"
            '  "error": "not_running",\n'
            '  "message": "refused ✗",\n'
            '  "details": {\n'
            '    "field": "y"\n'
            "  }\n"
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/threads/6f1c2d3e-0000-4000-8000-000000000001/pause",
                "params": {},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "error_401": {
        "code": 5,
        "stdout": (
            "{\n"
            '  "error": "unauthorized",\n'
            '  "message": "refused ✗",\n'
            '  "details": {\n'
            '    "field": "y"\n'
            "  }\n"
            "}\n"
        ),
        "calls": [
            {
                "method": "GET",
                "path": "/api/threads",
                "params": {"limit": "20", "offset": "0"},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "error_422": {
        "code": 2,
        "stdout": (
            "{\n"
            '  "error": "invalid_workflow",\n'
            '  "message": "refused ✗",\n'
            '  "details": {\n'
            '    "field": "y"\n'
            "  }\n"
            "}\n"
        ),
        "calls": [
            {
                "method": "POST",
                "path": "/api/workflow/execute",
                "params": {},
                "json": {
                    "workflow_json": {"id": "wf", "steps": [{"id": "a", "instructions": "do ✓"}]}
                },
            }
        ],
        "sockets": [],
    },
    "error_503": {
        "code": 6,
        "stdout": (
            "{\n"
            '  "error": "agent_unavailable",\n'
            '  "message": "refused ✗",\n'
            '  "details": {\n'
            '    "field": "y"\n'
            "  }\n"
            "}\n"
        ),
        "calls": [
            {
                "method": "GET",
                "path": "/api/threads",
                "params": {"limit": "20", "offset": "0"},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "error_500_text": {
        "code": 6,
        "stdout": ('{\n  "error": "http_error",\n  "message": "<html>oops</html>"\n}\n'),
        "calls": [
            {
                "method": "GET",
                "path": "/api/threads",
                "params": {"limit": "20", "offset": "0"},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "error_unreachable": {
        "code": 6,
        "stdout": (
            "{\n"
            '  "error": "cli_error",\n'
            '  "message": "gateway unreachable at http://gw.test: connection refused"\n'
            "}\n"
        ),
        "calls": [
            {
                "method": "GET",
                "path": "/api/threads",
                "params": {"limit": "20", "offset": "0"},
                "json": None,
            }
        ],
        "sockets": [],
    },
    "error_no_file": {
        "code": 2,
        "stdout": (
            "{\n"
            '  "error": "cli_error",\n'
            '  "message": "cannot read TMP/missing.json: [Errno 2] No such file or directory: \'TMP/missing.json\'"\n'  # noqa: E501
            "}\n"
        ),
        "calls": [],
        "sockets": [],
    },
}
