"""Checks on untrusted JSON before it is forwarded: size, nesting, and what storage accepts.

Postgres (the production Agent Server) refuses NUL characters in JSON text, and a lone
surrogate cannot be encoded as UTF-8 at all; both would otherwise surface as a 5xx
deep in the Agent Server. Non-finite and enormous numbers are refused for the same reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class JsonLimits:
    max_text_chars: int = 20_000
    max_json_depth: int = 32


class UnsafeJson(ValueError):
    """The value cannot be forwarded; `field` says where."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.message = message
        self.field = field


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored, or None."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (lone surrogate)"
    return None


def check_text(text: str) -> str:
    """A pydantic `AfterValidator` for free-text fields."""
    if (problem := text_problem(text)) is not None:
        raise ValueError(f"text {problem}")
    return text


def check_json(value: Any, limits: JsonLimits, path: str, depth: int = 1) -> None:
    if depth > limits.max_json_depth:
        raise UnsafeJson(f"nesting deeper than {limits.max_json_depth} levels", path)
    if isinstance(value, str):
        if len(value) > limits.max_text_chars:
            raise UnsafeJson(f"text longer than {limits.max_text_chars} characters", path)
        if (problem := text_problem(value)) is not None:
            raise UnsafeJson(f"text {problem}", path)
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int) and abs(value) > MAX_INT:
        raise UnsafeJson("number out of the 64-bit range", path)
    elif isinstance(value, float) and not math.isfinite(value):
        raise UnsafeJson("number is not finite", path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if (problem := text_problem(str(key))) is not None:
                raise UnsafeJson(f"key {problem}", path)
            check_json(item, limits, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_json(item, limits, f"{path}[{i}]", depth + 1)
