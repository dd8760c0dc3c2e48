"""Why `adapt finetune` trails a hand-written loop on CPU: one SmolLM2 + LoRA forward+backward on the
same batch, with trl's fused LM head (what SFTTrainer always installs) and with the plain
transformers loss.

    python scripts/diag_trl_lm_head.py [--repeats 4]

Last line: {"fused_s", "plain_s", "overhead"} (median seconds per forward+backward).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=4)
    a = ap.parse_args()

    from bench_train import make_rows
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    from adapt.models import load_tokenizer, resolve_generator

    tok = load_tokenizer("smollm2-135m-instruct")
    rows = make_rows(8)
    prompts = [tok.apply_chat_template(r["messages"][:1], add_generation_prompt=True, tokenize=False) for r in rows]
    enc = tok([tok.apply_chat_template(r["messages"], tokenize=False) for r in rows], return_tensors="pt",
              padding=True, add_special_tokens=False)
    labels = enc.input_ids.clone()
    labels[enc.attention_mask == 0] = -100
    for i, p in enumerate(prompts):  # loss on the answer only, as SFTTrainer does
        labels[i, : len(tok(p, add_special_tokens=False).input_ids)] = -100

    def step_times(fused: bool) -> float:
        model = AutoModelForCausalLM.from_pretrained(resolve_generator("smollm2-135m-instruct"))
        if fused:
            add_fused_lm_head(model, outputs=("log_probs", "entropy", "is_top1"))
        model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear",
                                                 task_type="CAUSAL_LM"))
        model.train()
        times = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            if fused:
                out = model(**enc, labels=labels, fused_lm_head=True)
                loss = -out.log_probs.sum() / (labels != -100).sum()
            else:
                loss = model(**enc, labels=labels).loss
            loss.backward()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    plain, fused = step_times(False), step_times(True)
    print(f"forward+backward, batch of 8: plain transformers loss {plain:.2f}s, trl fused LM head {fused:.2f}s")
    print(json.dumps({"fused_s": round(fused, 3), "plain_s": round(plain, 3), "overhead": round(fused / plain, 3)}))


if __name__ == "__main__":
    main()
