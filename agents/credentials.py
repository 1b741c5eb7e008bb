"""Users' credentials (API keys, JWT), verified by the gateway and the Agent Server alike.

Both read the same `THREADGATE_*` settings and call the same `CredentialVerifier`, so
a user's key or token admits them through the gateway or straight to the Agent Server
(a script with `langgraph-sdk`, a frontend with `useStream`) as the same user.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import jwt
from pydantic import AnyHttpUrl, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agents.contract import DEV_USER, RESERVED_PREFIX
from agents.teams import TEAM_PREFIX

logger = logging.getLogger(__name__)


class InvalidCredentials(Exception):
    """The credential is missing, unknown, expired or names a reserved user."""


# A user id travels in an HTTP header and names store namespaces: printable ASCII, no
# spaces at either end, bounded.
_USER_ID = re.compile(r"^[!-~]([ -~]{0,198}[!-~])?$")


def valid_user_id(user: str) -> bool:
    return _USER_ID.fullmatch(user) is not None


def _reserved(user: str) -> bool:
    return user == DEV_USER or user.startswith((RESERVED_PREFIX, TEAM_PREFIX))


HASHED = "sha256:"
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def _unmatchable_key(user: str, key: str) -> str | None:
    """Why no presented key could ever match this stored one, if none could; names the
    user, never the key."""
    if not key:
        return f"THREADGATE_API_KEYS: the key of user '{user}' is empty"
    if key.startswith(HASHED) and _SHA256_HEX.fullmatch(key.removeprefix(HASHED)) is None:
        return (
            f"THREADGATE_API_KEYS: the key of user '{user}' is '{HASHED}' followed by "
            "something that is not 64 hex digits (sha256sum prints '<hex>  -': keep only "
            "the hex)"
        )
    return None


class CredentialSettings(BaseSettings):
    """How users prove who they are; validated when the process starts."""

    # An empty variable is unset: compose passes `VAR=` for a setting nobody gave. A
    # refused setting's error must not print the input: it holds keys.
    model_config = SettingsConfigDict(
        env_prefix="THREADGATE_", extra="ignore", env_ignore_empty=True, hide_input_in_errors=True
    )

    api_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="User id to API key, as `sha256:<hex>` of the key (or the key itself).",
    )
    jwt_hs256_secret: SecretStr | None = Field(default=None, description="HS256 shared secret.")
    jwt_public_key_file: Path | None = Field(
        default=None, description="RS256 public key: a PEM file or a JWKS JSON file."
    )
    jwt_jwks_url: AnyHttpUrl | None = Field(
        default=None, description="RS256 keys from a JWKS URL, fetched and cached."
    )
    jwks_cache_seconds: float = Field(
        default=300, gt=0, description="How long fetched JWKS keys are trusted before a refetch."
    )
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_user_claim: str = "sub"

    @model_validator(mode="after")
    def _one_jwt_source(self) -> CredentialSettings:
        sources = [self.jwt_hs256_secret, self.jwt_public_key_file, self.jwt_jwks_url]
        if sum(source is not None for source in sources) > 1:
            raise ValueError(
                "set one of THREADGATE_JWT_HS256_SECRET, THREADGATE_JWT_PUBLIC_KEY_FILE "
                "and THREADGATE_JWT_JWKS_URL, not several"
            )
        if self.jwt_public_key_file is not None and not self.jwt_public_key_file.is_file():
            raise ValueError(
                f"THREADGATE_JWT_PUBLIC_KEY_FILE {self.jwt_public_key_file} is not a file"
            )
        return self

    @model_validator(mode="after")
    def _usable_api_keys(self) -> CredentialSettings:
        if reserved := [u for u in self.api_keys if _reserved(u)]:
            raise ValueError(
                f"THREADGATE_API_KEYS: '{DEV_USER}' and user ids starting with "
                f"'{RESERVED_PREFIX}' or '{TEAM_PREFIX}' are reserved: {reserved!r}"
            )
        if bad := [user for user in self.api_keys if not valid_user_id(user)]:
            raise ValueError(
                f"THREADGATE_API_KEYS: user ids must be printable ASCII, 1-200 characters: {bad!r}"
            )
        for user, key in self.api_keys.items():
            if problem := _unmatchable_key(user, key.get_secret_value()):
                raise ValueError(problem)
        return self

    @property
    def jwt_configured(self) -> bool:
        sources = (self.jwt_hs256_secret, self.jwt_public_key_file, self.jwt_jwks_url)
        return any(source is not None for source in sources)

    @property
    def user_credentials_configured(self) -> bool:
        return bool(self.api_keys) or self.jwt_configured


class RemoteJwks:
    """Signing keys from a JWKS URL, cached; a token naming an unknown `kid` refetches.

    Fetches are at most one per `MIN_REFRESH_SECONDS`, whether they succeed or not,
    so tokens with made-up kids (or a provider that is down) cannot make us hammer it.
    While it is down the keys fetched last stay in use. Fetches run in a thread: PyJWT's
    client is synchronous and the event loop must not block.
    """

    MIN_REFRESH_SECONDS = 1.0

    def __init__(self, url: str, cache_seconds: float) -> None:
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, cache_keys=False, timeout=5)
        self._cache_seconds = cache_seconds
        self._keys: dict[str | None, Any] = {}
        self._fetched_at = -float("inf")
        self._tried_at = -float("inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> Any:
        if self._fresh() and kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            since_tried = time.monotonic() - self._tried_at
            if (not self._fresh() or kid not in self._keys) and (
                since_tried >= self.MIN_REFRESH_SECONDS
            ):
                await self._refresh()
        return self._keys.get(kid)

    def _fresh(self) -> bool:
        return time.monotonic() - self._fetched_at < self._cache_seconds

    async def _refresh(self) -> None:
        self._tried_at = time.monotonic()
        try:
            jwks = await asyncio.to_thread(self._client.get_jwk_set, True)
        except (jwt.PyJWTError, ValueError) as exc:
            # Keep the keys we had: an unreachable identity provider is not a rotation.
            logger.warning("could not fetch JWKS keys: %s", type(exc).__name__)
            return
        self._keys = {k.key_id: k.key for k in jwks.keys}
        self._fetched_at = time.monotonic()


def _local_keys(settings: CredentialSettings) -> dict[str | None, Any]:
    """Verification keys by `kid` from settings (None: tokens with no matching kid)."""
    if settings.jwt_hs256_secret is not None:
        return {None: settings.jwt_hs256_secret.get_secret_value()}
    if settings.jwt_public_key_file is None:
        return {}
    text = settings.jwt_public_key_file.read_text()
    if text.lstrip().startswith("{"):
        jwks = jwt.PyJWKSet.from_dict(json.loads(text))
        return {k.key_id: k.key for k in jwks.keys}
    return {None: text}


def _comparable(stored: str) -> str:
    # A hash's hex digits in either case (sha256sum prints lowercase, other tools do not).
    return stored.lower() if stored.startswith(HASHED) else stored


class CredentialVerifier:
    """Turns an API key or a bearer token into the user id it belongs to."""

    def __init__(self, settings: CredentialSettings) -> None:
        self.settings = settings
        self._keys = [
            (user, _comparable(secret.get_secret_value()))
            for user, secret in settings.api_keys.items()
        ]
        self._jwt_keys = _local_keys(settings)
        self._jwks = (
            RemoteJwks(str(settings.jwt_jwks_url), settings.jwks_cache_seconds)
            if settings.jwt_jwks_url is not None
            else None
        )

    async def verify(self, api_key: str | None, bearer: str | None) -> str:
        """The user id; raises `InvalidCredentials` with a message safe to show."""
        return (await self.identify(api_key, bearer))[0]

    async def identify(
        self, api_key: str | None, bearer: str | None
    ) -> tuple[str, dict[str, Any] | None]:
        """The user id and, for a JWT, its verified claims (a teams claim is read there).

        A bearer token wins over `x-api-key`: LangGraph SDK clients add an `x-api-key`
        from LANGSMITH_API_KEY on their own, next to the token the user meant.
        """
        presented = bearer or api_key
        if not presented:
            raise InvalidCredentials("credentials required: an X-API-Key header or a bearer token")
        if not presented.isascii() or not presented.isprintable():
            raise InvalidCredentials("malformed credential")
        claims: dict[str, Any] | None = None
        if bearer and self.settings.jwt_configured and bearer.count(".") == 2:
            claims = await self._by_jwt(bearer)
            user = claims[self.settings.jwt_user_claim]
        else:
            user = self._by_api_key(presented)
        if _reserved(user):
            # The Agent Server lets the system identity see every user's threads, a
            # team's owner label would make its bearer act as the team, and `dev` would
            # take over what was made while authentication was off.
            raise InvalidCredentials("this user id is reserved")
        if not valid_user_id(user):
            raise InvalidCredentials("the user id must be printable ASCII, 1-200 characters")
        return user, claims

    def _by_api_key(self, presented: str) -> str:
        digest = HASHED + hashlib.sha256(presented.encode()).hexdigest()
        found = None
        for user, stored in self._keys:
            # Every key is compared, in constant time, whether or not one matched already.
            candidate = digest if stored.startswith(HASHED) else presented
            if hmac.compare_digest(candidate.encode(), stored.encode()):
                found = user
        if found is None:
            raise InvalidCredentials("invalid API key")
        return found

    async def _by_jwt(self, token: str) -> dict[str, Any]:
        settings = self.settings
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            if self._jwks is not None:
                key = await self._jwks.key(kid)
            else:
                key = self._jwt_keys.get(kid) or self._jwt_keys.get(None)
            if key is None:
                raise InvalidCredentials("token signed with an unknown key")
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["HS256"] if settings.jwt_hs256_secret else ["RS256"],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": ["exp", settings.jwt_user_claim]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidCredentials(f"invalid token ({type(exc).__name__})") from None
        user = claims.get(settings.jwt_user_claim)
        if not isinstance(user, str) or not user:
            raise InvalidCredentials(f"token has no usable '{settings.jwt_user_claim}' claim")
        return dict(claims)
