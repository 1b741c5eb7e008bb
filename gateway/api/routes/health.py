"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.deps import AgentDep
from gateway.api.errors import error_response

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={422: error_response(422)})
async def healthz() -> dict[str, str]:
    """The gateway process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={s: error_response(s) for s in (422, 502, 503)})
async def readyz(agent: AgentDep) -> dict[str, str]:
    """The Agent Server answers; 503 while it cannot be reached."""
    await agent.http.get("/ok")
    return {"status": "ready"}
