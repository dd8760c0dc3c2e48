"""Every registered rung through every command that answers (ask, eval, serve), on a tiny real index.

The recipe and the expectations of each rung come from its components, never from its name, so a new
rung is covered the moment it is registered; one made of parts this file does not know fails loudly."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx
import pytest
import yaml

from adapt import rungs
from adapt.errors import UserError
from adapt.eval.harness import evaluate
from adapt.pipeline import Pipeline
from adapt.recipe import parse_recipe
from adapt.serve.app import create_app
from adapt.rungs import Adapter, Guard, IndexText, Model, Retrieval
from tests.fakes import FakeGenerator
from tests.serve.test_hardening import _stream_text, serve  # noqa: F401 - serve is a fixture
from tests.tiny_corpus import ITEMS, SENTENCES, field, tiny_index  # noqa: F401 - tiny_index is a fixture

ANSWER = "Employees get 27 days [1]."
QUESTION = ITEMS[0].question  # answered by leave.md
KNOWN = (Retrieval, IndexText, Model, Adapter, Guard)


def kind(rung: rungs.Rung) -> str:
    """How the rung answers, which decides what the matrix expects of it."""
    odd = [type(c).__name__ for c in rung.components if type(c) not in KNOWN]
    if odd:
        pytest.fail(f"rung '{rung.name}' has component(s) {odd} that the rung matrix cannot build a recipe for: "
                    "teach tests/rungs/test_rung_matrix.py about them")
    if rung.answerer is None and rung.generates:
        return "generates"
    if rung.answerer is not None and rung.component(IndexText) and not rung.generates:
        return "reads-index"
    pytest.fail(f"rung '{rung.name}' answers in a way the rung matrix does not know (answerer={rung.answerer}, "
                f"components={[type(c).__name__ for c in rung.components]}): add its expectations")


def recipe_for(rung: rungs.Rung, index, tmp_path):
    kind(rung)
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"prompt": QUESTION, "completion": "27 days"}) + "\n")
    # a guard with its defaults: the matrix's answer is supported by leave.md, so it passes the check
    sections = {"rag": {"index": str(index), "k": 2, **({"guard": {}} if rung.guarded else {})},
                "model": {"name": "fake-model", **({"adapter": str(tmp_path / "no-adapter")} if rung.adapter else {})},
                "train": {"data": str(data)}}
    unknown = rung.sections - set(sections)
    assert not unknown, f"rung '{rung.name}' reads section(s) {unknown} the rung matrix does not fill"
    raw = {"name": f"matrix-{rung.name}", "rung": rung.name, "generation": {"batch_size": 2},
           **{s: sections[s] for s in rung.sections}}
    path = tmp_path / "recipe.yaml"  # the recipe is a file, as a user would write it
    path.write_text(yaml.safe_dump(raw))
    return parse_recipe(yaml.safe_load(path.read_text()), source=str(path)), path


@pytest.fixture(params=rungs.names())
def case(request, tiny_index, tmp_path):
    rung = rungs.get(request.param)
    recipe, path = recipe_for(rung, tiny_index, tmp_path)
    return rung, recipe, tiny_index, path


def test_the_matrix_covers_every_rung_on_the_ladder():
    assert {"baseline", "prompt", "rag", "lora", "rag+lora"} <= set(rungs.names())
    for r in rungs.all_rungs():
        kind(r)


def test_a_rung_of_parts_the_matrix_does_not_know_fails_it_loudly():
    @dataclass(frozen=True)
    class Tools(rungs.Component):
        section: str = "tools"
        what: str = "the tools the model may call"

    with pytest.raises(pytest.fail.Exception, match="cannot build a recipe for"):
        kind(rungs.Rung("agent", 9, "calls tools", (Model(), Tools())))


def test_ask(case):
    rung, recipe, index, path = case
    gen = FakeGenerator(ANSWER)
    pipe = Pipeline(recipe, generator=gen)
    [ans] = pipe.answer([QUESTION])
    if kind(rung) == "reads-index":  # no model: a sentence of the documents, nothing generated
        assert ans.text == "Employees get 27 days of paid vacation each year." and gen.prompts == []
        assert [field(s, "source") for s in ans.sources] == ["leave.md"]
        return
    assert ans.text == ANSWER and len(gen.prompts) == 1
    system, user = gen.prompts[0][0], gen.prompts[0][-1]
    assert system["role"] == "system" and user["role"] == "user"
    if rung.retrieves:
        assert field(ans.sources[0], "source") == "leave.md" and len(ans.sources) == 2
        assert "[1] leave.md" in user["content"] and "27 days of paid vacation" in user["content"]
        assert user["content"].endswith(f"Question: {QUESTION}") and "cite" in system["content"]
    else:
        assert pipe.retriever is None and ans.sources == [] and ans.retrieval_s == 0
        assert user["content"] == QUESTION and "Passages" not in json.dumps(gen.prompts)


def test_eval(case, tmp_path):
    rung, recipe, index, path = case
    out = tmp_path / "eval"
    summary = evaluate([recipe], ITEMS, out, index=str(index), progress=False, latency_items=2,
                       pipeline_factory=lambda r: Pipeline(r, index_dir=str(index), generator=FakeGenerator(ANSWER)))
    records = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    timings = [json.loads(line) for line in (out / "timings.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in records) == sorted(i.id for i in ITEMS) and len(timings) == 2
    assert {r["rung"] for r in records} == {rung.name} and {r["recipe"] for r in records} == {recipe.name}
    by_id = {r["id"]: r for r in records}
    assert by_id["leave"]["grade"] == "correct"  # every rung answers the leave question from leave.md
    if rung.retrieves:
        assert all("retrieval_rank" in r for r in records) and by_id["leave"]["retrieval_rank"] == 1
        assert by_id["chess"]["retrieval_rank"] is None  # no gold source to find
    else:
        assert not any("retrieval_rank" in r for r in records)
    # the time spent reading the index, for every rung that reads one (the baseline's whole answer)
    assert all((t["retrieval_ms"] is not None) == rung.reads_index for t in timings)
    if kind(rung) == "reads-index":
        assert {r["answer"] for r in records} <= SENTENCES | {""}  # "": no sentence shares a word
        assert {by_id[i]["answer"] for i in ("leave", "pay", "garage")} == SENTENCES
    if rung.reads_index:  # the report's drill-down names each passage as a reader finds it
        assert by_id["leave"]["citations"][0] == "leave.md › Leave"
        assert "leave.md › Leave" in (out / "report.html").read_text()
    [row] = summary["recipes"]
    assert row["rung"] == rung.name and row["n"] == 4
    assert rung.name in (out / "report.md").read_text()


def test_serve(case, serve, cli):  # noqa: F811 - serve is the fixture imported above
    rung, recipe, index, path = case
    if not rung.generates:  # answers without a model: nothing to serve, said plainly
        with pytest.raises(UserError, match="answers without a model"):
            create_app(recipe, Pipeline(recipe, index_dir=str(index)), None)
        code, _, err = cli("serve", path)
        assert code == 2 and "no local model to serve" in err
        return
    base, _ = serve(recipe, Pipeline(recipe, generator=FakeGenerator(ANSWER)), api_key=None)
    body = {"messages": [{"role": "user", "content": QUESTION}], "max_tokens": 8}
    r = httpx.post(base + "/v1/chat/completions", json=body, timeout=30)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["choices"][0]["message"]["content"] == ANSWER and out["model"] == recipe.name
    if rung.retrieves:
        assert out["sources"][0]["source"] == "leave.md"
    else:
        assert "sources" not in out
    text, reason, error = _stream_text(base, body)
    assert (text, error) == (ANSWER, None) and reason in ("stop", "length")
