"""The contract the agent and the gateway share: one table, light imports, one direction."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from agents.contract import (
    STATUS_TABLE,
    Phase,
    PlanStep,
    WorkflowStatus,
    namespace_label,
    pause_namespace,
    workflow_status,
)
from gateway.threads.progress import search_filter
from gateway.workflows.parser import WorkflowValidationError, parse_workflow

ROOT = Path(__file__).parents[2]
PHASES: list[str | None] = [*get_args(Phase), None]


@pytest.mark.parametrize("status", list(WorkflowStatus))
def test_each_status_round_trips_through_the_search_filter(status: WorkflowStatus):
    """A thread the search for `status` finds shows `status`, whatever else it holds."""
    thread_status, values = search_filter(status)
    phases = [values["phase"]] if values else PHASES  # no values filter: any phase
    asks = status == WorkflowStatus.WAITING  # a waiting thread asks its approval question
    # Queued or running: both busy, told apart by the thread's latest run.
    queued = status == WorkflowStatus.QUEUED
    for phase in phases:
        shown = workflow_status(thread_status, phase, asks, queued)
        assert shown == status, (thread_status, phase)


def test_every_status_but_queued_has_exactly_one_row():
    assert set(STATUS_TABLE) == set(WorkflowStatus) - {WorkflowStatus.QUEUED}
    assert len(set(STATUS_TABLE.values())) == len(STATUS_TABLE)


def test_only_a_busy_thread_is_queued():
    assert workflow_status("busy", "done", queued=True) == WorkflowStatus.QUEUED
    assert workflow_status("idle", "done", queued=True) == WorkflowStatus.COMPLETED


@pytest.mark.parametrize(("phase", "shown"), [("running", "paused"), (None, "pending")])
def test_idle_threads_no_row_names_have_a_documented_status(phase: str | None, shown: str):
    assert workflow_status("idle", phase) == shown


def test_an_interrupted_thread_asking_nothing_was_stopped_not_waiting():
    assert workflow_status("interrupted", "running", asks=False) == WorkflowStatus.PAUSED
    assert workflow_status("interrupted", "running", asks=True) == WorkflowStatus.WAITING


def test_the_parser_emits_the_agents_plan_steps():
    plan = parse_workflow(
        {
            "steps": [
                {"instructions": "a"},
                {"type": "approval", "question": "ok?"},
                {"type": "approval", "question": "sure?", "four_eyes": True},
            ]
        }
    )
    # (`from __future__ import annotations` hides NotRequired from __required_keys__.)
    required = {"id", "type", "title", "prompt"}
    for step in plan.steps:
        assert required <= set(step) <= set(PlanStep.__annotations__)
    assert [step.get("four_eyes") for step in plan.steps] == [None, None, True]


def test_only_an_approval_step_may_be_four_eyes():
    with pytest.raises(WorkflowValidationError) as refused:
        parse_workflow({"steps": [{"instructions": "a", "four_eyes": True}]})
    assert refused.value.field == "workflow_json.steps[0].four_eyes"


def test_store_labels_escape_dots_injectively():
    assert namespace_label("a.b") != namespace_label("a%2Eb")
    assert "." not in namespace_label("a.b.c")
    assert pause_namespace("a.b")[0] == namespace_label("a.b")


def test_the_shared_modules_import_nothing_of_the_agents_stack():
    """The gateway image has no langgraph: what it imports from agents/ must not need it."""
    code = (
        "import sys, agents.contract, agents.credentials, gateway.main; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'langgraph', 'langchain', 'langchain_openai', 'openai'}); print(heavy)"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
