import re
from pathlib import Path

import pytest

from adapt.errors import UserError
from adapt.recipe import available, load_recipe, parse_recipe, recipe_dirs, shipped_dir

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


# --- where recipes come from ----------------------------------------------------------------------

def test_pyproject_ships_every_package_the_recipes_and_prices():
    # the package list is written out (find cannot map recipes/ into adapt), so a new subpackage must be added
    tomllib = pytest.importorskip("tomllib")
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "adapt").rglob("__init__.py")}
    assert set(conf["packages"]) == on_disk | {"adapt.recipes"}
    assert conf["package-dir"] == {"adapt.recipes": "recipes"}
    assert conf["package-data"]["adapt.recipes"] == ["*.yaml"]
    assert (ROOT / "adapt" / "eval" / conf["package-data"]["adapt.eval"][0]).is_file()


def test_shipped_recipes_resolve_from_a_folder_without_recipes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ADAPT_RECIPES", raising=False)
    assert recipe_dirs() == [shipped_dir()]
    r = load_recipe("baseline")
    assert r.name == "baseline" and r.rung == "baseline"
    assert "rag-smollm2-lora" in [p.stem for p in available()]
    assert load_recipe("rag-smollm2-lora").train.output_dir == "runs/smollm2-lora"  # extends by name works too


def test_local_recipes_shadow_shipped_ones_and_env_comes_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ADAPT_RECIPES", raising=False)
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "baseline.yaml").write_text(
        "name: baseline\nrung: baseline\ndescription: mine\nrag: {index: my-index}\n")
    # a local file extending its own name gets the shipped one (it never extends itself)
    (tmp_path / "recipes" / "smollm2-lora.yaml").write_text(
        "extends: smollm2-lora\nname: smollm2-lora\ntrain: {epochs: 2}\n")
    assert load_recipe("baseline").rag.index == "my-index"
    paths = {p.stem: p for p in available()}
    assert paths["baseline"] == tmp_path / "recipes" / "baseline.yaml"
    assert paths["prompt-local"] == shipped_dir() / "prompt-local.yaml"
    tuned = load_recipe("smollm2-lora")
    assert tuned.train.epochs == 2 and tuned.train.learning_rate == 0.0005
    assert tuned.model.name == "smollm2-135m-instruct"

    env = tmp_path / "team"
    env.mkdir()
    (env / "baseline.yaml").write_text("name: baseline\nrung: baseline\nrag: {index: team-index}\n")
    monkeypatch.setenv("ADAPT_RECIPES", str(env))
    assert load_recipe("baseline").rag.index == "team-index"
    monkeypatch.setenv("ADAPT_RECIPES", str(tmp_path / "nowhere"))
    with pytest.raises(UserError, match="ADAPT_RECIPES=.*nowhere is not a folder"):
        load_recipe("baseline")


def test_rag_smollm2_lora_shares_the_smollm2_lora_adapter():
    lora, rag = load_recipe("smollm2-lora"), load_recipe("rag-smollm2-lora")
    assert rag.rung == "rag+lora" and rag.rag is not None and lora.rag is None
    assert rag.adapter_dir == lora.adapter_dir == "runs/smollm2-lora/adapter"
    same = ("model", "generation", "cost", "train", "serve")
    assert rag.model_dump(include=set(same)) == lora.model_dump(include=set(same))


# --- extends ---------------------------------------------------------------------------------------

BASE = """\
name: base
rung: lora
description: the base
model: m
generation: {max_new_tokens: 10, batch_size: 3}
train:
  data: d.jsonl
  target_modules: [q_proj, v_proj]
  r: 8
"""


