"""Receives the Agent Server's completion webhooks on loopback, as a team's endpoint would.

The test Agent Server's configuration allows loopback webhook URLs (production's
refuses them); every POST is kept, by path, for the tests to read.
"""

from __future__ import annotations

import contextlib
import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackServer


class WebhookReceiver(LoopbackServer):
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        super().__init__()

    def url(self, path: str) -> str:
        return f"{self.origin}/{path.lstrip('/')}"

    def posts_to(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for at, body in self.received if at == "/" + path.lstrip("/")]

    def wait_for(self, path: str, count: int = 1, timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(found := self.posts_to(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} webhook(s) at /{path}, wanted {count}")
            time.sleep(0.1)
        return found

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with receiver._lock:
                    receiver.received.append((self.path, body))
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(204)
                    self.end_headers()

        return Handler
