"""Who is calling: API keys or JWT bearer tokens, verified by the gateway, and the
space they act in: their own, or a team's named by `X-Threadgate-Team`.

The user always comes from the credential, never from a body or query; their team
role from `THREADGATE_TEAMS` or their token's teams claim (`agents.teams`), read per
request. Every call to the Agent Server carries the gateway's service credential and
this actor (see `gateway.agent.client`), and the Agent Server's own auth filters and
checks roles by it too. The checks themselves are `agents.credentials` and
`agents.teams`, shared with the Agent Server.
"""

from __future__ import annotations

import logging

from starlette.requests import HTTPConnection

from agents.contract import DEV_USER
from agents.credentials import CredentialVerifier, InvalidCredentials
from agents.teams import TEAM_HEADER, NotAMember, role_in
from gateway.agent.client import Actor
from gateway.api.errors import GatewayError
from gateway.errors import Forbidden
from gateway.settings import Settings

logger = logging.getLogger(__name__)


def unauthorized(message: str) -> GatewayError:
    return GatewayError(401, "unauthorized", message)


class Authenticator:
    """Checks credentials against the configured API keys and JWT settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._verifier = CredentialVerifier(settings)

    async def authenticate(
        self, api_key: str | None, bearer: str | None, team: str | None = None
    ) -> Actor:
        """The caller, acting in `team` if they name one (403 if not a member)."""
        if self.settings.auth_disabled:
            user, claims = DEV_USER, None
        else:
            try:
                user, claims = await self._verifier.identify(api_key, bearer)
            except InvalidCredentials as exc:
                raise unauthorized(str(exc)) from None
        if not team:
            return Actor(user)
        try:
            return Actor(user, team, role_in(team, user, claims, self.settings))
        except NotAMember as exc:
            raise Forbidden(str(exc), {"team": team}) from None


def team(conn: HTTPConnection) -> str | None:
    """The team a request or WebSocket handshake acts in (None: the caller's own space)."""
    return (conn.headers.get(TEAM_HEADER) or "").strip() or None


def credentials(conn: HTTPConnection) -> tuple[str | None, str | None]:
    """The API key and bearer token a request or WebSocket handshake carries."""
    api_key = conn.headers.get("x-api-key")
    scheme, _, token = (conn.headers.get("authorization") or "").partition(" ")
    return api_key, token.strip() if scheme.lower() == "bearer" and token.strip() else None


def announce(settings: Settings) -> None:
    if settings.auth_disabled:
        logger.warning(
            "AUTHENTICATION IS OFF (THREADGATE_AUTH_DISABLED=true): every caller acts as "
            "user '%s'. Development only.",
            DEV_USER,
        )
    else:
        pairs = (("API keys", bool(settings.api_keys)), ("JWT", settings.jwt_configured))
        kinds = [kind for kind, on in pairs if on]
        logger.info("authentication: %s", " and ".join(kinds))
