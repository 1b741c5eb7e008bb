"""FastAPI dependencies: the one Agent Server client and the settings, from app state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from langgraph_sdk.client import LangGraphClient
from starlette.requests import HTTPConnection

from gateway.api.auth import Authenticator, User, credentials
from gateway.settings import Settings


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


async def require_user(conn: HTTPConnection) -> User:
    """The caller, from their credential; handed to every call that acts for them."""
    authenticator: Authenticator = conn.app.state.authenticator
    return await authenticator.authenticate(*credentials(conn))


CurrentUser = Annotated[User, Depends(require_user)]
