"""Starting a workflow run on the Agent Server, and finding it again by execution id.

An execution id is `<thread_id>.<run_id>`: it carries what is needed to look the run
up, so any gateway replica answers for it and a restart forgets nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, UnprocessableEntityError
from langgraph_sdk.schema import Command, StreamMode, Thread

from gateway.threads.agent import as_user
from gateway.threads.errors import Invalid, NotFound, already_running
from gateway.threads.ids import UUID
from gateway.workflows.parser import WorkflowLimits, WorkflowPlan, parse_workflow
from gateway.workflows.prompts import follow_up_plan, workflow_brief

# Stream modes every run publishes, so a WebSocket can join it later and see them all.
STREAM_MODES: list[StreamMode] = ["messages-tuple", "custom", "updates"]
# The thread's completion webhook, in its metadata: every run the gateway starts on the
# thread (execute, resume, fork, recovery) posts to it.
WEBHOOK = "webhook"
_EXECUTION_ID = re.compile(rf"^({UUID})\.({UUID})$")


@dataclass(frozen=True)
class Execution:
    thread_id: str
    run_id: str

    @property
    def execution_id(self) -> str:
        return f"{self.thread_id}.{self.run_id}"


def parse_execution_id(execution_id: str) -> Execution:
    match = _EXECUTION_ID.match(execution_id)
    if match is None:
        raise NotFound("execution", execution_id)
    return Execution(thread_id=match.group(1), run_id=match.group(2))


async def plan_for(
    agent: LangGraphClient,
    user: str,
    limits: WorkflowLimits,
    *,
    workflow_json: dict[str, Any] | None,
    thread_id: str | None,
    message: str | None,
) -> WorkflowPlan:
    """The plan to run: the workflow, validated before anything is written, or a
    one-step follow-up on the thread (its workflow's id and name kept)."""
    if workflow_json is not None:
        return parse_workflow(workflow_json, limits)
    if thread_id is None or message is None:
        raise ValueError("a follow-up needs a thread_id and a message")
    thread = await agent.threads.get(thread_id, headers=as_user(user))
    metadata = thread.get("metadata") or {}
    plan = follow_up_plan(
        message,
        workflow_id=str(metadata.get("workflow_id") or "follow-up"),
        name=str(metadata.get("workflow_name") or "follow-up"),
    )
    # Still that saved workflow's thread: searches by its version keep finding it.
    version = metadata.get("workflow_version")
    return plan.model_copy(update={"version": version if isinstance(version, int) else None})


def run_input(plan: WorkflowPlan) -> dict[str, Any]:
    """The agent's input for a fresh run of `plan`; messages append to the thread's history.

    A follow-up keeps the thread's results (earlier steps' outputs stay readable); a new
    workflow on the thread starts them afresh.
    """
    fresh: dict[str, Any] = {} if plan.follow_up else {"results": {}}
    return {
        "messages": [{"role": "user", "content": workflow_brief(plan)}],
        # `retry`: the workflow's own step retries (agents.retry reads it), or None.
        "workflow": {
            "id": plan.workflow_id,
            "name": plan.name,
            "version": plan.version,
            "retry": plan.retry,
        },
        "plan": plan.steps,
        **fresh,
        "completed": [],
        "phase": "pending",
        "outcome": None,
    }


def thread_metadata(plan: WorkflowPlan, webhook: str | None = None) -> dict[str, Any]:
    # Searchable: thread search filters by these (a workflow's version only when it
    # ran from the library). The webhook is the thread's from now on: an execute on
    # a thread sets it, or clears it by giving none.
    return {
        "workflow_id": plan.workflow_id,
        "workflow_name": plan.name,
        "workflow_version": plan.version,
        WEBHOOK: webhook,
    }


def thread_webhook(thread: Thread) -> str | None:
    """The webhook the thread's runs post to, if it has one (anything else is ignored)."""
    value = (thread.get("metadata") or {}).get(WEBHOOK)
    return value if isinstance(value, str) and value else None


async def start_execution(
    agent: LangGraphClient,
    user: str,
    assistant_id: str,
    plan: WorkflowPlan,
    thread_id: str | None,
    webhook: str | None = None,
) -> Execution:
    """Start a background run of `plan`; a busy thread is refused (409), never queued.

    `webhook` becomes the thread's: the runs that resume, fork or recover it later post
    there too. Without one the thread has none from now on (its earlier one is cleared).
    """
    metadata = thread_metadata(plan, webhook)
    if thread_id is not None:
        # The run's metadata too (it starts from the thread's): its webhook payload
        # then names this workflow and webhook, not the thread's earlier ones.
        execution = await create_run(
            agent,
            user,
            assistant_id,
            thread_id,
            input=run_input(plan),
            metadata=metadata,
            webhook=webhook,
        )
        await agent.threads.update(thread_id, metadata=metadata, headers=as_user(user))
        return execution
    # One call creates the thread and its run together (the run's metadata becomes the
    # thread's), so a failed start cannot leave an empty thread behind.
    return await create_run(
        agent,
        user,
        assistant_id,
        str(uuid.uuid4()),
        input=run_input(plan),
        metadata=metadata,
        new_thread=True,
        webhook=webhook,
    )


async def create_run(
    agent: LangGraphClient,
    user: str,
    assistant_id: str,
    thread_id: str,
    *,
    input: dict[str, Any] | None = None,
    command: Command | None = None,
    checkpoint_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    new_thread: bool = False,
    webhook: str | None = None,
) -> Execution:
    """One background run on the thread, refused with 409 if the thread is busy."""
    try:
        run = await agent.runs.create(
            thread_id,
            assistant_id,
            input=input,
            command=command,
            checkpoint_id=checkpoint_id,
            metadata=metadata,
            if_not_exists="create" if new_thread else None,
            stream_mode=STREAM_MODES,
            stream_resumable=True,
            multitask_strategy="reject",
            webhook=webhook,
            headers=as_user(user),
        )
    except ConflictError:
        raise already_running(thread_id) from None
    except UnprocessableEntityError as exc:
        if webhook is not None and "webhook" in str(exc).lower():
            # The Agent Server's URL policy refused it (a blocked or loopback host).
            raise Invalid("webhook", exc.message) from None
        raise
    return Execution(thread_id=thread_id, run_id=run["run_id"])
