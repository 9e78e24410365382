"""The offline provider: the feature's own deterministic answer. No network, no tokens, no money.

Whatever it writes is labelled "Drafted without AI" by the feature (LLMResult.drafted_without_ai).
"""

import json

from apps.llm.providers import ChatReply, ChatRequest

BUILTIN_MODEL = "builtin"  # priced 0 on the default rate card


class BuiltinProvider:
    name = "builtin"
    model = BUILTIN_MODEL
    external = False
    metered = False

    def chat(self, request: ChatRequest) -> ChatReply:
        if request.builtin is None:
            raise ValueError("This task has no builtin answer; the builtin provider cannot run it.")
        data = request.builtin()
        return ChatReply(
            text=json.dumps(data, ensure_ascii=False),
            prompt_tokens=0,
            completion_tokens=0,
            model=self.model,
            finish_reason="stop",
        )
