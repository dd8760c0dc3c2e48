"""Pipeline.prepare and answer(): what the model is sent, for a conversation and for a batch of questions."""

from __future__ import annotations

import pytest

from adapt.errors import UserError
from adapt.pipeline import Pipeline
from adapt.recipe import DEFAULT_ABSTAIN, parse_recipe
from tests.fakes import FakeGenerator
from tests.tiny_corpus import field, tiny_index  # noqa: F401 - tiny_index is a fixture

CONVO = [{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "Hello"},
         {"role": "assistant", "content": "Ahoy"}, {"role": "user", "content": "How many vacation days do I get?"}]


class Recording(FakeGenerator):
    def __init__(self) -> None:
        super().__init__("27 days")
        self.calls: list[tuple[int, float]] = []

    def generate(self, batch, max_new_tokens, temperature=0.0, cancelled=None):
        self.calls.append((max_new_tokens, temperature))
        return super().generate(batch, max_new_tokens, temperature, cancelled)


def pipe(rung: str, index=None, **generation) -> Pipeline:
    raw = {"name": f"t-{rung}", "rung": rung, "model": "fake-model", "generation": generation}
    if index is not None:
        raw["rag"] = {"index": str(index), "k": 1}
    return Pipeline(parse_recipe(raw), generator=Recording())


def test_rag_keeps_earlier_turns_and_the_clients_system_prompt_and_grounds_the_last_user_turn(tiny_index):
    p = pipe("rag", tiny_index).prepare(CONVO)
    assert p.messages[:3] == CONVO[:3] and len(p.messages) == 4  # no second system prompt
    last = p.messages[3]
    assert last["role"] == "user" and last["content"].endswith("Question: How many vacation days do I get?")
    assert "[1] leave.md" in last["content"] and "27 days of paid vacation" in last["content"]
    assert [field(h, "source") for h in p.sources] == ["leave.md"] and p.retrieval_s > 0


def test_rag_adds_its_own_system_prompt_when_the_client_sends_none(tiny_index):
    p = pipe("rag", tiny_index).prepare(CONVO[1:])
    assert p.messages[0]["role"] == "system" and "cite" in p.messages[0]["content"]
    assert DEFAULT_ABSTAIN in p.messages[0]["content"] and p.messages[1:3] == CONVO[1:3]
    custom = pipe("rag", tiny_index, system_prompt="Talk like a pirate; else say {abstain}",
                  abstain_phrase="Arr, no idea.").prepare(CONVO[1:])
    assert custom.messages[0] == {"role": "system", "content": "Talk like a pirate; else say Arr, no idea."}


def test_rag_refuses_a_conversation_without_a_user_message(tiny_index):
    p = pipe("rag", tiny_index)
    for convo in ([CONVO[0]], [CONVO[0], CONVO[2]]):
        with pytest.raises(UserError, match="has none"):
            p.prepare(convo)


def test_a_model_alone_keeps_the_conversation_as_sent():
    p = pipe("prompt")
    assert p.prepare(CONVO).messages == CONVO and p.prepare(CONVO).sources == []
    sent = p.prepare(CONVO[1:]).messages
    assert sent[1:] == CONVO[1:] and sent[0]["role"] == "system" and DEFAULT_ABSTAIN in sent[0]["content"]
    assert "cite" not in sent[0]["content"]


def test_answer_passes_max_new_tokens_and_temperature(tiny_index):
    for p in (pipe("prompt", max_new_tokens=12, temperature=0.7),
              pipe("rag", tiny_index, max_new_tokens=12, temperature=0.7)):
        answers = p.answer(["How many vacation days?", "When is payday?"])
        p.answer(["How many vacation days?"], max_new_tokens=3)
        assert p.generator.calls == [(12, 0.7), (3, 0.7)]  # one generate call per batch
        assert [a.text for a in answers] == ["27 days", "27 days"] and len(p.generator.prompts) == 3
        assert all(a.generation.output_tokens == 2 for a in answers)
        assert bool(answers[0].sources) == (p.retriever is not None)
