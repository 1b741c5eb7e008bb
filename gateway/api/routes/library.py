"""Placeholder, filled in by the library work."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.routes.common import AUTHENTICATED, ERRORS

router = APIRouter(dependencies=AUTHENTICATED, responses=ERRORS)
