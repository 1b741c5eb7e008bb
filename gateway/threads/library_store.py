"""The library's items in the owner's store, read back checked.

Only the gateway writes these items, but the owner may write their own namespace
directly with an SDK, so an item can have any shape: each is validated when read.
A listing skips an unreadable item (and logs it); reading one unreadable workflow is
a 409 `unreadable_workflow` that says how to clear it.
"""

from __future__ import annotations

import logging
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError
from pydantic import AwareDatetime, BaseModel, Field, StrictInt, StrictStr, ValidationError

from agents.contract import library_namespace, version_key, versions_namespace
from gateway.threads.agent import as_user
from gateway.threads.errors import Conflict, NotFound
from gateway.threads.library_views import WorkflowSummary
from gateway.threads.together import together

logger = logging.getLogger(__name__)

# The most workflows (or versions of one) the library keeps and a listing reads.
MAX_LISTED = 1_000
_PAGE = 100


class StoredHead(BaseModel):
    """A workflow's listing item: its latest version."""

    workflow_id: StrictStr
    version: StrictInt = Field(ge=1)
    name: StrictStr
    step_count: StrictInt = Field(ge=0)
    created_at: AwareDatetime
    updated_at: AwareDatetime

    def summary(self) -> WorkflowSummary:
        return WorkflowSummary(**self.model_dump())


class StoredVersion(StoredHead):
    """One saved version: the document as saved and its compiled plan."""

    workflow_json: dict[str, Any]
    plan: dict[str, Any]


def unreadable(workflow_id: str, problem: str, version: int | None = None) -> Conflict:
    what = f"workflow '{workflow_id}'" + (f" version {version}" if version else "")
    return Conflict(
        "unreadable_workflow",
        f"{what} in the store is not in the library's format (was it written outside "
        f"the gateway?): {problem}; DELETE /api/workflows/{workflow_id} removes it",
        {"workflow_id": workflow_id, "version": version},
    )


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "item"
    return f"{where}: {first['msg']}"


async def head_exists(agent: LangGraphClient, user: str, workflow_id: str) -> bool:
    """Whether the workflow has a listing item, readable or not."""
    return await _get(agent, user, library_namespace(user), workflow_id) is not None


async def read_head(agent: LangGraphClient, user: str, workflow_id: str) -> StoredHead | None:
    value = await _get(agent, user, library_namespace(user), workflow_id)
    if value is None:
        return None
    try:
        head = StoredHead.model_validate(value)
    except ValidationError as exc:
        raise unreadable(workflow_id, _problem(exc)) from None
    if head.workflow_id != workflow_id:
        raise unreadable(workflow_id, f"it names workflow '{head.workflow_id}'")
    return head


async def read_version(
    agent: LangGraphClient, user: str, workflow_id: str, version: int
) -> StoredVersion:
    namespace = versions_namespace(user, workflow_id)
    value = await _get(agent, user, namespace, version_key(version))
    if value is None:
        raise NotFound("workflow version", f"{workflow_id} v{version}")
    try:
        saved = StoredVersion.model_validate(value)
    except ValidationError as exc:
        raise unreadable(workflow_id, _problem(exc), version) from None
    if (saved.workflow_id, saved.version) != (workflow_id, version):
        raise unreadable(workflow_id, "it names another workflow or version", version)
    return saved


async def list_heads(agent: LangGraphClient, user: str) -> list[StoredHead]:
    """Every readable workflow (at most MAX_LISTED are read)."""
    found = []
    for key, value in await _read_all(agent, user, library_namespace(user)):
        try:
            head = StoredHead.model_validate(value)
        except ValidationError as exc:
            logger.warning("library listing skips unreadable workflow %r: %s", key, _problem(exc))
            continue
        if head.workflow_id == key:
            found.append(head)
        else:
            logger.warning("library listing skips workflow %r: it names another id", key)
    return found


async def list_stored_versions(
    agent: LangGraphClient, user: str, workflow_id: str
) -> list[StoredHead]:
    """Every readable version of a workflow (at most MAX_LISTED are read)."""
    found = []
    for key, value in await _read_all(agent, user, versions_namespace(user, workflow_id)):
        try:
            saved = StoredHead.model_validate(value)
        except ValidationError as exc:
            logger.warning(
                "version listing of %r skips unreadable item %r: %s",
                workflow_id,
                key,
                _problem(exc),
            )
            continue
        if (saved.workflow_id, version_key(saved.version)) == (workflow_id, key):
            found.append(saved)
        else:
            logger.warning(
                "version listing of %r skips item %r: it names another", workflow_id, key
            )
    return found


async def delete_versions(agent: LangGraphClient, user: str, workflow_id: str) -> None:
    """Delete every version item, however many there are: pages are read again until
    one pass finds nothing left to delete."""
    namespace = versions_namespace(user, workflow_id)
    headers = as_user(user)
    while True:
        deleted = kept = 0
        while True:
            found = await agent.store.search_items(
                list(namespace), limit=_PAGE, offset=kept, headers=headers
            )
            items = found["items"]
            mine = [i["key"] for i in items if tuple(i["namespace"]) == namespace]
            await together(
                *(agent.store.delete_item(list(namespace), key, headers=headers) for key in mine)
            )
            deleted += len(mine)
            kept += len(items) - len(mine)  # deeper namespaces sharing the prefix stay
            if len(items) < _PAGE:
                break
        if not deleted:
            return


async def _get(
    agent: LangGraphClient, user: str, namespace: tuple[str, ...], key: str
) -> dict[str, Any] | None:
    try:
        item = await agent.store.get_item(list(namespace), key, headers=as_user(user))
    except NotFoundError:
        return None
    if not item:
        return None
    value = item["value"]
    return dict(value) if isinstance(value, dict) else {}


async def _read_all(
    agent: LangGraphClient, user: str, namespace: tuple[str, ...]
) -> list[tuple[str, Any]]:
    """(key, value) of every item in exactly this namespace, up to MAX_LISTED."""
    read: list[tuple[str, Any]] = []
    for offset in range(0, MAX_LISTED, _PAGE):
        found = await agent.store.search_items(
            list(namespace), limit=_PAGE, offset=offset, headers=as_user(user)
        )
        items = found["items"]
        # Only this namespace, not deeper ones that share its prefix.
        read += [(i["key"], i["value"]) for i in items if tuple(i["namespace"]) == namespace]
        if len(items) < _PAGE:
            break
    return read
