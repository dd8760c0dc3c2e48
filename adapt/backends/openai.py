"""Any OpenAI-compatible /chat/completions endpoint (vLLM, `adapt serve`, a hosted API).

Streams each answer to time the first token; a batch is sent as concurrent requests. Retries 429
and 5xx with exponential backoff and jitter. An endpoint that cannot be reached, or refuses the
request (bad key, unknown model), is a UserError naming it: a setup problem, not a crash.
"""

from __future__ import annotations

import json
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from adapt.backends import Cancelled, Generation, Messages, Prompt
from adapt.errors import UserError

RETRY = {429, 500, 502, 503, 504}


class OpenAIGenerator:
    context_length: int | None = None  # the endpoint enforces its own

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60.0,
                 max_retries: int = 4, concurrency: int = 8) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)
        self.model, self.max_retries, self.concurrency = model, max_retries, concurrency

    @classmethod
    def from_spec(cls, spec: Any, concurrency: int = 8) -> OpenAIGenerator:
        key = None
        if spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise UserError(f"the recipe reads its API key from ${spec.api_key_env}, which is not set: "
                                f"export {spec.api_key_env}=...")
        return cls(spec.base_url, spec.model, key, spec.timeout_s, spec.max_retries, concurrency)

    def count_tokens(self, prompt: Prompt) -> int | None:
        return None

    def generate(self, batch: list[Prompt], max_new_tokens: int, temperature: float = 0.0,
                 cancelled: Cancelled | None = None) -> list[Generation]:
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batch))) as pool:
            return list(pool.map(lambda m: self._one(m, max_new_tokens, temperature, None), batch))

    def stream(self, prompt: Prompt, max_new_tokens: int, temperature: float, emit: Callable[[str], None],
               cancelled: Callable[[], bool] | None = None) -> Generation:
        return self._one(prompt, max_new_tokens, temperature, emit)

    def _one(self, prompt: Prompt, max_new_tokens: int, temperature: float,
             emit: Callable[[str], None] | None) -> Generation:
        import httpx

        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        body = {"model": self.model, "messages": messages, "max_tokens": max_new_tokens,
                "temperature": temperature, "stream": True, "stream_options": {"include_usage": True}}
        where = self.client.base_url
        sent: list[str] = []  # what reached `emit`: a retry then would stream the answer twice

        def emit_once(piece: str) -> None:
            sent.append(piece)
            emit(piece)

        for attempt in range(self.max_retries + 1):
            t0 = time.perf_counter()
            try:
                with self.client.stream("POST", "/chat/completions", json=body) as r:
                    if r.status_code in RETRY and attempt < self.max_retries:
                        r.read()
                        self._sleep(attempt, r.headers.get("retry-after"))
                        continue
                    if r.status_code >= 400:
                        r.read()
                        raise UserError(f"{where} answered {r.status_code}: {r.text[:300]}"
                                        + (" (check the API key)" if r.status_code in (401, 403) else ""))
                    return _read_stream(r, t0, messages, emit_once if emit is not None else None, where)
            except (httpx.TransportError, httpx.TimeoutException) as e:
                if sent:
                    raise UserError(f"the connection to {where} broke after part of the answer had streamed "
                                    f"({type(e).__name__}: {e})") from None
                if attempt >= self.max_retries:
                    raise UserError(f"cannot reach {where} after {attempt + 1} tries ({type(e).__name__}: {e}): "
                                    "is the server running, and model.base_url right?") from None
                self._sleep(attempt, None)
        raise AssertionError("unreachable")

    @staticmethod
    def _sleep(attempt: int, retry_after: str | None) -> None:
        delay = float(retry_after) if retry_after and retry_after.isdigit() else min(30.0, 0.5 * 2 ** attempt)
        time.sleep(delay * (1 + 0.25 * random.random()))


def _read_stream(r: Any, t0: float, messages: Messages, emit: Callable[[str], None] | None,
                 where: Any = "the endpoint") -> Generation:
    parts: list[str] = []
    ttft = None
    usage: dict[str, int] = {}
    events = 0
    for line in r.iter_lines():
        if not line.startswith("data:"):
            continue
        events += 1
        data = line[5:].strip()
        if data == "[DONE]":
            break
        try:
            chunk = json.loads(data)
        except ValueError:
            raise UserError(f"{where} sent a stream event that is not JSON: {data[:200]!r} "
                            "(is model.base_url an OpenAI-compatible /v1 endpoint?)") from None
        if not isinstance(chunk, dict):
            raise UserError(f"{where} sent a stream event that is not a JSON object: {data[:200]!r}")
        if chunk.get("error"):  # a server that fails mid-answer says so in-band
            err = chunk["error"]
            raise UserError(f"{where} failed mid-answer: {err.get('message', err) if isinstance(err, dict) else err}")
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk.get("choices", []):
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                ttft = ttft or time.perf_counter() - t0
                parts.append(piece)
                if emit is not None:
                    emit(piece)
    if not events:  # a 200 that is not a stream at all: never grade it as an empty answer
        raise UserError(f"{where} answered with no stream events (does it support stream: true?)")
    latency = time.perf_counter() - t0
    text = "".join(parts).strip()
    if "prompt_tokens" in usage and "completion_tokens" in usage:
        return Generation(text, int(usage["prompt_tokens"]), int(usage["completion_tokens"]), latency,
                          ttft or latency)
    # No usage from the server: a missing count must not price the answer at $0.
    prompt = "\n".join(m["content"] for m in messages if isinstance(m.get("content"), str))
    return Generation(text, estimate_tokens(prompt), estimate_tokens(text), latency, ttft or latency,
                      usage_estimated=True)


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
