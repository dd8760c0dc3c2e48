"""baseline: no LLM. The best BM25 sentence of the documents, the bar every model must clear."""

from __future__ import annotations

import time
from typing import Any

from adapt.rungs import Answer, IndexText, Rung, register


class SentenceAnswerer:
    def __init__(self, recipe: Any, index_dir: str | None) -> None:
        from adapt.rag.baseline import SentenceBaseline
        from adapt.rag.index import Index

        index = Index.load(index_dir or recipe.rag.index, expect_embedder=recipe.rag.embedder, need_embedder=False)
        # the recipe's filters hold for the baseline too: it answers from the same part of the corpus
        filters = recipe.rag.filters()
        chunks = index.chunks if not filters else [c for c, ok in zip(index.chunks, index.require(
            filters, "rag.filter").mask) if ok]
        self.picker = SentenceBaseline(chunks)

    def answer(self, questions: list[str], max_new_tokens: int | None = None) -> list[Any]:
        from adapt.backends import Generation

        out = []
        for q in questions:
            t0 = time.perf_counter()
            text, src = self.picker.answer(q)
            dt = time.perf_counter() - t0
            # all of its time is retrieval: the generation took none (callers add the two)
            out.append(Answer(text, Generation(text, 0, 0, 0.0, 0.0), [src] if src is not None else [], dt))
        return out


register(Rung("baseline", 0, "answers with the document sentence that best matches the question (BM25)",
              (IndexText(),), default_recipe="baseline", answerer=SentenceAnswerer))
