"""Fine-tuning: LoRA / QLoRA with trl + peft, data loading and checks, export."""
