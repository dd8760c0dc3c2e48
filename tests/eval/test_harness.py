import json

import pytest

from adapt.data.suite import Item, load_suite
from adapt.errors import UserError
from adapt.eval.harness import WARM_UP, evaluate, read_records
from adapt.eval.summary import usd_per_1k_queries
from adapt.recipe import parse_recipe

from .builders import record

ITEMS = [Item("a", "What is the capital of France?", ["Paris"]), Item("b", "Who guards the gate?", ["Zorblat"]),
         Item("c", "What is the CFO's name?", []), Item("d", "hi", ["hello"]), Item("e", "Tell me", [])]


def _recipe(tiny_llama, name="tiny-prompt", bs=2, usd=3.6):
    return parse_recipe({"name": name, "rung": "prompt", "model": str(tiny_llama),
                         "generation": {"max_new_tokens": 4, "batch_size": bs}, "cost": {"usd_per_hour": usd}})


def test_eval_writes_items_summary_and_reports(tiny_llama, tmp_path):
    r = _recipe(tiny_llama)
    s = evaluate([r], ITEMS, tmp_path / "run", progress=False, latency_items=3)
    recs = read_records(tmp_path / "run" / "items.jsonl")
    assert [x.id for x in recs] == ["a", "b", "c", "d", "e"]
    assert all(x.grade in ("correct", "abstained", "incorrect") and x.output_tokens <= 4 for x in recs)
    # items.jsonl keeps its format: every field a run measures, no retrieval rank for a rung that does not
    # retrieve, no judge fields without a judge
    line = json.loads((tmp_path / "run" / "items.jsonl").read_text().split("\n")[0])
    assert list(line) == ["recipe", "rung", "id", "question", "gold", "answer", "grade", "reason", "em", "f1",
                          "input_tokens", "output_tokens", "usage_estimated", "wall_ms", "sources", "citations",
                          "gold_source"]
    row = s["recipes"][0]
    assert row["n"] == 5 and row["rung"] == "prompt" and row["n_unanswerable"] == 2
    assert row["correct_rate"] + row["hallucination_rate"] + row["abstain_rate"] == pytest.approx(1)
    assert row["latency_ms"]["p95"] >= row["latency_ms"]["p50"] > 0 and row["retrieval"]["hit_at_k"] is None
    assert row["timed"] == {"n": 3, "concurrency": 1, "batch_size": 2}
    assert row["throughput_items_per_s"] > 0 and set(row["squad"]) >= {"exact", "f1", "HasAns_f1", "NoAns_exact"}
    for key in ("correct_rate", "hallucination_rate", "no_answer_accuracy", "answerable_accuracy"):
        lo, hi = row["intervals"][key]
        assert lo <= row[key] <= hi
    # 3 timed requests cannot bound a percentile from above (a median needs 6, a p95 72): the
    # interval says so instead of pretending
    assert row["intervals"]["latency_ms.p95"][1] is None and row["intervals"]["latency_ms.p50"][1] is None
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert set(on_disk["recipes"][0]) >= {"recipe", "rung", "n", "correct_rate", "hallucination_rate", "abstain_rate",
                                          "answerable_accuracy", "false_refusal_rate", "no_answer_accuracy",
                                          "unanswerable_hallucination_rate", "em", "f1", "squad", "intervals",
                                          "latency_ms", "ttft_ms", "throughput_items_per_s", "retrieval", "cost"}
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["item_ids"] == ["a", "b", "c", "d", "e"]
    assert "5 items: fewer than 100" in " ".join(on_disk["notes"])
    md = (tmp_path / "run" / "report.md").read_text()
    assert "tiny-prompt" in md and "hallucination_rate" in md and "| recipe |" in md and "concurrency 1" in md
    assert "e+" not in md.split("## Definitions")[0] and "e-0" not in md.split("## Definitions")[0]
    html = (tmp_path / "run" / "report.html").read_text()
    assert "<svg" in html and "What is the capital of France?" in html
    for external in ("src=", "<link", "@import", "href=\"http", "url(http"):  # self-contained: loads nothing
        assert external not in html
    assert (tmp_path / "run" / "run.json").is_file()


