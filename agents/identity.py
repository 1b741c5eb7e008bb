"""Who is calling the Agent Server, and in which space (`agents.auth` registers this).

Two kinds of caller are admitted: the Threadgate gateway, with its service credential
(`x-threadgate-service-key`), the user it verified (`x-threadgate-user`) and, acting in
a team, the team and the role it found (`x-threadgate-team`, `x-threadgate-role`),
trusted only next to a valid service key; and a user's own script or frontend, with
the same API key or bearer token the gateway accepts, checked by the same code, whose
team role is read here from `THREADGATE_TEAMS` or the token's claim.

The identity the server sees is the owner label of the space the caller acts in (their
user id, or `team:<name>`), so every owner stamp and filter follows the space;
`person`, `team` and `role` say who it is and as what.
"""

from __future__ import annotations

import hmac
import os
from functools import cache
from typing import Any

from langgraph_sdk import Auth
from pydantic import ValidationError

from agents.contract import SERVICE_KEY_ENV, SERVICE_KEY_HEADER, SYSTEM_USER, USER_HEADER
from agents.credentials import (
    CredentialSettings,
    CredentialVerifier,
    InvalidCredentials,
    valid_user_id,
)
from agents.teams import (
    ROLE_HEADER,
    TEAM_HEADER,
    NotAMember,
    Role,
    role_in,
    team_owner,
    team_settings,
    valid_team_name,
)


@cache
def _verifier() -> CredentialVerifier:
    return CredentialVerifier(CredentialSettings())


def check_settings_at_start() -> None:
    """A setting that can never admit anyone (a malformed key hash, say) stops the Agent
    Server when it loads this module, with the reason, not at the first request."""
    try:
        _verifier()
        team_settings()
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise RuntimeError(f"Threadgate auth settings: {problems}") from None


def _refuse(detail: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=401, detail=detail)


def _header(headers: dict[bytes, bytes], name: str) -> str:
    # HTTP header values are bytes; anything that is not ASCII is not ours to guess at.
    return headers.get(name.encode(), b"").decode("ascii", "replace")


async def identify(headers: dict[bytes, bytes]) -> dict[str, Any]:
    """The caller's identity is the owner label of the space they act in; `person` is
    who they are, `team` and `role` say in which team and as what (absent: their own)."""
    presented = headers.get(SERVICE_KEY_HEADER.encode())
    team = _header(headers, TEAM_HEADER).strip() or None
    if presented is not None:
        expected = os.environ.get(SERVICE_KEY_ENV, "").encode()
        # With no key configured the gateway's path is closed: fail closed.
        if not expected or not hmac.compare_digest(presented, expected):
            raise _refuse("invalid service credential")
        user = _header(headers, USER_HEADER)
        if not valid_user_id(user):
            raise _refuse("a user identity is required")
        if team is None or user == SYSTEM_USER:
            return {"identity": user, "person": user}
        # The gateway checked membership (with the user's token, which only it saw).
        role = _header(headers, ROLE_HEADER)
        if not valid_team_name(team) or role not in Role.__members__.values():
            raise _refuse("a team needs a valid name and role")
        return _in_team(user, team, Role(role))
    scheme, _, token = _header(headers, "authorization").strip().partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else ""
    try:
        user, claims = await _verifier().identify(
            _header(headers, "x-api-key") or None, bearer or None
        )
    except InvalidCredentials as exc:
        raise _refuse(str(exc)) from None
    if team is None:
        return {"identity": user, "person": user}
    try:
        return _in_team(user, team, role_in(team, user, claims, team_settings()))
    except NotAMember as exc:
        raise forbidden(str(exc)) from None


def _in_team(user: str, team: str, role: Role) -> dict[str, Any]:
    return {"identity": team_owner(team), "person": user, "team": team, "role": role.value}


def forbidden(detail: str) -> Auth.exceptions.HTTPException:
    # The gateway passes a 403 that starts with "forbidden:" on to its caller unchanged.
    return Auth.exceptions.HTTPException(status_code=403, detail=f"forbidden: {detail}")
