"""The workflow library: saved workflows and their versions, in the owner's store.

Layout (`agents.contract`): one small item per workflow under `library_namespace`
(its latest version number, name and times; what a listing reads) and one item per
version under `versions_namespace` (the document as saved, its compiled plan, and
the agent's input for a fresh run). The owner's namespace is enforced by the Agent
Server's auth, so another user's workflow is simply not there (404).

Items are read back checked (`library_store`): the owner may write their namespace
directly. Known limit: the store has no compare-and-set, so two saves of the same workflow at
the same moment can both become version N+1 (the later one wins).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from langgraph_sdk.client import LangGraphClient
from pydantic import ValidationError

from agents.contract import library_namespace, version_key, versions_namespace
from gateway.threads.agent import as_user
from gateway.threads.errors import Conflict, Invalid, NotFound, ThreadError
from gateway.threads.executions import run_input
from gateway.threads.library_store import (
    MAX_LISTED,
    StoredVersion,
    delete_versions,
    head_exists,
    list_heads,
    list_stored_versions,
    read_head,
    read_version,
    unreadable,
)
from gateway.threads.library_views import (
    SavedWorkflow,
    WorkflowSummary,
    WorkflowVersion,
    saved_steps,
)
from gateway.workflows.parser import WorkflowLimits, WorkflowPlan, parse_workflow

# Store namespace labels may not contain '.', and ids appear in URLs: keep them plain.
WORKFLOW_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$"
_WORKFLOW_ID = re.compile(WORKFLOW_ID_PATTERN)


def check_workflow_id(workflow_id: str, field: str) -> str:
    if not _WORKFLOW_ID.match(workflow_id):
        raise Invalid(
            field,
            f"{field} must be 1-100 letters, digits, '-' or '_', starting with a letter or digit",
        )
    return workflow_id


async def save_new(
    agent: LangGraphClient,
    user: str,
    limits: WorkflowLimits,
    document: dict[str, Any],
    workflow_id: str | None = None,
) -> SavedWorkflow:
    """Version 1 of a new workflow; its id from `workflow_id`, the document, or new."""
    given = workflow_id or document.get("id")
    if given is not None and not isinstance(given, str):
        raise Invalid("workflow_json.id", "workflow_json.id must be a string")
    field = "workflow_id" if workflow_id else "workflow_json.id"
    workflow_id = check_workflow_id(given, field) if given else f"wf-{uuid.uuid4().hex[:12]}"
    plan = _compile(document, limits, workflow_id)  # before anything is written
    if await head_exists(agent, user, workflow_id):
        raise Conflict(
            "workflow_exists",
            f"workflow '{workflow_id}' already exists; PUT /api/workflows/{workflow_id} "
            "saves a new version",
            {"workflow_id": workflow_id},
        )
    # Versions left by a delete that stopped half-way must not resurface under this id.
    await delete_versions(agent, user, workflow_id)
    now = _now()
    return await _write(agent, user, document, plan, version=1, created_at=now, saved_at=now)


async def save_version(
    agent: LangGraphClient,
    user: str,
    limits: WorkflowLimits,
    workflow_id: str,
    document: dict[str, Any],
) -> SavedWorkflow:
    """The next version of a saved workflow; a document equal to the latest adds none."""
    doc_id = document.get("id")
    if doc_id is not None and doc_id != workflow_id:
        raise Invalid("workflow_json.id", f"workflow_json.id '{doc_id}' is not '{workflow_id}'")
    plan = _compile(document, limits, workflow_id)
    latest = await read_head(agent, user, workflow_id)
    if latest is None:
        raise NotFound("workflow", workflow_id)
    try:
        current: StoredVersion | None = await read_version(agent, user, workflow_id, latest.version)
    except ThreadError:  # missing or unreadable: the new version replaces it as the latest
        current = None
    if current is not None and _canonical(current.workflow_json) == _canonical(document):
        return _saved(current)
    if latest.version >= MAX_LISTED:
        raise Conflict(
            "too_many_versions",
            f"workflow '{workflow_id}' has {latest.version} versions, the most the library "
            "keeps; save it under a new id (or delete it and save it again)",
            {"workflow_id": workflow_id, "version": latest.version, "max_versions": MAX_LISTED},
        )
    return await _write(
        agent,
        user,
        document,
        plan,
        version=latest.version + 1,
        created_at=latest.created_at,
        saved_at=_now(),
    )


async def get_workflow(
    agent: LangGraphClient, user: str, workflow_id: str, version: int | None = None
) -> SavedWorkflow:
    """One version (the latest by default) with its document."""
    return _saved(await _version_item(agent, user, workflow_id, version))


async def saved_plan(
    agent: LangGraphClient, user: str, workflow_id: str, version: int | None = None
) -> WorkflowPlan:
    """The compiled plan of a saved version, ready to run (it names its version)."""
    saved = await _version_item(agent, user, workflow_id, version)
    try:
        return WorkflowPlan.model_validate({**saved.plan, "version": saved.version})
    except ValidationError as exc:
        problem = f"plan: {exc.errors()[0]['msg']}"
        raise unreadable(workflow_id, problem, saved.version) from None


async def workflow_exists(agent: LangGraphClient, user: str, workflow_id: str) -> bool:
    """Whether the user's library has this workflow (readable or not)."""
    return await head_exists(agent, user, workflow_id)


