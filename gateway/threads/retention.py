"""Retention that works on every runtime: prune threads nobody has touched for a while.

The in-memory runtime accepts the TTLs in `langgraph.json` but never enforces them, so
the gateway offers the same policy itself: on demand (`POST /api/threads/prune`) and,
when `THREADGATE_RETENTION_TTL_MINUTES` is set, on a schedule. Running threads are
never pruned. Several gateway replicas may prune at once: deleting twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import PruneStrategy
from pydantic import BaseModel, Field

from agents.contract import SYSTEM_USER
from gateway.settings import Settings
from gateway.threads.agent import as_user
from gateway.threads.reads import oldest_first

logger = logging.getLogger(__name__)


class PruneRequest(BaseModel):
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
    thread_ids: list[str]


async def prune_threads(
    agent: LangGraphClient, user: str, request: PruneRequest, now: datetime | None = None
) -> PruneResult:
    cutoff = (now or datetime.now(UTC)) - timedelta(minutes=request.older_than_minutes)
    chosen: list[str] = []
    metadata = {"workflow_id": request.workflow_id} if request.workflow_id else None
    async for thread in oldest_first(agent, user, metadata=metadata, max_threads=request.limit * 2):
        if datetime.fromisoformat(str(thread["updated_at"])) >= cutoff:
            break  # oldest first: the rest are newer
        if thread["status"] != "busy":
            chosen.append(thread["thread_id"])
        if len(chosen) >= request.limit:
            break
    strategy: PruneStrategy = "keep_latest" if request.keep_latest_checkpoint else "delete"
    if chosen and not request.dry_run:
        await agent.threads.prune(chosen, strategy=strategy, headers=as_user(user))
        logger.info("pruned %d threads (%s) not updated since %s", len(chosen), strategy, cutoff)
    return PruneResult(dry_run=request.dry_run, strategy=strategy, cutoff=cutoff, thread_ids=chosen)


async def retention_schedule(agent: LangGraphClient, settings: Settings) -> None:
    """Prune on a timer for as long as the gateway runs; a failed round is logged and retried.

    It acts as the system identity, which the Agent Server lets see every user's threads.
    """
    assert settings.retention_ttl_minutes is not None
    request = PruneRequest(
        older_than_minutes=settings.retention_ttl_minutes,
        dry_run=False,
        keep_latest_checkpoint=settings.retention_keep_latest_checkpoint,
    )
    while True:
        try:
            await prune_threads(agent, SYSTEM_USER, request)
        except Exception:
            logger.exception("scheduled prune failed; trying again next round")
        await asyncio.sleep(settings.retention_interval_minutes * 60)
