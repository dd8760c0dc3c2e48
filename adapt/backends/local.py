"""transformers generate(): batched with left padding, chat template, greedy unless temperature > 0."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any, Callable

from adapt.backends import Cancelled, Generation, Messages, Prompt


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


def _stop_rows(cancelled: Cancelled) -> Any:
    """A StoppingCriteria that ends the rows whose `cancelled()` flag is set (all of them: generation
    ends at the next token)."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Cancelled(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.tensor(cancelled(), dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([_Cancelled()])


class LocalGenerator:
    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.model, self.tok = model, tokenizer
        self.tok.padding_side = "left"
        limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
        self.context_length: int | None = limit if isinstance(limit, int) else None
        # Token counts come from their own copy of the tokenizer: a fast tokenizer changes its padding
        # state on every call, so a server counting in its event loop while the model thread encodes
        # with the same object could race.
        self._counter: Any = None
        self._counter_lock = threading.Lock()

    @classmethod
    def from_spec(cls, spec: Any) -> LocalGenerator:
        from adapt.models import load_causal_lm

        return cls(*load_causal_lm(spec.name, spec.dtype, spec.adapter))

    def prompt_text(self, messages: Messages) -> str:
        return self.tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def count_tokens(self, prompt: Prompt) -> int:
        with self._counter_lock:
            if self._counter is None:
                self._counter = copy.deepcopy(self.tok)
            text = prompt if isinstance(prompt, str) else self._counter.apply_chat_template(
                prompt, add_generation_prompt=True, tokenize=False)
            return len(self._counter(text, add_special_tokens=False)["input_ids"])

    def generate(self, batch: list[Prompt], max_new_tokens: int, temperature: float = 0.0,
                 cancelled: Cancelled | None = None, streamer: Any = None) -> list[Generation]:
        """Chat conversations (or raw prompt strings) -> generations; `streamer` sees the tokens."""
        import torch

        texts = [m if isinstance(m, str) else self.prompt_text(m) for m in batch]
        enc = self.tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.model.device)
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {
            "do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        if cancelled is not None:
            sampling["stopping_criteria"] = _stop_rows(cancelled)
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

    def stream(self, prompt: Prompt, max_new_tokens: int, temperature: float, emit: Callable[[str], None],
               cancelled: Callable[[], bool] | None = None) -> Generation:
        """One generation, calling emit(text) for each decoded piece (transformers' TextIteratorStreamer)."""
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.tok, skip_prompt=True, skip_special_tokens=True)
        result: dict[str, Any] = {}
        rows = (lambda: [cancelled()]) if cancelled is not None else None

        def run() -> None:
            try:
                result["g"] = self.generate([prompt], max_new_tokens, temperature, rows, streamer=streamer)[0]
            except BaseException as e:  # noqa: BLE001 - re-raised below, in the calling thread
                result["error"] = e
            finally:
                # generate() ends the streamer only when it succeeds; end it here too, or the loop below
                # (and with it a server's model thread and every later request) would wait forever
                streamer.end()

        t = threading.Thread(target=run, name="adapt-generate", daemon=True)
        t.start()
        for piece in streamer:
            if piece:
                emit(piece)
        t.join()
        if "error" in result:
            raise result["error"]
        return result["g"]


def _stop_ids(model: Any, tok: Any) -> set[int]:
    eos = model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    ids.add(tok.eos_token_id)
    ids.add(tok.pad_token_id)
    return {i for i in ids if i is not None}
