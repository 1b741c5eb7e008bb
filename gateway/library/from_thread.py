"""A thread's workflow saved as a new library workflow: the plan it ran, as a plain
step list that compiles back to the same steps."""

from __future__ import annotations

from typing import Any

from langgraph_sdk.client import LangGraphClient

from gateway.agent.client import Actor
from gateway.errors import Conflict
from gateway.library.saving import save_new
from gateway.library.views import SavedWorkflow
from gateway.threads.reads import read_thread
from gateway.workflows.parser import WorkflowLimits


async def save_thread_as_workflow(
    agent: LangGraphClient,
    user: Actor,
    limits: WorkflowLimits,
    thread_id: str,
    *,
    workflow_id: str | None = None,
    name: str | None = None,
) -> SavedWorkflow:
    """Save the plan this thread ran as version 1 of a new workflow (id generated if
    not given); 409 `no_workflow` if the thread has no plan to save."""
    thread = await read_thread(agent, user, thread_id)
    values = thread.get("values")
    values = values if isinstance(values, dict) else {}
    plan = values.get("plan")
    if not plan or not isinstance(plan, list) or not all(_is_step(s) for s in plan):
        raise Conflict(
            "no_workflow", f"thread '{thread_id}' has no workflow to save", {"thread_id": thread_id}
        )
    ran = values.get("workflow")
    ran = ran if isinstance(ran, dict) else {}
    title = name or str(ran.get("name") or "workflow")
    retry = ran.get("retry")
    document = document_from_plan(
        plan, workflow_id, title, retry if isinstance(retry, dict) else None
    )
    return await save_new(agent, user, limits, document)


def document_from_plan(
    plan_steps: list[dict[str, Any]],
    workflow_id: str | None,
    name: str,
    retry: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A plain-list workflow document that compiles back to these steps (and the
    workflow's own retry setting, if it had one)."""
    steps = []
    for step in plan_steps:
        text = "question" if step["type"] == "approval" else "instructions"
        steps.append(
            {"id": step["id"], "type": step["type"], "title": step["title"], text: step["prompt"]}
        )
    document: dict[str, Any] = {"name": name, "steps": steps}
    if workflow_id:
        document["id"] = workflow_id
    if retry:
        document["retry"] = retry
    return document


def _is_step(step: Any) -> bool:
    return isinstance(step, dict) and all(
        isinstance(step.get(key), str) for key in ("id", "type", "title", "prompt")
    )
