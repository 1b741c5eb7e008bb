"""What every API router shares: authentication, documented errors, path ids."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path

from gateway.deps import require_user
from gateway.errors import ErrorBody
from gateway.models import UUID_PATTERN

AUTHENTICATED = [Depends(require_user)]

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 409, 413, 422, 502, 503, 504)
}

ThreadIdPath = Annotated[str, Path(pattern=UUID_PATTERN, description="A thread id (UUID).")]
