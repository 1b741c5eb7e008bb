"""The workflow library: saved workflows and their versions, on the Agent Server.

Each saved workflow is an assistant of the `workflow` graph (`library.store`), so the
writes that teams race on are atomic where the data lives: of N concurrent creates of
one id exactly one is 201 and keeps its document (the rest 409 `workflow_exists`), and
N concurrent saves of new versions get N distinct versions, each holding its own
caller's document. The owner's scope is enforced by the Agent Server's auth, so another
user's workflow is simply not there (404).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from contextlib import suppress
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import APIError

from gateway.agent.client import Actor
from gateway.errors import Conflict, Invalid, KeyReused, NotFound
from gateway.library import store
from gateway.library.documents import (
    StoredDocument,
    content_hash,
    delete_documents,
    new_incarnation,
    write_document,
)
from gateway.library.reads import (
    content_of,
    latest_version,
    saved_view,
    version_of,
)
from gateway.library.store import StoredVersion, VersionSummary
from gateway.library.views import SavedWorkflow
from gateway.threads.executions import run_input
from gateway.workflows.parser import WorkflowLimits, WorkflowPlan, parse_workflow

# Store namespace labels may not contain '.', and ids appear in URLs: keep them plain.
WORKFLOW_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$"
_WORKFLOW_ID = re.compile(WORKFLOW_ID_PATTERN)
IDEMPOTENCY_KEY_FIELD = "Idempotency-Key"


def check_workflow_id(workflow_id: str, field: str) -> str:
    if not _WORKFLOW_ID.match(workflow_id):
        raise Invalid(
            field,
            f"{field} must be 1-100 letters, digits, '-' or '_', starting with a letter or digit",
        )
    return workflow_id


async def save_new(
    agent: LangGraphClient,
    user: Actor,
    limits: WorkflowLimits,
    document: dict[str, Any],
    workflow_id: str | None = None,
    idempotency_key: str | None = None,
) -> SavedWorkflow:
    """Version 1 of a new workflow; its id from `workflow_id`, the document, or new.
    Sent again with the same `idempotency_key` and document, the version it saved."""
    given = workflow_id or document.get("id")
    if given is not None and not isinstance(given, str):
        raise Invalid("workflow_json.id", "workflow_json.id must be a string")
    field = "workflow_id" if workflow_id else "workflow_json.id"
    key = _key_hash(idempotency_key)
    # A generated id comes from the key when there is one, so a retry names the same id.
    generated = f"wf-{key[:12] if key else uuid.uuid4().hex[:12]}"
    workflow_id = check_workflow_id(given, field) if given else generated
    plan = _compile(document, limits, workflow_id)  # before anything is written
    if key is not None and await store.keyed_elsewhere(agent, user, workflow_id, key):
        raise KeyReused(IDEMPOTENCY_KEY_FIELD)  # that key already saved another workflow
    if await store.exists(agent, user, workflow_id):
        # The common case, told before a document is written.
        return await _replayed(agent, user, workflow_id, key, document)
    summary = await _write_document(agent, user, document, plan, new_incarnation(), key)
    created = await store.claim(agent, user, summary)
    if created is None:  # another request claimed the id first: its document stays
        with suppress(APIError, httpx.HTTPError):  # ours is nobody's: tidy it away
            await delete_documents(agent, user, workflow_id, summary.incarnation)
        return await _replayed(agent, user, workflow_id, key, document)
    saved = StoredVersion(
        **summary.model_dump(),
        version=created["version"],
        saved_at=created["updated_at"],
        created_at=created["created_at"],
    )
    return saved_view(saved, document, plan.steps)


async def save_version(
    agent: LangGraphClient,
    user: Actor,
    limits: WorkflowLimits,
    workflow_id: str,
    document: dict[str, Any],
    idempotency_key: str | None = None,
) -> SavedWorkflow:
    """The next version of a saved workflow; a document equal to the latest adds none.
    Sent again with the same `idempotency_key` and document, the version it saved."""
    doc_id = document.get("id")
    if doc_id is not None and doc_id != workflow_id:
        raise Invalid("workflow_json.id", f"workflow_json.id '{doc_id}' is not '{workflow_id}'")
    plan = _compile(document, limits, workflow_id)
    key = _key_hash(idempotency_key)
    if key is not None and (saved := await _saved_with_key(agent, user, workflow_id, key)):
        return _checked_replay(saved, document)
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
            # Unchanged: nothing to add. (A version this key saved meanwhile, under a
            # simultaneous retry, is still the answer.)
            found = await _saved_with_key(agent, user, workflow_id, key) if key else None
            return (
                _checked_replay(found, document)
                if found
                else saved_view(latest, document, plan.steps)
            )
    incarnation = latest.incarnation if latest else new_incarnation()
    summary = await _write_document(agent, user, document, plan, incarnation, key)
    added = await _add_version(agent, user, summary)
    if key is not None:
        # Two requests with one key at the same instant both add a version (the same
        # document); both answer the first, so the retry still names what its key saved.
        found = await _saved_with_key(agent, user, workflow_id, key)
        added = found[0] if found else added
    return saved_view(added, document, plan.steps)


async def roll_back(
    agent: LangGraphClient, user: Actor, workflow_id: str, version: int
) -> SavedWorkflow:
    """Make version `version`'s document the latest, as a new version (history only
    grows, so every earlier answer about a version number stays true); if it already is
    the latest document, nothing is added."""
    latest = await latest_version(agent, user, workflow_id)
    wanted = await version_of(agent, user, workflow_id, version, latest)
    content = await content_of(agent, user, wanted)
    steps = content.plan.get("steps") or []
    if wanted.document == latest.document:
        return saved_view(latest, content.workflow_json, steps)
    summary = VersionSummary(**wanted.model_dump(include=set(VersionSummary.model_fields)))
    saved = await _add_version(agent, user, summary.model_copy(update={"idempotency_key": None}))
    return saved_view(saved, content.workflow_json, steps)


def _compile(document: dict[str, Any], limits: WorkflowLimits, workflow_id: str) -> WorkflowPlan:
    return parse_workflow(document, limits).model_copy(update={"workflow_id": workflow_id})


def _exists(workflow_id: str) -> Conflict:
    message = f"workflow '{workflow_id}' already exists; PUT /api/workflows/{workflow_id} saves"
    return Conflict("workflow_exists", f"{message} a new version", {"workflow_id": workflow_id})


async def _write_document(
    agent: LangGraphClient,
    user: Actor,
    document: dict[str, Any],
    plan: WorkflowPlan,
    incarnation: str,
    idempotency_key: str | None = None,
) -> VersionSummary:
    """Store the version's content first, so no version ever names a missing document."""
    content = StoredDocument(
        workflow_json=document,
        plan=plan.model_dump(mode="json", include={"workflow_id", "name", "steps", "retry"}),
        # What the agent starts from when a schedule runs this version (it adds the
        # version number when it loads it).
        run=run_input(plan),
    )
    key = await write_document(agent, user, plan.workflow_id, incarnation, content)
    return VersionSummary(
        workflow_id=plan.workflow_id,
        name=plan.name,
        step_count=len(plan.steps),
        document=key,
        incarnation=incarnation,
        idempotency_key=idempotency_key,
    )


