"""The ids the Agent Server issues, checked before anything is forwarded."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

# RFC 4122 UUIDs (version 1-8); the nil UUID, for one, makes the Agent Server answer 500.
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
UUID_PATTERN = rf"^{UUID}$"
# Any UUID at all: the shape a path id must have (anything else is a 422).
ANY_UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def issued_by_agent_server(ident: str) -> bool:
    """Whether a well-formed UUID could name something the Agent Server made."""
    return re.fullmatch(UUID_PATTERN, ident) is not None


ThreadId = Annotated[
    str, Field(pattern=UUID_PATTERN, examples=["01a204ae-a289-7477-8bfd-4c37e06457e1"])
]
