"""Retention that works on every runtime: prune threads nobody has touched for a while.

The in-memory runtime accepts the TTLs in `langgraph.json` but never enforces them, so
the gateway offers the same policy itself: on demand (`POST /api/threads/prune`) and,
when `THREADGATE_RETENTION_TTL_MINUTES` is set, on a schedule. Running threads are
never pruned. However many replicas and workers run the schedule, each interval is
swept once, by whoever takes its lease on the Agent Server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError
from langgraph_sdk.schema import PruneStrategy, Thread
from pydantic import BaseModel, ConfigDict, Field

from gateway.agent.client import SYSTEM, Actor, as_user
from gateway.errors import NotSupported
from gateway.settings import Settings
from gateway.threads.reads import oldest_first

logger = logging.getLogger(__name__)


class PruneRequest(BaseModel):
    # A JSON body: `0` is not false, nor `true` 1.
    model_config = ConfigDict(strict=True)

    older_than_minutes: float = Field(
        ge=0, le=5_256_000, description="Prune threads not updated for this long."
    )
    workflow_id: str | None = Field(default=None, max_length=200, description="Only this workflow.")
    dry_run: bool = Field(default=True, description="Only list what would be pruned.")
    keep_latest_checkpoint: bool = Field(
        default=False,
        description="Keep each thread and its latest state; drop only older checkpoints.",
    )
    limit: int = Field(default=1_000, ge=1, le=10_000)


class PruneResult(BaseModel):
    dry_run: bool
    strategy: str = Field(description="`delete` or `keep_latest`.")
    cutoff: datetime
    thread_ids: list[str] = Field(description="Pruned (or, in a dry run, to be pruned).")
    skipped: list[str] = Field(
        default_factory=list,
        description="Listed, but running or updated again by the time of pruning: kept.",
    )


async def prune_threads(
    agent: LangGraphClient, user: Actor, request: PruneRequest, now: datetime | None = None
) -> PruneResult:
    cutoff = (now or datetime.now(UTC)) - timedelta(minutes=request.older_than_minutes)
    strategy: PruneStrategy = "keep_latest" if request.keep_latest_checkpoint else "delete"
    if strategy == "keep_latest" and not await keep_latest_supported(agent):
        # Refused alike in a dry run, so a dry run predicts the real one.
        raise NotSupported(
            "not_supported",
            "keep_latest_checkpoint needs a runtime that trims checkpoints "
            "(the in-memory runtime of `make up` cannot; Postgres can)",
        )
    chosen = await _expired(agent, user, request, cutoff)
    if request.dry_run:
        return PruneResult(dry_run=True, strategy=strategy, cutoff=cutoff, thread_ids=chosen)
    pruned, skipped = [], []
    for thread_id in chosen:
        # Checked again at the moment of pruning: a thread resumed since it was listed is
        # kept. (The Agent Server has no conditional delete; this leaves milliseconds.)
        try:
            thread = await agent.threads.get(thread_id, headers=as_user(user))
        except NotFoundError:
            continue  # gone already: another replica's prune, or its owner
        if thread["status"] == "busy" or _updated(thread) >= cutoff:
            skipped.append(thread_id)
            continue
        try:
            await agent.threads.prune([thread_id], strategy=strategy, headers=as_user(user))
        except NotFoundError:
            continue  # deleted by someone else since it was read: nothing left to do
        pruned.append(thread_id)
    if pruned:
        logger.info("pruned %d threads (%s) not updated since %s", len(pruned), strategy, cutoff)
    return PruneResult(
        dry_run=False, strategy=strategy, cutoff=cutoff, thread_ids=pruned, skipped=skipped
    )


def _updated(thread: Thread) -> datetime:
    return datetime.fromisoformat(str(thread["updated_at"]))


async def _expired(
    agent: LangGraphClient, user: Actor, request: PruneRequest, cutoff: datetime
) -> list[str]:
    """Idle threads not updated since `cutoff`, oldest first, each once.

    Pages go by offset, so a thread updated during the listing moves out from under
    them and the next page starts one too late; another pass finds what that skipped.
    """
    metadata = {"workflow_id": request.workflow_id} if request.workflow_id else None
    seen: set[str] = set()
    chosen: list[str] = []
    for _ in range(3):
        found = 0
        async for thread in oldest_first(
            agent, user, metadata=metadata, max_threads=request.limit * 2
        ):
            if _updated(thread) >= cutoff:
                break  # oldest first: the rest are newer
            if thread["thread_id"] in seen:
                continue
            seen.add(thread["thread_id"])
            found += 1
            if thread["status"] != "busy":
                chosen.append(thread["thread_id"])
            if len(chosen) >= request.limit:
                return chosen
        if not found:
            return chosen
    return chosen


async def keep_latest_supported(agent: LangGraphClient) -> bool:
    """Whether the Agent Server's runtime trims checkpoints.

    Asked by trimming a thread that does not exist, as the system identity (for which no
    ownership check comes before the runtime's strategy check): it touches nothing.
    """
    nobody = str(uuid.uuid4())
    try:
        await agent.threads.prune([nobody], strategy="keep_latest", headers=as_user(SYSTEM))
    except UnprocessableEntityError:
        return False
    return True


# Any fixed UUID: an interval's lease is a thread whose id is derived from it.
_LEASES = uuid.UUID("3b6f2d0e-9a1c-4f57-8e2b-6d4c1a7e5f90")


async def retention_schedule(agent: LangGraphClient, settings: Settings) -> None:
    """Prune on a timer for as long as the gateway runs; a failed round is logged and retried.

    Every worker of every replica runs this loop, but each interval (counted from the
    epoch, so all of them agree) is swept once per deployment: by the worker that takes
    the interval's lease. It acts as the system identity, which the Agent Server lets
    see every user's threads.
    """
    assert settings.retention_ttl_minutes is not None
    request = PruneRequest(
        older_than_minutes=settings.retention_ttl_minutes,
        dry_run=False,
        keep_latest_checkpoint=settings.retention_keep_latest_checkpoint,
    )
    interval = settings.retention_interval_minutes * 60
    while True:
        start = int(time.time() // interval)
        try:
            if await take_lease(agent, interval, start):
                logger.info("scheduled prune: pid %s sweeps interval %s", os.getpid(), start)
                await prune_threads(agent, SYSTEM, request)
        except Exception:
            logger.exception("scheduled prune failed; trying again next round")
        await asyncio.sleep(max((start + 1) * interval - time.time(), 0.0))


async def take_lease(agent: LangGraphClient, interval: float, start: int) -> bool:
    """Whether this worker sweeps the interval: of all who ask, exactly one creates its
    lease, a system thread with an id derived from the interval (atomic on the Agent
    Server). Leases are ordinary idle threads, pruned like any other once old."""
    lease = str(uuid.uuid5(_LEASES, f"{interval}:{start}"))
    try:
        await agent.threads.create(
            thread_id=lease,
            metadata={"threadgate": "prune_lease", "interval": start},
            if_exists="raise",
            headers=as_user(SYSTEM),
        )
    except ConflictError:
        return False
    return True
