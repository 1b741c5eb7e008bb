"""Reading the workflow library: one workflow (a version, with its document), its
compiled plan, the listings, and deleting it. Writes are `library`."""

from __future__ import annotations

from typing import Any

from langgraph_sdk.client import LangGraphClient
from pydantic import ValidationError

from gateway.agent.client import Actor
from gateway.errors import NotFound
from gateway.library import store
from gateway.library.documents import (
    StoredDocument,
    problem_of,
    read_document,
    unreadable,
)
from gateway.library.store import StoredVersion
from gateway.library.views import (
    SavedWorkflow,
    WorkflowSummary,
    WorkflowVersion,
    saved_steps,
)
from gateway.workflows.parser import WorkflowPlan


async def get_workflow(
    agent: LangGraphClient, user: Actor, workflow_id: str, version: int | None = None
) -> SavedWorkflow:
    """One version (the latest by default) with its document."""
    saved, content = await read_with_document(agent, user, workflow_id, version)
    return saved_view(saved, content.workflow_json, content.plan.get("steps") or [])


async def saved_plan(
    agent: LangGraphClient, user: Actor, workflow_id: str, version: int | None = None
) -> WorkflowPlan:
    """The compiled plan of a saved version, ready to run (it names its version)."""
    saved, content = await read_with_document(agent, user, workflow_id, version)
    try:
        return WorkflowPlan.model_validate({**content.plan, "version": saved.version})
    except ValidationError as exc:
        raise unreadable(workflow_id, f"plan: {problem_of(exc)}", saved.version) from None


async def workflow_exists(agent: LangGraphClient, user: Actor, workflow_id: str) -> bool:
    """Whether the user's library has this workflow (readable or not)."""
    return await store.exists(agent, user, workflow_id)


async def list_workflows(
    agent: LangGraphClient, user: Actor, *, limit: int, offset: int
) -> tuple[list[WorkflowSummary], int]:
    """A page of the user's workflows, most recently saved first, and how many in all
    (unreadable ones are left out of the page but counted)."""
    found, total = await store.list_latest(agent, user, limit=limit, offset=offset)
    return [summary_of(saved) for saved in found], total


async def list_versions(
    agent: LangGraphClient, user: Actor, workflow_id: str, *, limit: int, offset: int
) -> list[WorkflowVersion]:
    """A page of the saved versions, newest first (unreadable ones are skipped)."""
    created_at = await store.first_saved_at(agent, user, workflow_id)
    if created_at is None:
        raise NotFound("workflow", workflow_id)
    found = await store.list_versions(agent, user, workflow_id, limit=limit, offset=offset)
    return [
        WorkflowVersion(**summary_of(v.model_copy(update={"created_at": created_at})).model_dump())
        for v in found
    ]


async def delete_workflow(agent: LangGraphClient, user: Actor, workflow_id: str) -> None:
    """Forget a workflow and all its versions (readable or not); threads that ran it
    keep their state."""
    if not await store.exists(agent, user, workflow_id):
        raise NotFound("workflow", workflow_id)
    await store.delete(agent, user, workflow_id)


async def latest_version(agent: LangGraphClient, user: Actor, workflow_id: str) -> StoredVersion:
    latest = await store.read_latest(agent, user, workflow_id)
    if latest is None:
        raise NotFound("workflow", workflow_id)
    return latest


async def version_of(
    agent: LangGraphClient, user: Actor, workflow_id: str, version: int, latest: StoredVersion
) -> StoredVersion:
    if version == latest.version:
        return latest
    found = await store.read_version(agent, user, workflow_id, version, latest.version)
    if found is None:
        raise NotFound("workflow version", f"{workflow_id} v{version}")
    return found.model_copy(update={"created_at": latest.created_at})


async def read_with_document(
    agent: LangGraphClient, user: Actor, workflow_id: str, version: int | None
) -> tuple[StoredVersion, StoredDocument]:
    latest = await latest_version(agent, user, workflow_id)
    saved = (
        latest if version is None else await version_of(agent, user, workflow_id, version, latest)
    )
    return saved, await content_of(agent, user, saved)


async def content_of(agent: LangGraphClient, user: Actor, saved: StoredVersion) -> StoredDocument:
    return await read_document(
        agent, user, saved.workflow_id, saved.incarnation, saved.document, saved.version
    )


def summary_of(saved: StoredVersion) -> WorkflowSummary:
    return WorkflowSummary(
        workflow_id=saved.workflow_id,
        version=saved.version,
        name=saved.name,
        step_count=saved.step_count,
        created_at=saved.created_at or saved.saved_at,
        updated_at=saved.saved_at,
    )


def saved_view(saved: StoredVersion, document: dict[str, Any], steps: list[Any]) -> SavedWorkflow:
    return SavedWorkflow(
        **summary_of(saved).model_dump(), workflow_json=document, steps=saved_steps(list(steps))
    )
