import json

import pytest

from ..conftest import SQUAD, need_squad

SUITE = [
    {"id": "q1", "question": "How many vacation days do employees get?", "answers": ["25 days"]},
    {"id": "q2", "question": "In which city is the head office?", "answers": ["Porto"]},
    {"id": "q3", "question": "Who is the CFO?", "answers": []},
    {"id": "q4", "question": "How heavy is the laptop?", "answers": ["1.8 kg"]},
]
PREDS = [
    {"id": "q1", "answer": "Employees get twenty-five days [1]."},
    {"id": "q2", "answer": "It is not Porto but Lisbon."},
    {"id": "q3", "answer": "I have no idea."},
    {"id": "q4", "answer": "18 kg"},
]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_score_grades_any_systems_answers(cli, tmp_path):
    suite, preds = _write(tmp_path / "s.jsonl", SUITE), _write(tmp_path / "vendor.jsonl", PREDS)
    code, out, err = cli("score", "--suite", suite, "--predictions", preds, "--json")
    assert code == 0, err
    res = json.loads(out)
    assert [(i["id"], i["grade"]) for i in res["items"]] == [
        ("q1", "correct"), ("q2", "incorrect"), ("q3", "abstained"), ("q4", "incorrect")]
    s = res["summary"]
    assert s["recipe"] == "vendor" and s["n"] == 4
    assert s["correct_rate"] == 0.25 and s["hallucination_rate"] == 0.5 and s["no_answer_accuracy"] == 1.0
    assert s["intervals"]["correct_rate"][0] < 0.25 < s["intervals"]["correct_rate"][1]
    assert s["squad"]["total"] == 4 and s["squad"]["NoAns_exact"] == 100.0
    assert s["latency_ms"]["p50"] is None and s["cost"]["usd_per_1k_queries"] is None  # not measured, not zero


def test_score_writes_the_eval_report(cli, tmp_path):
    suite, preds = _write(tmp_path / "s.jsonl", SUITE), _write(tmp_path / "p.jsonl", PREDS)
    code, out, err = cli("score", "--suite", suite, "--predictions", preds, "--out", tmp_path / "rep")
    assert code == 0, err
    for name in ("summary.json", "report.md", "report.html", "items.jsonl"):
        assert (tmp_path / "rep" / name).is_file()
    assert "25 % [" in out  # the terminal table shows the rate with its interval
    assert "negat" in (tmp_path / "rep" / "report.html").read_text()  # why q2 is incorrect


@pytest.mark.parametrize("rows, message", [
    (PREDS[:3], "no answer for id 'q4'"),
    (PREDS + [{"id": "zz", "answer": "x"}], "id 'zz' is not in"),
    (PREDS[:3] + [{"id": "q4"}], "p.jsonl:4: expected an object with 'id' and 'answer'"),
    (PREDS + [PREDS[0]], "p.jsonl:5: duplicate id 'q1'"),
])
def test_bad_predictions_exit_2_naming_the_id(cli, tmp_path, rows, message):
    suite, preds = _write(tmp_path / "s.jsonl", SUITE), _write(tmp_path / "p.jsonl", rows)
    code, _, err = cli("score", "--suite", suite, "--predictions", preds, "--json")
    assert code == 2 and message in err and "Traceback" not in err


def test_score_matches_the_official_squad2_script(cli, tmp_path):
    """Predictions built from SQuAD 2.0 itself: exact, partial, wrong, empty and abstained answers."""
    need_squad()
    from .squad_v2_official import get_raw_scores, make_eval_dict

    data = json.loads(SQUAD.read_text())["data"][:2]
    suite, preds, official = [], [], {}
    for art in data:
        for para in art["paragraphs"]:
            for qa in para["qas"]:
                k = len(suite)
                golds = [a["text"] for a in qa["answers"]]
                suite.append({"id": qa["id"], "question": qa["question"], "answers": golds})
                if golds and k % 4 == 0:
                    pred = golds[0]                                  # exact
                elif golds and k % 4 == 1:
                    pred = golds[0].split()[0] + " and more words"   # partial
                elif k % 4 == 2:
                    pred = "I don't know based on the provided information."  # abstained -> empty
                else:
                    pred = "Paris, in 1850"                         # wrong (or an answer to an unanswerable item)
                preds.append({"id": qa["id"], "answer": pred})
                official[qa["id"]] = "" if k % 4 == 2 else pred
    assert len(suite) > 200
    _write(tmp_path / "s.jsonl", suite)
    _write(tmp_path / "p.jsonl", preds)
    code, out, err = cli("score", "--suite", tmp_path / "s.jsonl", "--predictions", tmp_path / "p.jsonl", "--json")
    assert code == 0, err
    exact, f1 = get_raw_scores(data, official)
    qid_has_ans = {s["id"]: bool(s["answers"]) for s in suite}
    expected = make_eval_dict(exact, f1)
    for prefix, flag in (("HasAns", True), ("NoAns", False)):
        ids = [q for q, has in qid_has_ans.items() if has == flag]
        for key, value in make_eval_dict(exact, f1, qid_list=ids).items():
            expected[f"{prefix}_{key}"] = value
    assert json.loads(out)["summary"]["squad"] == dict(expected)
