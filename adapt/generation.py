"""Generation backends behind one small interface: local transformers, OpenAI-compatible HTTP, vLLM.

Each takes a batch of chat conversations and returns, per conversation, the text, token counts,
latency and time to first token, which is what the evaluation harness measures.
"""

from __future__ import annotations

import json
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from adapt.errors import UserError
from adapt.recipe import ModelSpec

Messages = list[dict[str, str]]


@dataclass
class Generation:
    text: str
    input_tokens: int
    output_tokens: int
    latency_s: float
    ttft_s: float | None
    usage_estimated: bool = False  # the API reported no token usage; counts come from a tokenizer


class Generator(Protocol):
    def generate(self, batch: list[Messages], max_new_tokens: int, temperature: float = 0.0) -> list[Generation]: ...


class _FirstTokenClock:
    """A generate() streamer that notes when the first new token came out (the prompt comes first),
    passing everything on to an optional inner streamer."""

    def __init__(self, inner: Any = None) -> None:
        self.calls, self.inner = 0, inner
        self.first: float | None = None

    def put(self, value: Any) -> None:
        self.calls += 1
        if self.calls == 2:
            self.first = time.perf_counter()
        if self.inner is not None:
            self.inner.put(value)

    def end(self) -> None:
        if self.inner is not None:
            self.inner.end()


