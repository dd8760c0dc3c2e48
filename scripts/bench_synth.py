"""Synthetic suites against real questions, on the shared SQuAD 2.0 articles.

    python scripts/bench_synth.py [--squad ../shared/data/squad2/squad2-dev-a.json] [--n 100] [--seed 0]

`adapt data synth` makes a suite of `--n` items from the articles with the default generator (the
embedded SmolLM2), with the real sample's share of unanswerable items so that rates compare; the baseline, prompt and rag rungs (their default recipes) are then evaluated on it,
against an index of its docs/ (the set-aside articles left out), and on `--n` real SQuAD 2.0 questions
(answerable and unanswerable in SQuAD's proportion) against an index of all the articles. The real
questions are the baseline this measures the synthetic suite against.

Reported: kept / generated and why the rest was rejected; the share of generated answers that were
spans of their passage (of those short enough to check); retrieval hit@5 on each suite (an answerable item is a hit when one of the top 5
passages comes from its document and holds its answer); each rung's rates on each suite; whether the
two suites rank the rungs in the same order (by correct rate, and by hallucination rate, best first;
a tie in either suite counts as a different order). Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
RUNGS = ("baseline", "prompt", "rag")
K = 5


def hit_at_k(items: list, index: object) -> float | None:
    from adapt.data.text import normalize

    answerable = [i for i in items if i.answers]
    hits = 0
    for item in answerable:
        found = index.search(item.question, K)  # type: ignore[attr-defined]
        hits += any(item.source in (h.file, h.source) and any(f" {normalize(a)} " in f" {normalize(h.text)} " for a in item.answers)
                    for h in found)
    return round(hits / len(answerable), 4) if answerable else None


def order(rates: dict[str, float], higher_is_better: bool) -> list[str] | None:
    """The rungs best first; None when two tie (then no order can agree)."""
    if len(set(rates.values())) < len(rates):
        return None
    return sorted(rates, key=lambda r: -rates[r] if higher_is_better else rates[r])


def pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad", default=str(ROOT.parent / "shared/data/squad2/squad2-dev-a.json"))
    ap.add_argument("--n", type=int, default=100, help="items in each suite")
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthesis and of the real questions' sample")
    ap.add_argument("--out", help="keep the runs here (default: a temporary folder)")
    args = ap.parse_args()
    if not Path(args.squad).is_file():
        sys.exit(f"SQuAD file not found: {args.squad} (pass --squad)")

    from adapt import rungs
    from adapt.data.squad import import_squad
    from adapt.data.suite import load_suite, split_items, stratified_head
    from adapt.synth import synthesize
    from adapt.eval.harness import evaluate
    from adapt.rag.index import Index, build_index
    from adapt.recipe import load_recipe

    t0 = time.perf_counter()
    tmp = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-synth-"))
    import_squad(args.squad, tmp / "docs", tmp / "squad.jsonl")
    _, sample = split_items(load_suite(tmp / "squad.jsonl"), 0.5, args.seed)  # a stratified random half
    real = stratified_head(sample, args.n)
    share = sum(1 for i in real if not i.answers) / len(real)
    made = synthesize(tmp / "docs", tmp / "synth", load_recipe("prompt-local"), n=args.n, unanswerable=share,
                      seed=args.seed, overwrite=True, warn=lambda m: print("warning:", m, file=sys.stderr))
    st = made.stats
    synth_s = st["seconds"]
    recipes = [load_recipe(rungs.get(r).default_recipe) for r in RUNGS]
    rag = recipes[-1].rag
    suites = {"synthetic": (made.suite, tmp / "synth" / "docs"), "real": (real, tmp / "docs")}
    result: dict[str, dict] = {}
    for name, (items, docs) in suites.items():
        build_index(docs, tmp / f"index-{name}", rag.embedder, rag.chunk_size, rag.chunk_overlap, progress=False)
        index = Index.load(tmp / f"index-{name}")
        summary = evaluate(recipes, items, tmp / f"eval-{name}", index=str(tmp / f"index-{name}"), resume=False,
                           suite_name=name, latency_items=0)
        rows = {r["rung"]: r for r in summary["recipes"]}
        result[name] = {
            "items": len(items), "unanswerable": sum(1 for i in items if not i.answers), f"hit@{K}": hit_at_k(items, index),
            "rungs": {r: {k: rows[r][k] for k in ("correct_rate", "hallucination_rate", "abstain_rate",
                                                   "answerable_accuracy", "no_answer_accuracy")} for r in RUNGS}}
    same = {}
    for metric, best_high in (("correct_rate", True), ("hallucination_rate", False)):
        orders = {s: order({r: result[s]["rungs"][r][metric] for r in RUNGS}, best_high) for s in result}
        same[metric] = {"synthetic": orders["synthetic"], "real": orders["real"],
                        "same": orders["synthetic"] is not None and orders["synthetic"] == orders["real"]}

    # answers that were spans, of those checked: past parsing and the length cap (the span check comes next)
    rej = st["rejected"]
    past_length = st["generated"] - rej["unparsed"] - rej["too_long"]
    spans = past_length - rej["not_span"]
    span_share = round(spans / past_length, 4) if past_length else None
    print(f"\nsynthetic suite: kept {st['kept']} of {st['generated']} generated in {synth_s:.0f} s; rejected "
          + ", ".join(f"{k} {v}" for k, v in rej.items() if v) + f"; {st['suite']['hard']} hard; set aside "
          f"{', '.join(st['set_aside'])}")
    print(f"answers that were spans of their passage: {spans} of the {past_length} short enough to check "
          f"({pct(span_share)}); {rej['too_long']} were longer than the cap")
    print("\n| rung | suite | correct | hallucinated | abstained | answerable acc. | no-answer acc. |")
    print("|---|---|---|---|---|---|---|")
    for r in RUNGS:
        for s in result:
            x = result[s]["rungs"][r]
            print(f"| {r} | {s} | " + " | ".join(pct(x[k]) for k in (
                "correct_rate", "hallucination_rate", "abstain_rate", "answerable_accuracy", "no_answer_accuracy"))
                + " |")
    for s in result:
        print(f"{s}: {result[s]['items']} items ({result[s]['unanswerable']} unanswerable), hit@{K} "
              f"{pct(result[s][f'hit@{K}'])}")
    for metric, o in same.items():
        shown = {k: "tie" if o[k] is None else ", ".join(o[k]) for k in ("synthetic", "real")}
        print(f"best first by {metric}: synthetic {shown['synthetic']}; real {shown['real']}: "
              f"{'same' if o['same'] else 'DIFFERENT'}")
    print(json.dumps({"bench": "synth", "n": args.n, "seed": args.seed, "generated": st["generated"],
                      "kept": st["kept"], "kept_share": round(st["kept"] / max(1, st["generated"]), 4),
                      "rejected": rej, "span_share": span_share,
                      "hard": st["suite"]["hard"], "set_aside": st["set_aside"], "synth_seconds": synth_s,
                      "suites": result, "ranking": same, "seconds": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
