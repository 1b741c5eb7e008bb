"""Agent Server stream events turned into the WebSocket frames a builder shows. Pure.

Frames, each with a `type`: `started` first, then `progress`, `chunk` and `interrupt`
as the run goes, and last exactly one of `end` or `error`.
"""

from __future__ import annotations

from typing import Any

from langgraph_sdk.schema import StreamPart

from agents.contract import WorkflowStatus
from gateway.api.errors import ErrorBody
from gateway.threads.executions import Execution
from gateway.threads.progress import ThreadProgress

Frame = dict[str, Any]


def started_frame(execution: Execution) -> Frame:
    return {
        "type": "started",
        "execution_id": execution.execution_id,
        "thread_id": execution.thread_id,
        "status": WorkflowStatus.RUNNING.value,
        # True: an idempotency key's earlier run, joined; nothing new was started.
        "replayed": execution.replayed,
    }


class StreamFrames:
    """The frames of one run's events: the model's output once, no prompts, nothing of
    the Agent Server's own metadata (it names its internal URL)."""

    def __init__(self) -> None:
        # A model that streams tokens sends its answer again whole once the step is done,
        # and the step's own record of it comes whole too: after the step's first answer
        # (tokens, or one whole message) the whole copies are dropped.
        self._answered_in_step = False

    def frame_for(self, part: StreamPart) -> Frame | None:
        """The frame for one stream event, or None for events a client has no use for."""
        event, data = part.event, part.data
        if event == "custom" and isinstance(data, dict) and "step_id" in data:
            if data.get("event") == "step_started":
                self._answered_in_step = False  # (whole copies come after step_finished)
            return {
                "type": "progress",
                "event": data.get("event"),
                "step_id": data["step_id"],
                "current_step": data.get("title"),
                "completed_steps": data.get("completed_steps"),
                "total_steps": data.get("total_steps"),
            }
        if event == "updates" and isinstance(data, dict) and "__interrupt__" in data:
            interrupts = data["__interrupt__"]
            first = interrupts[0].get("value") if interrupts else None
            return {"type": "interrupt", "question": first, "interrupts": interrupts}
        if event == "updates" and isinstance(data, dict):
            # The messages in node updates are the prompt and the answer already sent.
            updates = {
                node: {k: v for k, v in update.items() if k != "messages"}
                if isinstance(update, dict)
                else update
                for node, update in data.items()
            }
            return {"type": "chunk", "mode": "updates", "data": updates}
        if event.startswith("messages"):
            return self._model_output(data)
        return None

    def _model_output(self, data: object) -> Frame | None:
        message = data[0] if isinstance(data, list | tuple) and data else data
        if not isinstance(message, dict):
            return None
        kind, content = message.get("type"), message.get("content")
        if kind != "AIMessageChunk" and (kind != "ai" or self._answered_in_step):
            return None  # a prompt, or a copy of an answer sent already
        if not content:
            return None
        self._answered_in_step = True
        return {
            "type": "chunk",
            "mode": "messages",
            "data": {"id": message.get("id"), "content": content},
        }


def run_error(part: StreamPart) -> str | None:
    """The failure message if this event reports that the run failed."""
    if part.event != "error":
        return None
    data = part.data
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or "run failed")
    return str(data or "run failed")


def end_frame(progress: ThreadProgress, execution: Execution | None = None) -> Frame:
    return {
        "type": "end",
        "execution_id": execution.execution_id if execution else None,
        "thread_id": progress.thread_id,
        "status": progress.status.value,
        "progress": progress.model_dump(mode="json"),
    }


def error_frame(body: ErrorBody, execution: Execution | None = None) -> Frame:
    frame: Frame = {"type": "error", **body.model_dump(mode="json", exclude_none=True)}
    if execution is not None:
        frame["execution_id"] = execution.execution_id
        frame["thread_id"] = execution.thread_id
    return frame
