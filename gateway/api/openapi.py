"""The OpenAPI document: FastAPI's, made exact where FastAPI's own is not.

- The accepted workflow formats (`WorkflowDocument`) and the WebSocket frames
  (`StreamFrame`), which no route's schema reaches, are published as components.
- A query or header parameter is never `null`: a query string cannot say null, and
  leaving the parameter out is how a client says "none" (FastAPI writes `X | None`
  parameters as `anyOf [X, null]`).
- Links lead from what creates or lists a thread, workflow or schedule to the
  operations on it, so a client (or a fuzzer's stateful phase) can follow them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.api.frame_schema import stream_frame
from gateway.workflows.format import workflow_document

COMPONENTS = "#/components/schemas/{model}"

_THREAD = "/api/threads/{thread_id}"
_WORKFLOW = "/api/workflows/{workflow_id}"
_SCHEDULE = "/api/schedules/{schedule_id}"
# (operation, its answers) -> (the path parameter, where the answer holds it, operations on it)
LINKS: dict[tuple[str, str, tuple[str, ...]], list[tuple[str, str, list[tuple[str, str]]]]] = {
    ("post", "/api/workflow/execute", ("200", "202")): [
        (
            "thread_id",
            "$response.body#/thread_id",
            [
                ("get", _THREAD),
                ("get", f"{_THREAD}/state"),
                ("get", f"{_THREAD}/history"),
                ("get", f"{_THREAD}/audit"),
                ("post", f"{_THREAD}/pause"),
                ("post", f"{_THREAD}/cancel"),
                ("post", f"{_THREAD}/resume"),
                ("post", f"{_THREAD}/save-as-workflow"),
                ("delete", _THREAD),
            ],
        ),
        (
            "execution_id",
            "$response.body#/execution_id",
            [("get", "/api/workflow/execution/{execution_id}")],
        ),
    ],
    ("get", "/api/threads", ("200",)): [
        (
            "thread_id",
            "$response.body#/threads/0/thread_id",
            [("get", _THREAD), ("get", f"{_THREAD}/state"), ("get", f"{_THREAD}/history")],
        )
    ],
    ("post", "/api/workflows", ("201",)): [
        (
            "workflow_id",
            "$response.body#/workflow_id",
            [
                ("get", _WORKFLOW),
                ("put", _WORKFLOW),
                ("get", f"{_WORKFLOW}/versions"),
                ("post", f"{_WORKFLOW}/rollback"),
                ("delete", _WORKFLOW),
            ],
        )
    ],
    ("post", "/api/schedules", ("201",)): [
        (
            "schedule_id",
            "$response.body#/schedule_id",
            [("get", _SCHEDULE), ("patch", _SCHEDULE), ("delete", _SCHEDULE)],
        )
    ],
}


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
        _add_links(document)
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


def _add_links(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for (method, path, statuses), targets in LINKS.items():
        links = {}
        for parameter, source, operations in targets:
            for target_method, target_path in operations:
                target = paths[target_path][target_method]
                # `get_thread_state_api_threads__...`: named `get_thread_state`
                links[target["operationId"].split("_api_")[0]] = {
                    "operationId": target["operationId"],
                    "parameters": {f"path.{parameter}": source},
                }
        for status in statuses:
            paths[path][method]["responses"][status]["links"] = links
