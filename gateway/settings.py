"""Gateway configuration: one settings class, read from `THREADGATE_*` variables."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from agents.credentials import CredentialSettings
from agents.limits import LimitSettings
from agents.teams import TeamSettings
from gateway.workflows.parser import WorkflowLimits


class Settings(CredentialSettings, LimitSettings, TeamSettings):
    """Validated at start-up, so bad configuration fails before the first request.

    Users' credentials (API keys, JWT) are `CredentialSettings`, the per-user caps
    `LimitSettings` and team membership `TeamSettings`, read from the same variables by
    the Agent Server's custom auth.
    """

    model_config = SettingsConfigDict(env_prefix="THREADGATE_", env_file=".env", extra="ignore")

    agent_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:8123"), description="Agent Server base URL."
    )
    agent_api_key: SecretStr | None = Field(
        default=None, description="Sent to the Agent Server as x-api-key, if set."
    )
    assistant_id: str = Field(default="workflow", description="Graph or assistant that runs plans.")
    # Streams stay open for hours; they survive this read timeout because the Agent
    # Server sends an SSE heartbeat every 5 s.
    agent_timeout_seconds: float = Field(default=30.0, ge=10, le=600)
    agent_max_connections: int = Field(
        default=5_000, ge=10, description="Open Agent Server connections (one per stream)."
    )
    agent_transport: Literal["aiohttp", "httpx"] = Field(
        default="aiohttp",
        description="HTTP client under langgraph-sdk: aiohttp (less CPU per call) or httpx's own.",
    )
    agent_connect_retries: int = Field(
        default=1, ge=0, le=10, description="Retries of a refused connection to the Agent Server."
    )

    max_body_bytes: int = Field(default=1_000_000, gt=0, description="Largest request body.")
    max_steps: int = Field(default=200, gt=0, description="Most nodes or steps in a workflow.")
    max_edges: int = Field(default=1_000, ge=0, description="Most edges in a workflow.")
    max_text_chars: int = Field(default=20_000, gt=0, description="Longest string in a workflow.")
    max_json_depth: int = Field(default=32, gt=2, description="Deepest nesting in a workflow.")
    max_page_size: int = Field(default=100, gt=0, description="Largest `limit` for listings.")

    retention_ttl_minutes: float | None = Field(
        default=None, gt=0, description="Prune threads idle this long, on a schedule; off if unset."
    )
    retention_interval_minutes: float = Field(default=60, gt=0, description="Prune schedule.")
    retention_keep_latest_checkpoint: bool = Field(
        default=False, description="Scheduled prunes keep each thread's latest state."
    )

    service_key: SecretStr = Field(
        description="Shared with the Agent Server's custom auth; proves calls come from us."
    )
    auth_disabled: bool = Field(
        default=False, description="Development only: every caller acts as user 'dev'."
    )
    ws_first_message_seconds: float = Field(
        default=10, gt=0, le=300, description="Deadline for a WebSocket's first message."
    )

    workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="uvicorn workers under `python -m gateway.main` (the image); "
        "unset: one per core the container is given.",
    )
    request_logs: bool = Field(
        default=False,
        description="Log a line per request and per Agent Server call (at INFO).",
    )
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as text, or one JSON object per line."
    )
    metrics: Literal["off", "open", "token"] = Field(
        default="open", description="GET /metrics: not served, served to anyone, or bearer only."
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="The bearer token /metrics asks for when metrics is 'token'."
    )

    @model_validator(mode="after")
    def _auth_is_configured(self) -> Settings:
        if not self.user_credentials_configured and not self.auth_disabled:
            raise ValueError(
                "no authentication configured: set THREADGATE_API_KEYS or a JWT key, "
                "or THREADGATE_AUTH_DISABLED=true for development"
            )
        if len(self.service_key.get_secret_value()) < 16:
            raise ValueError("THREADGATE_SERVICE_KEY must be at least 16 characters")
        token = self.metrics_token.get_secret_value() if self.metrics_token else ""
        if self.metrics == "token" and len(token) < 16:
            raise ValueError(
                "THREADGATE_METRICS=token needs THREADGATE_METRICS_TOKEN, at least 16 characters"
            )
        return self

    def workflow_limits(self) -> WorkflowLimits:
        return WorkflowLimits(
            max_steps=self.max_steps,
            max_edges=self.max_edges,
            max_text_chars=self.max_text_chars,
            max_json_depth=self.max_json_depth,
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
