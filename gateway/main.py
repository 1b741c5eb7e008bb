"""The FastAPI application: wiring only. Routes live in `gateway.routes`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from langgraph_sdk.client import LangGraphClient

from agents.contract import SERVICE_KEY_HEADER, USER_HEADER
from gateway.auth import Authenticator, announce, current_user
from gateway.body_limit import BodySizeLimit
from gateway.errors import install_error_handlers
from gateway.retention import retention_schedule
from gateway.routes import control, health, maintenance, stream, threads, workflow
from gateway.settings import Settings, get_settings
from gateway.workflow_format import workflow_document

logger = logging.getLogger(__name__)


def agent_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> LangGraphClient:
    """The one Agent Server client of this process.

    Built by hand rather than with `get_client`, whose transport retries a refused
    connection five times with back-off: a caller would wait ~8 s for a 503.
    """
    headers = {
        "user-agent": "threadgate-gateway",
        SERVICE_KEY_HEADER: settings.service_key.get_secret_value(),
    }
    if settings.agent_api_key is not None:
        headers["x-api-key"] = settings.agent_api_key.get_secret_value()
    http = httpx.AsyncClient(
        base_url=str(settings.agent_url).rstrip("/"),
        transport=transport
        or httpx.AsyncHTTPTransport(
            retries=settings.agent_connect_retries,
            # Every open WebSocket holds one Agent Server stream; the default pool of 100
            # would make the 101st wait (and time out).
            limits=httpx.Limits(
                max_connections=settings.agent_max_connections, max_keepalive_connections=100
            ),
        ),
        timeout=httpx.Timeout(settings.agent_timeout_seconds, connect=5),
        headers=headers,
        event_hooks={"request": [forward_user]},
    )
    return LangGraphClient(http)


async def forward_user(request: httpx.Request) -> None:
    """Every Agent Server call carries the verified user; without one it is not made."""
    if request.url.path == "/ok":
        return  # the liveness probe acts for nobody
    user = current_user.get()
    if user is None:
        raise RuntimeError(f"refusing to call the Agent Server without a user: {request.url.path}")
    request.headers[USER_HEADER] = user


def create_app(settings: Settings | None = None, agent: LangGraphClient | None = None) -> FastAPI:
    """Build the app; tests pass their own settings and a client over a mock transport."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = agent is None
        app.state.agent = agent or agent_client(settings)
        retention = None
        if settings.retention_ttl_minutes is not None:
            retention = asyncio.create_task(retention_schedule(app.state.agent, settings))
            logger.info(
                "pruning threads idle for %s min every %s min",
                settings.retention_ttl_minutes,
                settings.retention_interval_minutes,
            )
        logger.info("gateway ready; agent server at %s", settings.agent_url)
        try:
            yield
        finally:
            if retention is not None:
                retention.cancel()
            if owned:
                await app.state.agent.aclose()

    app = FastAPI(
        title="Threadgate",
        version="0.1.0",
        summary="Run, stream and manage durable AI workflows on LangGraph Platform.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.authenticator = Authenticator(settings)
    announce(settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    for module in (health, workflow, stream, maintenance, threads, control):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema plus the accepted workflow formats as `WorkflowDocument`."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        formats = workflow_document.json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(formats.pop("$defs", {}))
        components["WorkflowDocument"] = formats
        app.openapi_schema = schema
    return app.openapi_schema


def app() -> FastAPI:
    """Factory for `uvicorn --factory gateway.main:app`."""
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return create_app(settings)
