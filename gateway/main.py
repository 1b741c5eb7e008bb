"""The gateway's entry point: `uvicorn --factory gateway.main:app`."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from gateway.api.app import create_app
from gateway.settings import get_settings


def app() -> FastAPI:
    """Factory for `uvicorn --factory gateway.main:app`."""
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return create_app(settings)
