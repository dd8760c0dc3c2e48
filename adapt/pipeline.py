"""From a recipe to answers: the one path that `ask`, `eval` and `serve` share.

A rung's components decide the steps: retrieve passages (rag rungs), build the prompt (the recipe's
system prompt, passages numbered for citing), generate (the model, with its adapter on tuned rungs).
A rung that answers another way (the baseline reads sentences out of the index) brings its own answerer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapt import rungs
from adapt.rungs import Answer
from adapt.backends import Generation, Generator, Messages, chat, make_generator
from adapt.errors import UserError
from adapt.prompts import grounded_messages, system_prompt
from adapt.rag.guard import GATED, UNSUPPORTED, Guard
from adapt.recipe import RagSpec, Recipe

if TYPE_CHECKING:
    from adapt.rag.filters import Filter
    from adapt.rag.index import Hit


@dataclass
class Prepared:
    """A conversation ready for the generator, with the passages it was grounded in."""

    messages: Messages
    sources: list[Hit] = field(default_factory=list)
    retrieval_s: float = 0.0
    question: str = ""   # the last user turn as it was asked, before the passages went in
    gated: bool = False  # the guard's retrieval gate stopped it: answer with the abstain phrase, no model


def open_retriever(rag: RagSpec, index_dir: str | None = None) -> Any:
    from adapt.rag.index import Index, Reranker

    index = Index.load(index_dir or rag.index, expect_embedder=rag.embedder)
    return Reranker(index, rag.rerank) if rag.rerank else index


class Pipeline:
    def __init__(self, recipe: Recipe, index_dir: str | None = None, generator: Generator | None = None) -> None:
        self.recipe = recipe
        self.rung = rungs.get(recipe.rung)
        self.retriever: Any = None
        self.filters: tuple[Filter, ...] = ()
        self.guard: Guard | None = None
        self.generator: Generator | None = None
        self.custom: Any = None
        if self.rung.answerer is not None:
            self.custom = self.rung.answerer(recipe, index_dir)
            return
        if self.rung.retrieves:
            self.retriever = open_retriever(recipe.rag, index_dir)
            self.filters = recipe.rag.filters()
            getattr(self.retriever, "index", self.retriever).require(self.filters, "rag.filter")
            if recipe.rag.guard is not None:
                self.guard = Guard(recipe.rag.guard, recipe.generation.abstain_phrase)
        if self.rung.generates:
            spec = recipe.model
            if recipe.adapter_dir and spec.adapter != recipe.adapter_dir:
                spec = spec.model_copy(update={"adapter": recipe.adapter_dir})
            self.generator = generator or make_generator(spec, recipe.generation.batch_size)

    def retrieve(self, question: str) -> tuple[list[Hit], float]:
        t0 = time.perf_counter()
        rag = self.recipe.rag
        hits = self.retriever.search(question, k=rag.k, mode=rag.mode, filters=self.filters)
        return hits, time.perf_counter() - t0

    def prepare(self, conversation: Messages) -> Prepared:
        """The conversation as the model gets it. Earlier turns stay; a rag rung grounds the last user
        turn in passages retrieved for it; a conversation without a system prompt gets the recipe's."""
        g = self.recipe.generation
        has_system = any(m["role"] == "system" for m in conversation)
        if self.retriever is None:
            system = [] if has_system else chat("", system_prompt(g.abstain_phrase, g.system_prompt))[:1]
            return Prepared(system + list(conversation))
        last = max((i for i, m in enumerate(conversation) if m["role"] == "user"), default=None)
        if last is None:
            raise UserError("a rag recipe answers a user message, and the conversation has none")
        question = conversation[last]["content"]
        hits, seconds = self.retrieve(question)
        system, grounded = grounded_messages(question, hits, g.abstain_phrase, g.system_prompt)
        msgs = list(conversation[:last]) + [grounded] + list(conversation[last + 1:])
        gated = self.guard is not None and self.guard.gates(hits)
        return Prepared(msgs if has_system else [system] + msgs, hits, seconds, question, gated)

    def guarded(self, prepared: Prepared, gen: Generation) -> Answer:
        """The answer to a prepared question: the generation, unless the guard stops it (see adapt.rag.guard)."""
        answer = Answer(gen.text, gen, prepared.sources, prepared.retrieval_s)
        if self.guard is None:
            return answer
        answer.guard, answer.guard_reason = self.guard.verdict(prepared.question, gen.text, prepared.sources)
        if answer.guard == UNSUPPORTED:
            answer.raw_text, answer.text = gen.text, self.recipe.generation.abstain_phrase
        return answer

    def gated(self, prepared: Prepared) -> Answer:
        """The abstain phrase, for a question the retrieval gate stopped: no model call, no tokens."""
        phrase = self.recipe.generation.abstain_phrase
        return Answer(phrase, Generation(phrase, 0, 0, 0.0, 0.0), prepared.sources, prepared.retrieval_s, guard=GATED,
                      guard_reason=self.guard.gate_reason(prepared.sources))

    def answer(self, questions: list[str], max_new_tokens: int | None = None) -> list[Answer]:
        """Answers for a batch of questions (one generate call for a local model)."""
        if self.custom is not None:
            t0 = time.perf_counter()
            answers = self.custom.answer(questions, max_new_tokens)
            if len(answers) != len(questions):  # zip() downstream would silently drop items
                raise RuntimeError(f"rung '{self.rung.name}' gave {len(answers)} answers to {len(questions)} questions")
            each = (time.perf_counter() - t0) / max(len(answers), 1)
            for a in answers:  # a rung's own answerer may leave out the generation: ask and eval read it
                a.generation = a.generation or Generation(a.text, 0, 0, each, each)
            return answers
        prepared = [self.prepare(chat(q, None)) for q in questions]
        todo = [p for p in prepared if not p.gated]
        g = self.recipe.generation
        gens = self.generator.generate([p.messages for p in todo], max_new_tokens or g.max_new_tokens,
                                       g.temperature) if todo else []
        if len(gens) != len(todo):
            raise RuntimeError(f"the generator gave {len(gens)} answers to {len(todo)} prompts")
        made = iter(gens)
        return [self.gated(p) if p.gated else self.guarded(p, next(made)) for p in prepared]
