"""The `Allow` header of a 405: every method the request's path has, by the OpenAPI
document's paths (the contract a client reads).

Starlette's own `Allow` names only the first route that matches the path: `GET` for
`/api/threads/{thread_id}`, which also takes `DELETE`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_PARAMETER = re.compile(r"\{[^}]+\}")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@cache
def _templates(
    paths: tuple[tuple[str, tuple[str, ...]], ...],
) -> list[tuple[re.Pattern[str], int, str]]:
    compiled = []
    for template, methods in paths:
        parts = _PARAMETER.split(template)
        pattern = "[^/]+".join(re.escape(part) for part in parts)
        compiled.append((re.compile(pattern), len(parts) - 1, ", ".join(methods)))
    return compiled


def allowed_methods(document: dict[str, Any], path: str) -> str | None:
    """The methods of the documented path `path` falls under, or None if it is none.

    A fixed path wins over a templated one (`/api/threads/failed` over
    `/api/threads/{thread_id}`), as the routes themselves decide.
    """
    paths = tuple(
        (template, tuple(m.upper() for m in _METHODS if m in item))
        for template, item in document["paths"].items()
    )
    found = [(params, allow) for regex, params, allow in _templates(paths) if regex.fullmatch(path)]
    if not found:
        return None
    fewest = min(params for params, _ in found)
    return ", ".join(
        sorted({m for params, allow in found if params == fewest for m in allow.split(", ")})
    )
