"""Retrieval-augmented generation: load, chunk, embed, index (FAISS + BM25), retrieve.

The defaults live here, once: recipes, `adapt rag build` and the library read them.
"""

from adapt.models import DEFAULT_EMBEDDER

DEFAULT_INDEX = ".adapt/index"
CHUNK_SIZE = 200    # embedder tokens per chunk
CHUNK_OVERLAP = 32  # tokens neighbouring chunks of one section share
TOP_K = 4           # passages retrieved for a question
MODE = "hybrid"     # dense and BM25 rankings fused
SUPPORT_THRESHOLD = 0.75  # share of an answer's own content words its passages must hold (rag.support)

__all__ = ["DEFAULT_EMBEDDER", "DEFAULT_INDEX", "CHUNK_SIZE", "CHUNK_OVERLAP", "TOP_K", "MODE", "SUPPORT_THRESHOLD"]
