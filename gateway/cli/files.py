"""Workflow files: an execute request `{"workflow_json": {...}}` (the shape of every file
in `examples/`, which curl sends as it is), or a bare workflow document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.cli.client import USAGE, CommandError


def load_request(path: str) -> dict[str, Any]:
    """The execute request a file holds: itself when it has `workflow_json` (so a
    `thread_id` in it is kept), else the bare workflow wrapped in one."""
    document = _read(path)
    if isinstance(document, dict) and "workflow_json" in document:
        return document
    return {"workflow_json": document}


def load_workflow(path: str) -> Any:
    """The workflow document a file holds, for the library: what `workflow_json` names,
    or the whole file when it is a bare workflow."""
    return load_request(path)["workflow_json"]


def _read(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise CommandError(USAGE, f"cannot read {path}: {exc}") from None
