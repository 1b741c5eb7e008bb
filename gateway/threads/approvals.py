"""The approvals inbox: threads of the acting space waiting for an answer the caller
may give (their role allows answering, and four-eyes does not leave it to another)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Thread

from agents.teams import Ability
from gateway.agent.client import Actor, as_user
from gateway.agent.together import together
from gateway.threads.progress import waiting_question

STARTED_BY = "started_by"
# The most waiting threads read per request (filtered here: "not started by me" is not
# a filter either Agent Server runtime takes).
INBOX_SCAN = 1_000
_PAGE = 100


@dataclass(frozen=True)
class Approval:
    thread_id: str
    step_id: str | None
    title: str | None
    question: str
    four_eyes: bool
    waiting_since: str
    started_by: str | None


async def approvals_for(agent: LangGraphClient, user: Actor) -> list[Approval]:
    """Every approval the caller may answer now, longest waiting first."""
    if not user.may(Ability.APPROVE):
        return []
    waiting: list[Approval] = []
    for start in range(0, INBOX_SCAN, _PAGE):
        page = await agent.threads.search(
            status="interrupted",
            sort_by="updated_at",
            sort_order="asc",
            limit=_PAGE,
            offset=start,
            headers=as_user(user),
        )
        asking = [a for a in map(_approval, page) if a is not None]
        own = await together(*(_own_four_eyes(agent, user, a) for a in asking))
        waiting += [a for a, mine in zip(asking, own, strict=True) if not mine]
        if len(page) < _PAGE:
            break
    return waiting


def _approval(thread: Thread) -> Approval | None:
    asked = waiting_question(thread)
    if asked is None:
        return None  # interrupted by a cancel: paused, not asking anything
    metadata: dict[str, Any] = thread.get("metadata") or {}
    started_by = metadata.get(STARTED_BY)
    return Approval(
        thread_id=str(thread["thread_id"]),
        step_id=asked.get("step_id"),
        title=asked.get("title"),
        question=str(asked.get("question", "")),
        four_eyes=bool(asked.get("four_eyes")),
        waiting_since=str(thread["updated_at"]),
        started_by=started_by if isinstance(started_by, str) else None,
    )


async def _own_four_eyes(agent: LangGraphClient, user: Actor, approval: Approval) -> bool:
    """Whether four-eyes leaves this approval to someone else: the caller started the
    thread or the run that reached it (the rule `agents.auth` enforces)."""
    if not approval.four_eyes:
        return False
    if approval.started_by == user.person:
        return True
    runs = await agent.runs.list(approval.thread_id, limit=1, headers=as_user(user))
    return any((run.get("metadata") or {}).get(STARTED_BY) == user.person for run in runs)
