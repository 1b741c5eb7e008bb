"""A tiny OpenAI-compatible chat endpoint on loopback, served by the test session.

The Agent Server's model reaches it through `OPENAI_BASE_URL`, exactly as a real
OpenAI-compatible endpoint would be configured. Step instructions steer it:
`[slow N]` answers after N seconds, `[fail]` answers 400 (not retried by the client),
`[fail once]` answers 400 the first time that exact request is seen and normally after,
`[drop]` closes the connection without an answer (a connection error).
Every request is recorded, so tests can count how often a step really ran.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackServer

SLOW = re.compile(r"\[slow (\d+(?:\.\d+)?)\]")


class FakeOpenAI(LoopbackServer):
    def __init__(self) -> None:
        self.requests: list[str] = []
        self._failed_once: set[str] = set()
        super().__init__()

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def calls_mentioning(self, marker: str) -> int:
        """How many model calls had `marker` in their last message."""
        with self._lock:
            return sum(marker in last for last in self.requests)

    def _record(self, last: str) -> bool:
        """Remember the request; True if it must fail."""
        with self._lock:
            self.requests.append(last)
            if "[fail once]" in last and last not in self._failed_once:
                self._failed_once.add(last)
                return True
            return "[fail]" in last

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
                must_fail = fake._record(last)
                if (slow := SLOW.search(last)) is not None:
                    time.sleep(float(slow.group(1)))
                if "[drop]" in last:
                    # The endpoint vanishes mid-call: the client sees a connection error.
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if must_fail:
                    self._json(
                        400,
                        {
                            "error": {
                                "message": "step failed on purpose",
                                "type": "invalid_request_error",
                            }
                        },
                    )
                    return
                text = "echo: " + " / ".join(s for s in last.splitlines() if s.strip())[:200]
                if body.get("stream"):
                    self._stream(body["model"], text)
                else:
                    self._json(200, completion(body["model"], text))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model: str, text: str) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                words = text.split(" ")
                pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
                for piece in pieces:
                    self._event(chunk(model, {"content": piece}, None))
                self._event(chunk(model, {}, "stop"))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())

        return Handler


def completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": {"role": "assistant", **delta}, "finish_reason": finish}],
    }
