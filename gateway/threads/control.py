"""Pause, cancel, resume and fork a workflow thread, with no state kept in the gateway.

Everything that must outlive the request lives in the Agent Server: a pause request
is a store item the agent reads at its next step boundary (one a run left behind is
removed when the thread is cancelled or runs again, and expires anyway), and every
continuation is a run created with `multitask_strategy="reject"`, so two callers never
both start one. A resume with an Idempotency-Key starts at most one run however often
it is sent. Every run started here posts to the thread's webhook (from its metadata),
if it has one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Run

from agents.contract import TASK_NODE, WorkflowStatus, pause_namespace
from agents.teams import Ability
from gateway.agent.client import Actor, as_user
from gateway.errors import AnswerRequired, Conflict, already_running
from gateway.threads.executions import (
    Execution,
    create_run,
    forget_pause_request,
    thread_webhook,
)
from gateway.threads.idempotency import IdempotentRequest, start_once
from gateway.threads.progress import ThreadProgress, thread_progress, waiting_question
from gateway.threads.reads import read_thread
from gateway.workflows.edits import check_state_edit
from gateway.workflows.parser import WorkflowLimits

# Longer than any step runs, so a pause request outlives the step in flight; a request
# no boundary took (its run failed or was cancelled) must not stay in the store forever.
PAUSE_REQUEST_TTL_MINUTES = 120


def _conflict(code: str, message: str, thread_id: str, status: WorkflowStatus) -> Conflict:
    return Conflict(code, message, {"thread_id": thread_id, "status": status.value})


async def active_runs(agent: LangGraphClient, user: Actor, thread_id: str) -> list[Run]:
    """Runs working on the thread now or about to, oldest first.

    One listing, filtered here: two queries by status could both miss a run that moves
    from pending to running between them.
    """
    runs = await agent.runs.list(thread_id, limit=20, headers=as_user(user))
    active = [run for run in runs if run["status"] in ("pending", "running")]
    return sorted(active, key=lambda run: str(run["created_at"]))


async def pause_thread(agent: LangGraphClient, user: Actor, thread_id: str) -> ThreadProgress:
    """Ask the running thread to stop before its next step; the step in flight finishes."""
    thread = await read_thread(agent, user, thread_id)
    progress = thread_progress(thread)
    runs = await active_runs(agent, user, thread_id) if thread["status"] == "busy" else []
    if not runs:
        raise _conflict(
            "not_running",
            f"thread is {progress.status.value}; only a running thread pauses",
            thread_id,
            progress.status,
        )
    request = {"run_id": runs[0]["run_id"], "requested_at": datetime.now(UTC).isoformat()}
    await agent.store.put_item(
        list(pause_namespace(user.owner)),
        key=thread_id,
        value=request,
        ttl=PAUSE_REQUEST_TTL_MINUTES,
        headers=as_user(user),
    )
    return progress


async def cancel_thread(agent: LangGraphClient, user: Actor, thread_id: str) -> ThreadProgress:
    """Stop the thread now; the step in flight is lost and runs again on resume."""
    thread = await agent.threads.get(thread_id, headers=as_user(user))
    runs = await active_runs(agent, user, thread_id) if thread["status"] == "busy" else []
    if not runs:
        status = thread_progress(thread).status
        raise _conflict(
            "not_running", f"thread is {status.value}; nothing to cancel", thread_id, status
        )
    stopped = False
    for run in runs:
        # "interrupt" keeps every finished step; "rollback" would delete the run's checkpoints.
        await agent.runs.cancel(
            thread_id, run["run_id"], action="interrupt", wait=True, headers=as_user(user)
        )
        ended = await agent.runs.get(thread_id, run["run_id"], headers=as_user(user))
        stopped = stopped or ended["status"] == "interrupted"
    if not stopped:
        # Every run finished on its own before the cancel reached it: say so, write nothing.
        status = thread_progress(await agent.threads.get(thread_id, headers=as_user(user))).status
        raise _conflict(
            "not_running", f"thread is {status.value}; it finished first", thread_id, status
        )
    # The cancelled runs never reached the step boundary that takes a pause request.
    await forget_pause_request(agent, user, thread_id)
    # The cancelled run leaves its step pending (an "interrupted" thread, read as paused
    # even if the write below fails). Recording `paused` as if from the last finished
    # step makes the graph route to its end, so a cancelled thread reads exactly like a
    # paused one in searches too: idle, phase paused, steps left.
    await agent.threads.update_state(
        thread_id, {"phase": "paused"}, as_node=TASK_NODE, headers=as_user(user)
    )
    return thread_progress(await agent.threads.get(thread_id, headers=as_user(user)))


async def resume_thread(
    agent: LangGraphClient,
    user: Actor,
    assistant_id: str,
    thread_id: str,
    *,
    approved: bool | None = None,
    comment: str | None = None,
    idempotency: IdempotentRequest | None = None,
) -> Execution:
    """Continue a paused, failed or waiting thread; finished steps never run again.

    With `idempotency`, a resume this key already started is answered with its run.
    """
    resume = partial(
        _resume,
        agent,
        user,
        assistant_id,
        thread_id,
        approved=approved,
        comment=comment,
        marks=idempotency.metadata() if idempotency is not None else None,
    )
    if idempotency is None:
        return await resume()
    return await start_once(agent, user, thread_id, idempotency, resume)


async def _resume(
    agent: LangGraphClient,
    user: Actor,
    assistant_id: str,
    thread_id: str,
    *,
    approved: bool | None,
    comment: str | None,
    marks: dict[str, Any] | None,
) -> Execution:
    thread = await agent.threads.get(thread_id, headers=as_user(user))
    progress = thread_progress(thread)
    status = progress.status
    if status in (WorkflowStatus.RUNNING, WorkflowStatus.QUEUED):
        raise already_running(thread_id)
    webhook = thread_webhook(thread)
    # An answer that came too late is told so (409) whatever the caller's role.
    if approved is not None and status != WorkflowStatus.WAITING:
        raise _conflict(
            "not_waiting",
            f"thread is {status.value}, not waiting for an approval",
            thread_id,
            status,
        )
    # Answering an approval is the approver's; going on from a pause or a failure the
    # operator's. (Four-eyes, who may answer which approval, is the Agent Server's
    # auth's to refuse: it sees SDK scripts too.)
    user.require(Ability.APPROVE if status == WorkflowStatus.WAITING else Ability.RUN)
    if status == WorkflowStatus.WAITING:
        if approved is None:
            raise AnswerRequired(
                "answer_required",
                "the thread waits for an approval: send `approved`",
                {"thread_id": thread_id, "question": waiting_question(thread)},
            )
        decision = {"approved": approved, "comment": comment}
        return await create_run(
            agent,
            user,
            assistant_id,
            thread_id,
            command={"resume": decision},
            webhook=webhook,
            marks=marks,
        )
    if status == WorkflowStatus.FAILED:
        # No input: the run continues from the last checkpoint, re-running only the failed step.
        return await create_run(agent, user, assistant_id, thread_id, webhook=webhook, marks=marks)
    if status != WorkflowStatus.COMPLETED and progress.completed_steps < progress.total_steps:
        # Paused or cancelled between steps (a "no" at an approval completes the workflow
        # with steps left: it is finished, not paused): the graph starts at its router, which picks
        # the first step not yet completed.
        return await create_run(
            agent,
            user,
            assistant_id,
            thread_id,
            input={"phase": "running"},
            webhook=webhook,
            marks=marks,
        )
    raise _conflict(
        "nothing_to_resume", f"thread is {status.value}; nothing is left to run", thread_id, status
    )


def _decides_an_approval(values: dict[str, Any], before: dict[str, Any]) -> bool:
    """Whether a fork's edit marks an approval step done or not done, changes what it
    answered, or goes on past a "no" (the thread's outcome `rejected`)."""
    plan = [s for s in before.get("plan") or [] if isinstance(s, dict)]
    approvals = {s.get("id") for s in plan if s.get("type") == "approval"}
    done_before = set(before.get("completed") or [])
    changed = set(values.get("completed", done_before)) ^ done_before
    results_before = before.get("results") or {}
    answered = {
        step_id
        for step_id, result in (values.get("results") or {}).items()
        if result != results_before.get(step_id)
    }
    return bool((changed | answered) & approvals) or before.get("outcome") == "rejected"


async def fork_thread(
    agent: LangGraphClient,
    user: Actor,
    assistant_id: str,
    thread_id: str,
    checkpoint_id: str,
    values: dict[str, Any] | None = None,
    limits: WorkflowLimits | None = None,
) -> Execution:
    """Run again from an earlier checkpoint, optionally with edited values.

    The new run branches off that checkpoint on the same thread; the checkpoints of
    the original path stay in the history and readable by id. The edit is checked
    first and travels as the run's own input, so a refused run writes nothing.
    """
    thread = await agent.threads.get(thread_id, headers=as_user(user))
    if thread["status"] == "busy":
        raise already_running(thread_id)
    state = await agent.threads.get_state(
        thread_id, checkpoint_id=checkpoint_id, headers=as_user(user)
    )
    if values:
        before: dict[str, Any] = state["values"] if isinstance(state["values"], dict) else {}
        check_state_edit(
            values,
            before.get("plan") or [],
            limits or WorkflowLimits(),
            before.get("completed") or [],
        )
        if _decides_an_approval(values, before):
            user.require(Ability.APPROVE)  # deciding one by an edit is answering it
        edited = {**before, **values}
        done = set(edited.get("completed") or [])
        if all(step["id"] in done for step in edited.get("plan") or []):
            status = thread_progress(thread).status
            raise _conflict(
                "nothing_to_run", "with these values no step is left to run", thread_id, status
            )
        # From the checkpoint, input starts the graph at its router, which picks the
        # first step the edited plan has not completed (an earlier "no" no longer holds).
        return await create_run(
            agent,
            user,
            assistant_id,
            thread_id,
            checkpoint_id=checkpoint_id,
            input={**values, "phase": "running", "outcome": None},
            webhook=thread_webhook(thread),
        )
    if not state.get("next"):
        status = thread_progress(thread).status
        raise _conflict(
            "nothing_to_run", "the workflow had finished at this checkpoint", thread_id, status
        )
    return await create_run(
        agent,
        user,
        assistant_id,
        thread_id,
        checkpoint_id=checkpoint_id,
        webhook=thread_webhook(thread),
    )