class LocalGenerator:
    """transformers generate(), batched with left padding, chat template, greedy unless temperature > 0."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.model, self.tok = model, tokenizer
        self.tok.padding_side = "left"

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> LocalGenerator:
        from adapt.models import load_causal_lm

        return cls(*load_causal_lm(spec.name, spec.dtype, spec.adapter))

    def prompt_text(self, messages: Messages) -> str:
        return self.tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def generate(self, batch: list[Messages | str], max_new_tokens: int, temperature: float = 0.0,
                 streamer: Any = None) -> list[Generation]:
        """Chat conversations (or raw prompt strings) -> generations; `streamer` sees the tokens."""
        import torch

        texts = [m if isinstance(m, str) else self.prompt_text(m) for m in batch]
        enc = self.tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.model.device)
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {
            "do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        clock = _FirstTokenClock(streamer)
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=self.tok.pad_token_id,
                                      streamer=clock, **sampling)
        latency = time.perf_counter() - t0
        new = out[:, enc["input_ids"].shape[1]:]
        stop_ids = _stop_ids(self.model, self.tok)
        results = []
        for i in range(len(batch)):
            row = new[i].tolist()
            n = next((j + 1 for j, t in enumerate(row) if t in stop_ids), len(row))
            results.append(Generation(
                text=self.tok.decode(row[:n], skip_special_tokens=True).strip(),
                input_tokens=int(enc["attention_mask"][i].sum()),
                output_tokens=n,
                latency_s=latency,
                ttft_s=(clock.first - t0) if clock.first else latency,
            ))
        return results


def _stop_ids(model: Any, tok: Any) -> set[int]:
    eos = model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    ids.add(tok.eos_token_id)
    ids.add(tok.pad_token_id)
    return {i for i in ids if i is not None}


class OpenAIGenerator:
    """Any OpenAI-compatible /chat/completions endpoint (vLLM, `adapt serve`, a hosted API).

    Streams each answer to time the first token; a batch is sent as concurrent requests.
    Retries 429 and 5xx with exponential backoff and jitter.
    """

    RETRY = {429, 500, 502, 503, 504}

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60.0,
                 max_retries: int = 4, concurrency: int = 8) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)
        self.model, self.max_retries, self.concurrency = model, max_retries, concurrency

    @classmethod
    def from_spec(cls, spec: ModelSpec, concurrency: int = 8) -> OpenAIGenerator:
        key = None
        if spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise UserError(f"the recipe reads its API key from ${spec.api_key_env}, which is not set: "
                                f"export {spec.api_key_env}=...")
        return cls(spec.base_url, spec.model, key, spec.timeout_s, spec.max_retries, concurrency)

    def generate(self, batch: list[Messages], max_new_tokens: int, temperature: float = 0.0) -> list[Generation]:
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batch))) as pool:
            return list(pool.map(lambda m: self._one(m, max_new_tokens, temperature), batch))

    def _one(self, messages: Messages, max_new_tokens: int, temperature: float) -> Generation:
        import httpx

        body = {"model": self.model, "messages": messages, "max_tokens": max_new_tokens,
                "temperature": temperature, "stream": True, "stream_options": {"include_usage": True}}
        for attempt in range(self.max_retries + 1):
            t0 = time.perf_counter()
            try:
                with self.client.stream("POST", "/chat/completions", json=body) as r:
                    if r.status_code in self.RETRY and attempt < self.max_retries:
                        r.read()
                        self._sleep(attempt, r.headers.get("retry-after"))
                        continue
                    if r.status_code >= 400:
                        r.read()
                        raise RuntimeError(f"{self.client.base_url} answered {r.status_code}: {r.text[:300]}")
                    return self._read_stream(r, t0, messages)
            except (httpx.TransportError, httpx.TimeoutException) as e:
                if attempt >= self.max_retries:
                    raise RuntimeError(f"{self.client.base_url} unreachable after {attempt + 1} tries: {e}") from e
                self._sleep(attempt, None)
        raise AssertionError("unreachable")

    @staticmethod
    def _sleep(attempt: int, retry_after: str | None) -> None:
        delay = float(retry_after) if retry_after and retry_after.isdigit() else min(30.0, 0.5 * 2 ** attempt)
        time.sleep(delay * (1 + 0.25 * random.random()))

    @staticmethod
    def _read_stream(r: Any, t0: float, messages: Messages) -> Generation:
        parts: list[str] = []
        ttft = None
        usage: dict[str, int] = {}
        for line in r.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            if chunk.get("usage"):
                usage = chunk["usage"]
            for choice in chunk.get("choices", []):
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    ttft = ttft or time.perf_counter() - t0
                    parts.append(piece)
        latency = time.perf_counter() - t0
        text = "".join(parts).strip()
        if "prompt_tokens" in usage and "completion_tokens" in usage:
            return Generation(text, int(usage["prompt_tokens"]), int(usage["completion_tokens"]), latency,
                              ttft or latency)
        # No usage from the server: a missing count must not price the answer at $0.
        prompt = "\n".join(m["content"] for m in messages if isinstance(m.get("content"), str))
        return Generation(text, estimate_tokens(prompt), estimate_tokens(text), latency, ttft or latency,
                          usage_estimated=True)


class VLLMGenerator:
    """In-process vLLM (GPU): continuous batching, optional LoRA adapter."""

    def __init__(self, spec: ModelSpec) -> None:
        try:
            from vllm import LLM
        except ImportError:
            raise UserError("backend 'vllm' needs the gpu extra: pip install -e '.[gpu]' (CUDA only)") from None
        from adapt.models import resolve_generator

        self.adapter = spec.adapter
        self.llm = LLM(model=resolve_generator(spec.name), enable_lora=bool(spec.adapter),
                       dtype="auto" if spec.dtype == "auto" else spec.dtype)

    def generate(self, batch: list[Messages], max_new_tokens: int, temperature: float = 0.0) -> list[Generation]:
        from vllm import SamplingParams
        from vllm.lora.request import LoRARequest

        lora = LoRARequest("adapter", 1, self.adapter) if self.adapter else None
        t0 = time.perf_counter()
        outs = self.llm.chat(batch, SamplingParams(max_tokens=max_new_tokens, temperature=temperature),
                             lora_request=lora, use_tqdm=False)
        latency = time.perf_counter() - t0
        results = []
        for o in outs:
            m = o.metrics
            ttft = (m.first_token_time - m.arrival_time) if m and getattr(m, "first_token_time", None) else latency
            results.append(Generation(o.outputs[0].text.strip(), len(o.prompt_token_ids),
                                      len(o.outputs[0].token_ids), latency, ttft))
        return results


_ESTIMATOR: list[Any] = []


def estimate_tokens(text: str) -> int:
    """Token count by the builtin generator's BPE tokenizer (about what API tokenizers give for
    English); 4 characters a token where that tokenizer is not installed."""
    if not _ESTIMATOR:
        from adapt.models import DEFAULT_GENERATOR, load_tokenizer

        try:
            _ESTIMATOR.append(load_tokenizer(DEFAULT_GENERATOR))
        except UserError:
            _ESTIMATOR.append(None)
    tok = _ESTIMATOR[0]
    return len(tok(text, add_special_tokens=False)["input_ids"]) if tok is not None else -(-len(text) // 4)


def make_generator(spec: ModelSpec, batch_size: int = 8) -> Generator:
    if spec.backend == "openai":
        return OpenAIGenerator.from_spec(spec, concurrency=batch_size)
    if spec.backend == "vllm":
        return VLLMGenerator(spec)
    return LocalGenerator.from_spec(spec)


def chat(question: str, system_prompt: str | None) -> Messages:
    msgs = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return msgs + [{"role": "user", "content": question}]
