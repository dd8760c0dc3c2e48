"""adapt: prompt, RAG or fine-tune an open-weight model, measured by one evaluation harness."""

__version__ = "0.1.0"
