"""The library on the Agent Server: one assistant per saved workflow, documents in the store.

Layout (`agents.contract`): a saved workflow is an assistant of the `workflow` graph
whose id is derived from owner and workflow id, so creating it is an atomic claim and
each new version is one atomic `update`, however many replicas write. Every version's
metadata is a summary (name, step count, the document's content hash); the documents
are immutable store items keyed by that hash, written before the version that names
them, so a version never points at nothing and a listing reads only summaries.

The owner may write their own assistants and store items with an SDK, so everything
is read back checked: a listing skips what does not read as a workflow (and logs it);
reading one is a 409 `unreadable_workflow` that says how to clear it.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError
from langgraph_sdk.schema import Assistant
from pydantic import BaseModel, Field, StrictInt, StrictStr, ValidationError

from agents.contract import GRAPH_ID, LIBRARY_MARK, workflow_assistant_id
from gateway.agent.client import Actor, as_user
from gateway.agent.together import together
from gateway.errors import Conflict
from gateway.library.documents import delete_documents, problem_of, unreadable

logger = logging.getLogger(__name__)

# The most versions a version listing pages through to find one that is not where the
# version numbers say (only a hand-made assistant can be like that).
_PAGE = 100
_SCAN_LIMIT = 10_000
_HASH = r"^[0-9a-f]{64}$"
_INCARNATION = r"^[0-9a-f]{32}$"


class VersionSummary(BaseModel):
    """What each version's metadata holds: enough to list it without its document."""

    workflow_id: StrictStr
    name: StrictStr
    step_count: StrictInt = Field(ge=0)
    document: StrictStr = Field(pattern=_HASH, description="The document's content hash.")
    incarnation: StrictStr = Field(
        pattern=_INCARNATION, description="This life of the workflow id: where its documents are."
    )
    idempotency_key: StrictStr | None = None


class StoredVersion(VersionSummary):
    """One version as read: its summary, number and when it was saved; `created_at` is
    when the workflow's first version was saved (None where only a version was read)."""

    version: int
    saved_at: datetime
    created_at: datetime | None = None


def _version(workflow_id: str, entry: Any, created_at: Any = None) -> StoredVersion:
    """A version from an assistant or one of its versions; 409 if it does not read."""
    metadata = entry.get("metadata") or {}
    try:
        saved = StoredVersion.model_validate(
            {
                **metadata,
                "version": entry.get("version"),
                "saved_at": entry.get("updated_at") or entry.get("created_at"),
                "created_at": created_at,
            }
        )
    except ValidationError as exc:
        raise unreadable(workflow_id, problem_of(exc), entry.get("version")) from None
    if saved.workflow_id != workflow_id:
        raise unreadable(workflow_id, f"it names workflow '{saved.workflow_id}'", saved.version)
    return saved


async def read_latest(
    agent: LangGraphClient, user: Actor, workflow_id: str
) -> StoredVersion | None:
    """The latest version, None if no such workflow; 409 if it does not read."""
    assistant = await _assistant(agent, user, workflow_id)
    if assistant is None:
        return None
    return _version(workflow_id, assistant, assistant.get("created_at"))


async def exists(agent: LangGraphClient, user: Actor, workflow_id: str) -> bool:
    """Whether the user has this workflow, readable or not."""
    return await _assistant(agent, user, workflow_id) is not None


async def first_saved_at(agent: LangGraphClient, user: Actor, workflow_id: str) -> datetime | None:
    """When the workflow's version 1 was saved; None if there is no such workflow."""
    assistant = await _assistant(agent, user, workflow_id)
    return None if assistant is None else datetime.fromisoformat(str(assistant["created_at"]))


async def read_version(
    agent: LangGraphClient, user: Actor, workflow_id: str, version: int, latest: int
) -> StoredVersion | None:
    """Version `version` of a workflow whose latest is `latest` (None if there is none).

    Versions are numbered 1..latest and listed newest first, so it is normally the one
    entry at offset latest - version; anything else is looked for page by page.
    """
    if not 1 <= version <= latest:
        return None
    assistant_id = workflow_assistant_id(user.owner, workflow_id)
    guess = await _versions_page(agent, user, assistant_id, limit=1, offset=latest - version)
    if guess and guess[0]["version"] == version:
        return _version(workflow_id, guess[0])
    for offset in range(0, _SCAN_LIMIT, _PAGE):
        page = await _versions_page(agent, user, assistant_id, limit=_PAGE, offset=offset)
        found = next((v for v in page if v["version"] == version), None)
        if found is not None:
            return _version(workflow_id, found)
        if len(page) < _PAGE:
            break
    return None


async def version_with_key(
    agent: LangGraphClient, user: Actor, workflow_id: str, key: str
) -> StoredVersion | None:
    """The version a request with this (hashed) Idempotency-Key saved, if any: the
    oldest, should a simultaneous retry have added another."""
    try:
        found = await agent.assistants.get_versions(
            workflow_assistant_id(user.owner, workflow_id),
            metadata={"idempotency_key": key},
            limit=_PAGE,
            headers=as_user(user),
        )
    except NotFoundError:  # no such workflow, or no version with that key
        return None
    return _version(workflow_id, found[-1]) if found else None


