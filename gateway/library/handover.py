"""Handing what the `dev` user made to a team.

With authentication off every caller is `dev`; once keys are configured nobody is, so
dev's threads and saved workflows are invisible to everyone. An admin of a team takes
them over: threads change owner in place (as the gateway's system identity: no user
may rewrite an owner); a saved workflow is saved again, version by version with its
documents, in the team's space (its id is derived from the owner, so it cannot move in
place), then deleted from dev's. The team's role rules apply to those writes.
Schedules are not handed over (the route deletes dev's schedules of the moved
workflows): make them again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from langgraph_sdk.client import LangGraphClient

from agents.contract import DEV_USER
from gateway.agent.client import SYSTEM, Actor, as_user
from gateway.library import store
from gateway.library.documents import read_document, write_document

logger = logging.getLogger(__name__)

_PAGE = 100
# Versions read per workflow (the library pages through at most as many elsewhere).
_MAX_VERSIONS = 10_000


@dataclass
class Handover:
    threads: list[str] = field(default_factory=list)
    workflows: list[str] = field(default_factory=list)
    # Workflow ids the receiving space has already: left with dev, not overwritten.
    skipped: list[str] = field(default_factory=list)


async def hand_over(agent: LangGraphClient, to: Actor) -> Handover:
    """Give everything dev's space holds to the space `to` acts in."""
    dev = Actor(DEV_USER)
    done = Handover()
    while page := await agent.threads.search(
        metadata={"owner": DEV_USER}, limit=_PAGE, headers=as_user(dev)
    ):
        for thread in page:
            thread_id = str(thread["thread_id"])
            metadata = {"owner": to.owner, "handed_over_from": DEV_USER}
            await agent.threads.update(thread_id, metadata=metadata, headers=as_user(SYSTEM))
            done.threads.append(thread_id)
    # Every id first: moved workflows leave dev's listing as it is paged.
    workflow_ids: list[str] = []
    while latest := (await store.list_latest(agent, dev, limit=_PAGE, offset=len(workflow_ids)))[0]:
        workflow_ids += [saved.workflow_id for saved in latest]
    for workflow_id in workflow_ids:
        moved = await _move_workflow(agent, dev, to, workflow_id)
        (done.workflows if moved else done.skipped).append(workflow_id)
    logger.info(
        "handed %d threads and %d workflows from %s to %s (%d workflows kept: ids taken)",
        len(done.threads),
        len(done.workflows),
        DEV_USER,
        to.owner,
        len(done.skipped),
    )
    return done


async def _move_workflow(agent: LangGraphClient, dev: Actor, to: Actor, workflow_id: str) -> bool:
    """Save every version of dev's workflow in `to`'s space, oldest first, then delete
    dev's; False (nothing moved) if `to` has a workflow with that id already."""
    if await store.exists(agent, to, workflow_id):
        return False
    versions = []
    for offset in range(0, _MAX_VERSIONS, _PAGE):
        page = await store.list_versions(agent, dev, workflow_id, limit=_PAGE, offset=offset)
        versions += page
        if len(page) < _PAGE:
            break
    for i, version in enumerate(sorted(versions, key=lambda v: v.version)):
        document = await read_document(
            agent, dev, workflow_id, version.incarnation, version.document, version.version
        )
        await write_document(agent, to, workflow_id, version.incarnation, document)
        summary = store.VersionSummary.model_validate(version.model_dump())
        if i == 0:
            if await store.claim(agent, to, summary) is None:
                return False  # taken meanwhile
        else:
            await store.add_version(agent, to, summary)
    await store.delete(agent, dev, workflow_id)
    return True
