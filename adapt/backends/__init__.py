"""Generation backends behind one protocol: local transformers, an OpenAI-compatible endpoint, in-process vLLM.

Every caller (`adapt ask`, `adapt eval`, `adapt serve`, the judge) holds a `Generator` and nothing
else: batches for throughput, a stream for first tokens, token counts for context checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from adapt.recipe import ModelSpec

Messages = list[dict[str, str]]
Prompt = Messages | str  # a chat conversation, or a raw prompt string (/v1/completions)
Cancelled = Callable[[], list[bool]]  # per row of a batch: has its client gone?


@dataclass
class Generation:
    text: str
    input_tokens: int
    output_tokens: int
    latency_s: float
    ttft_s: float | None
    usage_estimated: bool = False  # the API reported no token usage; counts come from a tokenizer


class Generator(Protocol):
    """What every backend does. `cancelled` lets a server stop rows whose clients hung up; a backend
    that cannot stop mid-answer may ignore it."""

    context_length: int | None  # prompt + answer tokens the model attends to; None when unknown

    def generate(self, batch: list[Prompt], max_new_tokens: int, temperature: float = 0.0,
                 cancelled: Cancelled | None = None) -> list[Generation]: ...

    def stream(self, prompt: Prompt, max_new_tokens: int, temperature: float, emit: Callable[[str], None],
               cancelled: Callable[[], bool] | None = None) -> Generation:
        """One answer, calling emit(piece) as text comes out; returns the whole generation."""
        ...

    def count_tokens(self, prompt: Prompt) -> int | None:
        """Prompt tokens as the model will see them (None when the backend cannot tell); raises
        ValueError when the model's chat template refuses the conversation."""
        ...


def chat(question: str, system_prompt: str | None) -> Messages:
    msgs = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return msgs + [{"role": "user", "content": question}]


def make_generator(spec: ModelSpec, batch_size: int = 8) -> Generator:
    """The backend a recipe's `model` section names."""
    if spec.backend == "openai":
        from adapt.backends.openai import OpenAIGenerator

        return OpenAIGenerator.from_spec(spec, concurrency=batch_size)
    if spec.backend == "vllm":
        from adapt.backends.vllm import VLLMGenerator

        return VLLMGenerator(spec)
    from adapt.backends.local import LocalGenerator

    return LocalGenerator.from_spec(spec)