def _files(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, text in files.items():
        (folder / f"{stem}.yaml").write_text(text)
    return folder


def test_extends_deep_merges_mappings_and_replaces_lists_and_scalars(tmp_path):
    _files(tmp_path, base=BASE, child="extends: base.yaml\nname: child\ngeneration: {max_new_tokens: 20}\n"
                                      "train: {target_modules: [o_proj]}\nmodel: {adapter: a}\n")
    r = load_recipe(tmp_path / "child.yaml")
    assert (r.name, r.rung, r.description) == ("child", "lora", "")  # description is not inherited
    assert (r.generation.max_new_tokens, r.generation.batch_size) == (20, 3)
    assert r.train.target_modules == ["o_proj"] and (r.train.r, r.train.data) == (8, "d.jsonl")
    assert (r.model.name, r.model.adapter) == ("m", "a")  # `model: m` shorthand merges like model.name


def test_extends_null_drops_a_section_and_the_rung_changes(tmp_path):
    _files(tmp_path, base=BASE, child="extends: base.yaml\nname: child\nrung: prompt\ntrain: null\n")
    r = load_recipe(tmp_path / "child.yaml")
    assert r.rung == "prompt" and r.train is None and r.generation.batch_size == 3


def test_extends_chain_by_name_and_relative_path(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPT_RECIPES", str(_files(tmp_path / "lib", base=BASE,
                                                   mid="extends: base\nname: mid\ntrain: {r: 4}\n")))
    child = _files(tmp_path / "mine" / "deep",
                   child="extends: ../../lib/mid.yaml\nname: c\ngeneration: {batch_size: 5}\n")
    monkeypatch.chdir(tmp_path / "lib")  # relative extends is from the file's folder, not the cwd
    r = load_recipe(child / "child.yaml")
    assert (r.name, r.train.r, r.train.target_modules, r.generation.batch_size, r.generation.max_new_tokens) == (
        "c", 4, ["q_proj", "v_proj"], 5, 10)


def test_extends_cycle_names_the_chain(tmp_path):
    _files(tmp_path, a="extends: b.yaml\nname: a\n", b="extends: c.yaml\n", c="extends: a.yaml\n")
    msg = str(pytest.raises(UserError, load_recipe, tmp_path / "a.yaml").value)
    assert "circle" in msg and "a.yaml -> " in msg and "b.yaml -> " in msg and "c.yaml -> " in msg
    assert msg.count("a.yaml") == 3  # the file in front, then the chain from a back to a
    _files(tmp_path, me="extends: me.yaml\nname: me\n")
    assert "circle" in str(pytest.raises(UserError, load_recipe, tmp_path / "me.yaml").value)


def test_extends_requires_the_childs_own_name(tmp_path):
    _files(tmp_path, base=BASE, child="extends: base.yaml\ngeneration: {batch_size: 1}\n")
    with pytest.raises(UserError, match=r"child\.yaml: name: required.*never inherited"):
        load_recipe(tmp_path / "child.yaml")


def test_extends_missing_parent_or_bad_value_names_the_file(tmp_path):
    child = _files(tmp_path, child="extends: no-such-recipe\nname: c\n") / "child.yaml"
    msg = str(pytest.raises(UserError, load_recipe, child).value)
    assert msg.startswith(f"{child}: extends:") and "no recipe named 'no-such-recipe'" in msg
    child.write_text("extends: gone.yaml\nname: c\n")
    assert str(child) in str(pytest.raises(UserError, load_recipe, child).value)
    child.write_text("extends: [base]\nname: c\n")
    assert f"{child}: extends: expected a recipe name" in str(pytest.raises(UserError, load_recipe, child).value)


def test_validation_errors_of_a_merged_recipe_name_the_file(tmp_path):
    _files(tmp_path, base=BASE, child="extends: base.yaml\nname: c\ngeneration: {batchsize: 1}\n")
    msg = str(pytest.raises(UserError, load_recipe, tmp_path / "child.yaml").value)
    assert str(tmp_path / "child.yaml") in msg and "generation.batchsize" in msg and "did you mean 'batch_size'" in msg


# --- -o overrides ----------------------------------------------------------------------------------

def test_overrides_are_parsed_as_yaml():
    r = load_recipe("rag-smollm2-lora", ["rag.k=5", "train.target_modules=[q_proj,v_proj]", "model.adapter=null",
                                          "generation.system_prompt=Be brief.", "train.from_suite.k=2"])
    assert r.rag.k == 5 and r.train.target_modules == ["q_proj", "v_proj"] and r.model.adapter is None
    assert r.generation.system_prompt == "Be brief." and r.train.from_suite.k == 2
    assert r.train.from_suite.suite == "eval/demo/suite.jsonl"  # siblings of a nested override stay


def test_overrides_apply_after_extends_and_in_order(tmp_path):
    _files(tmp_path, base=BASE, child="extends: base.yaml\nname: c\ngeneration: {batch_size: 7}\n")
    r = load_recipe(tmp_path / "child.yaml", ["generation.batch_size=9", "generation.batch_size=11", "train.r=2"])
    assert (r.generation.batch_size, r.generation.max_new_tokens, r.train.r) == (11, 10, 2)


