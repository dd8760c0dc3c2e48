"""From per-item records to the summary other tools read: one row per recipe (every metric of the
registry, with intervals), paired tests between rungs, break-even volumes and the definitions."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from adapt.eval import registry, stats
from adapt.eval.records import ItemRecord, SummaryRow, Timed, Timing
from adapt.eval.registry import CORRECT, INCORRECT, Evidence
from adapt.recipe import CostSpec, Recipe

PRICES = Path(__file__).resolve().parent / "prices.yaml"
GRADING_POLICY = (
    "Three-way grading after OpenAI's SimpleQA: correct (states a gold answer, contradicts nothing; hedging "
    "allowed), incorrect (a wrong value, several candidates of which some are wrong, a negated gold, a claim "
    "with a disclaimer, any asserted answer to an unanswerable item), abstained (declines, asserts nothing "
    "that contradicts the gold). Number words equal digits; decimals and units are kept.")


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


def price_basis(recipe: Recipe) -> str | None:
    """How a recipe's queries are priced: 'tokens' (an API with a token price), 'machine time'
    (cost.usd_per_hour: a local model or your own served endpoint), or None (nothing prices it)."""
    if recipe.model is not None and recipe.model.backend == "openai" and None not in api_prices(recipe):
        return "tokens"
    return "machine time" if recipe.cost.usd_per_hour is not None else None


def usd_per_1k_queries(recipe: Recipe, recs: list[ItemRecord]) -> float | None:
    """Token-priced APIs: tokens x prices. Anything else, a served endpoint included: measured machine
    seconds per item (at the recipe's batch size) x cost.usd_per_hour. None when nothing prices it."""
    basis = price_basis(recipe)
    if not recs or basis is None:
        return None
    if basis == "tokens":
        pin, pout = api_prices(recipe)
        tin = np.mean([r.input_tokens for r in recs])
        tout = np.mean([r.output_tokens for r in recs])
        return float((tin * pin + tout * pout) / 1e6 * 1000)
    seconds_per_query = float(np.mean([r.wall_ms for r in recs])) / 1000
    return machine_usd(recipe.cost, seconds_per_query * 1000)


def machine_usd(cost: CostSpec, seconds: float) -> float | None:
    return None if cost.usd_per_hour is None else seconds / 3600 * cost.usd_per_hour


def summary_row(name: str, rung: str, recs: list[ItemRecord], timings: list[Timing] | None = None,
                usd_per_1k: float | None = None, one_off_usd: float | None = None,
                batch_size: int | None = None) -> SummaryRow:
    """One row: every registry metric, its interval, and what the latency figures were measured on."""
    ev = Evidence(recs, timings or [], usd_per_1k, one_off_usd)
    values, intervals, counts = registry.measure(ev)
    return SummaryRow(recipe=name, rung=rung, n=len(recs), n_answerable=len(ev.answerable),
                      n_unanswerable=len(ev.unanswerable), values=values, squad=ev.squad,
                      timed=Timed(n=len(ev.timings), concurrency=1, batch_size=batch_size), intervals=intervals,
                      counts=counts, usage_estimated=sum(bool(r.usage_estimated) for r in recs))


def summarize(records: list[ItemRecord], recipes: list[Recipe], suite: str, one_off_s: dict[str, float],
              timings: list[Timing] | None = None, notes: list[str] | None = None) -> dict[str, Any]:
    """The summary as summary.json holds it: plain JSON, one row per recipe that has records."""
    rows = []
    for recipe in recipes:
        recs = [r for r in records if r.recipe == recipe.name]
        if not recs:
            continue
        once = one_off_s.get(recipe.name, 0.0)
        cost_once = machine_usd(recipe.cost, once) if once else 0.0
        row = summary_row(recipe.name, recipe.rung, recs, [t for t in timings or [] if t.recipe == recipe.name],
                          _round(usd_per_1k_queries(recipe, recs)), _round(cost_once),
                          batch_size=recipe.generation.batch_size)
        row.one_off_s = round(once, 1)
        row.price_basis = price_basis(recipe)
        rows.append(row)
        notes = (notes or []) + _cost_notes(recipe, row)
    return {"suite": suite, "recipes": [r.to_dict() for r in rows],
            "comparisons": compare(records, [r.recipe for r in rows]), "break_even": break_even(rows),
            "grading": GRADING_POLICY, "notes": notes or [], "definitions": registry.definitions()}


def _cost_notes(recipe: Recipe, row: SummaryRow) -> list[str]:
    """Say so wherever a price is not what it seems: estimated usage, an endpoint priced by time."""
    out = []
    if row.usage_estimated:
        out.append(f"{recipe.name}: the API reported no token usage for {row.usage_estimated} answer(s); their "
                   "tokens were counted with a local tokenizer (an estimate)")
    if recipe.model is not None and recipe.model.backend == "openai" and row.price_basis != "tokens":
        how = (f"priced by machine time at ${recipe.cost.usd_per_hour:g}/h (a served model)"
               if row.price_basis else "not priced")
        out.append(f"{recipe.name}: no token price for model '{recipe.model.model}' in the recipe or "
                   f"adapt/eval/prices.yaml, so it is {how}")
    return out


def compare(records: list[ItemRecord], names: list[str]) -> list[dict[str, Any]]:
    """Exact McNemar tests between every pair of recipes on the items both answered: does one give
    more correct (or more incorrect) answers than the other beyond chance?"""
    by = {n: {r.id: r.grade for r in records if r.recipe == n} for n in names}
    out = []
    for a, b in itertools.combinations(names, 2):
        common = sorted(set(by[a]) & set(by[b]))
        if not common:
            continue
        for label in (CORRECT, INCORRECT):
            a_only = sum(by[a][i] == label and by[b][i] != label for i in common)
            b_only = sum(by[b][i] == label and by[a][i] != label for i in common)
            out.append({"a": a, "b": b, "grade": label, "n": len(common), "a_only": a_only, "b_only": b_only,
                        "p": float(f"{stats.mcnemar_exact(a_only, b_only):.3g}")})
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 9)


def break_even(rows: list[SummaryRow]) -> list[dict[str, Any]]:
    """Query volume at which a rung with a higher one-off cost but cheaper queries pays off."""
    cost, once = registry.PRICE.key, registry.ONE_OFF.key
    out = []
    for a in rows:
        for b in rows:
            ca, cb = registry.get(a, cost), registry.get(b, cost)
            oa, ob = registry.get(a, once) or 0, registry.get(b, once) or 0
            if ca is None or cb is None or not (ob > oa and cb < ca):
                continue
            out.append({"from": a.recipe, "to": b.recipe,
                        "queries": int(round((ob - oa) / ((ca - cb) / 1000)))})
    return out
