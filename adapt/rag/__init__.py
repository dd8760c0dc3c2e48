"""Retrieval-augmented generation: load, chunk, embed, index (FAISS + BM25), retrieve.

The defaults live here, once: recipes, `adapt rag build` and the library read them.
"""

from adapt.models import DEFAULT_EMBEDDER

DEFAULT_INDEX = ".adapt/index"
CHUNK_SIZE = 200    # embedder tokens per chunk
CHUNK_OVERLAP = 32  # tokens neighbouring chunks of one section share
TOP_K = 4           # passages retrieved for a question
MODE = "hybrid"     # dense and BM25 rankings fused

__all__ = ["DEFAULT_EMBEDDER", "DEFAULT_INDEX", "CHUNK_SIZE", "CHUNK_OVERLAP", "TOP_K", "MODE"]
