"""Tracing: off (nothing installed, nothing imported) without an OTLP endpoint; on, a
server span per request over a client span per Agent Server call, whose `traceparent`
reaches the Agent Server whichever transport is under the client, and log lines that
name the trace."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http import trace_exporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.agent.client import connect
from gateway.api.app import create_app
from gateway.api.logs import UVICORN_LOGGERS, configure_logging
from gateway.api.tracing import REQUEST_ID_ATTRIBUTE, Tracing, exporting
from gateway.settings import Settings
from tests.loopback import LoopbackServer

ALICE_KEY = "alice-key-0123456789"
THREAD = "01a204ae-a289-7477-8bfd-4c37e06457e1"
ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def settings(**overrides: Any) -> Settings:
    return Settings(
        _env_file=None,
        service_key="service-key-0123456789",
        api_keys={"alice": "sha256:" + hashlib.sha256(ALICE_KEY.encode()).hexdigest()},
        **overrides,
    )


class Agent:
    """A mock Agent Server: answers `status` to everything, keeps each request."""

    def __init__(self, status: int = 404) -> None:
        self.status = status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json={"detail": "no"})


@pytest.fixture
def untraced(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*ENDPOINTS, "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """Tracing on (an endpoint nobody listens on), its exporter swapped for memory."""
    for name in ("OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    memory = InMemorySpanExporter()
    monkeypatch.setattr(trace_exporter, "OTLPSpanExporter", lambda: memory)
    return memory


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Undoes `configure_logging` after the test."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    uvicorn = {
        n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate)
        for n in UVICORN_LOGGERS
    }
    try:
        yield
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, (handlers, propagate) in uvicorn.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate


def test_only_an_otlp_endpoint_turns_tracing_on():
    assert not exporting({})
    assert not exporting({"OTEL_EXPORTER_OTLP_ENDPOINT": " "})
    assert exporting({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert exporting({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"})
    disabled = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}
    assert not exporting(disabled)


def test_without_an_endpoint_nothing_is_installed(untraced: None):
    agent = Agent()
    app = create_app(settings(), agent=connect(settings(), transport=httpx.MockTransport(agent)))
    with TestClient(app, headers={"X-API-Key": ALICE_KEY}) as client:
        assert client.get(f"/api/threads/{THREAD}").status_code == 404
    assert agent.requests and "traceparent" not in agent.requests[0].headers
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    assert not isinstance(trace.get_tracer_provider(), _sdk_provider())


def test_without_an_endpoint_the_sdk_is_not_even_imported():
    """Zero cost when off: a fresh process that builds the app loads no SDK, exporter
    or instrumentation module (the OpenTelemetry API comes in with langchain-core)."""
    script = textwrap.dedent(
        """
        import os, sys
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
            os.environ.pop(name, None)
        from gateway.api.app import create_app
        from gateway.api.logs import configure_logging
        from gateway.settings import Settings
        configure_logging("INFO", "text")
        create_app(Settings(_env_file=None, service_key="s" * 20, api_keys={"a": "k" * 16}))
        heavy = ("opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.instrumentation")
        print(sorted(m for m in sys.modules if m.startswith(heavy)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stdout
    assert "tracing off" in done.stderr


def _sdk_provider() -> type:
    from opentelemetry.sdk.trace import TracerProvider

    return TracerProvider


def traceparent(span: ReadableSpan) -> str:
    """The W3C header a call made in `span` carries (version 00)."""
    context = span.context
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def _one(spans: list[ReadableSpan], kind: SpanKind) -> ReadableSpan:
    [span] = [s for s in spans if s.kind == kind]
    return span


def test_a_request_is_a_server_span_over_client_spans_that_carry_traceparent(
    spans: InMemorySpanExporter,
):
    agent = Agent()
    app = create_app(settings(), agent=connect(settings(), transport=httpx.MockTransport(agent)))
    with TestClient(app, headers={"X-API-Key": ALICE_KEY}) as client:
        response = client.get(f"/api/threads/{THREAD}", headers={"X-Request-ID": "traced-1"})
        assert response.status_code == 404
        assert client.get("/healthz").status_code == 200
    # The lifespan's end flushed the batch.
    finished = spans.get_finished_spans()
    server = _one(list(finished), SpanKind.SERVER)
    assert server.name == "GET /api/threads/{thread_id}"
    assert server.resource.attributes["service.name"] == "threadgate-gateway"
    assert server.attributes is not None
    assert server.attributes[REQUEST_ID_ATTRIBUTE] == "traced-1"
    clients = [s for s in finished if s.kind == SpanKind.CLIENT]
    assert len(clients) == len(agent.requests) >= 1
    for span, request in zip(clients, agent.requests, strict=True):
        assert span.parent is not None and span.parent.span_id == server.context.span_id
        assert span.context.trace_id == server.context.trace_id
        assert request.headers["traceparent"] == traceparent(span)
        assert request.headers["x-request-id"] == "traced-1"
    # Probes are not traced: the only server span is the request's.
    assert [s.name for s in finished if s.kind == SpanKind.SERVER] == [server.name]


def test_a_websocket_is_traced_and_still_works(spans: InMemorySpanExporter):
    agent = Agent()
    app = create_app(settings(), agent=connect(settings(), transport=httpx.MockTransport(agent)))
    with (
        TestClient(app, headers={"X-API-Key": ALICE_KEY}) as client,
        client.websocket_connect(f"/api/threads/{THREAD}/stream") as ws,
    ):
        assert ws.receive_json()["error"] == "not_found"
    finished = list(spans.get_finished_spans())
    server = _one(finished, SpanKind.SERVER)
    assert server.name == "HTTP /api/threads/{thread_id}/stream"
    # One span for the socket's whole life, none per message sent.
    assert not [s for s in finished if s.kind == SpanKind.INTERNAL]
    assert agent.requests and all("traceparent" in r.headers for r in agent.requests)
    assert all(s.context.trace_id == server.context.trace_id for s in finished)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_log_line_names_the_trace_next_to_the_request(
    spans: InMemorySpanExporter,
    restored_logging: None,
    capsys: pytest.CaptureFixture[str],
    log_format: str,
):
    configure_logging("INFO", log_format)  # on: the endpoint is set
    # The error handler logs the Agent Server's 500, inside the request's span.
    agent = Agent(status=500)
    app = create_app(settings(), agent=connect(settings(), transport=httpx.MockTransport(agent)))
    with TestClient(app, headers={"X-API-Key": ALICE_KEY}) as client:
        client.get(f"/api/threads/{THREAD}", headers={"X-Request-ID": "logged-1"})
    logging.getLogger("gateway.test").warning("outside any request")
    trace_id = f"{_one(list(spans.get_finished_spans()), SpanKind.SERVER).context.trace_id:032x}"
    err = capsys.readouterr().err
    if log_format == "text":
        assert f"gateway.api.errors [logged-1] [trace {trace_id}]: agent server answered" in err
        assert " WARNING gateway.test [-] [trace -]: outside any request" in err
    else:
        lines = [json.loads(line) for line in err.splitlines()]
        failure = next(line for line in lines if "agent server answered" in line["message"])
        assert failure["request_id"] == "logged-1" and failure["trace_id"] == trace_id
        outside = next(line for line in lines if line["message"] == "outside any request")
        assert outside["trace_id"] is None


class HeaderRecorder(LoopbackServer):
    """A stand-in Agent Server on loopback: answers `/ok`, keeps each request's headers."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                with recorder._lock:
                    recorder.headers.append({k.lower(): v for k, v in self.headers.items()})
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_traceparent_reaches_the_agent_server_over_either_transport(transport: str):
    server = HeaderRecorder().start()
    memory = InMemorySpanExporter()
    tracing = Tracing(memory)
    sdk = connect(settings(agent_url=server.origin, agent_transport=transport))
    try:
        tracing.instrument_client(sdk.http.client)
        assert await sdk.http.get("/ok") == {"ok": True}
    finally:
        await sdk.aclose()
        await tracing.shutdown()
        server.stop()
    [span] = memory.get_finished_spans()
    assert span.kind == SpanKind.CLIENT
    [headers] = server.headers
    assert headers["traceparent"] == traceparent(span)
