"""`adapt ladder`: build what each rung needs, evaluate cheapest first, recommend against a bar.

A rung is recommended only when it meets every threshold with 95 % confidence: its whole interval
lies on the right side. A rung whose interval straddles a threshold is inconclusive, with an
estimate of the suite size that would decide it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

from adapt import rungs
from adapt.data.suite import SPLIT_SEED, TRAIN_FRACTION, load_suite, split_items, stratified_head, write_suite
from adapt.errors import UserError
from adapt.eval import registry, stats
from adapt.eval.report import what_decides
from adapt.eval.records import SummaryRow, rows_of
from adapt.recipe import GuardSpec, Recipe, load_recipe

FEW_ITEMS = 100
_COND = re.compile(r"^\s*([\w@]+)\s*(>=|<=|>|<)\s*([0-9.eE+-]+)\s*$")


def parse_bar(bar: str) -> list[tuple[str, str, float]]:
    """'correct>=0.6,hallucination<=0.1' -> [(metric, op, value)]; bad input is a UserError."""
    conds = []
    for part in filter(None, (p.strip() for p in bar.split(","))):
        m = _COND.match(part)
        if not m:
            raise UserError(f"cannot read '{part}' (expected METRIC>=VALUE or METRIC<=VALUE)", param="bar")
        if m.group(1) not in registry.BY_BAR:
            raise UserError(f"unknown metric '{m.group(1)}' (known: {', '.join(registry.BY_BAR)})", param="bar")
        try:
            target = float(m.group(3))
        except ValueError:
            raise UserError(f"'{m.group(3)}' in '{part}' is not a number", param="bar") from None
        kind = registry.BY_BAR[m.group(1)].kind
        if kind in ("rate", "score") and not 0 <= target <= 1:
            raise UserError(f"{m.group(1)} is a share between 0 and 1 (0.6 means 60 %), not {target:g}", param="bar")
        if kind == "pct" and not 0 <= target <= 100:
            raise UserError(f"{m.group(1)} is a percentage between 0 and 100, not {target:g}", param="bar")
        conds.append((m.group(1), m.group(2), target))
    if not conds:
        raise UserError("is empty", param="bar")
    return conds


def check(row: SummaryRow, bar: list[tuple[str, str, float]]) -> dict[str, Any]:
    """One rung against the bar: meets | fails | inconclusive, condition by condition.

    An inconclusive rung says what would decide it: a larger suite (needed_n items), and for
    latency percentiles more requests timed one at a time (needed_timed, --latency-items)."""
    conditions, decisions, suite_needs, timed_needs = [], [], [], []
    for name, op, target in bar:
        m = registry.BY_BAR[name]
        value = registry.get(row, m.key)
        iv = row.intervals.get(m.key)
        n = row.counts.get(m.key, row.n)
        if value is None:
            d = stats.Decision("undecided", None)
        elif iv is not None and iv[1] is None:  # a tail percentile of too few timed requests: unbounded above
            d = _unbounded_above(iv[0], op, target)
            if d.status == "undecided":
                timed_needs.append(max(stats.quantile_min_n(m.quantile or 50), n + 1))
        else:
            d = stats.decide(value, iv, op, target, n, "rate" if m.kind == "rate" else "other")
            if d.status == "undecided" and d.needed_n is not None:
                if m.quantile is not None:
                    timed_needs.append(d.needed_n)
                elif n and row.n:  # measured on a subgroup (answerable items): scale to the suite
                    suite_needs.append(-(-d.needed_n * row.n // n))
        decisions.append(d)
        shown = "not measured" if value is None else f"{registry.fmt_value(m.kind, value)} " \
            f"{registry.fmt_interval(m.kind, iv)}".strip()
        conditions.append({"metric": name, "op": op, "target": target, "value": value, "interval": iv,
                           "status": d.status,
                           "text": f"{name} {shown} (needs {op} {registry.fmt_value(m.kind, target)})"})
    status, _ = stats.verdict(decisions)
    undecided = status == "inconclusive"
    return {"recipe": row.recipe, "rung": row.rung, "verdict": status, "conditions": conditions,
            "needed_n": max(suite_needs) if undecided and suite_needs else None,
            "needed_timed": max(timed_needs) if undecided and timed_needs else None,
            "price": registry.get(row, registry.PRICE.key)}


def _unbounded_above(lo: float, op: str, target: float) -> stats.Decision:
    """An interval [lo, infinity): it can only be wholly above the target."""
    above = lo > target or (lo == target and op in ("<",))
    if op in (">=", ">"):
        return stats.Decision("meets" if lo > target or (lo == target and op == ">=") else "undecided", None)
    return stats.Decision("fails" if above else "undecided", None)


def recommend(rows: list[SummaryRow], bar_text: str) -> dict[str, Any]:
    """The cheapest rung that meets the bar with confidence (rows are in ladder order), else none."""
    bar = parse_bar(bar_text)
    checks = [check(r, bar) for r in rows]
    n = max((r.n for r in rows), default=0)
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


def parse_rung_recipes(pairs: list[str]) -> dict[str, str]:
    """['lora=my-lora'] -> {'lora': 'my-lora'}: the recipes that replace rungs' defaults."""
    out = {}
    for pair in pairs:
        rung, sep, recipe = (x.strip() for x in pair.partition("="))
        if not sep or not rung or not recipe:
            raise UserError(f"expected RUNG=RECIPE, got '{pair}'", param="recipe")
        out[rung] = recipe
    return out


