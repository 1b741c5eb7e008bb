"""The `workflow` graph: runs a compiled plan one step per super-step.

Each node executes exactly one step and returns, so every finished step is its own
checkpoint: progress is exact, a resumed thread never redoes a finished step, and
time travel can go back to any step boundary.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.config import get_config, get_store, get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from langgraph_sdk.errors import NotFoundError

from agents.contract import (
    APPROVAL_NODE,
    LOAD_NODE,
    PAUSE_REQUESTS,
    TASK_NODE,
    PlanStep,
    StepResult,
    documents_namespace,
    pause_namespace,
    workflow_assistant_id,
)
from agents.loopback import loopback
from agents.model import chat_model, step_usage
from agents.retry import StepCallFailed, current_attempt, step_max_attempts, step_retry_policy
from agents.state import WorkflowState

SYSTEM_PROMPT = (
    "You are a workflow agent. Carry out the current step's instructions precisely, "
    "using the results of earlier steps in this conversation. Answer with the step's result."
)


def next_step(state: WorkflowState) -> PlanStep | None:
    """The first step of the plan that has not finished, if any."""
    done = set(state.get("completed", []))
    return next((s for s in state.get("plan", []) if s["id"] not in done), None)


def route(state: WorkflowState) -> str:
    """Send the thread to the node for its next step, or end this run."""
    if state.get("library"):
        return LOAD_NODE
    step = next_step(state)
    if step is None or state.get("outcome") == "rejected" or state.get("phase") == "paused":
        return END
    return APPROVAL_NODE if step["type"] == "approval" else TASK_NODE


async def _take_pause_request() -> bool:
    """Whether a pause was asked for this run; consumes the request either way."""
    store = get_store()
    if store is None:
        return False  # compiled without a store (plain in-process use)
    config = get_config()
    thread_id = str(config["configurable"].get("thread_id", ""))
    # Under the Agent Server's custom auth the gateway files it under the owner's id.
    owner = config["configurable"].get("langgraph_auth_user_id")
    namespace = pause_namespace(owner) if owner else PAUSE_REQUESTS
    request = await store.aget(namespace, thread_id)
    if request is None:
        return False
    await store.adelete(namespace, thread_id)
    # A request names the run it was meant for; one left over from an earlier run
    # (that failed before reaching a boundary) must not stop this one.
    meant_for = request.value.get("run_id")
    this_run = config.get("metadata", {}).get("run_id")
    return meant_for is None or this_run is None or str(meant_for) == str(this_run)


class NotInLibrary(LookupError):
    """The saved workflow a run was asked to load is gone (deleted, or never saved)."""


async def load_workflow(state: WorkflowState) -> dict[str, Any]:
    """Replace the run's library reference with the saved workflow's plan and brief.

    The gateway compiled that input when the version was saved; reading it here, at
    the start of the run, is what lets a schedule follow the latest version. The
    version comes from the workflow's assistant (in process, so checked against the
    run's owner here), its content from the owner's store.
    """
    ref = state.get("library")
    assert ref is not None, "route() only sends threads with a library reference here"
    name = ref["workflow_id"]
    owner = str(get_config()["configurable"].get("langgraph_auth_user_id") or "")
    if not owner:
        raise NotInLibrary("a library workflow runs only for its owner; this run names nobody")
    version, incarnation, document = await _saved_version(owner, name, ref.get("version"))
    saved = await get_store().aget(documents_namespace(owner, name, incarnation), document)
    if saved is None:
        raise NotInLibrary(f"workflow '{name}' version {version} has no document")
    run: dict[str, Any] = saved.value["run"]
    return {**run, "workflow": {**run["workflow"], "version": version}, "library": None}


async def _saved_version(owner: str, name: str, version: int | None) -> tuple[int, str, str]:
    """The version to run (the latest if None), and where its document is: the
    workflow's incarnation and the document's key."""
    client = loopback()
    assistant_id = workflow_assistant_id(owner, name)
    try:
        latest = await client.assistants.get(assistant_id)
    except NotFoundError:
        raise NotInLibrary(f"workflow '{name}' is not in the library") from None
    if (latest.get("metadata") or {}).get("owner") != owner:
        raise NotInLibrary(f"workflow '{name}' is not in the library")
    entry: Any = latest
    if version is not None and version != latest["version"]:
        missing = NotInLibrary(f"workflow '{name}' version {version} is not in the library")
        if not 1 <= version < latest["version"]:
            raise missing
        # Versions are numbered 1..latest and listed newest first.
        offset = latest["version"] - version
        try:
            found = await client.assistants.get_versions(assistant_id, limit=1, offset=offset)
        except NotFoundError:
            raise missing from None
        entry = found[0] if found else None
        if entry is None or entry["version"] != version:
            raise missing
    metadata = entry.get("metadata") or {}
    document, incarnation = metadata.get("document"), metadata.get("incarnation")
    if not isinstance(document, str) or not isinstance(incarnation, str):
        raise NotInLibrary(f"workflow '{name}' version {entry['version']} names no document")
    return int(entry["version"]), incarnation, document


def _progress_event(event: str, state: WorkflowState, step: PlanStep, done: int) -> dict[str, Any]:
    return {
        "event": event,
        "step_id": step["id"],
        "title": step["title"],
        "completed_steps": done,
        "total_steps": len(state.get("plan", [])),
    }


async def _finish(
    state: WorkflowState, step: PlanStep, result: StepResult, rejected: bool = False
) -> dict[str, Any]:
    """The state update that records one finished step, and its progress event.

    This is the step boundary, so it is where a pause request takes effect: the thread
    records `paused` and `route` ends the run with the remaining steps untouched.
    """
    completed = [*state.get("completed", []), step["id"]]
    last = rejected or len(completed) == len(state.get("plan", []))
    paused = await _take_pause_request()
    get_stream_writer()(_progress_event("step_finished", state, step, len(completed)))
    outcome = ("rejected" if rejected else "completed") if last else None
    return {
        "results": {**state.get("results", {}), step["id"]: result},
        "completed": completed,
        "phase": "done" if last else ("paused" if paused else "running"),
        "outcome": outcome,
    }


async def run_task(state: WorkflowState) -> dict[str, Any]:
    """Have the model carry out the next task step."""
    step = next_step(state)
    assert step is not None, "route() only sends threads with a pending step here"
    done = len(state.get("completed", []))
    get_stream_writer()(_progress_event("step_started", state, step, done))
    total = len(state.get("plan", []))
    request = HumanMessage(content=f"Step {done + 1}/{total}: {step['title']}\n\n{step['prompt']}")
    attempt = current_attempt()  # the step's RetryPolicy runs this node again on a retry
    try:
        reply = await chat_model().ainvoke(
            [SystemMessage(content=SYSTEM_PROMPT), *state.get("messages", []), request]
        )
    except Exception as exc:
        # Marked retryable (transient, attempts left) or final; see agents.retry.
        raise StepCallFailed(exc, attempt, step_max_attempts(state.get("workflow"))) from exc
    answer = AIMessage(content=reply.text, name=step["id"])
    result: StepResult = {
        "output": reply.text,
        "approved": None,
        "attempts": attempt,
        "usage": step_usage(reply),
    }
    update = await _finish(state, step, result)
    return {**update, "messages": [request, answer]}


async def run_approval(state: WorkflowState) -> dict[str, Any]:
    """Stop the thread until a person answers the step's question."""
    step = next_step(state)
    assert step is not None, "route() only sends threads with a pending step here"
    done = len(state.get("completed", []))
    get_stream_writer()(_progress_event("step_started", state, step, done))
    ask = {"step_id": step["id"], "title": step["title"], "question": step["prompt"]}
    # The Agent Server's auth reads this to refuse the run's starter as its answerer.
    answer = interrupt({**ask, "four_eyes": True} if step.get("four_eyes") else ask)
    approved = bool(answer.get("approved")) if isinstance(answer, dict) else bool(answer)
    comment = str(answer.get("comment") or "") if isinstance(answer, dict) else ""
    verdict = "approved" if approved else "rejected"
    output = f"{verdict}: {comment}" if comment else verdict
    update = await _finish(
        state, step, {"output": output, "approved": approved}, rejected=not approved
    )
    note = HumanMessage(content=f"Approval '{step['title']}': {output}")
    return {**update, "messages": [note]}


def build_graph(checkpointer: Any = None, store: Any = None) -> Any:
    """The compiled graph; the Agent Server supplies its own checkpointer and store."""
    builder = StateGraph(WorkflowState)
    builder.add_node(TASK_NODE, run_task, retry_policy=step_retry_policy())
    builder.add_node(APPROVAL_NODE, run_approval)
    builder.add_node(LOAD_NODE, load_workflow)
    builder.add_conditional_edges(START, route)
    builder.add_conditional_edges(TASK_NODE, route)
    builder.add_conditional_edges(APPROVAL_NODE, route)
    builder.add_conditional_edges(LOAD_NODE, route)
    return builder.compile(checkpointer=checkpointer, store=store)


graph = build_graph()
