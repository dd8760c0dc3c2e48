"""`adapt ladder`: build what each rung needs, evaluate cheapest first, recommend against a bar.

A rung is recommended only when it meets every threshold with 95 % confidence: its whole interval
lies on the right side. A rung whose interval straddles a threshold is inconclusive, with an
estimate of the suite size that would decide it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from adapt.data.suite import SPLIT_SEED, load_suite, split_items, stratified_head, write_suite
from adapt.errors import UserError
from adapt.eval import registry, stats
from adapt.recipe import Recipe, load_recipe

# rung -> default recipe, in ladder (cheapest first) order
DEFAULT_RECIPES = {"baseline": "baseline", "prompt": "prompt-local", "rag": "rag-local",
                   "lora": "smollm2-lora", "rag+lora": "rag-smollm2-lora"}
FEW_ITEMS = 100
_COND = re.compile(r"^\s*([\w@]+)\s*(>=|<=|>|<)\s*([0-9.eE+-]+)\s*$")


def parse_bar(bar: str) -> list[tuple[str, str, float]]:
    """'correct>=0.6,hallucination<=0.1' -> [(metric, op, value)]; bad input is a UserError."""
    conds = []
    for part in filter(None, (p.strip() for p in bar.split(","))):
        m = _COND.match(part)
        if not m:
            raise UserError(f"--bar: cannot read '{part}' (expected METRIC>=VALUE or METRIC<=VALUE)")
        if m.group(1) not in registry.BY_BAR:
            raise UserError(f"--bar: unknown metric '{m.group(1)}' (known: {', '.join(registry.BY_BAR)})")
        try:
            target = float(m.group(3))
        except ValueError:
            raise UserError(f"--bar: '{m.group(3)}' in '{part}' is not a number") from None
        kind = registry.BY_BAR[m.group(1)].kind
        if kind in ("rate", "score") and not 0 <= target <= 1:
            raise UserError(f"--bar: {m.group(1)} is a share between 0 and 1 (0.6 means 60 %), not {target:g}")
        if kind == "pct" and not 0 <= target <= 100:
            raise UserError(f"--bar: {m.group(1)} is a percentage between 0 and 100, not {target:g}")
        conds.append((m.group(1), m.group(2), target))
    if not conds:
        raise UserError("--bar is empty")
    return conds


def check(row: dict[str, Any], bar: list[tuple[str, str, float]]) -> dict[str, Any]:
    """One rung against the bar: meets | fails | inconclusive, condition by condition.

    An inconclusive rung says what would decide it: a larger suite (needed_n items), and for
    latency percentiles more requests timed one at a time (needed_timed, --latency-items)."""
    conditions, decisions, suite_needs, timed_needs = [], [], [], []
    for name, op, target in bar:
        m = registry.BY_BAR[name]
        value = registry.get(row, m.key)
        iv = (row.get("intervals") or {}).get(m.key)
        n = (row.get("counts") or {}).get(m.key, row.get("n", 0))
        if value is None:
            d = stats.Decision("undecided", None)
        elif iv is not None and iv[1] is None:  # a tail percentile of too few timed requests: unbounded above
            d = _unbounded_above(iv[0], op, target)
            if d.status == "undecided":
                timed_needs.append(max(stats.quantile_min_n(m.quantile or 50), n + 1))
        else:
            d = stats.decide(value, tuple(iv) if iv else None, op, target, n, "rate" if m.kind == "rate" else "other")
            if d.status == "undecided" and d.needed_n is not None:
                if m.quantile is not None:
                    timed_needs.append(d.needed_n)
                elif n and row.get("n"):  # measured on a subgroup (answerable items): scale to the suite
                    suite_needs.append(-(-d.needed_n * row["n"] // n))
        decisions.append(d)
        shown = "not measured" if value is None else f"{registry.fmt_value(m.kind, value)} " \
            f"{registry.fmt_interval(m.kind, tuple(iv) if iv else None)}".strip()
        conditions.append({"metric": name, "op": op, "target": target, "value": value, "interval": iv,
                           "status": d.status,
                           "text": f"{name} {shown} (needs {op} {registry.fmt_value(m.kind, target)})"})
    status, _ = stats.verdict(decisions)
    undecided = status == "inconclusive"
    return {"recipe": row["recipe"], "rung": row["rung"], "verdict": status, "conditions": conditions,
            "needed_n": max(suite_needs) if undecided and suite_needs else None,
            "needed_timed": max(timed_needs) if undecided and timed_needs else None,
            "price": registry.get(row, registry.PRICE.key)}


def _unbounded_above(lo: float, op: str, target: float) -> stats.Decision:
    """An interval [lo, infinity): it can only be wholly above the target."""
    above = lo > target or (lo == target and op in ("<",))
    if op in (">=", ">"):
        return stats.Decision("meets" if lo > target or (lo == target and op == ">=") else "undecided", None)
    return stats.Decision("fails" if above else "undecided", None)


def recommend(rows: list[dict[str, Any]], bar_text: str) -> dict[str, Any]:
    """The cheapest rung that meets the bar with confidence (rows are in ladder order), else none."""
    bar = parse_bar(bar_text)
    checks = [check(r, bar) for r in rows]
    n = max((r["n"] for r in rows), default=0)
    warning = (f"Only {n} items were evaluated: with fewer than {FEW_ITEMS}, a rate's interval spans tens of "
               "points, so most rungs stay inconclusive.") if n < FEW_ITEMS else None
    base = {"bar": bar_text, "checks": checks, "n": n, "warning": warning}
    if not checks:
        return {**base, "recommended": None, "meets": False, "verdict": "No rung was evaluated."}
    passing = [c for c in checks if c["verdict"] == "meets"]
    if passing:
        best = min(passing, key=lambda c: (c["price"] if c["price"] is not None else float("inf"), checks.index(c)))
        price = f" at {registry.fmt_usd(best['price'])} per 1k queries" if best["price"] is not None else ""
        return {**base, "recommended": best["recipe"], "meets": True,
                "verdict": f"Use {best['recipe']} ({best['rung']}): the cheapest rung that meets the bar with "
                           f"95 % confidence{price}."}
    open_ = [c for c in checks if c["verdict"] == "inconclusive"]
    if open_:
        named = [f"{c['recipe']} ({what_decides(c)} would decide)" if what_decides(c) else c["recipe"]
                 for c in open_]
        text = f"No rung meets the bar with 95 % confidence. Inconclusive: {', '.join(named)}."
    else:
        text = "No rung meets the bar: every rung fails it with 95 % confidence."
    return {**base, "recommended": None, "meets": False, "verdict": text}


def what_decides(c: dict[str, Any]) -> str:
    """'about 464 items, 72 timed requests': the suite size and timing that would decide a rung."""
    parts = []
    if c.get("needed_n"):
        parts.append(f"about {c['needed_n']:,} items")
    if c.get("needed_timed"):
        parts.append(f"{c['needed_timed']:,} timed requests (--latency-items)")
    return ", ".join(parts)


def run_ladder(suite: str, docs: str, rungs: list[str], bar: str, out: str | Path,
               recipe_names: dict[str, str] | None = None, limit: int | None = None,
               max_steps: int | None = None, resume: bool = False, overwrite: bool = False,
               progress: bool = True, latency_items: int | None = None) -> dict[str, Any]:
    from adapt.artifacts import write_json
    from adapt.eval import LATENCY_ITEMS
    from adapt.eval.harness import evaluate, index_build_seconds, read_records
    from adapt.eval.report import write_reports
    from adapt.rag.index import build_index

    parse_bar(bar)  # fail before any work
    names = {**DEFAULT_RECIPES, **(recipe_names or {})}
    if not rungs:
        raise UserError("--rungs is empty: name at least one of " + ", ".join(DEFAULT_RECIPES))
    unknown = [r for r in rungs if r not in names]
    if unknown:
        raise UserError(f"unknown rung(s) {unknown}: choose from {', '.join(DEFAULT_RECIPES)}")
    out = Path(out)
    items = load_suite(suite)
    if (out / "items.jsonl").exists() and not resume:
        if not overwrite:
            raise UserError(f"{out} holds an earlier ladder run: --resume continues it, --overwrite replaces it")
        for name in ("items.jsonl", "timings.jsonl", "run.json"):
            (out / name).unlink(missing_ok=True)
    order = list(names)
    recipes = [load_recipe(names[rung]) for rung in sorted(rungs, key=order.index)]
    index = out / "index"
    one_off: dict[str, float] = {}
    if any(r.rag is not None for r in recipes):
        rag = next(r.rag for r in recipes if r.rag is not None)
        build_index(docs, index, rag.embedder, rag.chunk_size, rag.chunk_overlap, progress=progress)
        for r in recipes:
            if r.rag is not None:  # the baseline reads the index too
                one_off[r.name] = index_build_seconds(index)
    tuned = [r for r in recipes if r.train is not None]
    eval_items = items
    if tuned:
        from adapt.train.finetune import finetune

        src = tuned[0].train.from_suite
        train_items, eval_items = split_items(items, src.train_fraction if src else 0.5,
                                              src.seed if src else SPLIT_SEED)
        write_suite(train_items, out / "train-suite.jsonl")
        write_suite(eval_items, out / "eval-suite.jsonl")
        runs: dict[str, tuple[Path, float]] = {}  # one training run serves lora and rag+lora alike
        for i, r in enumerate(recipes):
            if r.train is None:
                continue
            key = r.model.model_dump_json() + r.train.model_dump_json(exclude={"output_dir"})
            if key not in runs:
                run_dir = out / "runs" / r.name
                if resume and (run_dir / "run.json").is_file() and (run_dir / "adapter").is_dir():
                    import json

                    res = json.loads((run_dir / "run.json").read_text())["metrics"]
                else:
                    # --resume continues a training run a kill cut short; a fresh or --overwrite ladder
                    # run trains again over what an earlier ladder run left in its own folder
                    cont = resume and any((run_dir / "checkpoints").glob("checkpoint-*/trainer_state.json"))
                    res = finetune(r, output=run_dir, max_steps=max_steps, suite_override=out / "train-suite.jsonl",
                                   index_override=str(index), progress=progress, resume=cont, overwrite=not cont)
                runs[key] = (run_dir, res["train_seconds"])
            run_dir, train_s = runs[key]
            one_off[r.name] = one_off.get(r.name, 0.0) + train_s
            recipes[i] = r.model_copy(update={"model": r.model.model_copy(update={"adapter": str(run_dir / "adapter")})})
    if limit:
        eval_items = stratified_head(eval_items, limit)
    summary = evaluate(recipes, eval_items, out, index=str(index), resume=True, suite_name=Path(suite).name,
                       suite_path=suite, one_off_s=one_off, progress=progress,
                       latency_items=LATENCY_ITEMS if latency_items is None else latency_items)
    verdict = recommend(summary["recipes"], bar)
    verdict["eval_items"] = len(eval_items)
    summary["ladder"] = verdict
    write_json(out / "summary.json", summary)
    write_reports(out, summary, read_records(out / "items.jsonl"), read_records(out / "timings.jsonl"), ladder=verdict)
    return summary
