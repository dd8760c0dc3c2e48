"""Official SQuAD 2.0 scores (the numbers evaluate-v2.0.py prints) for graded answers.

An abstention is the empty prediction, which is exactly right on an unanswerable item and wrong on an
answerable one; an unanswerable item's only gold is the empty answer.
"""

from __future__ import annotations

from adapt.eval.metrics import f1, normalize, strip_citations


def prediction_for_squad(answer: str, label: str) -> str:
    """What SQuAD scores: "" for an abstention, else the answer without citation markers."""
    return "" if label == "abstained" else strip_citations(answer)


def squad_v2_scores(rows: list[tuple[list[str], str]]) -> dict[str, float | int]:
    """evaluate-v2.0.py's output (no-answer threshold unused) for rows of (gold answers, prediction):
    exact, f1 and total, plus HasAns_* / NoAns_* for the groups that are not empty. Golds == [] is an
    unanswerable item."""
    if not rows:
        raise ValueError("no rows to score")
    exact, f1s, has_answer = [], [], []
    for golds, prediction in rows:
        # as the official script: golds that normalize to nothing are dropped; none left means no answer
        gold_answers = [g for g in golds if normalize(g)] or [""]
        exact.append(max(int(normalize(g) == normalize(prediction)) for g in gold_answers))
        f1s.append(max(_official_f1(g, prediction) for g in gold_answers))
        has_answer.append(bool(golds))
    scores = _eval_dict(exact, f1s)
    for prefix, wanted in (("HasAns", True), ("NoAns", False)):
        group = [k for k, has in enumerate(has_answer) if has == wanted]
        if group:
            part = _eval_dict([exact[k] for k in group], [f1s[k] for k in group])
            scores.update({f"{prefix}_{key}": value for key, value in part.items()})
    return scores


def _official_f1(gold: str, prediction: str) -> float | int:
    """compute_f1's value and type. metrics.f1 gives the same value, but the script returns an int from its
    early exits (an empty side, no overlap) and summing ints and floats can round differently from
    summing floats (Python 3.12's compensated sum), so the types are kept too."""
    if not normalize(gold) or not normalize(prediction):
        return int(normalize(gold) == normalize(prediction))
    return f1(prediction, gold) or 0


def _eval_dict(exact: list[int], f1s: list[float | int]) -> dict[str, float | int]:
    total = len(exact)
    return {"exact": 100.0 * sum(exact) / total, "f1": 100.0 * sum(f1s) / total, "total": total}
