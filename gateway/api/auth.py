"""Who is calling: API keys or JWT bearer tokens, verified by the gateway.

The user always comes from the credential, never from a body or query. Every call to
the Agent Server carries the gateway's service credential and this user (see
`gateway.agent.client`), and the Agent Server's own auth filters by it too. The
checks themselves are `agents.credentials`, shared with the Agent Server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from agents.credentials import CredentialVerifier, InvalidCredentials
from gateway.api.errors import GatewayError
from gateway.settings import Settings

logger = logging.getLogger(__name__)

DEV_USER = "dev"


@dataclass(frozen=True)
class User:
    id: str


def unauthorized(message: str) -> GatewayError:
    return GatewayError(401, "unauthorized", message)


class Authenticator:
    """Checks credentials against the configured API keys and JWT settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._verifier = CredentialVerifier(settings)

    async def authenticate(self, api_key: str | None, bearer: str | None) -> User:
        if self.settings.auth_disabled:
            return User(DEV_USER)
        try:
            return User(await self._verifier.verify(api_key, bearer))
        except InvalidCredentials as exc:
            raise unauthorized(str(exc)) from None


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
