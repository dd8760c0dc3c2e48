"""Eval throughput: batched local eval (the recipe's batch size) against one-at-a-time generation,
same recipe, same items, same run.

    python scripts/bench_eval.py [--recipe prompt-local] [--items 32] [--batch N]

Last line: {"ratio", "batched_items_per_s", "single_items_per_s", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", default="prompt-local")
    ap.add_argument("--suite", default=str(ROOT / "eval/demo/suite.jsonl"))
    ap.add_argument("--items", type=int, default=32)
    ap.add_argument("--batch", type=int, help="default: the recipe's generation.batch_size")
    a = ap.parse_args()

    from adapt.data.suite import load_suite
    from adapt.eval.harness import evaluate
    from adapt.backends import make_generator
    from adapt.recipe import load_recipe

    base = load_recipe(a.recipe)
    a.batch = a.batch or base.generation.batch_size
    items = load_suite(a.suite)[: a.items]
    gen = make_generator(base.model)  # one loaded model for both runs
    gen.generate([[{"role": "user", "content": "warm up"}]], 4)

    def run(batch: int) -> tuple[float, dict]:
        from adapt.pipeline import Pipeline

        r = base.model_copy(update={"name": f"{base.name}-b{batch}", "generation": base.generation.model_copy(
            update={"batch_size": batch})})
        out = Path(tempfile.mkdtemp())
        t0 = time.perf_counter()
        s = evaluate([r], items, out, progress=False, pipeline_factory=lambda rec: Pipeline(rec, generator=gen))
        return time.perf_counter() - t0, s["recipes"][0]

    single_s, single = run(1)
    batched_s, batched = run(a.batch)
    print(f"{'':14}{'items/s':>10}{'seconds':>10}{'correct':>10}{'out tok/s':>11}")
    for name, secs, row in (("one at a time", single_s, single), (f"batch {a.batch}", batched_s, batched)):
        print(f"{name:14}{len(items) / secs:>10.2f}{secs:>10.1f}{row['correct_rate']:>10.3f}{row['output_tokens_per_s']:>11.1f}")
    print(json.dumps({"ratio": round(single_s / batched_s, 3), "batched_items_per_s": round(len(items) / batched_s, 3),
                      "single_items_per_s": round(len(items) / single_s, 3), "items": len(items), "batch": a.batch,
                      "recipe": a.recipe, "batched_output_tok_s": batched["output_tokens_per_s"],
                      "single_output_tok_s": single["output_tokens_per_s"]}))


if __name__ == "__main__":
    main()