async def keyed_elsewhere(
    agent: LangGraphClient, user: Actor, workflow_id: str, key: str
) -> str | None:
    """Another workflow whose latest version this (hashed) Idempotency-Key saved."""
    found = await agent.assistants.search(
        metadata={**LIBRARY_MARK, "idempotency_key": key}, limit=2, headers=as_user(user)
    )
    others = [str((a.get("metadata") or {}).get("workflow_id")) for a in found]
    return next((other for other in others if other != workflow_id), None)


async def list_latest(
    agent: LangGraphClient, user: Actor, *, limit: int, offset: int
) -> tuple[list[StoredVersion], int]:
    """A page of the user's workflows (latest versions), most recently saved first, and
    how many there are; what does not read as a workflow is skipped."""
    headers = as_user(user)
    found, total = await together(
        agent.assistants.search(
            metadata=LIBRARY_MARK,
            graph_id=GRAPH_ID,
            limit=limit,
            offset=offset,
            sort_by="updated_at",
            sort_order="desc",
            headers=headers,
        ),
        agent.assistants.count(metadata=LIBRARY_MARK, graph_id=GRAPH_ID, headers=headers),
    )
    readable = []
    for assistant in found:
        workflow_id = str((assistant.get("metadata") or {}).get("workflow_id"))
        try:
            saved = _version(workflow_id, assistant, assistant.get("created_at"))
        except Conflict as exc:
            logger.warning("library listing skips assistant %s: %s", assistant["assistant_id"], exc)
            continue
        if assistant["assistant_id"] == workflow_assistant_id(user.owner, saved.workflow_id):
            readable.append(saved)
    return readable, total


async def list_versions(
    agent: LangGraphClient, user: Actor, workflow_id: str, *, limit: int, offset: int
) -> list[StoredVersion]:
    """A page of a workflow's versions, newest first: summaries only, whatever the size of
    the documents; what does not read as a version is skipped."""
    assistant_id = workflow_assistant_id(user.owner, workflow_id)
    page = await _versions_page(agent, user, assistant_id, limit=limit, offset=offset)
    readable = []
    for entry in page:
        try:
            readable.append(_version(workflow_id, entry))
        except Conflict as exc:
            logger.warning("version listing of %r skips an item: %s", workflow_id, exc)
    return readable


async def claim(agent: LangGraphClient, user: Actor, summary: VersionSummary) -> Assistant | None:
    """Create the workflow as version 1, or None if the id is taken (atomically: of
    any number of concurrent claims exactly one succeeds)."""
    try:
        return await agent.assistants.create(
            GRAPH_ID,
            assistant_id=workflow_assistant_id(user.owner, summary.workflow_id),
            if_exists="raise",
            metadata=_metadata(summary),
            name=summary.name,
            headers=as_user(user),
        )
    except ConflictError:
        return None


async def add_version(agent: LangGraphClient, user: Actor, summary: VersionSummary) -> Assistant:
    """The next version, numbered by the Agent Server in one atomic update."""
    return await agent.assistants.update(
        workflow_assistant_id(user.owner, summary.workflow_id),
        metadata=_metadata(summary),
        name=summary.name,
        headers=as_user(user),
    )


async def delete(agent: LangGraphClient, user: Actor, workflow_id: str) -> None:
    """Delete the workflow (its versions go with it), then the documents of the lives
    its versions name: a new workflow saved under the id meanwhile has a life of its own."""
    assistant_id = workflow_assistant_id(user.owner, workflow_id)
    lives: set[str] = set()
    for offset in range(0, _SCAN_LIMIT, _PAGE):
        page = await _versions_page(agent, user, assistant_id, limit=_PAGE, offset=offset)
        lives |= {v["metadata"]["incarnation"] for v in page if _names_a_life(v)}
        if len(page) < _PAGE:
            break
    await agent.assistants.delete(assistant_id, headers=as_user(user))
    for incarnation in lives:
        await delete_documents(agent, user, workflow_id, incarnation)


def _names_a_life(entry: Any) -> bool:
    incarnation = (entry.get("metadata") or {}).get("incarnation")
    return isinstance(incarnation, str) and re.fullmatch(_INCARNATION, incarnation) is not None


async def _versions_page(
    agent: LangGraphClient, user: Actor, assistant_id: str, *, limit: int, offset: int
) -> list[Any]:
    """A page of versions, newest first; past the last one, none (the Agent Server
    answers an empty page with 404)."""
    try:
        return list(
            await agent.assistants.get_versions(
                assistant_id, limit=limit, offset=offset, headers=as_user(user)
            )
        )
    except NotFoundError:
        return []


async def _assistant(agent: LangGraphClient, user: Actor, workflow_id: str) -> Assistant | None:
    try:
        return await agent.assistants.get(
            workflow_assistant_id(user.owner, workflow_id), headers=as_user(user)
        )
    except NotFoundError:
        return None


def _metadata(summary: VersionSummary) -> dict[str, Any]:
    # Every field, None included: an update merges metadata into the previous version's.
    return {**LIBRARY_MARK, **summary.model_dump(mode="json")}
