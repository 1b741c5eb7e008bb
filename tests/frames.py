"""Every WebSocket frame a test receives is checked against the published frame schema.

The schema is the OpenAPI document's own (`StreamFrame` and its components), checked
with a JSON Schema validator rather than the models behind it, so what a frontend
generates its types from is what is proven. `tests/conftest.py` hooks this into the
WebSocket clients the tests use (websockets' asyncio client, Starlette's test client).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from fastapi import FastAPI
from jsonschema import Draft202012Validator

from gateway.api.app import create_app
from gateway.settings import Settings


@cache
def _validators() -> dict[str, Draft202012Validator]:
    """A validator per frame type, as `StreamFrame`'s discriminator maps them."""
    settings = Settings(service_key="frame-schema-check-key-0123", auth_disabled=True)
    app: FastAPI = create_app(settings)
    components = app.openapi()["components"]
    mapping = components["schemas"]["StreamFrame"]["discriminator"]["mapping"]
    return {
        kind: Draft202012Validator({"$ref": ref, "components": components})
        for kind, ref in mapping.items()
    }


class FrameSchemaBroken(AssertionError):
    pass


def check_frame(message: str | bytes) -> Any:
    """The frame, parsed; raises if it breaks the published schema."""
    frame = json.loads(message)
    kind = frame.get("type") if isinstance(frame, dict) else None
    if kind not in _validators():
        raise FrameSchemaBroken(f"no frame type {kind!r} in the StreamFrame schema: {frame}")
    errors = sorted(_validators()[kind].iter_errors(frame), key=lambda e: list(e.path))
    if errors:
        reasons = "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
        raise FrameSchemaBroken(f"frame breaks the StreamFrame schema ({reasons}): {frame}")
    return frame
