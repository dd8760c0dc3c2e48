"""Serving: vLLM's OpenAI-compatible server on GPU, a FastAPI fallback everywhere else."""
