"""`adapt ladder`: build what each rung needs, evaluate cheapest first, recommend against a bar."""

from __future__ import annotations

import operator
import random
import re
from pathlib import Path
from typing import Any

from adapt.data.suite import Item, load_suite, write_suite
from adapt.errors import UserError
from adapt.recipe import Recipe, load_recipe

# rung -> default recipe, in ladder (cheapest first) order
DEFAULT_RECIPES = {"baseline": "baseline", "prompt": "prompt-local", "rag": "rag-local",
                   "lora": "smollm2-lora", "rag+lora": "rag-smollm2-lora"}
METRICS = {
    "correct": ("correct_rate",), "hallucination": ("hallucination_rate",), "abstain": ("abstain_rate",),
    "f1": ("f1",), "em": ("em",), "p50_ms": ("latency_ms", "p50"), "p95_ms": ("latency_ms", "p95"),
    "usd_per_1k": ("cost", "usd_per_1k_queries"), "one_off_usd": ("cost", "one_off_usd"),
}
_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_COND = re.compile(r"^\s*(\w+)\s*(>=|<=|>|<)\s*([0-9.eE+-]+)\s*$")


def parse_bar(bar: str) -> list[tuple[str, str, float]]:
    """'correct>=0.6,hallucination<=0.1' -> [(metric, op, value)]; bad input is a UserError."""
    conds = []
    for part in filter(None, (p.strip() for p in bar.split(","))):
        m = _COND.match(part)
        if not m:
            raise UserError(f"--bar: cannot read '{part}' (expected METRIC>=VALUE or METRIC<=VALUE)")
        if m.group(1) not in METRICS:
            raise UserError(f"--bar: unknown metric '{m.group(1)}' (known: {', '.join(METRICS)})")
        conds.append((m.group(1), m.group(2), float(m.group(3))))
    if not conds:
        raise UserError("--bar is empty")
    return conds


def _value(row: dict[str, Any], metric: str) -> float | None:
    v: Any = row
    for key in METRICS[metric]:
        v = v.get(key) if isinstance(v, dict) else None
    return v


def check(row: dict[str, Any], bar: list[tuple[str, str, float]]) -> tuple[bool, list[str], float]:
    """(meets, what it misses, shortfall) where shortfall sums the relative gaps to the bar."""
    misses, gap = [], 0.0
    for metric, op, target in bar:
        v = _value(row, metric)
        if v is None:
            misses.append(f"{metric} not measured")
            gap += 1.0
        elif not _OPS[op](v, target):
            misses.append(f"{metric} {v:.4g} (needs {op} {target:g})")
            gap += abs(v - target) / max(abs(target), 1e-9 if target else 1.0)
    return not misses, misses, gap


def recommend(rows: list[dict[str, Any]], bar_text: str) -> dict[str, Any]:
    """The cheapest rung that meets the bar (rows are in ladder order), else the closest one."""
    bar = parse_bar(bar_text)
    checks = []
    for r in rows:
        ok, misses, gap = check(r, bar)
        checks.append({"recipe": r["recipe"], "rung": r["rung"], "meets": ok, "misses": misses, "gap": gap,
                       "usd_per_1k": r["cost"]["usd_per_1k_queries"]})
    passing = [c for c in checks if c["meets"]]
    if passing:
        best = min(passing, key=lambda c: (c["usd_per_1k"] if c["usd_per_1k"] is not None else float("inf"),
                                           checks.index(c)))
        verdict = (f"Use {best['recipe']} ({best['rung']}): the cheapest rung that meets the bar"
                   + (f" at ${best['usd_per_1k']:.4g} per 1k queries." if best["usd_per_1k"] is not None else "."))
        return {"bar": bar_text, "recommended": best["recipe"], "meets": True, "checks": checks, "verdict": verdict}
    if not checks:
        return {"bar": bar_text, "recommended": None, "meets": False, "checks": [], "verdict": "No rung was evaluated."}
    close = min(checks, key=lambda c: c["gap"])
    verdict = (f"No rung meets the bar. Closest: {close['recipe']} ({close['rung']}), which misses "
               + "; ".join(close["misses"]) + ".")
    return {"bar": bar_text, "recommended": None, "closest": close["recipe"], "meets": False,
            "checks": checks, "verdict": verdict}


