"""The workflow library: saved workflows and their versions, in the owner's store.

Layout (`agents.contract`): one small item per workflow under `library_namespace`
(its latest version number, name and times; what a listing reads) and one item per
version under `versions_namespace` (the document as saved, its compiled plan, and
the agent's input for a fresh run). The owner's namespace is enforced by the Agent
Server's auth, so another user's workflow is simply not there (404).

Known limit: the store has no compare-and-set, so two saves of the same workflow at
the same moment can both become version N+1 (the later one wins).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError

from agents.contract import library_namespace, version_key, versions_namespace
from gateway.threads.agent import as_user
from gateway.threads.errors import Conflict, Invalid, NotFound
from gateway.threads.executions import run_input
from gateway.threads.library_views import SavedWorkflow, WorkflowSummary, WorkflowVersion
from gateway.workflows.parser import WorkflowLimits, WorkflowPlan, parse_workflow

# Store namespace labels may not contain '.', and ids appear in URLs: keep them plain.
WORKFLOW_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$"
_WORKFLOW_ID = re.compile(WORKFLOW_ID_PATTERN)
# The most workflows (or versions of one) a listing reads; it sorts them itself.
MAX_LISTED = 1_000
_PAGE = 100


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
    if await _latest(agent, user, workflow_id) is not None:
        raise Conflict(
            "workflow_exists",
            f"workflow '{workflow_id}' already exists; PUT /api/workflows/{workflow_id} "
            "saves a new version",
            {"workflow_id": workflow_id},
        )
    # Versions left by a delete that stopped half-way must not resurface under this id.
    await _delete_versions(agent, user, workflow_id)
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
    latest = await _latest(agent, user, workflow_id)
    if latest is None:
        raise NotFound("workflow", workflow_id)
    current = await get_workflow(agent, user, workflow_id, latest["version"])
    if _canonical(current.workflow_json) == _canonical(document):
        return current
    return await _write(
        agent,
        user,
        document,
        plan,
        version=latest["version"] + 1,
        created_at=_parse_time(latest["created_at"]),
        saved_at=_now(),
    )


async def get_workflow(
    agent: LangGraphClient, user: str, workflow_id: str, version: int | None = None
) -> SavedWorkflow:
    """One version (the latest by default) with its document."""
    saved = await _version_item(agent, user, workflow_id, version)
    return SavedWorkflow(**_summary_fields(saved), workflow_json=saved["workflow_json"])


async def saved_plan(
    agent: LangGraphClient, user: str, workflow_id: str, version: int | None = None
) -> WorkflowPlan:
    """The compiled plan of a saved version, ready to run (it names its version)."""
    saved = await _version_item(agent, user, workflow_id, version)
    return WorkflowPlan(**saved["plan"], version=saved["version"])


async def list_workflows(
    agent: LangGraphClient, user: str, *, limit: int, offset: int
) -> tuple[list[WorkflowSummary], int]:
    """A page of the user's workflows, most recently saved first, and how many in all."""
    heads = await _read_all(agent, user, library_namespace(user))
    heads.sort(key=lambda h: (h["updated_at"], h["workflow_id"]), reverse=True)
    page = [WorkflowSummary(**h) for h in heads[offset : offset + limit]]
    return page, len(heads)


async def list_versions(
    agent: LangGraphClient, user: str, workflow_id: str
) -> list[WorkflowVersion]:
    """Every saved version, newest first."""
    if await _latest(agent, user, workflow_id) is None:
        raise NotFound("workflow", workflow_id)
    items = await _read_all(agent, user, versions_namespace(user, workflow_id))
    items.sort(key=lambda v: v["version"], reverse=True)
    return [WorkflowVersion(**{**_summary_fields(v), "created_at": v["updated_at"]}) for v in items]


async def delete_workflow(agent: LangGraphClient, user: str, workflow_id: str) -> None:
    """Forget a workflow and all its versions; threads that ran it keep their state."""
    if await _latest(agent, user, workflow_id) is None:
        raise NotFound("workflow", workflow_id)
    # The listing entry first: once it is gone the workflow is gone for every reader.
    await agent.store.delete_item(list(library_namespace(user)), workflow_id, headers=as_user(user))
    await _delete_versions(agent, user, workflow_id)


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
    return SavedWorkflow(**summary.model_dump(), workflow_json=document)


async def _latest(agent: LangGraphClient, user: str, workflow_id: str) -> dict[str, Any] | None:
    try:
        item = await agent.store.get_item(
            list(library_namespace(user)), workflow_id, headers=as_user(user)
        )
    except NotFoundError:
        return None
    return dict(item["value"]) if item else None


async def _version_item(
    agent: LangGraphClient, user: str, workflow_id: str, version: int | None
) -> dict[str, Any]:
    latest = await _latest(agent, user, workflow_id)
    if latest is None:
        raise NotFound("workflow", workflow_id)
    wanted = latest["version"] if version is None else version
    try:
        item = await agent.store.get_item(
            list(versions_namespace(user, workflow_id)), version_key(wanted), headers=as_user(user)
        )
    except NotFoundError:
        item = None
    if not item:
        raise NotFound("workflow version", f"{workflow_id} v{wanted}")
    return dict(item["value"])


async def _read_all(
    agent: LangGraphClient, user: str, namespace: tuple[str, ...]
) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = []
    for offset in range(0, MAX_LISTED, _PAGE):
        found = await agent.store.search_items(
            list(namespace), limit=_PAGE, offset=offset, headers=as_user(user)
        )
        items = found["items"]
        # Only this namespace, not deeper ones that share its prefix.
        values += [dict(i["value"]) for i in items if tuple(i["namespace"]) == namespace]
        if len(items) < _PAGE:
            break
    return values


async def _delete_versions(agent: LangGraphClient, user: str, workflow_id: str) -> None:
    namespace = versions_namespace(user, workflow_id)
    for saved in await _read_all(agent, user, namespace):
        await agent.store.delete_item(
            list(namespace), version_key(int(saved["version"])), headers=as_user(user)
        )


def _summary_fields(saved: dict[str, Any]) -> dict[str, Any]:
    return {k: saved[k] for k in WorkflowSummary.model_fields}


def _canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _now() -> datetime:
    return datetime.now(UTC)


def _parse_time(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
