"""Runs on a thread that waits at an approval, as the Agent Server's auth sees them.

A waiting thread takes exactly one kind of run: a bare answer (`command={"resume":
...}` and nothing else: no input, no state update or goto, no checkpoint to start
from, not delayed; the SDK's default `enqueue` is fine, since nothing runs on a thread
that waits). Answering needs the approver's
role (`agents.auth`), and a four-eyes approval refuses whoever started the thread or
the run that reached it. An answer sent to a thread that is not waiting is refused
too: queued ahead of its question, it would answer it unseen.

The thread is read in process (`agents.loopback`), as the caller, who may read it.
"""

from __future__ import annotations

from typing import Any

from langgraph_sdk import Auth
from langgraph_sdk.errors import NotFoundError

from agents.identity import forbidden
from agents.loopback import loopback

STARTED_BY = "started_by"
NOT_WAITING = "not_waiting"
# What an answer may carry besides its `resume` (the gateway sends none of these).
_NOT_AN_ANSWER = ("input", "update", "goto", "checkpoint_id")


def resumes(value: Any) -> bool:
    """Whether a run asks to resume an interrupt (to answer an approval)."""
    return _command(value).get("resume") is not None


async def check_run_on_thread(value: Any, person: str) -> None:
    """Refuse a run that a waiting thread cannot take, or an answer it cannot take from
    `person`; a run on a thread that does not wait is checked by the role alone."""
    thread_id = value.get("thread_id") if isinstance(value, dict) else None
    answering = resumes(value)
    if thread_id is None:
        if answering:
            raise _not_waiting()
        return
    client = loopback()
    try:
        thread = await client.threads.get(str(thread_id))
    except NotFoundError:
        return  # not found or not theirs: the server's own check answers that
    asks = [
        item.get("value")
        for pending in (thread.get("interrupts") or {}).values()
        for item in pending
        if isinstance(item.get("value"), dict) and "question" in item["value"]
    ]
    if not asks:
        if answering:
            raise _not_waiting()
        return
    if not answering or not _bare(value):
        raise forbidden("a thread waiting at an approval takes only its answer")
    if any(ask.get("four_eyes") for ask in asks):
        starters = {(thread.get("metadata") or {}).get(STARTED_BY)}
        latest_run = await client.runs.list(str(thread_id), limit=1)
        starters |= {(run.get("metadata") or {}).get(STARTED_BY) for run in latest_run}
        if person in starters:
            raise forbidden(
                "four_eyes: this approval must be answered by someone other than who "
                "started the run"
            )


def _command(value: Any) -> dict[str, Any]:
    kwargs = value.get("kwargs") if isinstance(value, dict) else None
    command = kwargs.get("command") if isinstance(kwargs, dict) else None
    return command if isinstance(command, dict) else {}


def _bare(value: Any) -> bool:
    kwargs = value.get("kwargs") or {}
    configurable = (kwargs.get("config") or {}).get("configurable") or {}
    return (
        set(_command(value)) == {"resume"}
        and kwargs.get("input") is None
        and not any(configurable.get(key) for key in _NOT_AN_ANSWER)
        and not value.get("after_seconds")
    )


def _not_waiting() -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(
        status_code=409, detail=f"{NOT_WAITING}: the thread is not waiting for an approval"
    )
