"""The workflow library: saved workflows and their versions, on the Agent Server.

Each saved workflow is an assistant of the `workflow` graph (`library_store`), so the
writes that teams race on are atomic where the data lives: of N concurrent creates of
one id exactly one is 201 and keeps its document (the rest 409 `workflow_exists`), and
N concurrent saves of new versions get N distinct versions, each holding its own
caller's document. The owner's scope is enforced by the Agent Server's auth, so another
user's workflow is simply not there (404).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from langgraph_sdk.client import LangGraphClient
from pydantic import ValidationError

from gateway.threads import library_store as store
from gateway.threads.errors import Conflict, Invalid, NotFound
from gateway.threads.executions import run_input
from gateway.threads.library_documents import (
    StoredDocument,
    content_hash,
    problem_of,
    read_document,
    unreadable,
    write_document,
)
from gateway.threads.library_store import StoredVersion, VersionSummary
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
    if await store.exists(agent, user, workflow_id):
        raise _exists(workflow_id)  # the common case, told before a document is written
    summary = await _write_document(agent, user, document, plan)
    created = await store.claim(agent, user, summary)
    if created is None:  # another request claimed the id first: its document stays
        raise _exists(workflow_id)
    saved = StoredVersion(
        **summary.model_dump(),
        version=created["version"],
        saved_at=created["updated_at"],
        created_at=created["created_at"],
    )
    return _saved(saved, document, plan.steps)


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
    try:
        latest = await store.read_latest(agent, user, workflow_id)
    except Conflict:  # unreadable: the new version replaces it as the latest
        latest = None
        if not await store.exists(agent, user, workflow_id):
            raise NotFound("workflow", workflow_id) from None
    else:
        if latest is None:
            raise NotFound("workflow", workflow_id)
        if latest.document == content_hash(document):
            return _saved(latest, document, plan.steps)
    summary = await _write_document(agent, user, document, plan)
    return _saved(await _add_version(agent, user, summary), document, plan.steps)


async def roll_back(
    agent: LangGraphClient, user: str, workflow_id: str, version: int
) -> SavedWorkflow:
    """Make version `version`'s document the latest, as a new version (history only
    grows, so every earlier answer about a version number stays true); if it already is
    the latest document, nothing is added."""
    latest = await _latest(agent, user, workflow_id)
    wanted = await _version(agent, user, workflow_id, version, latest)
    content = await _content(agent, user, wanted)
    steps = content.plan.get("steps") or []
    if wanted.document == latest.document:
        return _saved(latest, content.workflow_json, steps)
    summary = VersionSummary(**wanted.model_dump(include=set(VersionSummary.model_fields)))
    saved = await _add_version(agent, user, summary.model_copy(update={"idempotency_key": None}))
    return _saved(saved, content.workflow_json, steps)


async def get_workflow(
    agent: LangGraphClient, user: str, workflow_id: str, version: int | None = None
) -> SavedWorkflow:
    """One version (the latest by default) with its document."""
    saved, content = await _read(agent, user, workflow_id, version)
    return _saved(saved, content.workflow_json, content.plan.get("steps") or [])


async def saved_plan(
    agent: LangGraphClient, user: str, workflow_id: str, version: int | None = None
) -> WorkflowPlan:
    """The compiled plan of a saved version, ready to run (it names its version)."""
    saved, content = await _read(agent, user, workflow_id, version)
    try:
        return WorkflowPlan.model_validate({**content.plan, "version": saved.version})
    except ValidationError as exc:
        raise unreadable(workflow_id, f"plan: {problem_of(exc)}", saved.version) from None


async def workflow_exists(agent: LangGraphClient, user: str, workflow_id: str) -> bool:
    """Whether the user's library has this workflow (readable or not)."""
    return await store.exists(agent, user, workflow_id)


async def list_workflows(
    agent: LangGraphClient, user: str, *, limit: int, offset: int
) -> tuple[list[WorkflowSummary], int]:
    """A page of the user's workflows, most recently saved first, and how many in all
    (unreadable ones are left out of the page but counted)."""
    found, total = await store.list_latest(agent, user, limit=limit, offset=offset)
    return [_summary(saved) for saved in found], total


