"""The rung below every LLM: answer with the best BM25 sentence of the documents."""

from __future__ import annotations

import re

from adapt.rag.bm25 import tokenize
from adapt.rag.chunking import Chunk
from adapt.rag.index import Hit

_SENT = re.compile(r"(?<=[.!?])\s+|\n+")


class SentenceBaseline:
    def __init__(self, chunks: list[Chunk]) -> None:
        import bm25s

        self.sentences: list[tuple[str, Chunk]] = []
        for c in chunks:
            for s in _SENT.split(c.text):
                if len(s.split()) >= 3:
                    self.sentences.append((s.strip(), c))
        self.bm25 = bm25s.BM25()
        self.bm25.index(tokenize([s for s, _ in self.sentences]), show_progress=False)

    def answer(self, question: str) -> tuple[str, Hit | None]:
        """The best sentence and the chunk it came from; ("", None) when nothing matches."""
        tokens = tokenize([question])
        if not tokens[0] or not self.sentences:
            return "", None
        ids, scores = self.bm25.retrieve(tokens, k=1, show_progress=False)
        if scores[0][0] <= 0:
            return "", None
        text, chunk = self.sentences[int(ids[0][0])]
        return text, Hit.of(chunk, float(scores[0][0]), 1)
