"""Who is calling: API keys or JWT bearer tokens, verified by the gateway.

The user always comes from the credential, never from a body or query. Every call to
the Agent Server carries the gateway's service credential and this user (see
`agent_client`), and the Agent Server's own auth filters by that user too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jwt
from starlette.requests import HTTPConnection

from gateway.errors import GatewayError
from gateway.settings import Settings

logger = logging.getLogger(__name__)

DEV_USER = "dev"
# The gateway's own maintenance (scheduled retention); `agents.auth` lets it see all users.
SYSTEM_USER = "threadgate:system"
RESERVED_PREFIX = "threadgate:"

# The verified user of the request (or WebSocket) being served; read by the Agent
# Server client, which refuses to call without one.
current_user: ContextVar[str | None] = ContextVar("threadgate_user", default=None)


@dataclass(frozen=True)
class User:
    id: str


def unauthorized(message: str) -> GatewayError:
    return GatewayError(401, "unauthorized", message)


class Authenticator:
    """Checks credentials against the configured API keys and JWT settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._keys = [
            (user, secret.get_secret_value()) for user, secret in settings.api_keys.items()
        ]
        self._jwt_keys = _load_jwt_keys(settings)

    def authenticate(self, api_key: str | None, bearer: str | None) -> User:
        if self.settings.auth_disabled:
            return User(DEV_USER)
        if api_key:
            user = self._by_api_key(api_key)
        elif bearer and self._jwt_keys and bearer.count(".") == 2:
            user = self._by_jwt(bearer)
        elif bearer:
            user = self._by_api_key(bearer)
        else:
            raise unauthorized("credentials required: an X-API-Key header or a bearer token")
        if user.id.startswith(RESERVED_PREFIX):
            # The Agent Server lets the system identity see every user's threads.
            raise unauthorized("this user id is reserved")
        return user

    def _by_api_key(self, presented: str) -> User:
        digest = "sha256:" + hashlib.sha256(presented.encode()).hexdigest()
        found = None
        for user, stored in self._keys:
            # Every key is compared, in constant time, whether or not one matched already.
            candidate = digest if stored.startswith("sha256:") else presented
            if hmac.compare_digest(candidate.encode(), stored.encode()):
                found = user
        if found is None:
            raise unauthorized("invalid API key")
        return User(found)

    def _by_jwt(self, token: str) -> User:
        settings = self.settings
        try:
            header = jwt.get_unverified_header(token)
            key = self._jwt_keys.get(header.get("kid")) or self._jwt_keys.get(None)
            if key is None:
                raise unauthorized("token signed with an unknown key")
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["HS256"] if settings.jwt_hs256_secret else ["RS256"],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": ["exp", settings.jwt_user_claim]},
            )
        except jwt.PyJWTError as exc:
            raise unauthorized(f"invalid token ({type(exc).__name__})") from None
        user = claims.get(settings.jwt_user_claim)
        if not isinstance(user, str) or not user:
            raise unauthorized(f"token has no usable '{settings.jwt_user_claim}' claim")
        return User(user)


def _load_jwt_keys(settings: Settings) -> dict[str | None, Any]:
    """Verification keys by `kid` (None: any token without a matching kid)."""
    if settings.jwt_hs256_secret is not None:
        return {None: settings.jwt_hs256_secret.get_secret_value()}
    if settings.jwt_public_key_file is None:
        return {}
    text = settings.jwt_public_key_file.read_text()
    if text.lstrip().startswith("{"):
        jwks = jwt.PyJWKSet.from_dict(json.loads(text))
        return {k.key_id: k.key for k in jwks.keys}
    return {None: text}


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
        jwt_on = settings.jwt_hs256_secret is not None or settings.jwt_public_key_file is not None
        kinds = [k for k, on in (("API keys", bool(settings.api_keys)), ("JWT", jwt_on)) if on]
        logger.info("authentication: %s", " and ".join(kinds))
