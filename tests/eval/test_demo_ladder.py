"""A full ladder (every rung, a 2-step fine-tune) on the shipped demo suite, small enough for CI."""

import json

import pytest

from adapt.eval import registry
from adapt.eval.ladder import recommend, what_decides
from adapt.eval.records import rows_of

from ..conftest import ROOT

pytestmark = pytest.mark.slow


def test_full_ladder_on_demo_suite(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "ladder"
    code, stdout, err = cli("ladder", "--suite", "eval/demo/suite.jsonl", "--docs", "eval/demo/docs",
                            "--out", out, "--limit", "4", "--max-steps", "2", "--bar", "correct>=0.6",
                            "--latency-items", "2")
    # 4 items can never show correct >= 60 % with 95 % confidence (4/4 gives [51 %, 100 %]): no
    # rung is recommended, and the exit code says so to CI
    assert code == 1, err
    s = json.loads((out / "summary.json").read_text())
    assert s["ladder"]["recommended"] is None and "Only 4 items" in s["ladder"]["warning"]
    assert {c["verdict"] for c in s["ladder"]["checks"]} <= {"fails", "inconclusive"}
    # each rung's verdict is its own correct-rate interval against the bar: wholly below 60 % fails it,
    # one that reaches 60 % is inconclusive; the recommendation names exactly the inconclusive rungs
    rows = {r["recipe"]: r for r in s["recipes"]}
    graded = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    for name, row in rows.items():
        assert row["correct_rate"] == sum(g["grade"] == "correct" for g in graded if g["recipe"] == name) / 4
    for c in s["ladder"]["checks"]:
        lo, hi = rows[c["recipe"]]["intervals"]["correct_rate"]
        assert c["verdict"] == ("fails" if hi < 0.6 else "inconclusive"), (c["recipe"], lo, hi)
    open_ = [c for c in s["ladder"]["checks"] if c["verdict"] == "inconclusive"]
    named = [f"{c['recipe']} ({what_decides(c)} would decide)" if what_decides(c) else c["recipe"] for c in open_]
    assert s["ladder"]["verdict"] == (
        f"No rung meets the bar with 95 % confidence. Inconclusive: {', '.join(named)}." if open_
        else "No rung meets the bar: every rung fails it with 95 % confidence.")
    assert [r["rung"] for r in s["recipes"]] == ["baseline", "prompt", "rag", "rag+guard", "lora", "rag+lora"]
    # the same rows do yield a recommendation under a bar they can decide: a price has no interval, so
    # each rung meets or fails usd_per_1k<=1 outright, and the cheapest that meets it is recommended
    typed = rows_of(s)
    prices = {r.recipe: registry.get(r, registry.PRICE.key) for r in typed}
    assert all(p is not None for p in prices.values()), prices  # every shipped local recipe prices machine time
    cheap = recommend(typed, "usd_per_1k<=1")
    assert {c["verdict"] for c in cheap["checks"]} <= {"meets", "fails"}
    meeting = [r.recipe for r in typed if prices[r.recipe] <= 1]
    assert meeting, prices
    best = min(meeting, key=lambda name: (prices[name], meeting.index(name)))
    assert cheap["recommended"] == best and cheap["meets"], (cheap, prices)
    assert f"Use {best} (" in cheap["verdict"] and "cheapest rung that meets the bar" in cheap["verdict"]
    none = recommend(typed, "usd_per_1k<0")  # no price is negative: every rung fails it outright
    assert {c["verdict"] for c in none["checks"]} == {"fails"} and none["recommended"] is None and not none["meets"]
    assert none["verdict"] == "No rung meets the bar: every rung fails it with 95 % confidence."
    assert all(r["n"] == 4 and r["n_unanswerable"] == 1 and r["timed"]["n"] == 2 for r in s["recipes"])
    assert s["ladder"]["verdict"] in stdout and s["ladder"]["eval_items"] == 4
    rag = next(r for r in s["recipes"] if r["rung"] == "rag")
    assert rag["retrieval"]["hit_at_k"] is not None and rag["cost"]["one_off_usd"] > 0
    baseline = s["recipes"][0]
    assert baseline["one_off_s"] > 0  # the baseline reads the index, so it pays for building it
    assert len({c["a"] + c["b"] for c in s["comparisons"]}) == 15  # every pair of the 6 rungs
    guarded = next(r for r in s["recipes"] if r["rung"] == "rag+guard")
    assert set(guarded["faithfulness"]) == {"supported_rate", "citation_accuracy"} and guarded["guard"]["gated"] is not None
    assert rag["faithfulness"]["supported_rate"] is not None and baseline["faithfulness"]["supported_rate"] is None
    lora = next(r for r in s["recipes"] if r["rung"] == "lora")
    assert lora["one_off_s"] > 0  # training time is a one-off cost
    train_ids = {json.loads(l)["id"] for l in (out / "train-suite.jsonl").read_text().splitlines()}
    evaluated = {json.loads(l)["id"] for l in (out / "items.jsonl").read_text().splitlines()}
    assert train_ids.isdisjoint(evaluated)  # items used for training are never evaluated
    calibrated = {json.loads(l)["id"] for l in (out / "calibration" / "rag-guarded" / "observed.jsonl").read_text()
                  .splitlines()}
    assert calibrated == train_ids  # the guard is calibrated on the training half, never on what is evaluated
    html = (out / "report.html").read_text()
    assert "Recommendation" in (out / "report.md").read_text() and html.count("<svg") == 4  # and the gate's curve
    assert "Guard calibration" in html
    assert "inconclusive" in html and "McNemar" in html
    code, _, err = cli("ladder", "--suite", "eval/demo/suite.jsonl", "--docs", "eval/demo/docs", "--out", out)
    assert code == 2 and "--overwrite" in err  # an earlier run is never deleted silently


def test_ask_rag_local_cites_sources(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    idx = tmp_path / "idx"
    assert cli("rag", "build", "eval/demo/docs", "--index", idx)[0] == 0
    code, out, err = cli("ask", "rag-local", "Which insurer provides the private health insurance?",
                         "--index", idx, "--json")
    assert code == 0, err
    res = json.loads(out.strip().splitlines()[-1])
    # retrieval is what this checks; whether the 135M model then names the insurer is the eval's business
    # (it does not, since the grown corpus puts a travel passage beside the right one)
    assert res["sources"][0]["source"] == "08-benefits.md" and res["sources"][0]["heading"].endswith("Health")
    assert res["answer"].strip() and res["input_tokens"] > 50