def ladder_recipes(names: list[str], chosen: dict[str, str]) -> list[Recipe]:
    """The recipe for each named rung, in ladder order (cheapest first)."""
    if not names:
        raise UserError("is empty: name at least one of " + ", ".join(rungs.names()), param="rungs")
    unknown = [n for n in [*names, *chosen] if n not in rungs.names()]
    if unknown:
        raise UserError(f"unknown rung(s) {unknown}: choose from {', '.join(rungs.names())}")
    recipes = []
    for rung in sorted(dict.fromkeys(names), key=lambda n: (rungs.get(n).place, names.index(n))):
        name = chosen.get(rung) or rungs.get(rung).default_recipe
        if name is None:
            raise UserError(f"rung '{rung}' has no default recipe: give one with --recipe {rung}=RECIPE")
        recipe = load_recipe(name)
        if recipe.rung != rung:
            raise UserError(f"{rung}={name}: that recipe is rung '{recipe.rung}', not '{rung}' (a recipe is read as "
                            "the rung its sections make it: a lora recipe with a rag section is rag+lora)",
                            param="recipe")
        recipes.append(recipe)
    return recipes


def synthetic_suite(docs: str, out: Path, n: int, train: int, generator: Recipe, resume: bool,
                    progress: bool, warn: Callable[[str], None] | None) -> Path:
    """`adapt data synth` into out/synth; --resume reuses it when made from the same documents (by hash),
    generator and request, and refuses to replace the suite an earlier run's answers were graded on."""
    from adapt.synth import UNANSWERABLE, input_hashes, synthesize

    made = out / "synth"
    want = {"asked": {"n": n, "unanswerable": UNANSWERABLE, "train": train}, "inputs": input_hashes(Path(docs)),
            "generator": {"recipe": generator.name, "model": generator.model.model_dump(mode="json")}}
    if resume and (made / "synth.json").is_file():
        stats = json.loads((made / "synth.json").read_text())
        if all(stats.get(k) == v for k, v in want.items()):
            return made
        if (out / "items.jsonl").exists():
            changed = ", ".join(k for k, v in want.items() if stats.get(k) != v)
            raise UserError(f"{made} was made from other {changed} than this run asks for, and {out} holds answers "
                            "graded on it: --overwrite starts the run again", param="resume")
    synthesize(docs, made, generator, n=n, unanswerable=UNANSWERABLE, train=train, overwrite=True,
               progress=progress, warn=warn)
    return made


