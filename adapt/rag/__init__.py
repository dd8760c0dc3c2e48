"""Retrieval-augmented generation: load, chunk, embed, index (FAISS + BM25), retrieve."""
