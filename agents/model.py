"""Which chat model the workflow agent talks to.

`THREADGATE_MODEL` names it as `provider:model` for `init_chat_model`, e.g.
`openai:gpt-4o-mini`; OpenAI-compatible endpoints are reached through the provider's
own `OPENAI_BASE_URL` and `OPENAI_API_KEY`. Unset (or `offline`), a deterministic
offline model answers, so the whole system runs with no key and no network.

The client's own retries are turned off (`max_retries=0`): a failed call is retried by
the step's `RetryPolicy` (`agents.retry`), the one place attempts are made and counted,
instead of each of our attempts hiding up to `max_retries` more of the client's. A
streaming client is asked to report token usage (`stream_usage`), which OpenAI-compatible
endpoints otherwise leave out; `THREADGATE_MODEL_STREAM_USAGE=false` stops asking, for
an endpoint that refuses it.
"""

from __future__ import annotations

import hashlib
import math
import os
from functools import lru_cache
from typing import Any

from langchain.chat_models import init_chat_model
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult

from agents.contract import TokenUsage

OFFLINE = "offline"


def offline_tokens(text: str) -> int:
    """The offline model's token count: one per 4 characters, rounded up."""
    return math.ceil(len(text) / 4)


class OfflineChatModel(BaseChatModel):
    """Answers without a network: the same request always gets the same answer.

    The answer quotes the start of the last instruction and a short digest of the
    whole conversation, so tests can tell steps apart and see that history was sent.
    It reports usage as a real model does, counted by `offline_tokens`: the whole
    conversation in, the answer out.
    """

    @property
    def _llm_type(self) -> str:
        return "threadgate-offline"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,  # noqa: ARG002 - the offline model never stops early
        run_manager: CallbackManagerForLLMRun | None = None,  # noqa: ARG002
        **kwargs: Any,  # noqa: ARG002
    ) -> ChatResult:
        last = messages[-1].text if messages else ""
        seen = "\n".join(m.text for m in messages)
        digest = hashlib.sha256(seen.encode()).hexdigest()[:8]
        request = " / ".join(line.strip() for line in last.splitlines() if line.strip())
        text = f"[offline model {digest}] {request[:300]}"
        used, made = offline_tokens(seen), offline_tokens(text)
        usage = UsageMetadata(input_tokens=used, output_tokens=made, total_tokens=used + made)
        message = AIMessage(content=text, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])


@lru_cache(maxsize=4)
def chat_model(name: str | None = None) -> BaseChatModel:
    """The configured model, built once per process and name."""
    name = (name or os.environ.get("THREADGATE_MODEL") or OFFLINE).strip()
    if name == OFFLINE:
        return OfflineChatModel()
    model = init_chat_model(name)
    # Only where the provider's class has the setting: elsewhere an unknown keyword
    # could travel on to the provider's API.
    fields = type(model).model_fields
    overrides: dict[str, Any] = {}
    if "max_retries" in fields:
        overrides["max_retries"] = 0
    if "stream_usage" in fields and _stream_usage_wanted():
        overrides["stream_usage"] = True
    return init_chat_model(name, **overrides) if overrides else model


def _stream_usage_wanted() -> bool:
    value = os.environ.get("THREADGATE_MODEL_STREAM_USAGE", "").strip().lower()
    return value not in ("0", "false", "no", "off")


def step_usage(message: BaseMessage) -> TokenUsage | None:
    """The tokens a model's answer reports having used, or None if it reports none."""
    usage = getattr(message, "usage_metadata", None)
    if not usage:
        return None
    return TokenUsage(
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        total_tokens=int(usage.get("total_tokens") or 0),
    )
