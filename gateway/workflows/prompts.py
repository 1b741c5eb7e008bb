"""The text the agent receives for a workflow, built from its plan. Pure."""

from __future__ import annotations

from agents.contract import PlanStep
from gateway.workflows.parser import WorkflowPlan


def workflow_brief(plan: WorkflowPlan) -> str:
    """The opening user message of a run: what the workflow is and its steps in order."""
    lines = [f"Run the workflow '{plan.name}' ({len(plan.steps)} steps), one step at a time:"]
    lines += [f"{i}. {s['title']} ({s['type']})" for i, s in enumerate(plan.steps, start=1)]
    return "\n".join(lines)


def follow_up_plan(message: str, workflow_id: str, name: str) -> WorkflowPlan:
    """A one-step plan that answers a follow-up message with the thread's whole history."""
    step = PlanStep(id="follow-up", type="task", title="Follow-up", prompt=message.strip())
    return WorkflowPlan(workflow_id=workflow_id, name=name, steps=[step], follow_up=True)
