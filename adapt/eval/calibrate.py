"""`adapt calibrate`: choose a RAG recipe's guard thresholds (rag.guard) on a calibration suite.

One unguarded pass answers every item and records what the guard would look at: the best passage's
similarity to the question, the answer's grade and its support in the passages. Every pair of
thresholds is then replayed on those records (a gated or unsupported answer becomes the abstain
phrase, which grades as abstained) and the pair that maximises correct minus hallucinated is kept,
or, with `max_hallucination`, the one with the most correct answers at or under that rate.

Calibrate on items you do not then evaluate on: the thresholds are fitted to these answers, and on
the same items they would look better than they are. `adapt ladder` calibrates on its training half.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from adapt import rungs
from adapt.artifacts import atomic_dir, jsonl_text, versions, write_json, write_text
from adapt.data.suite import Item
from adapt.errors import UserError
from adapt.eval.metrics import grade
from adapt.eval.registry import ABSTAINED, CORRECT, INCORRECT
from adapt.rag import support
from adapt.rag.guard import best_similarity
from adapt.recipe import GuardSpec, Recipe

# support thresholds tried; None = no support check
SUPPORT_GRID: tuple[float | None, ...] = (None, 0.0, 0.25, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class Observed:
    """What the guard would see of one unguarded answer."""

    id: str
    answerable: bool
    similarity: float | None
    grade: str
    # the highest support threshold the answer passes: its word share when every value is in the
    # passages, -1 when it can pass none; None when it abstains (the check lets it through)
    support: float | None


@dataclass(frozen=True)
class Outcome:
    min_score: float | None
    support_threshold: float | None
    correct: float
    hallucinated: float
    abstained: float
    answerable_accuracy: float | None
    gated: int
    unsupported: int

    @property
    def gain(self) -> float:
        return self.correct - self.hallucinated


def observe(recipe: Recipe, items: list[Item], index: str | None = None, progress: bool = True,
            pipeline_factory: Callable[[Recipe], Any] | None = None) -> list[Observed]:
    """Answer every item without a guard, batched, and record what the guard would look at."""
    from adapt.pipeline import Pipeline

    bare = recipe.with_guard(None)
    pipe = (pipeline_factory or (lambda r: Pipeline(r, index_dir=index)))(bare)
    abstain = recipe.generation.abstain_phrase
    out: list[Observed] = []
    bs = recipe.generation.batch_size
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  disable=not progress) as bar:
        task = bar.add_task(f"calibrating {recipe.name}", total=len(items))
        for start in range(0, len(items), bs):
            batch = items[start:start + bs]
            for item, ans in zip(batch, pipe.answer([i.question for i in batch])):
                label = grade(ans.text, item.answers, item.question, abstain).label
                found = support.check(ans.text, [h.text for h in ans.sources], item.question, abstain)
                out.append(Observed(item.id, bool(item.answers), best_similarity(ans.sources), label,
                                    None if found is None else found.ceiling))
            bar.advance(task, len(batch))
    return out


def replay(obs: list[Observed], min_score: float | None, threshold: float | None) -> Outcome:
    """The rates the guard with these thresholds would have given on these answers."""
    grades, gated, stopped = [], 0, 0
    for o in obs:
        if min_score is not None and (o.similarity is None or o.similarity < min_score):
            grades.append(ABSTAINED)
            gated += 1
        elif threshold is not None and o.support is not None and o.support < threshold:
            grades.append(ABSTAINED)
            stopped += 1
        else:
            grades.append(o.grade)
    n = len(obs)
    answerable = [g for g, o in zip(grades, obs) if o.answerable]
    return Outcome(min_score, threshold, round(grades.count(CORRECT) / n, 4), round(grades.count(INCORRECT) / n, 4),
                   round(grades.count(ABSTAINED) / n, 4),
                   round(answerable.count(CORRECT) / len(answerable), 4) if answerable else None, gated, stopped)


def gate_candidates(obs: list[Observed]) -> list[float | None]:
    """No gate, then a threshold between each pair of neighbouring similarities seen (all thresholds in
    between gate the same items here; the midpoint leaves the most room either side), then one above all."""
    sims = sorted({round(o.similarity, 4) for o in obs if o.similarity is not None})
    mids = [round((a + b) / 2, 4) for a, b in zip(sims, sims[1:])]
    return [None, *mids, *([min(round(sims[-1] + 1e-3, 4), 1.0)] if sims else [])]


def choose(outcomes: list[Outcome], max_hallucination: float | None) -> tuple[Outcome, bool]:
    """The best outcome, and whether it reaches max_hallucination (True without one). Ties go to the
    guard that intervenes least: fewer abstentions, no gate, no support check."""
    def key(o: Outcome) -> tuple:
        return (o.correct if max_hallucination is not None else o.gain, o.correct, -o.abstained,
                o.min_score is None, o.support_threshold is None)

    if max_hallucination is None:
        return max(outcomes, key=key), True
    feasible = [o for o in outcomes if o.hallucinated <= max_hallucination]
    if feasible:
        return max(feasible, key=key), True
    return min(outcomes, key=lambda o: (o.hallucinated, -o.correct)), False


@dataclass
class Calibration:
    recipe: str
    suite: str
    n: int
    objective: str
    target_reached: bool | None  # None: no max_hallucination was asked for
    guard: GuardSpec
    before: Outcome  # no guard
    after: Outcome   # the chosen guard
    outcomes: list[Outcome]  # every pair tried
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        after = self.after
        return {"recipe": self.recipe, "suite": self.suite, "n": self.n, "objective": self.objective,
                "target_reached": self.target_reached, "guard": self.guard.model_dump(mode="json"),
                "before": asdict(self.before), "after": asdict(after),
                "curve": [asdict(o) for o in self.outcomes if o.support_threshold == after.support_threshold],
                "support_curve": [asdict(o) for o in self.outcomes if o.min_score == after.min_score],
                "seconds": self.seconds, "versions": versions()}


def guard_of(outcome: Outcome, recipe: Recipe) -> GuardSpec:
    """The guard section that gives `outcome` (its support threshold kept from the recipe when off)."""
    return GuardSpec(min_score=outcome.min_score, support=outcome.support_threshold is not None,
                     support_threshold=outcome.support_threshold if outcome.support_threshold is not None
                     else (recipe.rag.guard or GuardSpec()).support_threshold)


def calibrate(recipe: Recipe, items: list[Item], out: str | Path, index: str | None = None,
              max_hallucination: float | None = None, progress: bool = True,
              pipeline_factory: Callable[[Recipe], Any] | None = None, suite_name: str = "suite",
              overwrite: bool = False) -> Calibration:
    """Choose the guard's thresholds; writes calibration.json, observed.jsonl, recipe.yaml and report.html
    to `out` (atomically; an earlier calibration there only with `overwrite`) and returns calibration.json."""
    rung = rungs.get(recipe.rung)
    if not (rung.retrieves and rung.generates):
        raise UserError(f"recipe '{recipe.name}' is rung '{recipe.rung}': only a rung that retrieves passages and "
                        "generates from them has a guard to calibrate")
    if max_hallucination is not None and not 0 <= max_hallucination <= 1:
        raise UserError(f"is a share between 0 and 1 (0.1 means 10 %), not {max_hallucination:g}",
                        param="max_hallucination")
    if not items:
        raise UserError("the calibration suite has no items")
    out = Path(out)
    if out.exists() and not overwrite:
        raise UserError(f"{out} exists: --overwrite replaces an earlier calibration, or choose another --out")
    if out.exists() and not (out / "calibration.json").is_file() and (not out.is_dir() or any(out.iterdir())):
        # the whole folder is swapped out: never one that holds anything but a calibration
        raise UserError(f"{out} holds something other than a calibration: choose another --out")
    gated_ok = recipe.rag.mode != "bm25"  # the gate reads dense similarity (see GuardSpec)
    t0 = time.perf_counter()
    obs = observe(recipe, items, index, progress, pipeline_factory)
    outcomes = [replay(obs, g, t) for g in (gate_candidates(obs) if gated_ok else [None]) for t in SUPPORT_GRID]
    best, reached = choose(outcomes, max_hallucination)
    spec = guard_of(best, recipe)
    guarded = recipe.with_guard(spec)
    result = Calibration(
        recipe.name, suite_name, len(obs),
        f"most correct answers with hallucination <= {max_hallucination:g}" if max_hallucination is not None
        else "correct - hallucination", reached if max_hallucination is not None else None, spec,
        replay(obs, None, None), best, outcomes, round(time.perf_counter() - t0, 1))
    with atomic_dir(Path(out), replace=True) as tmp:
        write_json(tmp / "calibration.json", result.to_dict())
        write_text(tmp / "observed.jsonl", jsonl_text(asdict(o) for o in obs))
        write_text(tmp / "recipe.yaml", yaml.safe_dump(guarded.model_dump(mode="json", exclude_defaults=True),
                                                       sort_keys=False))
        write_text(tmp / "report.html", _report(result))
    return result


def _report(result: Calibration) -> str:
    """The calibration's own page: before and after, and the gate's curve at the chosen support setting."""
    import html

    from adapt.eval.report import calibration_plot

    e = html.escape
    chosen = result.after
    curve = [o for o in result.outcomes if o.support_threshold == chosen.support_threshold]
    rows = "".join(f"<tr><td>{name}</td><td>{o.correct:.1%}</td><td>{o.hallucinated:.1%}</td>"
                   f"<td>{o.abstained:.1%}</td><td>{o.gated}</td><td>{o.unsupported}</td></tr>"
                   for name, o in (("no guard", result.before), ("chosen guard", chosen)))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>calibration: {e(result.recipe)}</title>"
            "</head><body style='font-family:system-ui,sans-serif;margin:2em'>"
            f"<h1>Guard calibration: {e(result.recipe)}</h1><p>{result.n} items of {e(result.suite)}; "
            f"objective: {e(result.objective)}. Chosen: <code>{e(str(result.guard.model_dump()))}</code></p>"
            "<table border=1 cellpadding=4 style='border-collapse:collapse'><tr><th></th><th>correct</th>"
            f"<th>hallucinated</th><th>abstained</th><th>gated</th><th>stopped unsupported</th></tr>{rows}</table>"
            f"<div style='width:520px'>{calibration_plot([asdict(o) for o in curve], chosen.min_score)}</div></body></html>")
