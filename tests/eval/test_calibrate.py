"""`adapt calibrate` and the ladder's rag+guard rung: thresholds chosen on one set of items, never on
the items that are then evaluated."""

from __future__ import annotations

import json

import pytest

from adapt.data.suite import Item
from adapt.errors import UserError
from adapt.eval.calibrate import Observed, Outcome, calibrate, choose, gate_candidates, replay
from adapt.pipeline import Pipeline
from adapt.recipe import load_recipe, parse_recipe
from tests.fakes import FakeGenerator
from tests.tiny_corpus import DOCS, ITEMS, tiny_index  # noqa: F401 - tiny_index is a fixture

OBS = [Observed("a", True, 0.8, "correct", 1.0),
       Observed("b", True, 0.7, "incorrect", -1.0),   # states a value the passages lack
       Observed("c", False, 0.2, "incorrect", 0.5),   # answers an unanswerable item from far passages
       Observed("d", False, 0.1, "abstained", None),
       Observed("e", True, 0.25, "correct", 1.0)]


def test_replay_turns_what_the_guard_stops_into_abstentions():
    assert replay(OBS, None, None) == Outcome(None, None, 0.4, 0.4, 0.2, 0.6667, 0, 0)
    gated = replay(OBS, 0.225, None)
    assert (gated.gated, gated.hallucinated, gated.correct) == (2, 0.2, 0.4)  # c and d: d abstained anyway
    both = replay(OBS, 0.225, 0.0)
    assert (both.unsupported, both.hallucinated, both.correct, both.abstained) == (1, 0.0, 0.4, 0.6)
    strict = replay(OBS, None, 1.0)  # c's half-supported answer goes too, a's and e's full support stays
    assert (strict.unsupported, strict.hallucinated, strict.correct) == (2, 0.0, 0.4)


def test_gate_candidates_sit_between_the_similarities_seen():
    assert gate_candidates(OBS) == [None, 0.15, 0.225, 0.475, 0.75, 0.801]


def test_choose_maximises_correct_minus_hallucinated_and_prefers_the_lighter_guard_on_ties():
    outcomes = [replay(OBS, g, t) for g in gate_candidates(OBS) for t in (None, 0.0, 0.5, 0.6, 1.0)]
    best, reached = choose(outcomes, None)
    assert reached and best.correct - best.hallucinated == pytest.approx(0.4)
    assert best.min_score is None and best.support_threshold == 0.6  # no gate needed: the check alone does it


def test_choose_with_a_hallucination_ceiling_keeps_the_most_correct_answers_under_it():
    outcomes = [replay(OBS, g, None) for g in gate_candidates(OBS)]  # the gate alone
    best, reached = choose(outcomes, 0.2)
    assert reached and best.hallucinated <= 0.2 and best.correct == 0.4 and best.min_score == 0.225
    worst, reached = choose([replay(OBS, None, None)], 0.1)  # nothing reaches it: the lowest is kept, and said
    assert not reached and worst.hallucinated == 0.4


def _rag(index):
    return parse_recipe({"name": "cal", "rung": "rag+guard", "model": "fake-model",
                         "rag": {"index": str(index), "k": 2, "guard": {}}})


def test_calibrate_writes_the_chosen_guard_as_a_recipe_and_refuses_to_overwrite_unasked(tiny_index, tmp_path):
    gen = FakeGenerator("It is 99 euros [1].")  # unsupported and wrong for every item
    factory = lambda r: Pipeline(r, index_dir=str(tiny_index), generator=gen)  # noqa: E731
    out = tmp_path / "cal"
    res = calibrate(_rag(tiny_index), ITEMS, out, progress=False, pipeline_factory=factory, suite_name="tiny")
    assert res.before.hallucinated == 1.0 and res.after.hallucinated == 0.0  # the check stops every answer
    assert res.guard.support and res.after.unsupported == 4
    saved = json.loads((out / "calibration.json").read_text())
    assert saved["guard"] == res.guard.model_dump(mode="json") and saved["curve"] and "versions" in saved
    assert [json.loads(x)["id"] for x in (out / "observed.jsonl").read_text().splitlines()] == [i.id for i in ITEMS]
    assert load_recipe(str(out / "recipe.yaml")).rag.guard == res.guard
    assert "<svg" in (out / "report.html").read_text()
    with pytest.raises(UserError, match="--overwrite"):
        calibrate(_rag(tiny_index), ITEMS, out, progress=False, pipeline_factory=factory)
    (tmp_path / "other" / "keep").mkdir(parents=True)  # --overwrite replaces a calibration, never other files
    with pytest.raises(UserError, match="holds something other than a calibration"):
        calibrate(_rag(tiny_index), ITEMS, tmp_path / "other", progress=False, pipeline_factory=factory, overwrite=True)
    assert (tmp_path / "other" / "keep").is_dir()
    prompt = parse_recipe({"name": "p", "rung": "prompt", "model": "fake-model"})
    with pytest.raises(UserError, match="only a rung that retrieves"):
        calibrate(prompt, ITEMS, tmp_path / "p", progress=False, pipeline_factory=factory)


