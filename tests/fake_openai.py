"""A tiny OpenAI-compatible chat endpoint on loopback, served by the test session.

The Agent Server's model reaches it through `OPENAI_BASE_URL`, exactly as a real
OpenAI-compatible endpoint would be configured. Step instructions steer it:
`[slow N]` answers after N seconds, `[fail]` answers 400 (a permanent error: never
retried), `[fail once]` answers 400 the first time that exact request is seen and
normally after, `[fail N times]` answers 503 (a transient error: retried) the first N
times that exact request is seen and normally after (`[fail N times with 429]`: that
status instead), `[drop]` closes the connection without an answer (a connection error).
Answers report token usage, counted by `fake_tokens` (the whole conversation in, the
answer out; in a stream, as a last chunk when the client asks for it), except with
`[no usage]`. Every request is recorded, so tests can count how often a step really ran.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackServer

SLOW = re.compile(r"\[slow (\d+(?:\.\d+)?)\]")
FAIL_TIMES = re.compile(r"\[fail (\d+) times?(?: with (\d{3}))?\]")
NO_USAGE = "[no usage]"


def fake_tokens(text: str) -> int:
    """The fake model's token count: one per 4 characters, rounded up."""
    return math.ceil(len(text) / 4)


def usage(prompt: str, answer: str) -> dict[str, int]:
    """The `usage` block of an answer to `prompt` (every message's text, joined)."""
    used, made = fake_tokens(prompt), fake_tokens(answer)
    return {"prompt_tokens": used, "completion_tokens": made, "total_tokens": used + made}


class FakeOpenAI(LoopbackServer):
    def __init__(self) -> None:
        self.requests: list[str] = []
        self._failed_once: set[str] = set()
        self._failures: dict[str, int] = {}
        self.streamed_usage = 0  # streamed answers that ended with a usage chunk
        super().__init__()

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def calls_mentioning(self, marker: str) -> int:
        """How many model calls had `marker` in their last message."""
        with self._lock:
            return sum(marker in last for last in self.requests)

    def _record(self, last: str) -> int | None:
        """Remember the request; the HTTP status it must fail with, if it must."""
        with self._lock:
            self.requests.append(last)
            if "[fail once]" in last and last not in self._failed_once:
                self._failed_once.add(last)
                return 400
            if (times := FAIL_TIMES.search(last)) is not None:
                failed = self._failures.get(last, 0)
                if failed < int(times.group(1)):
                    self._failures[last] = failed + 1
                    return int(times.group(2) or 503)
            return 400 if "[fail]" in last else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                # The agent may give up on a call (a cancelled run): nothing left to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer()

            def _answer(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                last = str(body["messages"][-1].get("content", ""))
                prompt = "\n".join(str(m.get("content", "")) for m in body["messages"])
                fail_with = fake._record(last)
                if (slow := SLOW.search(last)) is not None:
                    time.sleep(float(slow.group(1)))
                if "[drop]" in last:
                    # The endpoint vanishes mid-call: the client sees a connection error.
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fail_with is not None:
                    kind = "invalid_request_error" if fail_with == 400 else "server_error"
                    error = {"message": "step failed on purpose", "type": kind}
                    self._json(fail_with, {"error": error})
                    return
                text = "echo: " + " / ".join(s for s in last.splitlines() if s.strip())[:200]
                used = None if NO_USAGE in last else usage(prompt, text)
                if body.get("stream"):
                    wanted = (body.get("stream_options") or {}).get("include_usage")
                    self._stream(body["model"], text, used if wanted else None)
                else:
                    self._json(200, completion(body["model"], text, used))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model: str, text: str, used: dict[str, int] | None) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                words = text.split(" ")
                pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
                for piece in pieces:
                    self._event(chunk(model, {"content": piece}, None))
                self._event(chunk(model, {}, "stop"))
                if used is not None:  # as OpenAI sends it: a last chunk with no choices
                    self._event({**chunk(model, {}, None), "choices": [], "usage": used})
                    with fake._lock:
                        fake.streamed_usage += 1
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())

        return Handler


def completion(model: str, text: str, used: dict[str, int] | None) -> dict[str, Any]:
    answer = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
    }
    return {**answer, "usage": used} if used is not None else answer


def chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": {"role": "assistant", **delta}, "finish_reason": finish}],
    }
