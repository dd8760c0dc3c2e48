"""From per-item records to the summary other tools read (keep the field names stable)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from adapt.recipe import CostSpec, Recipe

PRICES = Path(__file__).resolve().parents[2] / "eval" / "prices.yaml"


def load_prices(path: Path = PRICES) -> dict[str, dict[str, float]]:
    """Dated, user-editable API prices: model name -> usd_per_1m_input / usd_per_1m_output."""
    if not path.is_file():
        return {}
    return (yaml.safe_load(path.read_text()) or {}).get("models", {})


def api_prices(recipe: Recipe) -> tuple[float | None, float | None]:
    c = recipe.cost
    if c.usd_per_1m_input is not None and c.usd_per_1m_output is not None:
        return c.usd_per_1m_input, c.usd_per_1m_output
    p = load_prices().get(recipe.model.model or "", {})
    return p.get("usd_per_1m_input"), p.get("usd_per_1m_output")


def usd_per_1k_queries(recipe: Recipe, recs: list[dict[str, Any]]) -> float | None:
    """API recipes: tokens x prices. Local recipes: measured machine time per item x $/hour."""
    if not recs:
        return None
    if recipe.model is not None and recipe.model.backend == "openai":
        pin, pout = api_prices(recipe)
        if pin is None or pout is None:
            return None
        tin = np.mean([r["input_tokens"] for r in recs])
        tout = np.mean([r["output_tokens"] for r in recs])
        return float((tin * pin + tout * pout) / 1e6 * 1000)
    seconds_per_query = float(np.mean([r["wall_ms"] for r in recs])) / 1000
    return machine_usd(recipe.cost, seconds_per_query * 1000)


def machine_usd(cost: CostSpec, seconds: float) -> float | None:
    return None if cost.usd_per_hour is None else seconds / 3600 * cost.usd_per_hour


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def summarize(records: list[dict[str, Any]], recipes: list[Recipe], suite: str,
              one_off_s: dict[str, float]) -> dict[str, Any]:
    rows = []
    for recipe in recipes:
        recs = [r for r in records if r["recipe"] == recipe.name]
        n = len(recs)
        if not n:
            continue
        grades = [r["grade"] for r in recs]
        answerable = [r for r in recs if r["gold"]]
        ranked = [r for r in recs if r.get("gold_source")]
        retrieval = None
        if recipe.rag is not None and recipe.rung != "baseline" and ranked:
            retrieval = {"hit@k": round(float(np.mean([r["retrieval_rank"] is not None for r in ranked])), 4),
                         "mrr": round(float(np.mean([1 / r["retrieval_rank"] if r["retrieval_rank"] else 0
                                                     for r in ranked])), 4), "k": recipe.rag.k}
        wall = sum(r["wall_ms"] for r in recs) / 1000
        once = one_off_s.get(recipe.name, 0.0)
        rows.append({
            "recipe": recipe.name, "rung": recipe.label, "n": n,
            "correct_rate": round(grades.count("correct") / n, 4),
            "hallucination_rate": round(grades.count("incorrect") / n, 4),
            "abstain_rate": round(grades.count("abstained") / n, 4),
            "em": round(float(np.mean([r["em"] for r in answerable])), 4) if answerable else None,
            "f1": round(float(np.mean([r["f1"] for r in answerable])), 4) if answerable else None,
            "latency_ms": {"p50": _pct([r["latency_ms"] for r in recs], 50),
                           "p95": _pct([r["latency_ms"] for r in recs], 95)},
            "ttft_ms": {"p50": _pct([r["ttft_ms"] for r in recs], 50)},
            "retrieval_ms": {"p50": _pct([r["retrieval_ms"] for r in recs if r.get("retrieval_ms") is not None], 50)},
            "output_tokens_per_s": round(sum(r["output_tokens"] for r in recs) / wall, 2) if wall > 0 else None,
            "retrieval": retrieval,
            "cost": {"usd_per_1k_queries": _round(usd_per_1k_queries(recipe, recs)),
                     "one_off_usd": _round(machine_usd(recipe.cost, once) if once else 0.0),
                     "one_off_s": round(once, 1)},
        })
    return {"suite": suite, "recipes": rows, "break_even": break_even(rows),
            "definitions": DEFINITIONS}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def break_even(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Query volume at which a rung with a higher one-off cost but cheaper queries pays off."""
    out = []
    for a in rows:
        for b in rows:
            ca, cb = a["cost"]["usd_per_1k_queries"], b["cost"]["usd_per_1k_queries"]
            oa, ob = a["cost"]["one_off_usd"] or 0, b["cost"]["one_off_usd"] or 0
            if ca is None or cb is None or not (ob > oa and cb < ca):
                continue
            out.append({"from": a["recipe"], "to": b["recipe"],
                        "queries": int(round((ob - oa) / ((ca - cb) / 1000)))})
    return out


DEFINITIONS = {
    "correct": "exact match after SQuAD normalization, or the normalized gold answer inside an answer of at "
               "most 4x its length + 8 tokens, or token F1 >= 0.5 with every number of the gold in the answer",
    "abstained": "the answer declines (the recipe's abstain phrase or a paraphrase such as "
                 "'not mentioned in the passages'), or is empty",
    "incorrect": "everything else; any answer to an unanswerable item is incorrect",
    "hallucination_rate": "incorrect / all items",
    "em_f1": "mean over answerable items, best over gold answers",
    "latency_ms": "end to end per item, retrieval included; in a batch every item waits for the batch",
    "usd_per_1k_queries": "API: tokens x eval/prices.yaml; local: measured machine seconds per item x $/hour",
    "one_off_usd": "index build and training time x $/hour",
}
