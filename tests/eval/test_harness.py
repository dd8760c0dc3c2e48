import json

import pytest

from adapt.data.suite import Item, load_suite
from adapt.errors import UserError
from adapt.eval.harness import evaluate, read_records
from adapt.eval.summary import usd_per_1k_queries
from adapt.recipe import parse_recipe

ITEMS = [Item("a", "What is the capital of France?", ["Paris"]), Item("b", "Who guards the gate?", ["Zorblat"]),
         Item("c", "What is the CFO's name?", []), Item("d", "hi", ["hello"]), Item("e", "Tell me", [])]


def _recipe(tiny_llama, name="tiny-prompt", bs=2, usd=3.6):
    return parse_recipe({"name": name, "rung": "prompt", "model": str(tiny_llama),
                         "generation": {"max_new_tokens": 4, "batch_size": bs}, "cost": {"usd_per_hour": usd}})


def test_eval_writes_items_summary_and_reports(tiny_llama, tmp_path):
    r = _recipe(tiny_llama)
    s = evaluate([r], ITEMS, tmp_path / "run", progress=False)
    recs = read_records(tmp_path / "run" / "items.jsonl")
    assert [x["id"] for x in recs] == ["a", "b", "c", "d", "e"]
    assert all(x["grade"] in ("correct", "abstained", "incorrect") and x["output_tokens"] <= 4 for x in recs)
    row = s["recipes"][0]
    assert row["n"] == 5 and row["rung"] == "prompt"
    assert row["correct_rate"] + row["hallucination_rate"] + row["abstain_rate"] == pytest.approx(1)
    assert row["latency_ms"]["p95"] >= row["latency_ms"]["p50"] > 0 and row["retrieval"] is None
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert set(on_disk["recipes"][0]) >= {"recipe", "rung", "n", "correct_rate", "hallucination_rate", "abstain_rate",
                                          "em", "f1", "latency_ms", "ttft_ms", "output_tokens_per_s", "retrieval", "cost"}
    md = (tmp_path / "run" / "report.md").read_text()
    assert "tiny-prompt" in md and "hallucination_rate" in md and "| recipe |" in md
    html = (tmp_path / "run" / "report.html").read_text()
    assert "<svg" in html and "What is the capital of France?" in html
    for external in ("src=", "<link", "@import", "href=\"http", "url(http"):  # self-contained: loads nothing
        assert external not in html
    assert (tmp_path / "run" / "run.json").is_file()


def test_resume_skips_finished_items_and_survives_a_torn_line(tiny_llama, tmp_path):
    r = _recipe(tiny_llama)
    out = tmp_path / "run"
    evaluate([r], ITEMS[:2], out, progress=False)
    with open(out / "items.jsonl", "a") as f:
        f.write('{"recipe": "tiny-prompt", "id": "c", "answ')  # killed mid-write
    with pytest.raises(UserError, match="--resume"):
        evaluate([r], ITEMS, out, progress=False)
    calls = []

    def factory(recipe):
        from adapt.pipeline import Pipeline

        p = Pipeline(recipe)
        orig = p.answer
        p.answer = lambda qs, **kw: calls.append(list(qs)) or orig(qs, **kw)
        return p

    s = evaluate([r], ITEMS, out, resume=True, progress=False, pipeline_factory=factory)
    asked = [q for batch in calls for q in batch]
    assert asked == [i.question for i in ITEMS[2:]]  # a and b were not asked again
    assert [x["id"] for x in read_records(out / "items.jsonl")] == ["a", "b", "c", "d", "e"]
    assert s["recipes"][0]["n"] == 5


def test_cost_arithmetic():
    local = parse_recipe({"name": "l", "rung": "prompt", "model": "m", "cost": {"usd_per_hour": 3.6}})
    # 100 ms of machine time per query at $3.60/h = $0.0001 per query = $0.1 per 1k queries
    assert usd_per_1k_queries(local, [{"wall_ms": 100.0}, {"wall_ms": 100.0}]) == pytest.approx(0.1)
    api = parse_recipe({"name": "a", "rung": "prompt", "model": {"base_url": "http://x/v1", "model": "gpt-4o-mini"}})
    recs = [{"input_tokens": 1000, "output_tokens": 100}]
    # from eval/prices.yaml: 0.15 $/1M in, 0.60 $/1M out -> (1000*0.15 + 100*0.6)/1e6 per query
    assert usd_per_1k_queries(api, recs) == pytest.approx((1000 * 0.15 + 100 * 0.60) / 1e6 * 1000)
    unknown = parse_recipe({"name": "u", "rung": "prompt", "model": {"base_url": "http://x/v1", "model": "mystery"}})
    assert usd_per_1k_queries(unknown, recs) is None


def test_bad_suite_rows_name_line_and_field(tmp_path, cli):
    p = tmp_path / "s.jsonl"
    p.write_text('{"id": 1, "question": "q", "answers": ["a"]}\n{"id": 2, "question": "q", "answers": "a"}\n')
    with pytest.raises(UserError, match=r"s.jsonl:2: field 'answers'"):
        load_suite(p)
    code, _, err = cli("eval", "prompt-local", "--suite", p, "--out", tmp_path / "o")
    assert code == 2 and "field 'answers'" in err and "Traceback" not in err


def test_llm_judge_regrades_answerable_items(tiny_llama, tmp_path):
    r = _recipe(tiny_llama)
    judge = _recipe(tiny_llama, name="tiny-judge")
    evaluate([r], ITEMS, tmp_path / "run", judge=judge, progress=False)
    recs = read_records(tmp_path / "run" / "items.jsonl")
    judged = [x for x in recs if "judge" in x]
    assert judged and all(x["gold"] for x in judged)  # unanswerable items are never handed to the judge
    assert all(x["grade"] == ("correct" if x["judge"] else "incorrect") for x in judged)
