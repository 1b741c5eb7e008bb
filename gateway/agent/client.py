"""The one Agent Server client of this process, and who each call acts for.

Every call names its user explicitly (`as_user`), carried next to the service key;
the client refuses to send a call that names nobody, so a forgotten user fails loudly
instead of acting for the wrong person. Each call also carries the id of the request it
is made for (`request_id`, set by the HTTP face), so one id follows a request through
the gateway's log and the Agent Server's.
"""

from __future__ import annotations

from contextvars import ContextVar

import httpx
from langgraph_sdk.client import LangGraphClient

from agents.contract import SERVICE_KEY_HEADER, USER_HEADER
from gateway.agent.transport import AgentServerTransport
from gateway.settings import Settings

REQUEST_ID_HEADER = "x-request-id"
# The id of the request being served in this context (None outside one: the scheduled
# prune, start-up). Set by `gateway.api.observe`; read by each Agent Server call and log line.
request_id: ContextVar[str | None] = ContextVar("threadgate_request_id", default=None)


def as_user(user: str) -> dict[str, str]:
    """Headers that make an Agent Server call act for `user` (the gateway verified them)."""
    return {USER_HEADER: user}


def connect(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> LangGraphClient:
    """The Agent Server client, opened once in the app's lifespan.

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
        transport=transport or _transport(settings),
        timeout=httpx.Timeout(settings.agent_timeout_seconds, connect=5),
        headers=headers,
        event_hooks={"request": [_before_each_call]},
    )
    return LangGraphClient(http)


def _transport(settings: Settings) -> httpx.AsyncBaseTransport:
    # Every open WebSocket holds one Agent Server stream; a pool of 100 would make the
    # 101st wait (and time out).
    limits = httpx.Limits(
        max_connections=settings.agent_max_connections, max_keepalive_connections=100
    )
    if settings.agent_transport == "httpx":
        return httpx.AsyncHTTPTransport(retries=settings.agent_connect_retries, limits=limits)
    return AgentServerTransport(retries=settings.agent_connect_retries, limits=limits)


async def _before_each_call(request: httpx.Request) -> None:
    if not request.url.path.endswith("/ok") and not request.headers.get(USER_HEADER):
        # The liveness probe acts for nobody; everything else must say who it is for.
        raise RuntimeError(f"refusing to call the Agent Server for nobody: {request.url.path}")
    current = request_id.get()
    if current is not None:
        request.headers[REQUEST_ID_HEADER] = current
