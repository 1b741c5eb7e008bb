"""The gateway's entry point: `uvicorn --factory gateway.main:app`."""

from __future__ import annotations

import logging
import sys

from fastapi import FastAPI
from pydantic import ValidationError

from gateway.api.app import create_app
from gateway.api.logs import configure_logging
from gateway.settings import Settings, get_settings

logger = logging.getLogger("gateway")


def app() -> FastAPI:
    """Factory for `uvicorn --factory gateway.main:app`."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        logging.basicConfig(format="%(levelname)s %(message)s")
        for line in config_problems(exc):
            logger.error("configuration: %s", line)
        sys.exit(2)
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


def config_problems(exc: ValidationError) -> list[str]:
    """One line per problem, naming the environment variable a person would fix."""
    prefix = Settings.model_config.get("env_prefix", "")
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        message = error["msg"].removeprefix("Value error, ")
        # Whole-settings checks name their variables in the message already.
        lines.append(f"{(prefix + field).upper()}: {message}" if field else message)
    return lines
