"""The guard (rag.guard) as ask, eval and serve meet it: the retrieval gate, the support check, the
records and report they leave, and a malformed guard section."""

from __future__ import annotations

import json

import httpx
import pytest

from adapt.errors import UserError
from adapt.eval.harness import evaluate
from adapt.pipeline import Pipeline
from adapt.recipe import DEFAULT_ABSTAIN, parse_recipe
from tests.fakes import FakeGenerator
from tests.serve.test_hardening import _stream_text, serve  # noqa: F401 - serve is a fixture
from tests.tiny_corpus import ITEMS, tiny_index  # noqa: F401 - tiny_index is a fixture

LEAVE, CHESS = ITEMS[0], ITEMS[3]  # the gold passage is close to LEAVE; nothing is close to CHESS


def recipe(index, rung="rag+guard", **guard):
    return parse_recipe({"name": "guarded", "rung": rung, "model": "fake-model",
                         "rag": {"index": str(index), "k": 2, "guard": guard}})


def unguarded(index):
    return parse_recipe({"name": "plain", "rung": "rag", "model": "fake-model", "rag": {"index": str(index), "k": 2}})


def test_the_gate_abstains_without_calling_the_model_when_no_passage_is_close(tiny_index):
    gen = FakeGenerator("Employees get 27 days [1].")
    pipe = Pipeline(recipe(tiny_index, min_score=0.3), generator=gen)
    far, near = pipe.answer([CHESS.question, LEAVE.question])
    assert far.text == DEFAULT_ABSTAIN and far.guard == "gated" and far.generation.output_tokens == 0
    assert far.sources and max(h.similarity for h in far.sources) < 0.3  # the passages are still reported
    assert near.text == "Employees get 27 days [1]." and near.guard == "passed"
    assert len(gen.prompts) == 1  # only the near question reached the model


def test_the_support_check_replaces_an_unsupported_answer_and_keeps_what_the_model_said(tiny_index):
    wrong = Pipeline(recipe(tiny_index), generator=FakeGenerator("Employees get 35 days [1].")).answer([LEAVE.question])[0]
    assert wrong.text == DEFAULT_ABSTAIN and wrong.raw_text == "Employees get 35 days [1]." and wrong.guard == "unsupported"
    off = Pipeline(recipe(tiny_index, support=False), generator=FakeGenerator("Employees get 35 days.")).answer(
        [LEAVE.question])[0]
    assert off.text == "Employees get 35 days." and off.guard == "passed"
    bare = Pipeline(unguarded(tiny_index), generator=FakeGenerator("35 days")).answer([LEAVE.question])[0]
    assert bare.guard is None and bare.text == "35 days"  # no guard section, no guard


def test_eval_records_what_the_guard_did_and_the_faithfulness_of_what_it_let_through(tiny_index, tmp_path):
    answers = {LEAVE.question: "Employees get 27 days [1].", ITEMS[1].question: "On the 3rd [1].",
               ITEMS[2].question: "The garage code is 4711 [2]."}

    class ByQuestion(FakeGenerator):
        def generate(self, batch, max_new_tokens, temperature=0.0, cancelled=None):
            outs = super().generate(batch, max_new_tokens, temperature, cancelled)
            for prompt, out in zip(batch, outs):
                out.text = next((a for q, a in answers.items() if q in prompt[-1]["content"]), "no idea")
            return outs

    r = recipe(tiny_index, min_score=0.3)
    summary = evaluate([r], ITEMS, tmp_path / "run", index=str(tiny_index), progress=False, latency_items=0,
                       pipeline_factory=lambda rec: Pipeline(rec, index_dir=str(tiny_index), generator=ByQuestion()))
    recs = {x["id"]: x for x in map(json.loads, (tmp_path / "run" / "items.jsonl").read_text().splitlines())}
    assert recs["chess"]["guard"] == "gated" and recs["chess"]["answer"] == DEFAULT_ABSTAIN
    assert recs["chess"]["input_tokens"] == 0 and "raw_answer" not in recs["chess"]  # no model call
    assert recs["pay"]["guard"] == "unsupported" and recs["pay"]["raw_answer"] == "On the 3rd [1]."
    assert recs["pay"]["passages"] and recs["pay"]["grade"] == "abstained"
    assert recs["leave"]["guard"] == "passed" and recs["leave"]["supported"] is True
    assert recs["leave"]["citations_supported"] is True and "passages" not in recs["leave"]
    assert recs["garage"]["supported"] is True and recs["garage"]["citations_supported"] is False  # cites [2]
    assert recs["leave"]["similarity"] > 0.3 > recs["chess"]["similarity"]
    [row] = summary["recipes"]
    assert row["faithfulness"] == {"supported_rate": 1.0, "citation_accuracy": 0.5}  # leave and garage answered
    assert row["guard"] == {"gated": 1, "unsupported": 1}
    html = (tmp_path / "run" / "report.html").read_text()
    assert "what the guard stopped" in html and "On the 3rd [1]." in html and "25th of every month" in html


