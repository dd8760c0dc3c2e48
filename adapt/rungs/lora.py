"""lora / qlora: a LoRA adapter trained on your data (qlora: on a 4-bit base model)."""

from adapt.rungs import Adapter, Model, Rung, register

register(Rung("lora", 3, "a LoRA adapter fine-tuned on your data", (Model(), Adapter()),
              default_recipe="smollm2-lora"))
# not in the default ladder: 4-bit training pays on a CUDA GPU, and the default ladder runs anywhere
register(Rung("qlora", 3, "a LoRA adapter fine-tuned on a 4-bit base model (CUDA)", (Model(), Adapter(bits=4)),
              default_recipe="smollm2-qlora", in_default_ladder=False))
