"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.deps import AgentDep
from gateway.api.errors import ErrorBody

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The gateway process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"model": ErrorBody}, 502: {"model": ErrorBody}})
async def readyz(agent: AgentDep) -> dict[str, str]:
    """The Agent Server answers; 503 while it cannot be reached."""
    await agent.http.get("/ok")
    return {"status": "ready"}
