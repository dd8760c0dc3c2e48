from pathlib import Path

import pytest

from adapt.errors import UserError
from adapt.recipe import available, load_recipe, parse_recipe

from .conftest import ROOT


def test_every_shipped_recipe_validates():
    paths = sorted((ROOT / "recipes").glob("*.yaml"))
    assert len(paths) >= 2
    for p in paths:
        r = load_recipe(p)
        assert r.name == p.stem, f"{p}: name should match the file name"


def test_name_resolves_to_recipes_folder():
    r = load_recipe("prompt-local")
    assert r.rung == "prompt" and r.model.name == "smollm2-135m-instruct" and r.model.backend == "local"
    assert "prompt-local" in [p.stem for p in available()]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "r.yaml"
    p.write_text(text)
    return p


def test_misspelt_key_names_file_field_and_suggestion(tmp_path):
    p = _write(tmp_path, "name: x\nrung: prompt\nmodel: m\ngeneration:\n  max_new_tokns: 5\n")
    with pytest.raises(UserError) as e:
        load_recipe(p)
    msg = str(e.value)
    assert str(p) in msg and "generation.max_new_tokns" in msg and "did you mean 'max_new_tokens'" in msg


def test_every_problem_reported_at_once(tmp_path):
    p = _write(tmp_path, "name: x\nrung: prompt\nmodel: m\ngeneration:\n  temperature: hot\n  batch_size: 0\n")
    msg = str(pytest.raises(UserError, load_recipe, p).value)
    assert "2 problem(s)" in msg and "generation.temperature" in msg and "generation.batch_size" in msg


def test_missing_model_and_wrong_rung(tmp_path):
    assert "needs a 'model'" in str(pytest.raises(UserError, load_recipe, _write(tmp_path, "name: x\nrung: prompt\n")).value)
    msg = str(pytest.raises(UserError, load_recipe, _write(tmp_path, "name: x\nrung: prompting\nmodel: m\n")).value)
    assert "rung" in msg and "'prompt'" in msg


def test_endpoint_model_and_env_expansion(monkeypatch):
    monkeypatch.setenv("MY_BASE", "http://h:1/v1")
    monkeypatch.delenv("MY_MODEL", raising=False)
    r = parse_recipe({"name": "x", "rung": "prompt",
                      "model": {"base_url": "${MY_BASE}", "model": "${MY_MODEL:-fallback}"}})
    assert (r.model.backend, r.model.base_url, r.model.model) == ("openai", "http://h:1/v1", "fallback")
    with pytest.raises(UserError, match="either 'name'"):
        parse_recipe({"name": "x", "rung": "prompt", "model": {"name": "a", "base_url": "http://h", "model": "m"}})


def test_unknown_recipe_name_lists_available():
    msg = str(pytest.raises(UserError, load_recipe, "prompt-locl").value)
    assert "Did you mean 'prompt-local'" in msg and "prompt-api" in msg


def test_cli_validate_exit_codes(cli, tmp_path):
    bad = _write(tmp_path, "name: x\nrung: prompt\nmodl: m\n")
    code, out, err = cli("recipes", "validate", "prompt-local", str(bad))
    assert code == 2 and "modl" in err and "did you mean 'model'" in err and "Traceback" not in err
    assert cli("recipes", "validate", "prompt-local", "prompt-api")[0] == 0
    code, out, _ = cli("recipes", "list")
    assert code == 0 and "prompt-local" in out


def test_cli_bad_recipe_exits_2_without_traceback(cli, tmp_path):
    code, _, err = cli("ask", str(_write(tmp_path, "name: x\nrung: rag\nmodel: m\n")), "hi")
    assert code == 2 and "needs a 'rag' section" in err and "Traceback" not in err


def test_env_expanded_only_where_meant(monkeypatch):
    monkeypatch.setenv("DATA_ROOT", "/data")
    monkeypatch.setenv("name", "SHOULD-NOT-APPEAR")
    r = parse_recipe({"name": "x", "rung": "rag", "model": "${DATA_ROOT}/models/m",
                      "description": "costs $$5 for ${name}",
                      "generation": {"system_prompt": "Greet ${name} politely.", "abstain_phrase": "No ${DATA_ROOT}"},
                      "rag": {"index": "${DATA_ROOT}/idx", "docs": "$$HOME/${MISSING:-docs}"}})
    assert r.model.name == "/data/models/m" and r.rag.index == "/data/idx" and r.rag.docs == "$HOME/docs"
    assert r.generation.system_prompt == "Greet ${name} politely." and r.generation.abstain_phrase == "No ${DATA_ROOT}"
    assert r.description == "costs $$5 for ${name}"  # not an expanded field: left exactly as written


def test_unset_env_without_default_names_field_and_variable(monkeypatch):
    monkeypatch.delenv("NO_SUCH_VAR", raising=False)
    with pytest.raises(UserError, match=r"train\.output_dir.*NO_SUCH_VAR"):
        parse_recipe({"name": "x", "rung": "lora", "model": "m",
                      "train": {"data": "d.jsonl", "output_dir": "runs/${NO_SUCH_VAR}"}})


@pytest.mark.parametrize("field,value", [("base_url", "http://h/v1?k=${OPENAI_API_KEY}"),
                                         ("model", "${HF_TOKEN:-m}"), ("api_key_env", "${DB_PASSWORD}")])
def test_secret_looking_variables_are_refused(monkeypatch, field, value):
    # whatever is expanded is written into run.json and eval results, so secrets must never get there
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("DB_PASSWORD", "hunter2")
    spec = {"base_url": "http://h/v1", "model": "m", field: value}
    with pytest.raises(UserError, match=f"model.{field}.*looks like a secret") as e:
        parse_recipe({"name": "x", "rung": "prompt", "model": spec})
    assert "sk-secret" not in str(e.value) and "hunter2" not in str(e.value)