async def _add_version(
    agent: LangGraphClient, user: Actor, summary: VersionSummary
) -> StoredVersion:
    updated = await store.add_version(agent, user, summary)
    return StoredVersion(
        **summary.model_dump(),
        version=updated["version"],
        saved_at=updated["updated_at"],
        created_at=updated["created_at"],
    )


def _key_hash(idempotency_key: str | None) -> str | None:
    # Kept hashed in the version's metadata: keys are the caller's, possibly meaningful.
    return hashlib.sha256(idempotency_key.encode()).hexdigest() if idempotency_key else None


async def _saved_with_key(
    agent: LangGraphClient, user: Actor, workflow_id: str, key: str
) -> tuple[StoredVersion, StoredDocument] | None:
    saved = await store.version_with_key(agent, user, workflow_id, key)
    return (saved, await content_of(agent, user, saved)) if saved else None


def _checked_replay(
    found: tuple[StoredVersion, StoredDocument], document: dict[str, Any]
) -> SavedWorkflow:
    saved, content = found
    if saved.document != content_hash(document):
        raise KeyReused(IDEMPOTENCY_KEY_FIELD)
    return saved_view(saved, content.workflow_json, content.plan.get("steps") or [])


async def _replayed(
    agent: LangGraphClient, user: Actor, workflow_id: str, key: str | None, document: dict[str, Any]
) -> SavedWorkflow:
    """A create of an id that exists: the version this key saved, or 409."""
    if key is not None and (found := await _saved_with_key(agent, user, workflow_id, key)):
        return _checked_replay(found, document)
    raise _exists(workflow_id)