def test_calibrate_cli_rejects_a_share_outside_0_1_before_loading_a_model(cli, tiny_index, tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(json.dumps({"name": "r", "rung": "rag", "model": "no-such-model",
                                "rag": {"index": str(tiny_index)}}))
    suite = tmp_path / "s.jsonl"
    suite.write_text(json.dumps({"id": "a", "question": "q?", "answers": []}) + "\n")
    code, _, err = cli("calibrate", path, "--suite", suite, "--out", tmp_path / "o", "--max-hallucination", "5")
    assert code == 2 and "--max-hallucination" in err and "between 0 and 1" in err


def test_the_ladder_calibrates_rag_guard_on_its_training_half_only(tmp_path, monkeypatch):
    from adapt.eval.ladder import run_ladder

    monkeypatch.setattr("adapt.pipeline.make_generator", lambda spec, batch_size: FakeGenerator("Employees get 27 days [1]."))
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text)
    items = ITEMS + [Item(f"x{i}", f"Who won the {1990 + i} chess olympiad?", []) for i in range(4)] + [
        Item(f"l{i}", f"How many days of paid vacation do employees get in year {i}?", ["27 days"], "leave.md")
        for i in range(4)]
    suite = tmp_path / "suite.jsonl"
    suite.write_text("".join(json.dumps({"id": i.id, "question": i.question, "answers": i.answers,
                                         **({"source": i.source} if i.source else {})}) + "\n" for i in items))
    out = tmp_path / "ladder"
    summary = run_ladder(str(suite), str(docs), ["rag", "rag+guard"], "correct>=0.5", out, progress=False,
                         latency_items=0)
    calibrated = {json.loads(x)["id"] for x in (out / "calibration" / "rag-guarded" / "observed.jsonl").read_text()
                  .splitlines()}
    train = {json.loads(x)["id"] for x in (out / "train-suite.jsonl").read_text().splitlines()}
    evaluated = {json.loads(x)["id"] for x in (out / "items.jsonl").read_text().splitlines()}
    assert calibrated == train and not calibrated & evaluated and evaluated  # never calibrated on what it scores
    rows = {r["recipe"]: r for r in summary["recipes"]}
    assert list(rows) == ["rag-local", "rag-guarded"] and rows["rag-guarded"]["rung"] == "rag+guard"
    assert rows["rag-guarded"]["one_off_s"] >= rows["rag-local"]["one_off_s"]  # the calibration pass counts
    run = json.loads((out / "run.json").read_text())
    chosen = json.loads((out / "calibration" / "rag-guarded" / "calibration.json").read_text())["guard"]
    assert run["recipes"]["rag-guarded"]["rag"]["guard"] == chosen  # evaluated with the calibrated guard
    assert rows["rag-guarded"]["guard"]["gated"] is not None
    cal_json = out / "calibration" / "rag-guarded" / "calibration.json"
    stamp, seconds = cal_json.stat().st_mtime_ns, json.loads(cal_json.read_text())["seconds"]
    again = run_ladder(str(suite), str(docs), ["rag", "rag+guard"], "correct>=0.5", out, progress=False,
                       latency_items=0, resume=True)
    assert cal_json.stat().st_mtime_ns == stamp  # --resume keeps the calibration it made
    guarded = {r["recipe"]: r for r in again["recipes"]}["rag-guarded"]
    assert guarded["one_off_s"] == pytest.approx(rows["rag-local"]["one_off_s"] + seconds, abs=0.1)
