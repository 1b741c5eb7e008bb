"""The gateway over an injected mock Agent Server transport, for error paths."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi.testclient import TestClient
from langgraph_sdk.client import LangGraphClient

from gateway.main import create_app
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


@pytest.fixture
def settings() -> Settings:
    return Settings(max_body_bytes=20_000, _env_file=None)


@pytest.fixture
def client(agent: FakeAgent, settings: Settings) -> Iterator[TestClient]:
    transport = httpx.MockTransport(agent)
    sdk = LangGraphClient(httpx.AsyncClient(transport=transport, base_url="http://agent"))
    with TestClient(create_app(settings, agent=sdk), raise_server_exceptions=False) as test_client:
        yield test_client
