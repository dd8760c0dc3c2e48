"""A generator that implements the whole backend protocol without a model: answers are a fixed text."""

from __future__ import annotations

from typing import Any, Callable

from adapt.backends import Generation, Prompt


class FakeGenerator:
    context_length: int | None = None

    def __init__(self, text: str = "ok") -> None:
        self.text = text
        self.prompts: list[Prompt] = []

    def count_tokens(self, prompt: Prompt) -> int:
        return len(str(prompt).split())

    def generate(self, batch: list[Prompt], max_new_tokens: int, temperature: float = 0.0,
                 cancelled: Any = None) -> list[Generation]:
        self.prompts.extend(batch)
        return [Generation(self.text, self.count_tokens(p), len(self.text.split()), 0.001, 0.0005) for p in batch]

    def stream(self, prompt: Prompt, max_new_tokens: int, temperature: float, emit: Callable[[str], None],
               cancelled: Any = None) -> Generation:
        g = self.generate([prompt], max_new_tokens, temperature)[0]
        for i, word in enumerate(g.text.split(" ")):
            emit(word if i == 0 else " " + word)
        return g
