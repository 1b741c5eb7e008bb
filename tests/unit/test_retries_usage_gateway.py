"""The gateway's side of step retries and token usage: a workflow's own `retry` is
validated and carried to the agent; thread and execution views add up usage."""

from __future__ import annotations

from typing import Any

import pytest

from agents.contract import MAX_STEP_ATTEMPTS
from gateway.threads.executions import run_input
from gateway.threads.views import ExecutionPublic, ThreadDetails, total_usage
from gateway.workflows.edits import check_state_edit
from gateway.workflows.parser import WorkflowLimits, WorkflowValidationError, parse_workflow
from gateway.workflows.prompts import follow_up_plan

PLAIN: dict[str, Any] = {"id": "w", "steps": [{"id": "a", "instructions": "do a"}]}
FLOW: dict[str, Any] = {"id": "w", "nodes": [{"id": "a", "data": {"instructions": "do a"}}]}


@pytest.mark.parametrize("workflow", [PLAIN, FLOW], ids=["plain", "react_flow"])
def test_a_workflow_may_set_its_own_attempts_and_the_run_carries_them(workflow: dict[str, Any]):
    plan = parse_workflow({**workflow, "retry": {"max_attempts": 5}})
    assert plan.retry == {"max_attempts": 5}
    assert run_input(plan)["workflow"]["retry"] == {"max_attempts": 5}
    plain = parse_workflow(workflow)
    assert plain.retry is None and run_input(plain)["workflow"]["retry"] is None


def test_a_follow_up_has_the_deployments_retries():
    assert run_input(follow_up_plan("more", "w", "W"))["workflow"]["retry"] is None


@pytest.mark.parametrize("workflow", [PLAIN, FLOW], ids=["plain", "react_flow"])
@pytest.mark.parametrize(
    ("retry", "field"),
    [
        ({"max_attempts": 0}, "workflow_json.retry.max_attempts"),
        ({"max_attempts": MAX_STEP_ATTEMPTS + 1}, "workflow_json.retry.max_attempts"),
        ({"max_attempts": "3"}, "workflow_json.retry.max_attempts"),
        ({"max_attempts": 2.5}, "workflow_json.retry.max_attempts"),
        ({"max_attempts": True}, "workflow_json.retry.max_attempts"),
        ({}, "workflow_json.retry.max_attempts"),
        ({"max_attempts": 2, "max_attempt": 3}, "workflow_json.retry.max_attempt"),
        (3, "workflow_json.retry"),
    ],
)
def test_a_bad_retry_is_refused_naming_the_field(workflow: dict[str, Any], retry: Any, field: str):
    with pytest.raises(WorkflowValidationError) as refused:
        parse_workflow({**workflow, "retry": retry})
    assert refused.value.field == field, refused.value.message
    assert refused.value.message.startswith(field)


def test_the_published_schema_shows_retry():
    from gateway.workflows.format import workflow_document

    schema = workflow_document.json_schema()
    assert schema["$defs"]["RetrySpec"]["properties"]["max_attempts"]["maximum"] == (
        MAX_STEP_ATTEMPTS
    )


def usage(i: int, o: int) -> dict[str, int]:
    return {"input_tokens": i, "output_tokens": o, "total_tokens": i + o}


def test_usage_adds_up_and_is_null_when_no_step_reported_any():
    results = {
        "a": {"output": "x", "approved": None, "attempts": 1, "usage": usage(10, 2)},
        "b": {"output": "y", "approved": None, "attempts": 3, "usage": None},
        "ok": {"output": "approved", "approved": True},
        "c": {"output": "z", "approved": None, "attempts": 1, "usage": usage(5, 1)},
    }
    assert total_usage(results) == usage(15, 3)
    assert total_usage({"b": results["b"], "ok": results["ok"]}) is None
    assert total_usage({}) is None and total_usage(None) is None


def test_thread_and_execution_views_show_the_total():
    common = {
        "thread_id": "t",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "status": "completed",
        "progress": {
            "thread_id": "t",
            "status": "completed",
            "current_step": None,
            "total_steps": 1,
            "completed_steps": 1,
            "start_time": "2026-01-01T00:00:00Z",
            "last_updated": "2026-01-01T00:00:00Z",
        },
    }
    results = {"a": {"output": "x", "approved": None, "attempts": 2, "usage": usage(4, 1)}}
    details = ThreadDetails(
        **common,
        workflow_id="w",
        workflow_name="W",
        workflow_version=None,
        schedule_id=None,
        metadata={},
        results=results,
    )
    assert details.model_dump(mode="json")["usage"] == usage(4, 1)
    execution = ExecutionPublic(**common, execution_id="t.r", run_status="success", result=None)
    assert execution.model_dump(mode="json")["usage"] is None
    finished = execution.model_copy(update={"result": results})
    assert finished.model_dump(mode="json")["usage"] == usage(4, 1)


PLAN = [{"id": "a", "type": "task", "title": "A", "prompt": "do a"}]


def test_a_fork_may_keep_the_attempts_and_usage_it_read():
    recorded = {"output": "x", "approved": None, "attempts": 2, "usage": usage(4, 1)}
    check_state_edit({"results": {"a": recorded}}, PLAN, WorkflowLimits())
    check_state_edit({"results": {"a": {**recorded, "usage": None}}}, PLAN, WorkflowLimits())


@pytest.mark.parametrize(
    "result",
    [
        {"output": "x", "attempts": 0},
        {"output": "x", "attempts": True},
        {"output": "x", "usage": {"input_tokens": 1}},
        {"output": "x", "usage": {**usage(1, 1), "total_tokens": -1}},
        {"output": "x", "usage": 5},
    ],
)
def test_a_fork_refuses_a_malformed_attempts_or_usage(result: dict[str, Any]):
    with pytest.raises(WorkflowValidationError) as refused:
        check_state_edit({"results": {"a": result}}, PLAN, WorkflowLimits())
    assert refused.value.field == "values.results.a"