def split_items(items: list[Item], train_fraction: float, seed: int) -> tuple[list[Item], list[Item]]:
    """A split by id, stratified so both halves keep answerable and unanswerable items."""
    rng = random.Random(seed)
    train, held = [], []
    for group in ([i for i in items if i.answers], [i for i in items if not i.answers]):
        group = sorted(group, key=lambda i: i.id)
        rng.shuffle(group)
        n = round(len(group) * train_fraction)
        train += group[:n]
        held += group[n:]
    return train, held


def run_ladder(suite: str, docs: str, rungs: list[str], bar: str, out: str | Path,
               recipe_names: dict[str, str] | None = None, limit: int | None = None,
               max_steps: int | None = None, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    from adapt.artifacts import write_json
    from adapt.eval.harness import evaluate, read_records
    from adapt.eval.report import write_reports
    from adapt.rag.index import build_index

    parse_bar(bar)  # fail before any work
    names = {**DEFAULT_RECIPES, **(recipe_names or {})}
    unknown = [r for r in rungs if r not in names]
    if unknown:
        raise UserError(f"unknown rung(s) {unknown}: choose from {', '.join(DEFAULT_RECIPES)}")
    out = Path(out)
    items = load_suite(suite)
    if not resume:
        (out / "items.jsonl").unlink(missing_ok=True)  # a new ladder run; --resume continues the last one
    recipes: list[Recipe] = []
    skipped: dict[str, str] = {}
    for rung in sorted(rungs, key=list(DEFAULT_RECIPES).index):
        try:
            recipes.append(load_recipe(names[rung]))
        except UserError as e:
            skipped[rung] = str(e)
    index = out / "index"
    one_off: dict[str, float] = {}
    if any(r.rag is not None for r in recipes):
        rag = next(r.rag for r in recipes if r.rag is not None)
        rep = build_index(docs, index, rag.embedder, rag.chunk_size, rag.chunk_overlap, progress=progress)
        for r in recipes:
            if r.rag is not None and r.rung != "baseline":
                one_off[r.name] = rep.seconds
    tuned = [r for r in recipes if r.rung in ("lora", "qlora")]
    eval_items = items
    if tuned:
        from adapt.train.finetune import finetune

        frac = tuned[0].train.from_suite.train_fraction if tuned[0].train.from_suite else 0.5
        train_items, eval_items = split_items(items, frac, tuned[0].train.seed)
        write_suite(train_items, out / "train-suite.jsonl")
        write_suite(eval_items, out / "eval-suite.jsonl")
        runs: dict[str, tuple[Path, float]] = {}  # one training run serves lora and rag+lora alike
        for i, r in enumerate(recipes):
            if r.rung not in ("lora", "qlora"):
                continue
            key = r.model.model_dump_json() + r.train.model_dump_json(exclude={"output_dir"})
            if key not in runs:
                run_dir = out / "runs" / r.name
                res = finetune(r, output=run_dir, max_steps=max_steps, suite_override=out / "train-suite.jsonl",
                               index_override=str(index), progress=progress)
                runs[key] = (run_dir, res["train_seconds"])
            run_dir, train_s = runs[key]
            one_off[r.name] = one_off.get(r.name, 0.0) + train_s
            recipes[i] = r.model_copy(update={"model": r.model.model_copy(update={"adapter": str(run_dir / "adapter")})})
    if limit:
        eval_items = eval_items[:limit]
    summary = evaluate(recipes, eval_items, out, index=str(index), resume=True, suite_name=Path(suite).name,
                       one_off_s=one_off, progress=progress)
    verdict = recommend(summary["recipes"], bar)
    verdict["skipped"] = skipped
    verdict["eval_items"] = len(eval_items)
    summary["ladder"] = verdict
    write_json(out / "summary.json", summary)
    write_reports(out, summary, read_records(out / "items.jsonl"), ladder=verdict)
    return summary
