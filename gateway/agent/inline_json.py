"""JSON for the Agent Server's answers decoded in the event loop when small.

langgraph-sdk encodes every request body and decodes every response with
`loop.run_in_executor(None, orjson.loads | orjson.dumps, ...)`: a hand-off to a thread
and back per call, about a seventh of the gateway's CPU for a thread read (py-spy,
bench/README.md). For a body of a few KiB the hand-off costs more than the work. This
default executor decodes answers of up to 64 KiB inline and encodes request bodies
inline (the gateway's own, at most `THREADGATE_MAX_BODY_BYTES`: about 1 ms for 1 MB),
and hands everything else (larger answers, `getaddrinfo`, any other caller) to a normal
thread pool. Installed on the gateway's event loop for the app's lifetime. It keys on
how the SDK's private `_adecode_json` / `_aencode_json` call the executor:
tests/unit/test_inline_json_sdk.py fails when an SDK release changes that.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import orjson

# Decoding runs at roughly 1 GB/s: 64 KiB is some 60 µs, below a thread hand-off.
INLINE_BYTES = 64 * 1024


class InlineSmallJson(ThreadPoolExecutor):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if _small_json_work(fn, args):
            done: Future[Any] = Future()
            try:
                done.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to the awaiting caller, as a pool would
                done.set_exception(exc)
            return done
        return super().submit(fn, *args, **kwargs)


def _small_json_work(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    if fn is orjson.loads:
        return len(args) == 1 and isinstance(args[0], bytes | str) and len(args[0]) <= INLINE_BYTES
    # Request bodies are ours and bounded by the gateway's own body limit.
    return fn is orjson.dumps


@contextlib.contextmanager
def installed(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """This executor as the loop's default while the app runs; then a plain pool again
    (the loop may outlive the app, as in tests)."""
    executor = InlineSmallJson(thread_name_prefix="gateway")
    loop.set_default_executor(executor)
    try:
        yield
    finally:
        loop.set_default_executor(ThreadPoolExecutor())
        executor.shutdown(wait=False)
