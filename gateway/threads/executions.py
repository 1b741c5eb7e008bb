"""Starting a workflow run on the Agent Server, and finding it again by execution id.

An execution id is `<thread_id>.<run_id>`: it carries what is needed to look the run
up, so any gateway replica answers for it and a restart forgets nothing.

Every run is created here: refused if its thread is busy (never queued), marked with
the Idempotency-Key that started it (`gateway.threads.idempotency`) or with none, and
a failure after the request may have reached the Agent Server says so.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import APIError, ConflictError, NotFoundError, UnprocessableEntityError
from langgraph_sdk.schema import Command, StreamMode, Thread

from agents.contract import pause_namespace
from gateway.agent.client import Actor, as_user
from gateway.errors import Invalid, NotFound, OutcomeUnknown, already_running
from gateway.threads.ids import UUID
from gateway.workflows.parser import WorkflowLimits, WorkflowPlan, parse_workflow
from gateway.workflows.prompts import follow_up_plan, workflow_brief

# Stream modes every run publishes, so a WebSocket can join it later and see them all.
STREAM_MODES: list[StreamMode] = ["messages-tuple", "custom", "updates"]
# The thread's completion webhook, in its metadata: every run the gateway starts on the
# thread (execute, resume, fork, recovery) posts to it.
WEBHOOK = "webhook"
# Metadata of a run started with an Idempotency-Key, and of the thread a keyed new
# workflow claimed: sha256 of the key and of the request. Other runs carry None.
IDEMPOTENCY_KEY = "idempotency_key"
REQUEST_HASH = "request_hash"
_UNKEYED = {IDEMPOTENCY_KEY: None, REQUEST_HASH: None}
_EXECUTION_ID = re.compile(rf"^({UUID})\.({UUID})$")
# Failures that happen before a request leaves: the Agent Server cannot have acted.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Execution:
    thread_id: str
    run_id: str
    # True when an Idempotency-Key's retry found this, its original execution.
    replayed: bool = False

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
    user: Actor,
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
    user: Actor,
    assistant_id: str,
    plan: WorkflowPlan,
    thread_id: str | None,
    webhook: str | None = None,
    marks: Mapping[str, Any] | None = None,
) -> Execution:
    """Start a background run of `plan`; a busy thread is refused (409), never queued.

    `webhook` becomes the thread's: the runs that resume, fork or recover it later post
    there too. Without one the thread has none from now on (its earlier one is cleared).
    `marks`: an Idempotency-Key's, for a run on an existing thread.
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
            marks=marks,
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
    user: Actor,
    assistant_id: str,
    thread_id: str,
    *,
    input: dict[str, Any] | None = None,
    command: Command | None = None,
    checkpoint_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    new_thread: bool = False,
    webhook: str | None = None,
    marks: Mapping[str, Any] | None = None,
) -> Execution:
    """One background run on the thread, refused with 409 if the thread is busy.

    The run carries `marks` (an Idempotency-Key's), or says it has none (it does not
    inherit the thread's). A failure after the request may have reached the Agent
    Server is `OutcomeUnknown`.
    """
    try:
        run = await agent.runs.create(
            thread_id,
            assistant_id,
            input=input,
            command=command,
            checkpoint_id=checkpoint_id,
            metadata={**(metadata or {}), **(marks or _UNKEYED)},
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
    except httpx.TransportError as exc:
        if not may_have_acted(exc):
            raise
        raise OutcomeUnknown(thread_id) from exc
    if not new_thread:
        await forget_pause_request(agent, user, thread_id, keep=str(run["run_id"]))
    return Execution(thread_id=thread_id, run_id=run["run_id"])


def may_have_acted(exc: httpx.TransportError) -> bool:
    """Whether the request may have reached the Agent Server before `exc` (a refused
    connection, say, never sent it)."""
    if isinstance(exc, _NOT_SENT):
        return False
    logger.warning("agent server call failed after it was sent: %s", type(exc).__name__)
    return True


async def forget_pause_request(
    agent: LangGraphClient, user: Actor, thread_id: str, keep: str | None = None
) -> None:
    """Delete the thread's pause request, unless it is for run `keep`: one left by a run
    that ended before a step boundary took it. Best effort: the store's TTL ends it too."""
    namespace = list(pause_namespace(user.owner))
    try:
        if keep is not None:
            item = await agent.store.get_item(namespace, key=thread_id, headers=as_user(user))
            value = item.get("value") if item else None
            if not item or (isinstance(value, dict) and value.get("run_id") == keep):
                return
        await agent.store.delete_item(namespace, key=thread_id, headers=as_user(user))
    except NotFoundError:
        return
    except (APIError, httpx.HTTPError) as exc:
        logger.info("pause request of thread %s left to expire: %s", thread_id, type(exc).__name__)
