"""The rung below every LLM: answer with the best BM25 sentence of the documents."""

from __future__ import annotations

import re
from typing import Any

_SENT = re.compile(r"(?<=[.!?])\s+|\n+")


class SentenceBaseline:
    def __init__(self, chunks: list[dict[str, Any]]) -> None:
        import bm25s

        self.sentences: list[tuple[str, dict[str, Any]]] = []
        for c in chunks:
            for s in _SENT.split(c["text"]):
                if len(s.split()) >= 3:
                    self.sentences.append((s.strip(), c))
        self.bm25 = bm25s.BM25()
        self.bm25.index(self._tokens([s for s, _ in self.sentences]), show_progress=False)

    @staticmethod
    def _tokens(texts: list[str]) -> list[list[str]]:
        import bm25s

        return bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False)

    def answer(self, question: str) -> tuple[str, dict[str, Any] | None]:
        tokens = self._tokens([question])
        if not tokens[0] or not self.sentences:
            return "", None
        ids, scores = self.bm25.retrieve(tokens, k=1, show_progress=False)
        if scores[0][0] <= 0:
            return "", None
        text, chunk = self.sentences[int(ids[0][0])]
        return text, {**chunk, "score": float(scores[0][0]), "rank": 1}
