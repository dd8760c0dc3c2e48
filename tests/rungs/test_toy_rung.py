"""Adding a rung means adding a file under adapt/rungs/ plus its recipe: a toy rung, written here as that
file would be, is listed, validated, asked, evaluated and climbed like the shipped ones."""

from __future__ import annotations

import json
import sys

import pytest

from adapt import rungs

# The whole rung: what would be adapt/rungs/toy.py.
TOY_RUNG = '''\
"""toy: no model, no index: answers with the question's last word."""

from adapt.rungs import Answer, Rung, register


class LastWord:
    def __init__(self, recipe, index_dir):
        self.recipe = recipe

    def answer(self, questions, max_new_tokens=None):
        return [Answer(q.rstrip("?!. ").split()[-1]) for q in questions]


register(Rung("toy", 5, "answers with the question's last word", (), answerer=LastWord))
'''

# Its recipe.
TOY_RECIPE = '''\
name: toy-last-word
rung: toy
description: the question's last word, the floor below every rung
'''

SUITE = [{"id": "sky", "question": "Which colour is the sky, blue?", "answers": ["blue"]},
         {"id": "capital", "question": "Name the capital of France.", "answers": ["Paris"]},
         {"id": "future", "question": "Who wins the 2099 election?", "answers": []}]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The toy rung registered from its own file, and the paths of its recipe and suite; unregistered after."""
    d = tmp_path_factory.mktemp("toy")
    # The file goes into a folder on the rungs package's path, so the registry finds it the way it finds
    # a file dropped into adapt/rungs/ (without writing into the installed package).
    (d / "pkg").mkdir()
    (d / "pkg" / "toy.py").write_text(TOY_RUNG)
    rungs.__path__.append(str(d / "pkg"))
    rungs._LOADED.clear()
    (d / "toy.yaml").write_text(TOY_RECIPE)
    (d / "suite.jsonl").write_text("".join(json.dumps(row) + "\n" for row in SUITE))
    yield d / "toy.yaml", d / "suite.jsonl"
    rungs.__path__.remove(str(d / "pkg"))
    rungs._REGISTRY.pop("toy", None)
    sys.modules.pop("adapt.rungs.toy", None)


def test_it_is_listed_in_ladder_order(toy, cli):
    names = rungs.names()
    assert names[-1] == "toy" and names == sorted(names, key=lambda n: rungs.get(n).place)
    code, out, _ = cli("rungs")
    assert code == 0 and "toy" in out and "answers with the question's last word" in out


def test_its_recipe_validates_and_reads_only_what_the_rung_needs(toy, cli, tmp_path):
    recipe, _ = toy
    assert cli("recipes", "validate", recipe)[0] == 0
    extra = tmp_path / "toy-with-model.yaml"
    extra.write_text(TOY_RECIPE + "model: smollm2-135m-instruct\n")
    code, _, err = cli("recipes", "validate", extra)
    assert code == 2 and "rung 'toy' does not read a 'model' section" in err


def test_ask(toy, cli):
    recipe, _ = toy
    code, out, err = cli("ask", recipe, "Which colour is the sky, blue?")
    assert code == 0, err
    assert out.strip() == "blue"
    code, out, err = cli("ask", recipe, "Is grass green?", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["answer"] == "green" and res["rung"] == "toy" and res["sources"] == []


def test_eval(toy, cli, tmp_path):
    recipe, suite = toy
    code, out, err = cli("eval", recipe, "--suite", suite, "--out", tmp_path / "eval", "--latency-items", "1")
    assert code == 0, err
    records = {r["id"]: r for r in map(json.loads, (tmp_path / "eval" / "items.jsonl").read_text().splitlines())}
    assert {r["rung"] for r in records.values()} == {"toy"}
    assert [records[i]["answer"] for i in ("sky", "capital", "future")] == ["blue", "France", "election"]
    assert records["sky"]["grade"] == "correct" and records["capital"]["grade"] == "incorrect"
    report = (tmp_path / "eval" / "report.md").read_text()
    assert "toy-last-word" in report and "| toy |" in report


def test_ladder(toy, cli, tmp_path):
    recipe, suite = toy
    out = tmp_path / "ladder"
    code, stdout, err = cli("ladder", "--rungs", "toy", "--recipe", f"toy={recipe}", "--suite", suite,
                            "--docs", tmp_path, "--out", out, "--latency-items", "1")
    s = json.loads((out / "summary.json").read_text())
    assert code == (0 if s["ladder"]["meets"] else 1), err
    assert [(r["recipe"], r["rung"]) for r in s["recipes"]] == [("toy-last-word", "toy")]
    assert [c["recipe"] for c in s["ladder"]["checks"]] == ["toy-last-word"] and s["ladder"]["verdict"] in stdout
    assert not (out / "index").exists()  # the toy reads no index, so the ladder builds none
