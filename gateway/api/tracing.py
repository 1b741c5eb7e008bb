"""Traces through the gateway to the Agent Server, sent over OTLP/HTTP when asked for.

On only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
set and `OTEL_SDK_DISABLED` is not `true`. Then OpenTelemetry's FastAPI instrumentation
opens a server span per request and WebSocket (not for the probes and `/metrics`), its
httpx instrumentation a client span per Agent Server call, which carries W3C
`traceparent` to the Agent Server, and a batch processor sends the spans; the standard
`OTEL_*` variables configure the exporter (headers, timeout) and the batching.
`OTEL_SERVICE_NAME` names the service (default `threadgate-gateway`).

Off, nothing is installed and the SDK is not even imported: no cost per request.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gateway.agent.client import request_id

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span

logger = logging.getLogger(__name__)

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
DEFAULT_SERVICE_NAME = "threadgate-gateway"
# Probes and scrapes every few seconds would drown the traces people look for.
UNTRACED_PATHS = ("/healthz", "/readyz", "/metrics")
REQUEST_ID_ATTRIBUTE = "threadgate.request_id"


def exporting(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process sends traces: an OTLP endpoint is set, the SDK not disabled."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def _untraced_urls() -> str:
    # The instrumentor searches each regex in the whole URL: anchor them to the path.
    return ",".join(f"^[a-z]+://[^/]+{re.escape(path)}$" for path in UNTRACED_PATHS)


def _name_request(span: Span, _scope: dict[str, Any]) -> None:
    # Lets a trace be found from the id a caller quotes (the log's and the response's).
    current = request_id.get()
    if current is not None and span.is_recording():
        span.set_attribute(REQUEST_ID_ATTRIBUTE, current)


class Tracing:
    """This process's tracer provider, what it instruments, and its final flush."""

    def __init__(self, exporter: SpanExporter) -> None:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        # OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES, else ours.
        resource = Resource.create()
        if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
            resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
        self.service_name = str(resource.attributes[SERVICE_NAME])
        self.provider: TracerProvider = TracerProvider(resource=resource)
        self.provider.add_span_processor(BatchSpanProcessor(exporter))

    def instrument_app(self, app: FastAPI) -> None:
        """A server span per request; call before anything wraps the middleware stack."""
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=self.provider,
            excluded_urls=_untraced_urls(),
            server_request_hook=_name_request,
            # No span per ASGI message: a WebSocket streaming a run would send hundreds.
            exclude_spans=["receive", "send"],
        )

    def instrument_client(self, client: httpx.AsyncClient) -> None:
        """A client span per call, with `traceparent`, whichever transport is under it."""
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=self.provider)

    async def shutdown(self) -> None:
        """Send the spans still batched; off the loop, as an exporter may wait on the network."""
        await asyncio.to_thread(self.provider.shutdown)


def setup_tracing(app: FastAPI) -> Tracing | None:
    """Trace `app`'s requests if an OTLP endpoint is set (None, and nothing done, if not).

    The Agent Server client is made later, in the lifespan: it is handed to
    `Tracing.instrument_client` there.
    """
    if not exporting():
        logger.info("tracing off (set OTEL_EXPORTER_OTLP_ENDPOINT to export traces)")
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # Configured by the standard variables, as are the batching and the resource.
    tracing = Tracing(OTLPSpanExporter())
    tracing.instrument_app(app)
    endpoint = next(os.environ[v] for v in ENDPOINT_VARIABLES if os.environ.get(v, "").strip())
    logger.info(
        "tracing on: spans of %s exported over OTLP/HTTP to %s",
        tracing.service_name,
        _without_credentials(endpoint.strip()),
    )
    return tracing


def _without_credentials(url: str) -> str:
    # Exporters take credentials in OTEL_EXPORTER_OTLP_HEADERS, but a URL may hold some.
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
