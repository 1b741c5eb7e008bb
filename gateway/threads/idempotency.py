"""`Idempotency-Key`: a request sent again starts nothing, and answers with the
execution the first one started, with nothing kept in the gateway.

A run started with a key is marked with the key's hash and the request's (its
metadata). A new workflow's thread id is derived from the user and the key and claimed
atomically (`threads.create`, `if_exists="raise"`) before its run is created, so one
thread and one run exist however many replicas the retries reach; a request on an
existing thread relies on the Agent Server's `reject` (one run at a time per thread).
The same key with another request is refused. Keys live as long as their threads do.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import APIError, APIStatusError, ConflictError, NotFoundError
from langgraph_sdk.schema import Run, Thread

from gateway.agent.client import SYSTEM, Actor, as_user
from gateway.errors import Conflict, Invalid, KeyReused, OutcomeUnknown
from gateway.threads.executions import (
    IDEMPOTENCY_KEY,
    REQUEST_HASH,
    Execution,
    create_run,
    may_have_acted,
    run_input,
    thread_metadata,
)
from gateway.workflows.parser import WorkflowPlan

# Any fixed UUID: keyed threads' ids are uuid5 under it, of the user and the key's hash.
_KEYED_THREADS = uuid.UUID("7c0f5a52-3f1e-4c8e-9d3b-2a6e1f4b9c07")
# How long a request waits for the run of a thread another request with its key
# claimed before starting that run itself, and for an answer at all.
_CLAIM_GRACE_SECONDS = 3.0
_SETTLE_SECONDS = 10.0
_RUNS_PAGE = 100
_RUNS_SCANNED = 1_000


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class IdempotentRequest:
    """A request sent with an Idempotency-Key, as the hashes its run is marked with.

    `field` names where the key came from (a header or a message field), for errors.
    """

    key_hash: str
    request_hash: str
    field: str = "Idempotency-Key"

    @classmethod
    def of(
        cls, key: str, operation: str, request: Mapping[str, Any], field: str = "Idempotency-Key"
    ) -> IdempotentRequest:
        """`request` is the body as JSON values, without the key; key order does not matter."""
        canonical = json.dumps(
            {"operation": operation, "request": request}, sort_keys=True, separators=(",", ":")
        )
        return cls(key_hash=_sha256(key), request_hash=_sha256(canonical), field=field)

    def thread_id(self, user: Actor) -> str:
        """The thread a keyed execute of a new workflow runs on: one per person, space
        and key (a key sent in one's own space stays one's own, as before teams)."""
        space = user.person if user.team is None else f"{user.owner}\n{user.person}"
        return str(uuid.uuid5(_KEYED_THREADS, f"{space}\n{self.key_hash}"))

    def metadata(self) -> dict[str, Any]:
        return {IDEMPOTENCY_KEY: self.key_hash, REQUEST_HASH: self.request_hash}


async def start_once(
    agent: LangGraphClient,
    user: Actor,
    thread_id: str,
    idempotency: IdempotentRequest,
    start: Callable[[], Awaitable[Execution]],
) -> Execution:
    """The run this key started on the thread, replayed; else `start()`, which marks its run.

    Two requests with one key on an idle thread both miss the first look; the Agent
    Server's `reject` refuses the second run (409), and the second look finds the first.
    """
    found = await find_keyed_run(agent, user, thread_id, idempotency)
    if found is not None:
        return found
    return await _start_or_find(agent, user, thread_id, idempotency, start)


async def _start_or_find(
    agent: LangGraphClient,
    user: Actor,
    thread_id: str,
    idempotency: IdempotentRequest,
    start: Callable[[], Awaitable[Execution]],
) -> Execution:
    try:
        return await start()
    except Conflict:
        # Busy, finished or not waiting: perhaps because this key's run got there first.
        found = await find_keyed_run(agent, user, thread_id, idempotency)
        if found is None:
            raise
        return found


async def find_keyed_run(
    agent: LangGraphClient, user: Actor, thread_id: str, idempotency: IdempotentRequest
) -> Execution | None:
    """The oldest run on the thread marked with this key (newest pages first, up to
    `_RUNS_SCANNED` runs); 422 if it was started by another request."""
    marked: list[Run] = []
    for offset in range(0, _RUNS_SCANNED, _RUNS_PAGE):
        try:
            page = await agent.runs.list(
                thread_id,
                limit=_RUNS_PAGE,
                offset=offset,
                select=["run_id", "created_at", "metadata"],
                headers=as_user(user),
            )
        except NotFoundError:
            return None  # no such thread (yet): nothing ran on it
        marked += [r for r in page if _metadata(r).get(IDEMPOTENCY_KEY) == idempotency.key_hash]
        if marked or len(page) < _RUNS_PAGE:
            break
    if not marked:
        return None
    first = min(marked, key=lambda run: str(run["created_at"]))
    if _metadata(first).get(REQUEST_HASH) != idempotency.request_hash:
        raise KeyReused(idempotency.field)
    return Execution(thread_id=thread_id, run_id=str(first["run_id"]), replayed=True)


def _metadata(item: Run | Thread) -> Mapping[str, Any]:
    metadata = item.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


async def start_on_keyed_thread(
    agent: LangGraphClient,
    user: Actor,
    assistant_id: str,
    plan: WorkflowPlan,
    webhook: str | None,
    idempotency: IdempotentRequest,
) -> Execution:
    """A new workflow's run on the thread derived from the user and the key.

    Whoever claims the thread (an atomic create) starts its run; everyone else with the
    key waits for that run and answers with it. A thread claimed but left without a run
    (its claimer failed) gets its run from the first to have waited `_CLAIM_GRACE_SECONDS`.
    """
    thread_id = idempotency.thread_id(user)
    metadata = {**thread_metadata(plan, webhook), **idempotency.metadata()}
    start = partial(
        create_run,
        agent,
        user,
        assistant_id,
        thread_id,
        input=run_input(plan),
        metadata=metadata,
        webhook=webhook,
        marks=idempotency.metadata(),
    )
    deadline = time.monotonic() + _SETTLE_SECONDS
    while time.monotonic() < deadline:
        if await _claim_thread(agent, user, thread_id, metadata):
            return await _first_run(agent, user, thread_id, idempotency, start)
        claim_seen = time.monotonic()
        while time.monotonic() < deadline:
            try:
                found = await _keyed_thread_run(agent, user, thread_id, idempotency)
                if found is not None:
                    return found
                if time.monotonic() - claim_seen >= _CLAIM_GRACE_SECONDS:
                    return await start()
            except NotFoundError:
                break  # its claimer was refused and let it go: claim it afresh
            except Conflict:
                pass  # someone else just started its run: found on the next look
            await asyncio.sleep(0.1)
    raise OutcomeUnknown(thread_id, "another request with this key has not finished starting")


async def _claim_thread(
    agent: LangGraphClient, user: Actor, thread_id: str, metadata: dict[str, Any]
) -> bool:
    """Create the keyed thread; False if it exists already (someone else claimed it)."""
    try:
        await agent.threads.create(
            thread_id=thread_id, metadata=metadata, if_exists="raise", headers=as_user(user)
        )
    except ConflictError:
        return False
    except httpx.TransportError as exc:
        if not may_have_acted(exc):
            raise
        raise OutcomeUnknown(thread_id) from exc
    return True


async def _first_run(
    agent: LangGraphClient,
    user: Actor,
    thread_id: str,
    idempotency: IdempotentRequest,
    start: Callable[[], Awaitable[Execution]],
) -> Execution:
    """The claimed thread's run; a refusal lets the thread go, so nothing empty is left
    and a retry with the key starts afresh."""
    try:
        return await _start_or_find(agent, user, thread_id, idempotency, start)
    except (APIStatusError, Invalid) as exc:
        if isinstance(exc, APIStatusError) and exc.status_code >= 500:
            raise  # the Agent Server failed: the run may exist, a retry finds out
        with suppress(APIError, httpx.HTTPError):
            # As the gateway: in a team, deleting is the admin's, and this thread is
            # only the claim this request made.
            await agent.threads.delete(thread_id, headers=as_user(SYSTEM))
        raise


async def _keyed_thread_run(
    agent: LangGraphClient, user: Actor, thread_id: str, idempotency: IdempotentRequest
) -> Execution | None:
    """The claimed thread's run, if it has one yet; 422 if another request claimed it."""
    thread = await agent.threads.get(thread_id, headers=as_user(user))
    if _metadata(thread).get(REQUEST_HASH) != idempotency.request_hash:
        raise KeyReused(idempotency.field)
    return await find_keyed_run(agent, user, thread_id, idempotency)
