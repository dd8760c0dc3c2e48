"""`adapt export RUN --merge OUT`: fold the adapter into the base weights for engines without LoRA."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from adapt.artifacts import versions, write_json
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
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    AutoTokenizer.from_pretrained(str(run / "adapter")).save_pretrained(tmp)
    write_json(tmp / "adapt_export.json", {"run": str(run.resolve()), "base_model": base,
                                           "recipe": info["recipe"], "versions": versions()})
    out.parent.mkdir(parents=True, exist_ok=True)
    os.rename(tmp, out)
    return out