def test_resume_skips_finished_items_and_survives_a_torn_line(tiny_llama, tmp_path):
    r = _recipe(tiny_llama)
    out = tmp_path / "run"
    evaluate([r], ITEMS, out, progress=False, latency_items=0)
    lines = (out / "items.jsonl").read_text().split("\n")
    # killed while writing c: a and b made it, c is torn; an answer holding U+2028 must survive the reread
    first = json.loads(lines[0])
    first["answer"] = "Paris\u2028Lyon"
    (out / "items.jsonl").write_text(json.dumps(first, ensure_ascii=False) + "\n" + lines[1] + "\n"
                                     + '{"recipe": "tiny-prompt", "id": "c", "answ')
    with pytest.raises(UserError, match="--resume"):
        evaluate([r], ITEMS, out, progress=False)
    calls = []

    def factory(recipe):
        from adapt.pipeline import Pipeline

        p = Pipeline(recipe)
        orig = p.answer
        p.answer = lambda qs, **kw: calls.append(list(qs)) or orig(qs, **kw)
        return p

    s = evaluate([r], ITEMS, out, resume=True, progress=False, pipeline_factory=factory, latency_items=0)
    assert calls[0] == [WARM_UP, WARM_UP]  # the warm-up batch, not graded
    asked = [q for batch in calls[1:] for q in batch]
    assert asked == [i.question for i in ITEMS[2:]]  # a and b were not asked again
    kept = read_records(out / "items.jsonl")
    assert [x.id for x in kept] == ["a", "b", "c", "d", "e"] and kept[0].answer == "Paris\u2028Lyon"
    assert s["recipes"][0]["n"] == 5


class FakePipeline:
    """Answers without a model: logs every call's batch, so tests can see how the harness asks."""

    def __init__(self, answer="Paris", seconds=0.01):
        self.calls, self.text, self.seconds = [], answer, seconds

    def answer(self, questions, max_new_tokens=None):
        from adapt.backends import Generation
        from adapt.pipeline import Answer

        self.calls.append(list(questions))
        return [Answer(self.text, Generation(self.text, 10, 2, self.seconds, self.seconds / 2)) for _ in questions]


def test_latency_is_per_request_after_a_warm_up_the_same_for_every_rung(tmp_path):
    pipes = {}
    recipes = [parse_recipe({"name": n, "rung": "prompt", "model": "m", "generation": {"batch_size": 3}})
               for n in ("p1", "p2")]
    s = evaluate(recipes, ITEMS, tmp_path / "run", progress=False, latency_items=4,
                 pipeline_factory=lambda r: pipes.setdefault(r.name, FakePipeline()))
    for name, p in pipes.items():
        assert p.calls[0] == [WARM_UP] * 3  # warm-up batch, with no suite question in it
        assert [len(c) for c in p.calls[1:3]] == [3, 2]      # the graded pass, at the batch size
        assert [len(c) for c in p.calls[3:]] == [1, 1, 1, 1]  # timed one request at a time
    timed = [json.loads(line) for line in (tmp_path / "run" / "timings.jsonl").read_text().splitlines()]
    assert {t["recipe"] for t in timed} == {"p1", "p2"}
    ids = {name: [t["id"] for t in timed if t["recipe"] == name] for name in ("p1", "p2")}
    assert ids["p1"] == ids["p2"] and len(ids["p1"]) == 4 and any(i in ("c", "e") for i in ids["p1"])
    assert all(row["latency_ms"]["p50"] == pytest.approx(10.0) for row in s["recipes"])


def test_eval_leaves_out_the_items_an_adapter_was_trained_on(tmp_path):
    run = tmp_path / "runs" / "tuned"
    (run / "adapter").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"data": {"train_ids": ["a", "b", "zz"]}}))
    tuned = parse_recipe({"name": "tuned", "rung": "lora", "model": {"name": "m", "adapter": str(run / "adapter")},
                          "train": {"data": "x.jsonl"}})
    s = evaluate([tuned], ITEMS, tmp_path / "out", progress=False, latency_items=0,
                 pipeline_factory=lambda r: FakePipeline())
    assert s["recipes"][0]["n"] == 3 and any("left out 2 item(s)" in n for n in s["notes"])
    s = evaluate([tuned], ITEMS, tmp_path / "out2", progress=False, latency_items=0, allow_train_items=True,
                 pipeline_factory=lambda r: FakePipeline())
    assert s["recipes"][0]["n"] == 5


def test_resume_refuses_another_suite_or_a_changed_recipe(tmp_path, cli):
    suite = tmp_path / "s.jsonl"
    suite.write_text("".join(json.dumps({"id": i.id, "question": i.question, "answers": i.answers}) + "\n"
                             for i in ITEMS))
    r = parse_recipe({"name": "p", "rung": "prompt", "model": "m"})
    evaluate([r], ITEMS, tmp_path / "run", suite_path=suite, progress=False, latency_items=0,
             pipeline_factory=lambda r: FakePipeline())
    other = tmp_path / "other.jsonl"
    other.write_text(suite.read_text().replace("Tell me", "Tell me more"))
    with pytest.raises(UserError, match="different suite"):
        evaluate([r], ITEMS, tmp_path / "run", suite_path=other, resume=True, progress=False,
                 pipeline_factory=lambda r: FakePipeline())
    with pytest.raises(UserError, match="other items"):
        evaluate([r], ITEMS[:3], tmp_path / "run", suite_path=suite, resume=True, progress=False,
                 pipeline_factory=lambda r: FakePipeline())
    changed = parse_recipe({"name": "p", "rung": "prompt", "model": "other-model"})
    with pytest.raises(UserError, match="recipe 'p' changed"):
        evaluate([changed], ITEMS, tmp_path / "run", suite_path=suite, resume=True, progress=False,
                 pipeline_factory=lambda r: FakePipeline())
    code, _, err = cli("eval", "prompt-local", "--suite", other, "--out", tmp_path / "run", "--resume")
    assert code == 2 and "different suite" in err


