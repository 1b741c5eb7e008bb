"""The ids the Agent Server issues, checked before anything is forwarded."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# RFC 4122 UUIDs (version 1-8); the nil UUID, for one, makes the Agent Server answer 500.
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
UUID_PATTERN = rf"^{UUID}$"
ThreadId = Annotated[
    str, Field(pattern=UUID_PATTERN, examples=["01a204ae-a289-7477-8bfd-4c37e06457e1"])
]
