"""docs/recipes.md is generated from the recipe models; these keep the two in step."""

import importlib.util
import subprocess
import sys
from typing import Any, get_args

from pydantic import BaseModel

from adapt.recipe import Recipe

from .conftest import ROOT

SCRIPT = ROOT / "scripts" / "gen_recipe_docs.py"


def _render() -> str:
    spec = importlib.util.spec_from_file_location("gen_recipe_docs", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.render()


def _models(ann: Any) -> list[type[BaseModel]]:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann, *(m for f in ann.model_fields.values() for m in _models(f.annotation))]
    return [m for a in get_args(ann) for m in _models(a)]


def test_docs_match_the_models():
    docs = ROOT / "docs" / "recipes.md"
    assert docs.is_file() and docs.read_text(encoding="utf-8") == _render(), \
        "docs/recipes.md is out of date: run `python scripts/gen_recipe_docs.py`"


def test_every_recipe_field_has_a_description():
    models = _models(Recipe)
    assert {m.__name__ for m in models} >= {"Recipe", "ModelSpec", "RagSpec", "TrainSpec", "SuiteSource", "ServeSpec"}
    missing = [f"{m.__name__}.{name}" for m in models for name, f in m.model_fields.items()
               if not (f.description or "").strip()]
    assert not missing, f"fields without a description: {', '.join(missing)}"


def test_docs_list_every_field_and_rung():
    text = _render()
    for m in _models(Recipe):
        for name in m.model_fields:
            assert f"| `{name}` |" in text
    for rung in ("baseline", "prompt", "rag", "rag+guard", "lora", "qlora", "rag+lora", "rag+qlora"):
        assert f"| `{rung}` |" in text


def test_generator_does_not_import_torch():
    code = (f"import runpy, sys; runpy.run_path({str(SCRIPT)!r})['render'](); "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