async def list_versions(
    agent: LangGraphClient, user: str, workflow_id: str, *, limit: int, offset: int
) -> list[WorkflowVersion]:
    """A page of the saved versions, newest first (unreadable ones are skipped)."""
    if not await store.exists(agent, user, workflow_id):
        raise NotFound("workflow", workflow_id)
    found = await store.list_versions(agent, user, workflow_id, limit=limit, offset=offset)
    return [
        WorkflowVersion(
            workflow_id=v.workflow_id,
            version=v.version,
            name=v.name,
            step_count=v.step_count,
            created_at=v.saved_at,
        )
        for v in found
    ]


async def delete_workflow(agent: LangGraphClient, user: str, workflow_id: str) -> None:
    """Forget a workflow and all its versions (readable or not); threads that ran it
    keep their state."""
    if not await store.exists(agent, user, workflow_id):
        raise NotFound("workflow", workflow_id)
    await store.delete(agent, user, workflow_id)


def _compile(document: dict[str, Any], limits: WorkflowLimits, workflow_id: str) -> WorkflowPlan:
    return parse_workflow(document, limits).model_copy(update={"workflow_id": workflow_id})


def _exists(workflow_id: str) -> Conflict:
    message = f"workflow '{workflow_id}' already exists; PUT /api/workflows/{workflow_id} saves"
    return Conflict("workflow_exists", f"{message} a new version", {"workflow_id": workflow_id})


async def _write_document(
    agent: LangGraphClient, user: str, document: dict[str, Any], plan: WorkflowPlan
) -> VersionSummary:
    """Store the version's content first, so no version ever names a missing document."""
    content = StoredDocument(
        workflow_json=document,
        plan=plan.model_dump(mode="json", include={"workflow_id", "name", "steps", "retry"}),
        # What the agent starts from when a schedule runs this version (it adds the
        # version number when it loads it).
        run=run_input(plan),
    )
    key = await write_document(agent, user, plan.workflow_id, content)
    return VersionSummary(
        workflow_id=plan.workflow_id, name=plan.name, step_count=len(plan.steps), document=key
    )


async def _add_version(agent: LangGraphClient, user: str, summary: VersionSummary) -> StoredVersion:
    updated = await store.add_version(agent, user, summary)
    return StoredVersion(
        **summary.model_dump(),
        version=updated["version"],
        saved_at=updated["updated_at"],
        created_at=updated["created_at"],
    )


async def _latest(agent: LangGraphClient, user: str, workflow_id: str) -> StoredVersion:
    latest = await store.read_latest(agent, user, workflow_id)
    if latest is None:
        raise NotFound("workflow", workflow_id)
    return latest


async def _version(
    agent: LangGraphClient, user: str, workflow_id: str, version: int, latest: StoredVersion
) -> StoredVersion:
    if version == latest.version:
        return latest
    found = await store.read_version(agent, user, workflow_id, version, latest.version)
    if found is None:
        raise NotFound("workflow version", f"{workflow_id} v{version}")
    return found.model_copy(update={"created_at": latest.created_at})


async def _read(
    agent: LangGraphClient, user: str, workflow_id: str, version: int | None
) -> tuple[StoredVersion, StoredDocument]:
    latest = await _latest(agent, user, workflow_id)
    saved = latest if version is None else await _version(agent, user, workflow_id, version, latest)
    return saved, await _content(agent, user, saved)


async def _content(agent: LangGraphClient, user: str, saved: StoredVersion) -> StoredDocument:
    return await read_document(agent, user, saved.workflow_id, saved.document, saved.version)


def _summary(saved: StoredVersion) -> WorkflowSummary:
    return WorkflowSummary(
        workflow_id=saved.workflow_id,
        version=saved.version,
        name=saved.name,
        step_count=saved.step_count,
        created_at=saved.created_at or saved.saved_at,
        updated_at=saved.saved_at,
    )


def _saved(saved: StoredVersion, document: dict[str, Any], steps: list[Any]) -> SavedWorkflow:
    return SavedWorkflow(
        **_summary(saved).model_dump(), workflow_json=document, steps=saved_steps(list(steps))
    )
