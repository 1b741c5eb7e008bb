"""Which chat model the workflow agent talks to.

`THREADGATE_MODEL` names it as `provider:model` for `init_chat_model`, e.g.
`openai:gpt-4o-mini`; OpenAI-compatible endpoints are reached through the provider's
own `OPENAI_BASE_URL` and `OPENAI_API_KEY`. Unset (or `offline`), a deterministic
offline model answers, so the whole system runs with no key and no network.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from typing import Any

from langchain.chat_models import init_chat_model
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

OFFLINE = "offline"


class OfflineChatModel(BaseChatModel):
    """Answers without a network: the same request always gets the same answer.

    The answer quotes the start of the last instruction and a short digest of the
    whole conversation, so tests can tell steps apart and see that history was sent.
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
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


@lru_cache(maxsize=4)
def chat_model(name: str | None = None) -> BaseChatModel:
    """The configured model, built once per process and name."""
    name = (name or os.environ.get("THREADGATE_MODEL") or OFFLINE).strip()
    if name == OFFLINE:
        return OfflineChatModel()
    return init_chat_model(name)
