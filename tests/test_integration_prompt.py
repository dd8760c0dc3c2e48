"""The real embedded SmolLM2 end to end (converted once into the user cache)."""

import json

import pytest

pytestmark = pytest.mark.slow


def test_ask_prompt_local_answers_paris(cli):
    code, out, err = cli("ask", "prompt-local", "What is the capital of France?", "--json")
    assert code == 0, err
    res = json.loads(out.strip().splitlines()[-1])
    assert "paris" in res["answer"].lower()
    assert res["output_tokens"] > 0 and res["input_tokens"] > 10 and res["latency_ms"] > 0
