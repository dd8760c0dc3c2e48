"""squad_v2_scores against the official SQuAD 2.0 evaluation functions, on the same predictions."""

import copy
import json

import pytest

from adapt.eval.metrics import grade
from adapt.eval.squad import prediction_for_squad, squad_v2_scores

from . import squad_v2_official as official
from ..conftest import SQUAD, need_squad


def official_scores(dataset: list[dict], preds: dict[str, str]) -> dict:
    """evaluate-v2.0.py's main() without a no-answer probability file."""
    qid_to_has_ans = official.make_qid_to_has_ans(dataset)
    has_ans_qids = [k for k, v in qid_to_has_ans.items() if v]
    no_ans_qids = [k for k, v in qid_to_has_ans.items() if not v]
    exact_raw, f1_raw = official.get_raw_scores(dataset, preds)
    na_probs = {k: 0.0 for k in preds}
    exact_thresh = official.apply_no_ans_threshold(exact_raw, na_probs, qid_to_has_ans, 1.0)
    f1_thresh = official.apply_no_ans_threshold(f1_raw, na_probs, qid_to_has_ans, 1.0)
    out_eval = official.make_eval_dict(exact_thresh, f1_thresh)
    if has_ans_qids:
        official.merge_eval(out_eval, official.make_eval_dict(exact_thresh, f1_thresh, qid_list=has_ans_qids), "HasAns")
    if no_ans_qids:
        official.merge_eval(out_eval, official.make_eval_dict(exact_thresh, f1_thresh, qid_list=no_ans_qids), "NoAns")
    return dict(out_eval)


def make_answer(qa: dict, k: int, context: str) -> str:
    """A deterministic answer of one of several kinds, by position k. On unanswerable questions the
    "gold" used is the plausible (wrong) answer."""
    golds = [a["text"] for a in qa["answers"]]
    gold = golds[0] if golds else (qa.get("plausible_answers") or [{"text": "Normandy"}])[0]["text"]
    return [
        gold,                                                  # exact
        f"The {gold.upper()}! [1]",                            # exact after normalization, with a citation
        f"It was {gold} in {context.split()[3]} [2]",          # partial overlap
        gold.split()[0],                                       # partial: first word only
        " ".join(context.split()[-4:]),                        # a wrong span of the context
        "",                                                    # empty
        "I don't know based on the provided information.",    # abstained
        "The.",                                                # normalizes to nothing
    ][k % 8]


def test_matches_the_official_script_on_squad2_dev():
    need_squad()
    data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
    subset, preds, rows = [], {}, []
    k = 0
    for article in data:
        kept_article = {"title": article["title"], "paragraphs": []}
        for p in article["paragraphs"]:
            kept = []
            for qa in p["qas"]:
                k += 1
                if k % 9:  # every ninth question: a few hundred, from every article
                    continue
                golds = [a["text"] for a in qa["answers"]]
                answer = make_answer(qa, k // 9, p["context"])
                preds[qa["id"]] = prediction_for_squad(answer, grade(answer, golds, qa["question"]).label)
                rows.append((golds, preds[qa["id"]]))
                kept.append(copy.deepcopy(qa))
            if kept:
                kept_article["paragraphs"].append({"context": p["context"], "qas": kept})
        if kept_article["paragraphs"]:
            subset.append(kept_article)
    expected = official_scores(subset, preds)
    got = squad_v2_scores(rows)
    assert got == expected  # exactly, floats included
    assert list(got) == list(expected)
    assert 300 <= got["total"] <= 500 and got["HasAns_total"] > 100 and got["NoAns_total"] > 100
    assert 0 < got["HasAns_exact"] < got["HasAns_f1"] < 100 and 0 < got["NoAns_exact"] < 100


def test_small_case_without_shared_data():
    items = [
        ("q1", ["Denver Broncos", "Broncos"], "the broncos"),   # exact after normalization
        ("q2", ["Denver Broncos"], "Broncos [1]"),               # partial: F1 2/3
        ("q3", ["Paris"], ""),                                   # abstained on an answerable item
        ("q4", [], ""),                                          # abstained on an unanswerable item
        ("q5", [], "Lisbon"),                                    # answered an unanswerable item
        ("q6", ["the", "a"], "an"),                              # golds that normalize to nothing
        ("q7", ["three days", "3 days"], "3 days"),
    ]
    labels = {"q3": "abstained", "q4": "abstained"}
    preds = {qid: prediction_for_squad(answer, labels.get(qid, "correct")) for qid, _, answer in items}
    dataset = [{"title": "t", "paragraphs": [{"context": "c", "qas": [
        {"id": qid, "question": "?", "answers": [{"text": g, "answer_start": 0} for g in golds]}
        for qid, golds, _ in items]}]}]
    got = squad_v2_scores([(golds, preds[qid]) for qid, golds, _ in items])
    assert got == official_scores(dataset, preds)
    assert got["total"] == 7 and got["HasAns_total"] == 5 and got["NoAns_total"] == 2
    assert got["NoAns_exact"] == got["NoAns_f1"] == 50.0
    assert got["HasAns_exact"] == 100.0 * 3 / 5  # q1, q6 (both empty after normalization), q7
    assert got["HasAns_f1"] == pytest.approx(100.0 * (1 + 2 / 3 + 0 + 1 + 1) / 5)


def test_groups_appear_only_when_present():
    assert set(squad_v2_scores([(["Porto"], "Porto")])) == {"exact", "f1", "total", "HasAns_exact", "HasAns_f1",
                                                            "HasAns_total"}
    assert squad_v2_scores([([], "")]) == {"exact": 100.0, "f1": 100.0, "total": 1, "NoAns_exact": 100.0,
                                           "NoAns_f1": 100.0, "NoAns_total": 1}
    with pytest.raises(ValueError):
        squad_v2_scores([])


def test_prediction_for_squad():
    assert prediction_for_squad("I don't know.", "abstained") == ""
    assert prediction_for_squad("Porto [1, 2]", "correct").strip() == "Porto"
    assert prediction_for_squad("Lisbon [3]", "incorrect").strip() == "Lisbon"
