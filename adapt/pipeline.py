"""From a recipe to answers: the one path that `ask`, `eval` and `serve` share.

baseline: the best BM25 sentence of the documents (no LLM). prompt: the question alone.
rag / rag+lora: retrieved passages, numbered, and an instruction to cite them or abstain.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from adapt.generation import Generation, Messages, chat, make_generator
from adapt.recipe import Recipe

PROMPT_SYSTEM = ("You are a concise assistant. Answer the question in a few words. "
                 "If you do not know the answer, reply exactly: {abstain}")
RAG_SYSTEM = ("Answer the question using only the numbered passages. Answer in a few words and cite the "
              "passages you used like [1]. If the passages do not contain the answer, reply exactly: {abstain}")


@dataclass
class Answer:
    text: str
    generation: Generation | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)
    retrieval_s: float = 0.0


def grounded_messages(question: str, passages: list[dict[str, Any]], abstain: str,
                      system_prompt: str | None = None) -> Messages:
    """Numbered passages then the question; the system prompt says to cite or abstain."""
    blocks = []
    for i, p in enumerate(passages, 1):
        head = f" ({p['heading']})" if p.get("heading") else ""
        blocks.append(f"[{i}] {p['source']}{head}\n{p['text']}")
    user = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    return chat(user, (system_prompt or RAG_SYSTEM).format(abstain=abstain))


class Pipeline:
    def __init__(self, recipe: Recipe, index_dir: str | None = None, generator: Any = None) -> None:
        self.recipe = recipe
        self.retriever = None
        self.baseline = None
        if recipe.rag is not None:
            from adapt.rag.index import Index

            index = Index.load(index_dir or recipe.rag.index, expect_embedder=recipe.rag.embedder,
                               need_embedder=recipe.rung != "baseline")
            if recipe.rung == "baseline":
                from adapt.rag.baseline import SentenceBaseline

                self.baseline = SentenceBaseline(index.chunks)
            else:
                self.retriever = index
                if recipe.rag.rerank:
                    from adapt.rag.index import Reranker

                    self.retriever = Reranker(index, recipe.rag.rerank)
        self.generator = None
        if recipe.rung != "baseline":
            spec = recipe.model
            if recipe.rung in ("lora", "qlora") and spec.backend != "openai" and not spec.adapter:
                spec = spec.model_copy(update={"adapter": str(recipe.run_dir / "adapter")})
            self.generator = generator or make_generator(spec, recipe.generation.batch_size)

    def messages(self, question: str, passages: list[dict[str, Any]] | None) -> Messages:
        g = self.recipe.generation
        if passages is None:
            return chat(question, (g.system_prompt or PROMPT_SYSTEM).format(abstain=g.abstain_phrase))
        return grounded_messages(question, passages, g.abstain_phrase, g.system_prompt)

    def retrieve(self, question: str) -> tuple[list[dict[str, Any]] | None, float]:
        if self.retriever is None:
            return None, 0.0
        t0 = time.perf_counter()
        hits = self.retriever.search(question, k=self.recipe.rag.k, mode=self.recipe.rag.mode)
        return hits, time.perf_counter() - t0

    def answer(self, questions: list[str], max_new_tokens: int | None = None) -> list[Answer]:
        """Answers for a batch of questions (one generate call for a local model)."""
        if self.baseline is not None:
            out = []
            for q in questions:
                t0 = time.perf_counter()
                text, src = self.baseline.answer(q)
                dt = time.perf_counter() - t0
                out.append(Answer(text, Generation(text, 0, 0, dt, dt), [src] if src else [], dt))
            return out
        retrieved = [self.retrieve(q) for q in questions]
        msgs = [self.messages(q, hits) for q, (hits, _) in zip(questions, retrieved)]
        g = self.recipe.generation
        gens = self.generator.generate(msgs, max_new_tokens or g.max_new_tokens, g.temperature)
        return [Answer(gen.text, gen, hits or [], rt) for gen, (hits, rt) in zip(gens, retrieved)]