def test_served_endpoints_are_priced_by_machine_time_never_free():
    served = parse_recipe({"name": "s", "rung": "prompt", "model": {"base_url": "http://x/v1", "model": "prompt-local"},
                           "cost": {"usd_per_hour": 3.6}})
    assert usd_per_1k_queries(served, [record(wall_ms=100.0, input_tokens=5, output_tokens=5)]) == pytest.approx(0.1)
    unpriced = parse_recipe({"name": "u", "rung": "prompt", "model": {"base_url": "http://x/v1", "model": "mystery"}})
    assert usd_per_1k_queries(unpriced, [record(wall_ms=100.0, input_tokens=5, output_tokens=5)]) is None
    from adapt.recipe import load_recipe

    shipped = load_recipe("prompt-api")  # points at `adapt serve` by default
    assert usd_per_1k_queries(shipped, [record(wall_ms=1000.0, input_tokens=5, output_tokens=5)]) > 0


def test_cost_arithmetic():
    local = parse_recipe({"name": "l", "rung": "prompt", "model": "m", "cost": {"usd_per_hour": 3.6}})
    # 100 ms of machine time per query at $3.60/h = $0.0001 per query = $0.1 per 1k queries
    assert usd_per_1k_queries(local, [record(wall_ms=100.0), record(wall_ms=100.0)]) == pytest.approx(0.1)
    api = parse_recipe({"name": "a", "rung": "prompt", "model": {"base_url": "http://x/v1", "model": "gpt-4o-mini"}})
    recs = [record(input_tokens=1000, output_tokens=100)]
    # from adapt/eval/prices.yaml: 0.15 $/1M in, 0.60 $/1M out -> (1000*0.15 + 100*0.6)/1e6 per query
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


def test_llm_judge_grades_every_item_and_agreement_is_reported(tmp_path, monkeypatch):
    import adapt.backends
    from adapt.eval.metrics import judge_gold
    from adapt.backends import Generation

    class Judge:
        prompts = []

        def generate(self, batch, max_new_tokens, temperature=0.0):
            type(self).prompts += batch
            # "A" (correct) when a reference answer is given, "C" (not attempted) for unanswerable items;
            # one unreadable reply keeps the lexical grade
            replies = ["garbled" if "Gold target: hello" in m[-1]["content"] else
                       ("C" if judge_gold([]) in m[-1]["content"] else "A") for m in batch]
            return [Generation(t, 1, 1, 0.0, 0.0) for t in replies]

    monkeypatch.setattr(adapt.backends, "make_generator", lambda spec, bs=8: Judge())
    r = parse_recipe({"name": "p", "rung": "prompt", "model": "m"})
    judge = parse_recipe({"name": "j", "rung": "prompt", "model": "judge-model"})
    s = evaluate([r], ITEMS, tmp_path / "run", judge=judge, progress=False, latency_items=0,
                 pipeline_factory=lambda r: FakePipeline(answer="Paris"))
    lines = {x["id"]: x for x in map(json.loads, (tmp_path / "run" / "items.jsonl").read_text().splitlines())}
    recs = {x.id: x for x in read_records(tmp_path / "run" / "items.jsonl")}
    assert len(Judge.prompts) == 5  # unanswerable items are judged too
    assert recs["a"].grade == "correct" and recs["a"].lexical_grade == "correct"
    assert recs["b"].grade == "correct" and recs["b"].lexical_grade == "incorrect"  # the judge overrules
    assert recs["c"].grade == "abstained" and recs["c"].lexical_grade == "incorrect"
    assert recs["d"].lexical_grade is None and recs["d"].grade == "incorrect"  # unreadable verdict
    assert "lexical_grade" not in lines["d"] and lines["d"]["judge_raw"] == "garbled"
    assert list(lines["a"])[-2:] == ["judge_raw", "lexical_grade"]
    row = s["recipes"][0]
    assert row["judge_agreement"] == pytest.approx(1 / 4)  # a agrees; b, c, e disagree; d was not judged
    assert "graders agree" in (tmp_path / "run" / "report.md").read_text()
    assert any("could not be read for 1 answer" in n for n in s["notes"])
