"""Run a workflow and stream its progress over a WebSocket."""

from __future__ import annotations

import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from langgraph_sdk.client import LangGraphClient

from gateway.deps import AgentDep, SettingsDep
from gateway.errors import ErrorBody, GatewayError, describe
from gateway.executions import Execution, plan_for, start_execution
from gateway.models import ExecuteRequest
from gateway.progress import thread_progress
from gateway.stream_frames import end_frame, error_frame, frame_for, run_error, started_frame

logger = logging.getLogger(__name__)
router = APIRouter(tags=["workflow"])


@router.websocket("/api/workflow/execute/stream")
async def execute_stream(websocket: WebSocket, agent: AgentDep, settings: SettingsDep) -> None:
    """One JSON `{workflow_json, thread_id?}` in; `started`, progress, then `end` or `error` out."""
    await websocket.accept()
    execution: Execution | None = None
    try:
        text = await websocket.receive_text()
        if len(text.encode()) > settings.max_body_bytes:
            raise GatewayError(413, "payload_too_large", "message exceeds max_body_bytes")
        request = ExecuteRequest.model_validate_json(text)
        plan = await plan_for(agent, settings, request)
        execution = await start_execution(agent, settings.assistant_id, plan, request.thread_id)
        await websocket.send_json(started_frame(execution))
        await _relay(websocket, agent, execution)
    except WebSocketDisconnect:
        # The run is a background run: it goes on, and its thread keeps every step.
        logger.info(
            "stream client left; execution %s continues",
            execution.execution_id if execution else "(none started)",
        )
        return
    except Exception as exc:  # the WebSocket edge has no exception handlers: map here
        _, body = describe(exc)
        await websocket.send_json(error_frame(body, execution))
    await websocket.close(status.WS_1000_NORMAL_CLOSURE)


async def _relay(websocket: WebSocket, agent: LangGraphClient, execution: Execution) -> None:
    failure = None
    # last_event_id "-1" replays from the run's first event, so nothing emitted
    # between creating the run and joining it is missed.
    async for part in agent.runs.join_stream(
        execution.thread_id, execution.run_id, last_event_id="-1"
    ):
        failure = failure or run_error(part)
        frame = frame_for(part)
        if frame is not None:
            await websocket.send_json(frame)
    await agent.runs.join(execution.thread_id, execution.run_id)
    progress = thread_progress(await agent.threads.get(execution.thread_id), failure)
    if failure is not None:
        body = ErrorBody(
            error="workflow_failed", message=failure, details=progress.model_dump(mode="json")
        )
        await websocket.send_json(error_frame(body, execution))
    else:
        await websocket.send_json(end_frame(execution, progress))
