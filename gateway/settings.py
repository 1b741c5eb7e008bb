"""Gateway configuration: one settings class, read from `THREADGATE_*` variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AnyHttpUrl, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.workflow_parser import WorkflowLimits


class Settings(BaseSettings):
    """Validated at start-up, so bad configuration fails before the first request."""

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

    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")

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
