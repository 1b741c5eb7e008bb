"""Traces on the real stack: a gateway with `OTEL_EXPORTER_OTLP_ENDPOINT` set sends the
spans of an execute, over OTLP/HTTP, to a loopback collector; one trace holds the
request's server span and, under it, a client span per Agent Server call; the gateway's
log line for the request names that trace next to the request id."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from gateway.api.tracing import REQUEST_ID_ATTRIBUTE
from tests.integration.conftest import Stack, start_test_gateway
from tests.integration.helpers import ALICE, marker, react_flow, stream_frames
from tests.integration.test_observability import logged
from tests.loopback import LoopbackServer
from tools.launcher import stop

SERVICE = "threadgate-gateway-under-test"


@dataclass(frozen=True)
class Received:
    """One span as the collector got it, with its service's name."""

    service: str
    span: Span

    @property
    def trace_id(self) -> str:
        return self.span.trace_id.hex()

    def attribute(self, key: str) -> str | None:
        for pair in self.span.attributes:
            if pair.key == key:
                return str(pair.value.string_value)
        return None


class OtlpCollector(LoopbackServer):
    """An OTLP/HTTP trace receiver on loopback: keeps every span POSTed to /v1/traces."""

    def __init__(self) -> None:
        self.spans: list[Received] = []
        super().__init__()

    def wait_for(self, found: Callable[[Received], bool], timeout: float = 15) -> Received:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                hits = [r for r in self.spans if found(r)]
            if hits:
                return hits[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no such span among {len(self.spans)} received")
            time.sleep(0.05)

    def in_trace(self, trace_id: str) -> list[Received]:
        with self._lock:
            return [r for r in self.spans if r.trace_id == trace_id]

    def names(self, service: str) -> set[str]:
        with self._lock:
            return {r.span.name for r in self.spans if r.service == service}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                ok = self.path == "/v1/traces"
                if ok:
                    export = ExportTraceServiceRequest.FromString(body)
                    with collector._lock:
                        for resource_spans in export.resource_spans:
                            service = next(
                                a.value.string_value
                                for a in resource_spans.resource.attributes
                                if a.key == "service.name"
                            )
                            for scope_spans in resource_spans.scope_spans:
                                collector.spans.extend(
                                    Received(service, span) for span in scope_spans.spans
                                )
                answer = ExportTraceServiceResponse().SerializeToString()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(200 if ok else 404)
                    self.send_header("content-type", "application/x-protobuf")
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)

        return Handler


@pytest.fixture(scope="module")
def collector() -> Iterator[OtlpCollector]:
    receiver = OtlpCollector().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="module")
def traced_gateway(stack: Stack, collector: OtlpCollector) -> Iterator[str]:
    """A gateway on the session's Agent Server, exporting to the collector every 0.1 s,
    with request lines on (so the request's own line can be found)."""
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.origin,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_SERVICE_NAME": SERVICE,
        "THREADGATE_REQUEST_LOGS": "true",
    }
    proc, url = start_test_gateway(stack.agent_url, stack.logs, "gateway-traced", env)
    try:
        yield url
    finally:
        stop(proc)


def _is_server_span(name: str, request_id: str) -> Callable[[Received], bool]:
    def found(received: Received) -> bool:
        return (
            received.span.kind == Span.SPAN_KIND_SERVER
            and received.span.name == name
            and received.attribute(REQUEST_ID_ATTRIBUTE) == request_id
        )

    return found


def _agent_server_calls(collector: OtlpCollector, server: Received) -> list[Received]:
    """The client spans under `server`: one per Agent Server call made for it."""
    return [
        r
        for r in collector.in_trace(server.trace_id)
        if r.span.kind == Span.SPAN_KIND_CLIENT and r.span.parent_span_id == server.span.span_id
    ]


async def test_one_execute_is_one_trace_through_the_gateway_to_the_agent_server(
    stack: Stack, collector: OtlpCollector, traced_gateway: str
):
    rid = f"traced-{uuid.uuid4().hex}"
    async with httpx.AsyncClient(base_url=traced_gateway, headers=ALICE, timeout=30) as client:
        response = await client.post(
            "/api/workflow/execute",
            json={"workflow_json": react_flow(marker(), steps=1)},
            headers={"X-Request-ID": rid},
        )
    assert response.status_code == 202, response.text

    server = await asyncio.to_thread(
        collector.wait_for, _is_server_span("POST /api/workflow/execute", rid)
    )
    assert server.service == SERVICE
    # A thread made and a run started, at least: each its own call, under the request.
    calls = _agent_server_calls(collector, server)
    assert len(calls) >= 2, [c.span.name for c in collector.in_trace(server.trace_id)]
    urls = [c.attribute("url.full") or c.attribute("http.url") or "" for c in calls]
    assert all(url.startswith(stack.agent_url) for url in urls), urls
    assert any(url.endswith("/runs") for url in urls), urls

    # The request's own log line (uvicorn's access line) names both ids.
    line = await logged(
        stack.logs / "gateway-traced.log", f"[{rid}] [trace {server.trace_id}]", "POST /api/"
    )
    assert "202" in line


async def test_a_streamed_execute_is_traced_and_streams_to_its_end(
    stack: Stack, collector: OtlpCollector, traced_gateway: str
):
    rid = f"traced-ws-{uuid.uuid4().hex}"
    ws_url = traced_gateway.replace("http://", "ws://") + "/api/workflow/execute/stream"
    payload = {"workflow_json": react_flow(marker(), steps=2)}
    frames = await stream_frames(ws_url, payload, {**ALICE, "X-Request-ID": rid})
    assert frames[-1]["type"] == "end", frames[-1]

    route = "HTTP /api/workflow/execute/stream"
    server = await asyncio.to_thread(collector.wait_for, _is_server_span(route, rid))
    assert len(_agent_server_calls(collector, server)) >= 2


def test_probes_and_scrapes_are_not_traced(collector: OtlpCollector, traced_gateway: str):
    rid = f"traced-after-probes-{uuid.uuid4().hex}"
    with httpx.Client(base_url=traced_gateway, headers=ALICE, timeout=30) as client:
        for path in ("/healthz", "/readyz", "/metrics"):
            assert client.get(path).status_code == 200
        assert client.get("/api/threads", headers={"X-Request-ID": rid}).status_code == 200
    # Spans are exported in the order they end: the probes' would have come first.
    collector.wait_for(_is_server_span("GET /api/threads", rid))
    names = collector.names(SERVICE)
    assert not {"GET /healthz", "GET /readyz", "GET /metrics"} & names, names