def test_faithfulness_counts_unsupported_answers_of_an_unguarded_rung(tiny_index, tmp_path):
    summary = evaluate([unguarded(tiny_index)], ITEMS[:2], tmp_path / "run", index=str(tiny_index), progress=False, latency_items=0,
                       pipeline_factory=lambda rec: Pipeline(rec, index_dir=str(tiny_index),
                                                             generator=FakeGenerator("It is 99 euros.")))
    [row] = summary["recipes"]
    assert row["faithfulness"]["supported_rate"] == 0.0 and row["faithfulness"]["citation_accuracy"] is None
    assert row["guard"] == {"gated": None, "unsupported": None}  # no guard, nothing to count
    recs = [json.loads(x) for x in (tmp_path / "run" / "items.jsonl").read_text().splitlines()]
    assert all("'99 euros'" in x["support_reason"] and x["passages"] for x in recs)


@pytest.mark.parametrize("guard, field", [({"min_score": 2}, "rag.guard.min_score"),
                                          ({"min_scor": 0.3}, "rag.guard.min_scor"),
                                          ({"support_threshold": "high"}, "rag.guard.support_threshold"),
                                          ("on", "rag.guard")])
def test_a_malformed_guard_names_the_field(cli, tmp_path, guard, field):
    path = tmp_path / "g.yaml"
    path.write_text(json.dumps({"name": "g", "rung": "rag+guard", "model": "m", "rag": {"guard": guard}}))
    code, _, err = cli("recipes", "show", path)
    assert code == 2 and field in err and "Traceback" not in err


def test_rag_guard_needs_its_guard_and_the_gate_needs_dense_similarity():
    with pytest.raises(UserError, match="needs a rag.guard section"):
        parse_recipe({"name": "g", "rung": "rag+guard", "model": "m", "rag": {}})
    with pytest.raises(UserError, match="min_score needs mode dense or hybrid"):
        parse_recipe({"name": "g", "rung": "rag", "model": "m", "rag": {"mode": "bm25", "guard": {"min_score": 0.2}}})


@pytest.mark.parametrize("stream", [False, True])
def test_a_served_guarded_recipe_abstains_on_an_unsupported_answer_and_on_a_far_question(serve, tiny_index, stream):  # noqa: F811
    r = recipe(tiny_index, min_score=0.3)
    base, _ = serve(r, Pipeline(r, generator=FakeGenerator("Employees get 35 days [1].")), api_key=None)
    for question, verdict in ((LEAVE.question, "unsupported"), (CHESS.question, "gated")):
        body = {"messages": [{"role": "user", "content": question}], "max_tokens": 16}
        if stream:
            text, reason, error = _stream_text(base, body)
            assert (text, reason, error) == (DEFAULT_ABSTAIN, "stop", None)
            continue
        out = httpx.post(base + "/v1/chat/completions", json=body, timeout=30).json()
        assert out["choices"][0]["message"]["content"] == DEFAULT_ABSTAIN and out["guard"] == verdict
        assert out["sources"] and (out["usage"]["completion_tokens"] == 0) == (verdict == "gated")


def test_a_served_guarded_recipe_streams_a_supported_answer_whole(serve, tiny_index):  # noqa: F811
    r = recipe(tiny_index, min_score=0.3)
    base, _ = serve(r, Pipeline(r, generator=FakeGenerator("Employees get 27 days [1].")), api_key=None)
    body = {"messages": [{"role": "user", "content": LEAVE.question}], "max_tokens": 16, "stream": True}
    with httpx.stream("POST", base + "/v1/chat/completions", json=body, timeout=30) as resp:
        events = [json.loads(line[6:]) for line in resp.iter_lines() if line.startswith("data: {")]
    pieces = [e["choices"][0]["delta"].get("content") for e in events if e.get("choices")]
    assert [p for p in pieces if p] == ["Employees get 27 days [1]."]  # held back, then sent in one piece
    assert events[-1]["guard"] == "passed" and events[-1]["sources"][0]["source"] == "leave.md"


