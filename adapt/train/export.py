"""`adapt export RUN --merge OUT`: fold the adapter into the base weights for engines without LoRA."""

from __future__ import annotations

import json
from pathlib import Path

from adapt.artifacts import atomic_dir, versions, write_json
from adapt.errors import UserError


def merge(run: str | Path, out: str | Path) -> Path:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run, out = Path(run), Path(out)
    info_path = run / "run.json"
    if not info_path.is_file() or not (run / "adapter" / "adapter_config.json").is_file():
        raise UserError(f"{run} is not a finished fine-tuning run (no run.json and adapter/)")
    info = json.loads(info_path.read_text())
    base = info["resolved"]["base_model"]
    if out.exists():
        raise UserError(f"{out} already exists: choose a new folder")
    model = AutoModelForCausalLM.from_pretrained(base)  # full precision: merging into 4-bit weights loses the adapter
    model = PeftModel.from_pretrained(model, str(run / "adapter")).merge_and_unload()
    with atomic_dir(out) as tmp:  # a killed export leaves no folder that looks like a model
        model.save_pretrained(tmp, safe_serialization=True)
        AutoTokenizer.from_pretrained(str(run / "adapter")).save_pretrained(tmp)
        write_json(tmp / "adapt_export.json", {"run": str(run.resolve()), "base_model": base,
                                               "recipe": info["recipe"], "versions": versions()})
    return out
