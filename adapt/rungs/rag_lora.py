"""rag+lora / rag+qlora: retrieval on top of a fine-tuned model (knowledge mode trains it to use passages)."""

from adapt.rungs import Adapter, Model, Retrieval, Rung, register

register(Rung("rag+lora", 4, "a fine-tuned model answers from retrieved passages",
              (Retrieval(), Model(), Adapter()), default_recipe="rag-smollm2-lora"))
register(Rung("rag+qlora", 4, "a QLoRA-tuned model answers from retrieved passages",
              (Retrieval(), Model(), Adapter(bits=4))))