def test_the_guard_applies_its_own_support_threshold(tiny_index):
    said = "Employees receive 27 days each year [1]."  # 'receive' is not in the passage: 2 of 3 own words are
    lenient = Pipeline(recipe(tiny_index, support_threshold=0.5), generator=FakeGenerator(said)).answer([LEAVE.question])
    strict = Pipeline(recipe(tiny_index, support_threshold=0.9), generator=FakeGenerator(said)).answer([LEAVE.question])
    assert (lenient[0].guard, lenient[0].text) == ("passed", said)
    assert strict[0].guard == "unsupported" and "'receive'" in strict[0].guard_reason and "90%" in strict[0].guard_reason


def test_a_gated_stream_never_calls_the_model_and_a_gate_only_guard_streams_as_it_goes(serve, tiny_index):  # noqa: F811
    gen = FakeGenerator("Employees get 27 days of paid vacation [1].")
    r = recipe(tiny_index, min_score=0.3, support=False)
    base, _ = serve(r, Pipeline(r, generator=gen), api_key=None)
    assert _stream_text(base, {"messages": [{"role": "user", "content": CHESS.question}]})[0] == DEFAULT_ABSTAIN
    assert gen.prompts == []  # gated: no model call
    body = {"messages": [{"role": "user", "content": LEAVE.question}], "stream": True}
    with httpx.stream("POST", base + "/v1/chat/completions", json=body, timeout=30) as resp:
        events = [json.loads(line[6:]) for line in resp.iter_lines() if line.startswith("data: {")]
    pieces = [e["choices"][0]["delta"].get("content") for e in events if e.get("choices")]
    assert len([p for p in pieces if p]) > 3 and events[-1]["guard"] == "passed"  # no support check: not held


def test_what_the_guard_stopped_is_recorded_with_its_reason(tiny_index, tmp_path):
    r = recipe(tiny_index, min_score=0.3)
    evaluate([r], [LEAVE, CHESS], tmp_path / "run", index=str(tiny_index), progress=False, latency_items=0,
             pipeline_factory=lambda rec: Pipeline(rec, index_dir=str(tiny_index),
                                                   generator=FakeGenerator("Employees get 35 days [1].")))
    recs = {x["id"]: x for x in map(json.loads, (tmp_path / "run" / "items.jsonl").read_text().splitlines())}
    assert recs["leave"]["support_reason"] == "the passages do not hold '35 days'"
    assert "below min_score 0.3" in recs["chess"]["support_reason"]


def test_the_judge_decides_support_and_an_unreadable_verdict_keeps_the_lexical_one(tiny_index, tmp_path):
    from adapt.eval import harness

    class Judge(FakeGenerator):
        def generate(self, batch, max_new_tokens, temperature=0.0, cancelled=None):
            outs = super().generate(batch, max_new_tokens, temperature, cancelled)
            for prompt, out in zip(batch, outs):  # grades: CORRECT; support: UNSUPPORTED, or gibberish for pay
                text = prompt[-1]["content"]
                out.text = "A" if "Gold target" in text else ("hmm" if ITEMS[1].question in text else "UNSUPPORTED")
            return outs

    r = unguarded(tiny_index)
    items = [LEAVE, ITEMS[1]]
    records = [harness._record(r, i, a, 0.01) for i, a in zip(items, Pipeline(
        r, generator=FakeGenerator("It is 27 days, paid on the 25th [1].")).answer([i.question for i in items]))]
    answers = Pipeline(r, generator=FakeGenerator("It is 27 days, paid on the 25th [1].")).answer(
        [i.question for i in items])
    assert [x.supported for x in records] == [True, True]
    harness._apply_judge(Judge(), items, records, answers)
    assert records[0].supported is False and "the judge says unsupported" in records[0].support_reason
    assert records[0].passages and records[0].support_judge_raw == "UNSUPPORTED"
    assert records[1].supported is True and records[1].support_judge_raw == "hmm"  # unreadable: lexical kept
