"""The FastAPI application: wiring only. Routes live in `gateway.api.routes`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from langgraph_sdk.client import LangGraphClient

from gateway.agent import inline_json
from gateway.agent.client import connect
from gateway.api.auth import Authenticator, announce
from gateway.api.body_limit import BodySizeLimit
from gateway.api.errors import install_error_handlers
from gateway.api.metrics import process_ended
from gateway.api.monitor import monitor_files, to_monitor
from gateway.api.observe import Observe
from gateway.api.openapi import openapi_document
from gateway.api.query import only_declared_query
from gateway.api.routes import (
    admin,
    control,
    health,
    library,
    maintenance,
    metrics,
    oversight,
    schedules,
    stream,
    threads,
    workflow,
)
from gateway.api.tracing import setup_tracing
from gateway.api.watching import Watching
from gateway.settings import Settings, get_settings
from gateway.threads.retention import retention_schedule

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, agent: LangGraphClient | None = None) -> FastAPI:
    """Build the app; tests pass their own settings and a client over a mock transport."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Small JSON from the Agent Server is decoded on the loop while the app runs.
        with inline_json.installed(asyncio.get_running_loop()):
            owned = agent is None
            app.state.agent = agent or connect(settings)
            if tracing is not None:
                tracing.instrument_client(app.state.agent.http.client)
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
                    # Awaited, so no prune is cut off mid-call by the client closing below.
                    with contextlib.suppress(asyncio.CancelledError):
                        await retention
                if owned:
                    await app.state.agent.aclose()
                if tracing is not None:
                    await tracing.shutdown()
                process_ended()

    app = FastAPI(
        title="Threadgate",
        version="0.1.0",
        summary="Run, stream and manage durable AI workflows on LangGraph Platform.",
        lifespan=lifespan,
        dependencies=[Depends(only_declared_query)],
    )
    app.state.settings = settings
    app.state.authenticator = Authenticator(settings)
    app.state.watching = Watching()
    announce(settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    # Before Observe wraps the stack: the instrumentor expects Starlette's own stack.
    tracing = setup_tracing(app)
    # Outermost, around even the server-error handler: its log line and 500 get the id too.
    inner, counted = app.build_middleware_stack, settings.metrics != "off"
    app.build_middleware_stack = lambda: Observe(inner(), metrics=counted)  # type: ignore[method-assign]
    # The busiest reads first: FastAPI tries routes in order (maintenance before threads,
    # so `/api/threads/failed` is not read as a thread id).
    routers = (
        health,
        maintenance,
        threads,
        workflow,
        control,
        library,
        schedules,
        oversight,
        admin,
    )
    for module in (*routers, stream):
        app.include_router(module.router)
    if settings.metrics != "off":
        app.include_router(metrics.router)
    app.mount("/ui", monitor_files(), name="monitor")
    app.add_api_route("/", to_monitor, include_in_schema=False)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    return app
