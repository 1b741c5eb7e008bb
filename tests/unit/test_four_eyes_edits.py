"""A fork cannot undo a four-eyes approval that is still to be answered."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.workflows.edits import check_state_edit
from gateway.workflows.parser import WorkflowLimits, WorkflowValidationError

TASK: dict[str, Any] = {"id": "a", "type": "task", "title": "A", "prompt": "do a"}
GATE: dict[str, Any] = {
    "id": "ship",
    "type": "approval",
    "title": "Ship",
    "prompt": "ok?",
    "four_eyes": True,
}
PLAN = [TASK, GATE]
UNMARKED = {k: v for k, v in GATE.items() if k != "four_eyes"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"plan": [TASK]}, "values.plan"),
        ({"plan": [TASK, UNMARKED]}, "values.plan"),
        ({"completed": ["a", "ship"]}, "values.completed"),
        ({"results": {"ship": {"output": "approved", "approved": True}}}, "values.results"),
    ],
)
def test_a_pending_four_eyes_approval_stays(values: dict[str, Any], field: str):
    with pytest.raises(WorkflowValidationError) as refused:
        check_state_edit(values, PLAN, WorkflowLimits(), completed_now=["a"])
    assert refused.value.field == field and refused.value.node_id == "ship"


def test_edits_that_keep_it_pass_and_an_answered_one_is_history():
    check_state_edit({"plan": PLAN, "completed": []}, PLAN, WorkflowLimits(), completed_now=["a"])
    check_state_edit({"plan": [TASK]}, PLAN, WorkflowLimits(), completed_now=["a", "ship"])


def test_the_mark_is_true_on_an_approval_or_absent():
    for step in ({**TASK, "four_eyes": True}, {**GATE, "four_eyes": False}):
        with pytest.raises(WorkflowValidationError):
            check_state_edit({"plan": [step]}, [], WorkflowLimits())
