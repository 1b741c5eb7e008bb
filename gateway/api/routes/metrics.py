"""`GET /metrics`: every metric in the Prometheus text format, for a scraper.

Served to anyone (`THREADGATE_METRICS=open`, the default: no label carries user data),
only with a bearer token (`token`), or not at all (`off`: the route does not exist).
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client.exposition import choose_encoder

from gateway.api.deps import SettingsDep
from gateway.api.errors import GatewayError
from gateway.api.metrics import registry
from gateway.settings import Settings

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, settings: SettingsDep) -> Response:
    """The Prometheus text format, or OpenMetrics when the scraper asks for it."""
    if settings.metrics == "token":
        _check_token(request, settings)
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(registry()), headers={"content-type": content_type})


def _check_token(request: Request, settings: Settings) -> None:
    assert settings.metrics_token is not None  # settings refuse token mode without one
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    expected = settings.metrics_token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise GatewayError(
            401, "unauthorized", "metrics need the bearer token set in THREADGATE_METRICS_TOKEN"
        )
