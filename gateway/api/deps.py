"""FastAPI dependencies: the one Agent Server client and the settings, from app state;
the caller, with what the route needs their team role to allow; a request's
Idempotency-Key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header
from fastapi.exceptions import RequestValidationError
from langgraph_sdk.client import LangGraphClient
from starlette.requests import HTTPConnection

from agents.teams import Ability
from gateway.agent.client import Actor
from gateway.api.auth import Authenticator, credentials, team
from gateway.api.models import (
    IDEMPOTENCY_KEY_PATTERN,
    IDEMPOTENCY_KEY_RULE,
    check_idempotency_key,
)
from gateway.settings import Settings

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


# Async, so FastAPI calls them in the event loop: a plain `def` dependency is run in the
# thread pool, a hand-off per request each.
async def get_agent(conn: HTTPConnection) -> LangGraphClient:
    agent: LangGraphClient = conn.app.state.agent
    return agent


async def get_app_settings(conn: HTTPConnection) -> Settings:
    settings: Settings = conn.app.state.settings
    return settings


AgentDep = Annotated[LangGraphClient, Depends(get_agent)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def require_user(conn: HTTPConnection) -> Actor:
    """The caller, from their credential, in the space they name; handed to every call
    that acts for them."""
    authenticator: Authenticator = conn.app.state.authenticator
    return await authenticator.authenticate(*credentials(conn), team(conn))


def acting(ability: Ability) -> Callable[[Actor], Awaitable[Actor]]:
    """The caller, refused (403) unless their role in the team they act in allows
    `ability` (in their own space everything is allowed). The route's parameter type
    says which: the README's table of least roles is checked against it."""

    async def caller(actor: Annotated[Actor, Depends(require_user)]) -> Actor:
        actor.require(ability)
        return actor

    caller.ability = ability  # type: ignore[attr-defined]
    return caller


# What a route needs, by its parameter: reading (any member), running (operator),
# deleting (admin). Answering an approval is decided by the thread (see resume).
CurrentUser = Annotated[Actor, Depends(acting(Ability.READ))]
Operator = Annotated[Actor, Depends(acting(Ability.RUN))]
Admin = Annotated[Actor, Depends(acting(Ability.DELETE))]


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_KEY_HEADER,
            description="Sent again with the same request, answers 200 with the execution "
            f"the first one started instead of starting another ({IDEMPOTENCY_KEY_RULE}).",
            # Published, not enforced here: the check below names the rule in its 422.
            json_schema_extra={"pattern": IDEMPOTENCY_KEY_PATTERN},
        ),
    ] = None,
) -> str | None:
    """The request's Idempotency-Key, if it sent one; a malformed key is a 422 naming it."""
    if key is not None:
        try:
            check_idempotency_key(key)
        except ValueError as exc:
            location = ("header", IDEMPOTENCY_KEY_HEADER)
            raise RequestValidationError(
                [{"type": "value_error", "loc": location, "msg": str(exc), "input": key}]
            ) from None
    return key


IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]
