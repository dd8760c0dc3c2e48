"""Fine-tuning throughput: `adapt finetune` (trl SFTTrainer + peft) against a hand-written PyTorch + peft
loop on the same model, rows, batch size, LoRA config and steps. Each runs in its own process so
peak memory is its own.

    python scripts/bench_train.py [--steps 16] [--batch 8] [--repeats 2] [--model smollm2-135m-instruct]

The two sides alternate (loop, adapt, loop, adapt, ...) and each keeps its fastest run, as timeit
does: a shared 2-core VM swings by 15% between minutes, which would otherwise decide the ratio.

Last line: {"ratio", "adapt_tok_s", "loop_tok_s", "adapt_peak_mb", "loop_peak_mb", "adapt_final_loss", "loop_final_loss"}
(tokens/s counts non-padding tokens; ratio = adapt / loop; final loss = each trained model's answer-token loss
over all the training rows, computed alike for both). The loop is the textbook one: the model's own
loss over full logits. adapt's edge is trl's `chunked_nll`, which runs the LM head (49k-word vocabulary)
on the answer tokens only; with trl 1.15+'s fused LM head, which scores every position, adapt ran 0.75x.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
LR, R, ALPHA, SEED = 2e-4, 16, 32, 0


def make_rows(n: int) -> list[dict]:
    """Short chat rows (~57 tokens with SmolLM2's template), from the demo handbook's sentences."""
    import re

    text = " ".join(p.read_text() for p in sorted((ROOT / "eval/demo/docs").glob("*.md")))
    sents = [s.strip() for s in re.split(r"(?<=[.])\s+", re.sub(r"#+ .*\n", "", text)) if 8 <= len(s.split()) <= 22]
    return [{"messages": [{"role": "user", "content": f"Tell me fact number {i} from the handbook."},
                          {"role": "assistant", "content": sents[i % len(sents)]}]} for i in range(n)]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def tokenized_rows(tok, data: Path) -> list[tuple[list[int], list[int]]]:
    """(input ids, labels) per row; prompt tokens masked out of the loss, as trl does."""
    from adapt.train.data import load_examples

    rows = []
    for ex in load_examples(data):
        prompt = tok.apply_chat_template(ex["prompt"], add_generation_prompt=True, tokenize=False)
        full = tok.apply_chat_template(ex["prompt"] + ex["completion"], tokenize=False)
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        ids = tok(full, add_special_tokens=False)["input_ids"]
        rows.append((ids, [-100] * len(p_ids) + ids[len(p_ids):]))
    return rows


def padded(rows: list[tuple[list[int], list[int]]], idx: list[int], pad_id: int):
    import torch

    n = max(len(rows[i][0]) for i in idx)
    ids = torch.tensor([rows[i][0] + [pad_id] * (n - len(rows[i][0])) for i in idx])
    labels = torch.tensor([rows[i][1] + [-100] * (n - len(rows[i][1])) for i in idx])
    mask = torch.tensor([[1] * len(rows[i][0]) + [0] * (n - len(rows[i][0])) for i in idx])
    return ids, mask, labels


def loss_on_rows(model, rows: list[tuple[list[int], list[int]]], pad_id: int, batch: int) -> float:
    """Answer-token loss of the trained model over every training row, computed the same way for both
    sides: the figure that says both runs learned the same amount, whatever order they saw the rows in."""
    import torch

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(rows), batch):
            ids, mask, labels = padded(rows, list(range(start, min(start + batch, len(rows)))), pad_id)
            n = int((labels[:, 1:] != -100).sum())
            total += model(input_ids=ids, attention_mask=mask, labels=labels).loss.item() * n
            count += n
    return total / count


def run_adapt(data: Path, steps: int, batch: int, model: str) -> dict:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from adapt.models import load_tokenizer, resolve_generator
    from adapt.recipe import parse_recipe
    from adapt.train.finetune import finetune

    out = Path(tempfile.mkdtemp())
    r = parse_recipe({"name": "bench", "rung": "lora", "model": model, "train": {
        "data": str(data), "output_dir": str(out), "r": R, "alpha": ALPHA, "dropout": 0.0, "batch_size": batch,
        "learning_rate": LR, "scheduler": "linear", "warmup_ratio": 0.0, "max_steps": steps, "seed": SEED,
        "save_steps": 10_000}})
    m = finetune(r, progress=False)
    peak = peak_mb()  # before the adapter is loaded again for the loss below
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(resolve_generator(model)), out / "adapter")
    tok = load_tokenizer(model)
    loss = loss_on_rows(tuned, tokenized_rows(tok, data), tok.pad_token_id, batch)
    return {"tok_s": m["tokens_per_s"], "final_loss": loss,
            "peak_mb": peak, "seconds": m["train_seconds"], "tokens": m["tokens_seen"]}


def run_loop(data: Path, steps: int, batch: int, model_name: str) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, get_linear_schedule_with_warmup

    from adapt.models import load_tokenizer, resolve_generator

    torch.manual_seed(SEED)
    tok = load_tokenizer(model_name)
    model = AutoModelForCausalLM.from_pretrained(resolve_generator(model_name), dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=R, lora_alpha=ALPHA, lora_dropout=0.0, target_modules="all-linear",
                                             task_type="CAUSAL_LM"))
    rows = tokenized_rows(tok, data)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=LR)
    sched = get_linear_schedule_with_warmup(opt, 0, steps)
    order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(SEED)).tolist()
    model.train()
    tokens = 0
    t0 = time.perf_counter()
    for step in range(steps):
        ids, mask, labels = padded(rows, [order[(step * batch + j) % len(rows)] for j in range(batch)],
                                   tok.pad_token_id)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        tokens += int(mask.sum())
    secs = time.perf_counter() - t0
    peak = peak_mb()
    return {"tok_s": tokens / secs, "final_loss": loss_on_rows(model, rows, tok.pad_token_id, batch), "peak_mb": peak,
            "seconds": secs, "tokens": tokens}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=2, help="runs per side; each keeps its fastest")
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--worker", choices=["adapt", "loop"])
    ap.add_argument("--data")
    a = ap.parse_args()
    if a.worker:
        fn = run_adapt if a.worker == "adapt" else run_loop
        print(json.dumps(fn(Path(a.data), a.steps, a.batch, a.model)))
        return
    data = Path(tempfile.mkdtemp()) / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in make_rows(a.steps * a.batch)))
    runs: dict[str, list[dict]] = {"loop": [], "adapt": []}
    print(f"{'':10}{'tok/s':>10}{'seconds':>10}{'tokens':>10}{'peak MB':>10}{'final loss':>12}")
    for _ in range(a.repeats):
        for worker in ("loop", "adapt"):
            out = subprocess.run([sys.executable, __file__, "--worker", worker, "--data", str(data), "--steps",
                                  str(a.steps), "--batch", str(a.batch), "--model", a.model],
                                 capture_output=True, text=True, check=True)
            x = json.loads(out.stdout.strip().splitlines()[-1])
            runs[worker].append(x)
            print(f"{worker:10}{x['tok_s']:>10.1f}{x['seconds']:>10.1f}{x['tokens']:>10}{x['peak_mb']:>10.0f}"
                  f"{x['final_loss']:>12.4f}", flush=True)
    ad, lp = (max(runs[k], key=lambda x: x["tok_s"]) for k in ("adapt", "loop"))
    print(json.dumps({"ratio": round(ad["tok_s"] / lp["tok_s"], 3), "adapt_tok_s": round(ad["tok_s"], 1),
                      "loop_tok_s": round(lp["tok_s"], 1), "adapt_peak_mb": round(ad["peak_mb"]),
                      "loop_peak_mb": round(lp["peak_mb"]), "adapt_final_loss": round(ad["final_loss"], 4),
                      "loop_final_loss": round(lp["final_loss"], 4), "steps": a.steps, "batch": a.batch,
                      "model": a.model, "adapt_runs_tok_s": [round(x["tok_s"], 1) for x in runs["adapt"]],
                      "loop_runs_tok_s": [round(x["tok_s"], 1) for x in runs["loop"]]}))


if __name__ == "__main__":
    main()
