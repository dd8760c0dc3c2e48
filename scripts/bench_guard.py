"""Guard benchmark: rag-local against rag-guarded on the shared SQuAD 2.0 articles.

    python scripts/bench_guard.py [--squad ../shared/data/squad2/squad2-dev-a.json] [--n 150] [--seed 0]

SQuAD 2.0's unanswerable questions are adversarial: written to look answerable from the article. The
articles become the documents; the questions are split in two stratified halves (answerable and
unanswerable kept in proportion), and `--n` items are drawn from each. The guard is calibrated on one
half and all recipes are evaluated on the other; rag-local, unguarded, is the baseline, measured in the
same run on the same items. Two operating points come from the one calibration pass:

- rag-guarded: the default objective, correct minus hallucinated (what `adapt ladder` does);
- rag-guarded@target: the most correct answers at no more than half the calibration half's unguarded
  hallucination rate (`adapt calibrate --max-hallucination`), the issue's target as the constraint.

Target (issue #14): a guarded recipe hallucinates at most half as often as rag-local and loses at most
5 points of answerable accuracy. Last line: one JSON object with the figures.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad", default=str(ROOT.parent / "shared/data/squad2/squad2-dev-a.json"))
    ap.add_argument("--n", type=int, default=150, help="items in the calibration half and in the evaluated half")
    ap.add_argument("--seed", type=int, default=0, help="seed of the split")
    ap.add_argument("--out", help="keep the runs here (default: a temporary folder)")
    args = ap.parse_args()
    if not Path(args.squad).is_file():
        sys.exit(f"SQuAD file not found: {args.squad} (pass --squad)")

    from adapt.data.squad import import_squad
    from adapt.data.suite import load_suite, split_items, stratified_head
    from adapt.eval.calibrate import calibrate, choose, guard_of
    from adapt.eval.harness import evaluate
    from adapt.rag.index import build_index
    from adapt.recipe import load_recipe

    t0 = time.perf_counter()
    tmp = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-guard-"))
    import_squad(args.squad, tmp / "docs", tmp / "suite.jsonl")
    items = load_suite(tmp / "suite.jsonl")
    cal_half, eval_half = split_items(items, 0.5, args.seed)
    cal_items, eval_items = stratified_head(cal_half, args.n), stratified_head(eval_half, args.n)
    assert not {i.id for i in cal_items} & {i.id for i in eval_items}
    local, guarded = load_recipe("rag-local"), load_recipe("rag-guarded")
    rag = local.rag
    build_index(tmp / "docs", tmp / "index", rag.embedder, rag.chunk_size, rag.chunk_overlap, progress=False)
    index = str(tmp / "index")

    cal = calibrate(guarded, cal_items, tmp / "calibration", index=index, suite_name="squad2 calibration half",
                    overwrite=True)
    ceiling = cal.before.hallucinated / 2
    at_target, reached = choose(cal.outcomes, ceiling)  # the same answers, replayed: no second model pass
    points = {"rag-guarded": cal.guard, "rag-guarded@target": guard_of(at_target, guarded)}
    recipes = [local] + [guarded.with_guard(g).model_copy(update={"name": name}) for name, g in points.items()]
    summary = evaluate(recipes, eval_items, tmp / "eval", index=index, resume=False, suite_name="squad2",
                       latency_items=0, notes=[f"guards calibrated on {len(cal_items)} other items"])
    rows = {r["recipe"]: r for r in summary["recipes"]}

    def figures(row: dict) -> dict:
        return {"hallucination_rate": row["hallucination_rate"], "answerable_accuracy": row["answerable_accuracy"],
                "no_answer_accuracy": row["no_answer_accuracy"], "correct_rate": row["correct_rate"],
                "abstain_rate": row["abstain_rate"], "supported_rate": row["faithfulness"]["supported_rate"],
                "usd_per_1k_queries": row["cost"]["usd_per_1k_queries"],
                "hallucination_interval": row["intervals"].get("hallucination_rate"),
                "gated": row["guard"]["gated"], "unsupported": row["guard"]["unsupported"]}

    base = figures(rows["rag-local"])
    result = {"rag-local": base}
    print(f"{'':20}{'halluc.':>9}{'ans. acc':>10}{'no-ans acc':>12}{'supported':>11}{'$/1k':>10}")
    for name in ("rag-local", *points):
        f = figures(rows[name])
        sup = f"{f['supported_rate']:.1%}" if f["supported_rate"] is not None else "-"
        print(f"{name:20}{f['hallucination_rate']:>9.1%}{f['answerable_accuracy']:>10.1%}"
              f"{f['no_answer_accuracy']:>12.1%}{sup:>11}{f['usd_per_1k_queries'] or 0:>10.4f}")
        if name == "rag-local":
            continue
        ratio = f["hallucination_rate"] / base["hallucination_rate"] if base["hallucination_rate"] else None
        drop = round(100 * (base["answerable_accuracy"] - f["answerable_accuracy"]), 1)
        result[name] = {**f, "guard": points[name].model_dump(mode="json"),
                        "hallucination_ratio": None if ratio is None else round(ratio, 3),
                        "answerable_accuracy_drop_points": drop,
                        "meets_target": ratio is not None and ratio <= 0.5 and drop <= 5}
        times = f"x{ratio:.2f}" if ratio is not None else "(rag-local hallucinated none)"
        print(f"  guard {points[name].model_dump()}: hallucination {times} (target <= 0.5), answerable "
              f"accuracy -{drop} points (target <= 5)")
    print(json.dumps({
        "items": {"calibration": len(cal_items), "evaluated": len(eval_items),
                  "evaluated_unanswerable": sum(not i.answers for i in eval_items)},
        "calibration": {"unguarded": {"hallucinated": cal.before.hallucinated, "correct": cal.before.correct},
                        "default": {"hallucinated": cal.after.hallucinated, "correct": cal.after.correct},
                        "at_target": {"hallucinated": at_target.hallucinated, "correct": at_target.correct,
                                      "ceiling": round(ceiling, 4), "reached": reached}},
        **result, "seconds": round(time.perf_counter() - t0, 1),
    }))


if __name__ == "__main__":
    main()