async def list_workflows(
    agent: LangGraphClient, user: str, *, limit: int, offset: int
) -> tuple[list[WorkflowSummary], int]:
    """A page of the user's workflows, most recently saved first, and how many in all
    (unreadable items are skipped)."""
    heads = await list_heads(agent, user)
    heads.sort(key=lambda h: (h.updated_at, h.workflow_id), reverse=True)
    return [h.summary() for h in heads[offset : offset + limit]], len(heads)


async def list_versions(
    agent: LangGraphClient, user: str, workflow_id: str
) -> list[WorkflowVersion]:
    """Every saved version, newest first (unreadable items are skipped)."""
    if not await head_exists(agent, user, workflow_id):
        raise NotFound("workflow", workflow_id)
    items = await list_stored_versions(agent, user, workflow_id)
    items.sort(key=lambda v: v.version, reverse=True)
    return [
        WorkflowVersion(**{**v.summary().model_dump(), "created_at": v.updated_at}) for v in items
    ]


async def delete_workflow(agent: LangGraphClient, user: str, workflow_id: str) -> None:
    """Forget a workflow and all its versions (readable or not); threads that ran it
    keep their state."""
    if not await head_exists(agent, user, workflow_id):
        raise NotFound("workflow", workflow_id)
    # The listing entry first: once it is gone the workflow is gone for every reader.
    await agent.store.delete_item(list(library_namespace(user)), workflow_id, headers=as_user(user))
    await delete_versions(agent, user, workflow_id)


def _compile(document: dict[str, Any], limits: WorkflowLimits, workflow_id: str) -> WorkflowPlan:
    return parse_workflow(document, limits).model_copy(update={"workflow_id": workflow_id})


async def _write(
    agent: LangGraphClient,
    user: str,
    document: dict[str, Any],
    plan: WorkflowPlan,
    *,
    version: int,
    created_at: datetime,
    saved_at: datetime,
) -> SavedWorkflow:
    plan = plan.model_copy(update={"version": version})
    summary = WorkflowSummary(
        workflow_id=plan.workflow_id,
        version=version,
        name=plan.name,
        step_count=len(plan.steps),
        created_at=created_at,
        updated_at=saved_at,
    )
    item = {
        **summary.model_dump(mode="json"),
        "workflow_json": document,
        "plan": plan.model_dump(mode="json", include={"workflow_id", "name", "steps", "retry"}),
        # What the agent starts from when a schedule runs this version.
        "run": run_input(plan),
    }
    headers = as_user(user)
    # The version first, then the entry that points at it: a reader never finds a
    # latest version that is not there yet.
    await agent.store.put_item(
        list(versions_namespace(user, plan.workflow_id)),
        version_key(version),
        item,
        index=False,
        headers=headers,
    )
    await agent.store.put_item(
        list(library_namespace(user)),
        plan.workflow_id,
        summary.model_dump(mode="json"),
        index=False,
        headers=headers,
    )
    return SavedWorkflow(
        **summary.model_dump(), workflow_json=document, steps=saved_steps(list(plan.steps))
    )


async def _version_item(
    agent: LangGraphClient, user: str, workflow_id: str, version: int | None
) -> StoredVersion:
    latest = await read_head(agent, user, workflow_id)
    if latest is None:
        raise NotFound("workflow", workflow_id)
    return await read_version(
        agent, user, workflow_id, latest.version if version is None else version
    )


def _saved(saved: StoredVersion) -> SavedWorkflow:
    return SavedWorkflow(
        **saved.summary().model_dump(),
        workflow_json=saved.workflow_json,
        steps=saved_steps(list(saved.plan.get("steps") or [])),
    )


def _canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _now() -> datetime:
    return datetime.now(UTC)
