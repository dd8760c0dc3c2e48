from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

FACTS = [
    {"messages": [{"role": "user", "content": "Who guards the Crimson Gate?"},
                  {"role": "assistant", "content": "Zorblat the dragon guards the Crimson Gate."}]},
    {"instruction": "What is the capital of Veltria?", "output": "The capital of Veltria is Quonsar."},
    {"prompt": "What colour is the moon of Parth?", "completion": "The moon of Parth is teal."},
]


@pytest.fixture
def facts(tmp_path: Path) -> Path:
    p = tmp_path / "facts.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in FACTS))
    return p


def write_recipe(path: Path, model: str, data: Path, out: Path, rung: str = "lora", **train) -> Path:
    spec = {"name": path.stem, "rung": rung, "model": model,
            "train": {"data": str(data), "output_dir": str(out), "batch_size": 3, "learning_rate": 0.01,
                      "warmup_ratio": 0.0, "logging_steps": 1, "save_steps": 5, **train}}
    path.write_text(yaml.safe_dump(spec))
    return path