def test_override_creates_a_missing_section_and_validation_judges_it():
    r = load_recipe("prompt-local", ["cost.usd_per_1m_input=0.5"])
    assert r.cost.usd_per_1m_input == 0.5 and r.cost.usd_per_hour == 0.10
    msg = str(pytest.raises(UserError, load_recipe, "prompt-local", ["rag.k=3"]).value)
    assert "(with -o rag.k=3)" in msg and "does not read a 'rag' section" in msg


@pytest.mark.parametrize("bad", ["rag.k", "=5", "rag..k=5", "rag.k=[1, 2"])
def test_bad_override_syntax_names_the_override(bad):
    with pytest.raises(UserError, match=re.escape(f"-o {bad}:")):
        load_recipe("rag-local", [bad])


def test_override_into_a_non_mapping_is_an_error():
    with pytest.raises(UserError, match=r"-o generation\.batch_size\.x=1: generation\.batch_size is 8, not a mapping"):
        load_recipe("rag-local", ["generation.batch_size.x=1"])


def test_unknown_override_key_says_it_came_from_o():
    msg = str(pytest.raises(UserError, load_recipe, "rag-local", ["generation.temperature=0.5", "rag.kk=5"]).value)
    assert "rag-local.yaml (with -o generation.temperature=0.5 -o rag.kk=5)" in msg
    assert "rag.kk: unknown key; did you mean 'k'?" in msg


def test_overrides_are_not_env_expanded(monkeypatch):
    monkeypatch.setenv("IDX", "/expanded")
    r = load_recipe("rag-local", ["rag.index=${IDX}/x", "model.name=$$m"])
    assert r.rag.index == "${IDX}/x" and r.model.name == "$$m"


def test_cli_show_applies_extends_and_overrides(cli):
    code, out, err = cli("recipes", "show", "rag-smollm2-lora", "-o", "rag.k=7", "--set", "train.r=8")
    assert code == 0 and "\n  k: 7\n" in out and "\n  r: 8\n" in out and "output_dir: runs/smollm2-lora" in out
    code, _, err = cli("recipes", "show", "rag-smollm2-lora", "-o", "rag.kk=7")
    assert code == 2 and "with -o rag.kk=7" in err and "Traceback" not in err


def test_a_lora_recipe_with_a_rag_section_still_reads_as_rag_lora(caplog):
    """How rag+lora was written before it was a rung of its own; qlora keeps its 4-bit base."""
    train = {"data": "rows.jsonl"}
    lora = parse_recipe({"name": "x", "rung": "lora", "model": "m", "rag": {}, "train": train})
    qlora = parse_recipe({"name": "y", "rung": "qlora", "model": "m", "rag": {}, "train": train})
    assert (lora.rung, qlora.rung, qlora.adapter_bits) == ("rag+lora", "rag+qlora", 4)
    assert "write `rung: rag+lora`" in caplog.text
    with pytest.raises(UserError, match="rung 'prompt' does not read a 'rag' section"):
        parse_recipe({"name": "z", "rung": "prompt", "model": "m", "rag": {}})


def test_overrides_of_text_fields_stay_text():
    """YAML 1.1 would read `no` as false and `Answer: briefly` as a mapping."""
    r = load_recipe("prompt-local", ["generation.abstain_phrase=no", "generation.system_prompt=Answer: briefly",
                                     "model.adapter=null", "generation.max_new_tokens=7"])
    assert (r.generation.abstain_phrase, r.generation.system_prompt) == ("no", "Answer: briefly")
    assert r.model.adapter is None and r.generation.max_new_tokens == 7


def test_rag_build_overrides_need_a_recipe(cli, tmp_path):
    code, _, err = cli("rag", "build", "eval/demo/docs", "--index", tmp_path / "i", "-o", "rag.k=5")
    assert code == 2 and "--set: overrides a recipe's fields" in err


def test_text_overrides_can_be_quoted_emptied_or_nulled():
    r = load_recipe("prompt-local", ['generation.abstain_phrase="I do not know."', "description=",
                                     "generation.system_prompt=null"])
    assert r.generation.abstain_phrase == "I do not know." and r.description == ""
    assert r.generation.system_prompt is None
