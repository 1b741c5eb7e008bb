"""The gateway over an injected mock Agent Server transport, for error paths."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.agent.client import connect
from gateway.api.app import create_app
from gateway.settings import Settings

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeAgent:
    """Answers each request with `handler` and remembers what was asked."""

    handler: Handler = lambda _request: httpx.Response(500)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.url.path) for r in self.requests]


@pytest.fixture
def agent() -> FakeAgent:
    return FakeAgent()


ALICE_KEY = "alice-key-0123456789"
BOB_KEY = "bob-key-0123456789"
SERVICE_KEY = "service-key-0123456789"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        _env_file=None,
        max_body_bytes=20_000,
        service_key=SERVICE_KEY,
        api_keys={
            "alice": "sha256:" + hashlib.sha256(ALICE_KEY.encode()).hexdigest(),
            "bob": BOB_KEY,
        },
    )


@pytest.fixture
def client(agent: FakeAgent, settings: Settings) -> Iterator[TestClient]:
    # The production client over a mock transport: headers and fail-closed checks included.
    sdk = connect(settings, transport=httpx.MockTransport(agent))
    app = create_app(settings, agent=sdk)
    with TestClient(
        app, raise_server_exceptions=False, headers={"X-API-Key": ALICE_KEY}
    ) as test_client:
        yield test_client
