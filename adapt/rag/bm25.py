"""The one BM25 tokenizer: the index and the sentence baseline must split text the same way, or a
query's tokens would miss the tokens they were indexed under."""

from __future__ import annotations


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lowercased word tokens with English stopwords dropped, one list per text."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False)
