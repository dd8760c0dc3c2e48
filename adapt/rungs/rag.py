"""rag: retrieved passages in the prompt, answers cite them."""

from adapt.rungs import Model, Retrieval, Rung, register

register(Rung("rag", 2, "the model answers from passages retrieved from your documents, citing them",
              (Retrieval(), Model()), default_recipe="rag-local"))
