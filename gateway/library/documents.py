"""A saved version's content: immutable store items under the owner's namespace, keyed
by the content's hash, so writing the same content twice writes the same item and a
version's summary can name its document before anyone reads it."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError
from pydantic import BaseModel, ValidationError

from agents.contract import documents_namespace
from gateway.agent.client import Actor, as_user
from gateway.agent.together import together
from gateway.errors import Conflict, first_problem

_PAGE = 100


class StoredDocument(BaseModel):
    """A version's content: the document as saved, its compiled plan, the run input."""

    workflow_json: dict[str, Any]
    plan: dict[str, Any]
    run: dict[str, Any]


def content_hash(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def new_incarnation() -> str:
    return uuid.uuid4().hex


async def write_document(
    agent: LangGraphClient,
    user: Actor,
    workflow_id: str,
    incarnation: str,
    document: StoredDocument,
) -> str:
    """Store a version's content under its hash (immutable: the same content, the same
    item) and return the hash."""
    key = content_hash(document.workflow_json)
    await agent.store.put_item(
        list(documents_namespace(user.owner, workflow_id, incarnation)),
        key,
        document.model_dump(mode="json"),
        index=False,
        headers=as_user(user),
    )
    return key


async def read_document(
    agent: LangGraphClient,
    user: Actor,
    workflow_id: str,
    incarnation: str,
    document: str,
    version: int,
) -> StoredDocument:
    """Version `version`'s content; 409 if it is missing or does not read."""
    namespace = documents_namespace(user.owner, workflow_id, incarnation)
    try:
        item = await agent.store.get_item(list(namespace), document, headers=as_user(user))
    except NotFoundError:
        item = None
    if not item:
        raise unreadable(workflow_id, "its document is missing", version)
    try:
        return StoredDocument.model_validate(item["value"])
    except ValidationError as exc:
        raise unreadable(workflow_id, problem_of(exc), version) from None


async def delete_documents(
    agent: LangGraphClient, user: Actor, workflow_id: str, incarnation: str
) -> None:
    headers = as_user(user)
    namespace = list(documents_namespace(user.owner, workflow_id, incarnation))
    while True:
        found = await agent.store.search_items(namespace, limit=_PAGE, headers=headers)
        mine = [i["key"] for i in found["items"] if i["namespace"] == namespace]
        if not mine:
            return
        await together(*(agent.store.delete_item(namespace, key, headers=headers) for key in mine))


def unreadable(workflow_id: str, problem: str, version: int | None = None) -> Conflict:
    what = f"workflow '{workflow_id}'" + (f" version {version}" if version else "")
    return Conflict(
        "unreadable_workflow",
        f"{what} on the Agent Server is not in the library's format (was it written "
        f"outside the gateway?): {problem}; DELETE /api/workflows/{workflow_id} removes it",
        {"workflow_id": workflow_id, "version": version},
    )


def problem_of(exc: ValidationError) -> str:
    return ": ".join(first_problem(exc))
