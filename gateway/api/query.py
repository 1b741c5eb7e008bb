"""Query parameters an operation does not declare are refused (422), as an unknown body
field would be: `?stauts=failed` must not quietly list every thread.

What an operation declares is read from the OpenAPI document, the contract a client
reads, once per operation.
"""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from starlette.requests import HTTPConnection

_DECLARED: dict[tuple[str, str], frozenset[str]] = {}


def _declared(request: HTTPConnection, method: str) -> frozenset[str]:
    route = request.scope.get("route")
    template = getattr(route, "path_format", None)
    key = (template or "", method)
    if key not in _DECLARED:
        operation = request.app.openapi()["paths"].get(template, {}).get(method.lower())
        parameters = (operation or {}).get("parameters", [])
        _DECLARED[key] = frozenset(p["name"] for p in parameters if p["in"] == "query")
    return _DECLARED[key]


async def only_declared_query(request: HTTPConnection) -> None:
    # (WebSockets are not in the document: their messages carry what they need.)
    if not request.query_params or request.scope["type"] != "http":
        return
    declared = _declared(request, request.scope["method"])
    unknown = [name for name in request.query_params if name not in declared]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": "not a parameter of this operation",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )
