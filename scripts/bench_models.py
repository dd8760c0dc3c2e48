"""The embedded generator: GGUF conversion time, first and cached load time, and generation
tokens/s with 8 prompts batched against the same 8 one at a time.

    python scripts/bench_models.py

Last line: {"convert_s", "cached_load_s", "batched_tok_s", "single_tok_s", "batch_speedup"}.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PROMPTS = ["What is the capital of France?", "Name three primary colours.", "What is 12 times 12?",
           "Who wrote Romeo and Juliet?", "What is the boiling point of water in Celsius?",
           "Name the largest planet in the solar system.", "What language is spoken in Brazil?",
           "What is the chemical symbol for gold?"]


def main() -> None:
    os.environ["ADAPT_CACHE"] = tempfile.mkdtemp(prefix="adapt-cache-")  # a cold cache: measure the conversion
    from adapt.backends import chat
    from adapt.backends.local import LocalGenerator
    from adapt.models import load_causal_lm, resolve_generator

    t0 = time.perf_counter()
    path = resolve_generator("smollm2-135m-instruct")
    convert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    gen = LocalGenerator(*load_causal_lm("smollm2-135m-instruct"))
    cached_load_s = time.perf_counter() - t0
    size_mb = sum(p.stat().st_size for p in Path(path).iterdir()) / 2**20
    batch = [chat(p, None) for p in PROMPTS]
    gen.generate(batch[:1], 4)  # warm-up
    t0 = time.perf_counter()
    outs = gen.generate(batch, 64)
    batched_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    singles = [gen.generate([m], 64)[0] for m in batch]
    single_s = time.perf_counter() - t0
    b_tok, s_tok = sum(o.output_tokens for o in outs), sum(o.output_tokens for o in singles)
    print(f"convert {convert_s:.1f}s -> {size_mb:.0f} MB safetensors; cached load {cached_load_s:.2f}s")
    print(f"8 prompts batched: {b_tok} tokens in {batched_s:.1f}s ({b_tok / batched_s:.1f} tok/s); "
          f"one at a time: {s_tok} tokens in {single_s:.1f}s ({s_tok / single_s:.1f} tok/s)")
    print(json.dumps({"convert_s": round(convert_s, 1), "cached_load_s": round(cached_load_s, 2),
                      "converted_mb": round(size_mb), "batched_tok_s": round(b_tok / batched_s, 1),
                      "single_tok_s": round(s_tok / single_s, 1),
                      "batch_speedup": round((b_tok / batched_s) / (s_tok / single_s), 2)}))


if __name__ == "__main__":
    main()
