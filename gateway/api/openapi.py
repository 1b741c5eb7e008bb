"""The OpenAPI document: FastAPI's, made exact where FastAPI's own is not.

- The accepted workflow formats (`WorkflowDocument`) and the WebSocket frames
  (`StreamFrame`), which no route's schema reaches, are published as components.
- A query or header parameter is never `null`: a query string cannot say null, and
  leaving the parameter out is how a client says "none" (FastAPI writes `X | None`
  parameters as `anyOf [X, null]`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.api.frame_schema import stream_frame
from gateway.workflows.format import workflow_document

COMPONENTS = "#/components/schemas/{model}"


def openapi_document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        formats = workflow_document.json_schema(ref_template=COMPONENTS)
        components.update(formats.pop("$defs", {}))
        components["WorkflowDocument"] = formats
        frames = stream_frame.json_schema(mode="serialization", ref_template=COMPONENTS)
        for name, definition in frames.pop("$defs", {}).items():
            # A model the routes publish too (ThreadProgress) keeps the routes' version.
            components.setdefault(name, definition)
        components["StreamFrame"] = frames
        for item in document["paths"].values():
            for operation in item.values():
                for parameter in operation.get("parameters", []):
                    parameter["schema"] = _not_null(parameter["schema"])
        app.openapi_schema = document
    return app.openapi_schema


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf [X, null]` as X (its title, description and default kept)."""
    branches = schema.get("anyOf")
    if not branches or {"type": "null"} not in branches:
        return schema
    rest = [branch for branch in branches if branch != {"type": "null"}]
    kept = {key: value for key, value in schema.items() if key != "anyOf"}
    if kept.get("default", ...) is None:
        del kept["default"]
    return {**rest[0], **kept} if len(rest) == 1 else {**kept, "anyOf": rest}
