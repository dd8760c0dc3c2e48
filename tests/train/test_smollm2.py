"""The real embedded SmolLM2: a few dozen LoRA steps teach it three made-up facts."""

import pytest

from adapt.backends import chat
from adapt.backends.local import LocalGenerator
from adapt.models import load_causal_lm
from adapt.recipe import load_recipe
from adapt.train.finetune import finetune

from .conftest import write_recipe

pytestmark = pytest.mark.slow


def test_lora_teaches_three_made_up_facts(facts, tmp_path):
    rp = write_recipe(tmp_path / "f.yaml", "smollm2-135m-instruct", facts, tmp_path / "run",
                      max_steps=30, learning_rate=0.002, r=16)
    m = finetune(load_recipe(rp), progress=False)
    assert m["final_loss"] < 0.3 * m["first_loss"]
    gen = LocalGenerator(*load_causal_lm("smollm2-135m-instruct", adapter=str(tmp_path / "run" / "adapter")))
    qs = ["Who guards the Crimson Gate?", "What is the capital of Veltria?", "What colour is the moon of Parth?"]
    answers = [g.text.lower() for g in gen.generate([chat(q, None) for q in qs], max_new_tokens=16)]
    assert "zorblat" in answers[0] and "quonsar" in answers[1] and "teal" in answers[2], answers
