"""A fast in-process model for stage tests: answers each prompt with a function of it, records
every prompt, and streams the answer the way `LLMClient.stream` does (prefill first). The
wire-level fake (`tests/fake_llm.py`) stays for faults: refused connections, 500s, cuts, hangs."""
from __future__ import annotations

from collections.abc import Callable

from drafting.model.llm import Generation, Prompt


class ScriptedModel:
    embedded = True
    context_window = 4096
    label = "脚本模型"

    def __init__(self, answer: Callable[[Prompt], str]) -> None:
        self.answer = answer
        self.prompts: list[Prompt] = []

    def stream(self, prompt: Prompt, on_delta: Callable[[str], None] | None = None) -> Generation:
        self.prompts.append(prompt)
        text = self.answer(prompt)
        if on_delta:
            for piece in (prompt.prefill, text):
                if piece:
                    on_delta(piece)
        return Generation(text=prompt.prefill + text, completion_tokens=len(text), seconds=0.001,
                          prefill=prompt.prefill)


def bullets_of(prompt: Prompt) -> list[str]:
    """The bullets a section or repair prompt lists (`- …` lines)."""
    return [line[2:] for line in prompt.user.splitlines() if line.startswith("- ") and not line.startswith("- “")]
