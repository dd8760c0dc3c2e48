"""In-process vLLM (GPU): continuous batching, optional LoRA adapter."""

from __future__ import annotations

import time
from typing import Any, Callable

from adapt.backends import Cancelled, Generation, Prompt
from adapt.errors import UserError


class VLLMGenerator:
    def __init__(self, spec: Any) -> None:
        try:
            from vllm import LLM
        except ImportError:
            raise UserError("backend 'vllm' needs the gpu extra: pip install -e '.[gpu]' (CUDA only)") from None
        from adapt.models import resolve_generator

        self.adapter = spec.adapter
        self.llm = LLM(model=resolve_generator(spec.name), enable_lora=bool(spec.adapter),
                       dtype="auto" if spec.dtype == "auto" else spec.dtype)
        self.tok = self.llm.get_tokenizer()
        self.context_length: int | None = self.llm.llm_engine.model_config.max_model_len

    def count_tokens(self, prompt: Prompt) -> int:
        text = prompt if isinstance(prompt, str) else self.tok.apply_chat_template(
            prompt, add_generation_prompt=True, tokenize=False)
        return len(self.tok(text, add_special_tokens=False)["input_ids"])

    def generate(self, batch: list[Prompt], max_new_tokens: int, temperature: float = 0.0,
                 cancelled: Cancelled | None = None) -> list[Generation]:
        from vllm import SamplingParams
        from vllm.lora.request import LoRARequest

        lora = LoRARequest("adapter", 1, self.adapter) if self.adapter else None
        params = SamplingParams(max_tokens=max_new_tokens, temperature=temperature)
        t0 = time.perf_counter()
        # raw prompts (/v1/completions) and conversations may share a server's batch: one call each
        raw = [i for i, p in enumerate(batch) if isinstance(p, str)]
        conv = [i for i, p in enumerate(batch) if not isinstance(p, str)]
        outs: list[Any] = [None] * len(batch)
        if raw:
            for i, o in zip(raw, self.llm.generate([batch[i] for i in raw], params, lora_request=lora, use_tqdm=False)):
                outs[i] = o
        if conv:
            for i, o in zip(conv, self.llm.chat([batch[i] for i in conv], params, lora_request=lora, use_tqdm=False)):
                outs[i] = o
        latency = time.perf_counter() - t0
        results = []
        for o in outs:
            m = o.metrics
            ttft = (m.first_token_time - m.arrival_time) if m and getattr(m, "first_token_time", None) else latency
            results.append(Generation(o.outputs[0].text.strip(), len(o.prompt_token_ids),
                                      len(o.outputs[0].token_ids), latency, ttft))
        return results

    def stream(self, prompt: Prompt, max_new_tokens: int, temperature: float, emit: Callable[[str], None],
               cancelled: Callable[[], bool] | None = None) -> Generation:
        """The offline engine returns whole answers: one piece. (`adapt serve --engine vllm` runs vLLM's
        own server, which streams token by token.)"""
        g = self.generate([prompt], max_new_tokens, temperature)[0]
        emit(g.text)
        return g