def run_ladder(suite: str | None, docs: str, rung_names: list[str], bar: str, out: str | Path,
               recipe_names: dict[str, str] | None = None, limit: int | None = None,
               max_steps: int | None = None, resume: bool = False, overwrite: bool = False,
               progress: bool = True, latency_items: int | None = None, synth: int | None = None,
               generator: str = "prompt-local", warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    from adapt.artifacts import adapter_run, write_json
    from adapt.eval import LATENCY_ITEMS
    from adapt.eval.calibrate import calibrate
    from adapt.eval.harness import check_counts, evaluate, read_records, read_timings
    from adapt.eval.report import write_reports

    parse_bar(bar)  # fail before any work
    check_counts(limit, latency_items)
    if (suite is None) == (synth is None):
        raise UserError("give a suite (--suite FILE) or have one made from the documents (--synth N), not both")
    maker = None
    if synth is not None:  # everything synthesis needs, checked before an earlier run is replaced
        from adapt.synth import UNANSWERABLE, check_args, check_folders, check_generator

        check_args(synth, UNANSWERABLE, 0, n_flag="synth")
        maker = load_recipe(generator)
        check_generator(maker)
        check_folders(Path(docs), Path(out) / "synth", overwrite=True)
    recipes = ladder_recipes(rung_names, recipe_names or {})
    out = Path(out)
    items = load_suite(suite) if suite else []
    if (out / "items.jsonl").exists() and not resume:
        if not overwrite:
            raise UserError(f"{out} holds an earlier ladder run: --resume continues it, --overwrite replaces it")
        for name in ("items.jsonl", "timings.jsonl", "run.json"):
            (out / name).unlink(missing_ok=True)
    # Each artifact is built once and shared: one index for every rung that reads one, one adapter
    # per distinct model + training setup (lora and rag+lora train the same one).
    unbuildable = {a.name for r in recipes for a in rungs.get(r.rung).artifacts} - {
        rungs.INDEX.name, rungs.ADAPTER.name, rungs.CALIBRATION.name}
    if unbuildable:
        raise UserError(f"the ladder cannot build {', '.join(sorted(unbuildable))}: build it first and run `adapt eval`")
    tuned = [r for r in recipes if rungs.ADAPTER in rungs.get(r.rung).artifacts]
    calibrated = [r for r in recipes if rungs.CALIBRATION in rungs.get(r.rung).artifacts]
    made = None
    if synth is not None:  # the suite, and the training half when something trains or calibrates on one
        made = synthetic_suite(docs, out, synth, synth if tuned or calibrated else 0, maker, resume, progress, warn)
        suite, docs = str(made / "suite.jsonl"), str(made / "docs")
        items = load_suite(suite)
    index = out / "index"
    one_off: dict[str, float] = {}
    readers = [r for r in recipes if rungs.INDEX in rungs.get(r.rung).artifacts]
    if readers:
        seconds = rungs.INDEX.build(readers[0], docs=docs, index=index, progress=progress)
        for r in readers:
            one_off[r.name] = seconds
    eval_items = items
    if tuned or calibrated:  # adapters train, guards calibrate, on one half; every rung is evaluated on the other
        if made is not None:  # synthesised apart, from other chunks
            if not json.loads((made / "synth.json").read_text())["train"]["rows"]:
                raise UserError(f"{made}: no training rows survived the filters, so the "
                                f"{', '.join(r.rung for r in tuned + calibrated)} rung(s) cannot be trained or "
                                "calibrated (see synth.json)")
            train_items = load_suite(made / "train-suite.jsonl")
        else:
            src = tuned[0].train.from_suite if tuned else None
            train_items, eval_items = split_items(items, src.train_fraction if src else TRAIN_FRACTION,
                                                  src.seed if src else SPLIT_SEED)
        write_suite(train_items, out / "train-suite.jsonl")
        write_suite(eval_items, out / "eval-suite.jsonl")
    runs: dict[str, tuple[Path, float]] = {}  # one training run serves lora and rag+lora alike
    for i, r in enumerate(recipes):
        if r not in tuned:
            continue
        key = f"{r.adapter_bits}" + r.model.model_dump_json() + r.train.model_dump_json(exclude={"output_dir"})
        if key not in runs:
            run_dir = out / "runs" / r.name
            if resume and (run_dir / "run.json").is_file() and (run_dir / "adapter").is_dir():
                seconds = adapter_run(run_dir / "adapter")["metrics"]["train_seconds"]
            else:
                # --resume continues a training run a kill cut short; a fresh or --overwrite ladder
                # run trains again over what an earlier ladder run left in its own folder
                cont = resume and any((run_dir / "checkpoints").glob("checkpoint-*/trainer_state.json"))
                seconds = rungs.ADAPTER.build(r, output=run_dir, train_suite=out / "train-suite.jsonl",
                                              index=index, max_steps=max_steps, resume=cont, overwrite=not cont,
                                              progress=progress)
            runs[key] = (run_dir, seconds)
        run_dir, train_s = runs[key]
        one_off[r.name] = one_off.get(r.name, 0.0) + train_s
        recipes[i] = r.model_copy(update={"model": r.model.model_copy(update={"adapter": str(run_dir / "adapter")})})
    calibrations: dict[str, dict[str, Any]] = {}  # what the report shows of each guard's calibration
    for i, r in enumerate(recipes):
        if r not in calibrated:
            continue
        cal_dir = out / "calibration" / r.name
        if not (resume and (cal_dir / "calibration.json").is_file()):
            calibrate(r, load_suite(out / "train-suite.jsonl"), cal_dir, index=str(index), progress=progress,
                      suite_name="train-suite.jsonl", overwrite=True)
        cal = json.loads((cal_dir / "calibration.json").read_text())
        calibrations[r.name] = {k: cal[k] for k in ("n", "objective", "guard", "before", "after", "curve")}
        one_off[r.name] = one_off.get(r.name, 0.0) + cal["seconds"]
        recipes[i] = r.with_guard(GuardSpec(**cal["guard"]))
    if limit:
        eval_items = stratified_head(eval_items, limit)
    summary = evaluate(recipes, eval_items, out, index=str(index), resume=True, suite_name=Path(suite).name,
                       suite_path=suite, one_off_s=one_off, progress=progress,
                       latency_items=LATENCY_ITEMS if latency_items is None else latency_items)
    verdict = recommend(rows_of(summary), bar)
    verdict["eval_items"] = len(eval_items)
    summary["ladder"] = verdict
    if calibrations:
        summary["calibrations"] = calibrations
    if made is not None:
        summary["synth"] = json.loads((made / "synth.json").read_text())
    write_json(out / "summary.json", summary)
    write_reports(out, summary, read_records(out / "items.jsonl"), read_timings(out / "timings.jsonl"),
                  ladder=verdict)
    return summary
