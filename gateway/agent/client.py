"""The one Agent Server client of this process, and who each call acts for.

Every call names who it acts for explicitly (`as_user`, an `Actor`: a person in their
own space or in a team's, with their role there), carried next to the service key;
the client refuses to send a call that names nobody, so a forgotten user fails loudly
instead of acting for the wrong person. Each call also carries the id of the request it
is made for (`request_id`, set by the HTTP face), so one id follows a request through
the gateway's log and the Agent Server's.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

import httpx
from langgraph_sdk.client import LangGraphClient

from agents.contract import SERVICE_KEY_HEADER, SYSTEM_USER, USER_HEADER
from agents.teams import (
    LEAST_ROLE,
    ROLE_HEADER,
    TEAM_HEADER,
    Ability,
    Role,
    may,
    refusal,
    team_owner,
)
from gateway.agent.transport import AgentServerTransport
from gateway.errors import Forbidden
from gateway.settings import Settings

REQUEST_ID_HEADER = "x-request-id"
IDLE_CONNECTION_SECONDS = 2.0
# The id of the request being served in this context (None outside one: the scheduled
# prune, start-up). Set by `gateway.api.observe`; read by each Agent Server call and log line.
request_id: ContextVar[str | None] = ContextVar("threadgate_request_id", default=None)


@dataclass(frozen=True)
class Actor:
    """Who a call acts for: a person, in their own space (no team) or in a team's, with
    the role the gateway found for them there."""

    person: str
    team: str | None = None
    role: Role | None = None

    @property
    def owner(self) -> str:
        """The owner label of the space acted in: what the Agent Server stamps on what
        is made there and filters every read by, and what library ids derive from."""
        return team_owner(self.team) if self.team else self.person

    def may(self, ability: Ability) -> bool:
        return self.team is None or may(self.role, ability)

    def require(self, ability: Ability) -> None:
        """Refuse (403 `forbidden`, naming the role needed) what their role does not allow."""
        if self.team is not None and self.role is not None and not may(self.role, ability):
            raise Forbidden(
                refusal(ability, self.team, self.role),
                {"team": self.team, "role": self.role.value, "needs": LEAST_ROLE[ability].value},
            )

    def __str__(self) -> str:
        return f"{self.person} in {self.team}" if self.team else self.person


# The gateway's own maintenance (scheduled retention, audit writes), across all spaces.
SYSTEM = Actor(SYSTEM_USER)


def as_user(user: Actor) -> dict[str, str]:
    """Headers that make an Agent Server call act for `user` (the gateway verified them)."""
    if user.team is None or user.role is None:
        return {USER_HEADER: user.person}
    return {USER_HEADER: user.person, TEAM_HEADER: user.team, ROLE_HEADER: user.role.value}


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
        max_connections=settings.agent_max_connections,
        max_keepalive_connections=100,
        # Shorter than the Agent Server's own idle timeout (uvicorn's 5 s): a connection
        # it is closing must not be handed out for a request (a ReadError, a 503).
        keepalive_expiry=IDLE_CONNECTION_SECONDS,
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
