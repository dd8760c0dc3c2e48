"""`adapt finetune`: LoRA / QLoRA with trl's SFTTrainer and peft. Setup, train, save.

Device-dependent defaults are resolved here and written into the run: bf16 and gradient
checkpointing pay on a GPU but are ruinous on a CPU (trl turns both on by default).
The final adapter is written to a temporary folder and renamed into place, so a killed run never
leaves a half-written adapter; checkpoints every `save_steps` make `--resume` possible.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapt.artifacts import atomic_dir, versions, write_json
from adapt.errors import UserError

if TYPE_CHECKING:  # training reads a recipe but knows nothing of the ladder built on it
    from adapt.recipe import Recipe, TrainSpec


def resolve_defaults(train: TrainSpec, dev: str) -> dict[str, Any]:
    """The device-dependent choices, made explicit."""
    import torch

    cuda = dev == "cuda"
    bf16 = train.bf16 if train.bf16 is not None else (cuda and torch.cuda.is_bf16_supported())
    gc = train.gradient_checkpointing if train.gradient_checkpointing is not None else cuda
    # chunked_nll runs the LM head on the answer tokens only (faster than full logits, less memory);
    # trl refuses it when the head itself carries an adapter.
    targets = [train.target_modules] if isinstance(train.target_modules, str) else train.target_modules
    head_adapted = "lm_head" in targets
    return {"device": dev, "bf16": bool(bf16), "gradient_checkpointing": bool(gc),
            "loss_type": "nll" if head_adapted else "chunked_nll"}


def build_examples(recipe: Recipe, suite_override: str | Path | None = None,
                   index_override: str | None = None) -> tuple[list[dict], dict[str, Any]]:
    """Training examples and a note of where they came from (split ids for knowledge mode)."""
    from adapt.train.data import knowledge_examples, load_examples

    t = recipe.train
    if t.data:
        return load_examples(t.data), {"data": t.data}
    from adapt.data.suite import load_suite, split_items
    from adapt.rag.index import Index, build_index

    src = t.from_suite
    items = load_suite(suite_override or src.suite)
    if suite_override:  # the ladder already split: all of these are for training
        train_items, held = items, []
    else:
        train_items, held = split_items(items, src.train_fraction, src.seed)
    index_dir = index_override or src.index
    if not (Path(index_dir) / "manifest.json").is_file() and src.docs:
        build_index(src.docs, index_dir)
    index = Index.load(index_dir)
    examples = knowledge_examples(train_items, index, src.k, recipe.generation.abstain_phrase)
    return examples, {"suite": str(suite_override or src.suite), "index": index_dir,
                      "train_ids": [i.id for i in train_items], "held_out_ids": [i.id for i in held]}


def _checkpoints(ckpt_dir: Path) -> list[tuple[int, Path]]:
    """(step, folder) of every checkpoint-N folder, oldest first."""
    if not ckpt_dir.is_dir():
        return []
    found = [(int(p.name.split("-", 1)[1]), p) for p in ckpt_dir.glob("checkpoint-*")
             if p.is_dir() and p.name.split("-", 1)[1].isdigit()]
    return sorted(found)


def _is_complete(ckpt: Path) -> bool:
    # The Trainer writes trainer_state.json after the weights, optimizer, scheduler and RNG state, so a
    # checkpoint without it is one a kill cut short.
    return (ckpt / "trainer_state.json").is_file()


def latest_complete_checkpoint(ckpt_dir: Path) -> Path:
    """The checkpoint `--resume` continues from: the newest complete one."""
    complete = [p for _, p in _checkpoints(ckpt_dir) if _is_complete(p)]
    if not complete:
        torn = [p.name for _, p in _checkpoints(ckpt_dir)]
        why = f" ({', '.join(torn)} cut short by a kill: no trainer_state.json)" if torn else ""
        raise UserError(f"no checkpoint to resume from in {ckpt_dir}{why}; start the run afresh", param="resume")
    return complete[-1]


def check_output(out: Path, resume: bool, overwrite: bool) -> Path | None:
    """Refuse to train over a previous run unless told how; returns the checkpoint to resume from.

    Deletes nothing: that waits until the recipe and data have been validated (see clear_previous_run).
    """
    if resume and overwrite:
        raise UserError("give --resume (continue the run) or --overwrite (start it again), not both")
    ckpt_dir = out / "checkpoints"
    if resume:
        return latest_complete_checkpoint(ckpt_dir)
    previous = [str(p) for _, p in _checkpoints(ckpt_dir)][-1:]  # the newest checkpoint is enough to name
    if (out / "adapter").exists():
        previous.append(str(out / "adapter"))
    if previous and not overwrite:
        raise UserError(f"{out} already holds a fine-tuning run ({', '.join(previous)}): pass --resume to "
                        "continue it or --overwrite to replace it, or choose another --output")
    return None


def clear_previous_run(out: Path, resume_from: Path | None) -> None:
    """Delete what adapt wrote and a new run must not inherit; never a file adapt did not create.

    A fresh run drops every checkpoint-N (another run's optimizer state; the Trainer's rotation would
    mix them with its own). A resumed run drops the checkpoints a kill cut short, which the Trainer
    would otherwise save into or rank above the good one. The adapter and run.json of an overwritten
    run stay until the new pair replaces them at the end, so a failed run leaves a consistent pair.
    """
    if int(os.environ.get("RANK", 0)) != 0:
        return  # one process deletes; the others only train
    for _, ckpt in _checkpoints(out / "checkpoints"):
        if resume_from is None or not _is_complete(ckpt):
            shutil.rmtree(ckpt, ignore_errors=True)


def finetune(recipe: Recipe, output: str | Path | None = None, max_steps: int | None = None, resume: bool = False,
             suite_override: str | Path | None = None, index_override: str | None = None, progress: bool = True,
             track: str | None = None, overwrite: bool = False) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from peft import LoraConfig, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, set_seed
    from trl import SFTConfig, SFTTrainer

    from adapt.models import device, load_tokenizer, resolve_generator
    from adapt.train.data import fingerprint

    if recipe.train is None:
        raise UserError(f"recipe '{recipe.name}' is rung '{recipe.rung}', which trains nothing: finetune takes a "
                        "recipe whose rung trains an adapter (`adapt rungs` lists them)")
    if recipe.model.backend == "openai":
        raise UserError("finetune needs a local model (name), not an endpoint")
    t = recipe.train
    out = Path(output) if output else recipe.run_dir
    ckpt_dir = out / "checkpoints"
    # Validate everything before deleting anything: a run that stops on a missing suite must not
    # have already removed checkpoints (or, with output_dir '.', the user's own files).
    resume_from = check_output(out, resume, overwrite)

    # --- setup
    dev = device()
    resolved = resolve_defaults(t, dev)
    examples, provenance = build_examples(recipe, suite_override, index_override)
    if not examples:
        raise UserError("no training examples")
    tok = load_tokenizer(recipe.model.name)
    tok.padding_side = "right"
    qlora = recipe.adapter_bits == 4
    kwargs: dict[str, Any] = {"dtype": torch.bfloat16 if resolved["bf16"] else torch.float32}
    if qlora:
        from transformers import BitsAndBytesConfig

        compute = torch.bfloat16 if resolved["bf16"] else torch.float32
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute)
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", 0))} if dev == "cuda" else {"": "cpu"}
    # Seeded before the adapter exists: SFTTrainer wraps the model with peft (random LoRA init) before
    # Trainer seeds, so without this two runs of one recipe start from different adapters.
    set_seed(t.seed)
    model = AutoModelForCausalLM.from_pretrained(resolve_generator(recipe.model.name), **kwargs)
    if qlora:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=resolved["gradient_checkpointing"])
    peft_config = LoraConfig(r=t.r, lora_alpha=t.alpha, lora_dropout=t.dropout, target_modules=t.target_modules,
                             task_type="CAUSAL_LM")
    ds = Dataset.from_list(examples)
    eval_ds = None
    if t.eval_split > 0 and len(ds) >= 4:
        parts = ds.train_test_split(test_size=t.eval_split, seed=t.seed)
        ds, eval_ds = parts["train"], parts["test"]
    if track == "mlflow":
        from adapt.tracking import mlflow_defaults

        mlflow_defaults()
        os.environ.setdefault("MLFLOW_EXPERIMENT_NAME", "adapt")
    args = SFTConfig(
        output_dir=str(ckpt_dir), per_device_train_batch_size=t.batch_size, per_device_eval_batch_size=t.batch_size,
        gradient_accumulation_steps=t.grad_accum, learning_rate=t.learning_rate, lr_scheduler_type=t.scheduler,
        warmup_steps=t.warmup_ratio, num_train_epochs=t.epochs, max_steps=max_steps or t.max_steps,
        logging_steps=t.logging_steps, save_steps=t.save_steps, save_total_limit=2, seed=t.seed, data_seed=t.seed,
        bf16=resolved["bf16"], fp16=False, activation_checkpointing=resolved["gradient_checkpointing"],
        train_sampling_strategy="group_by_length" if t.group_by_length and not t.packing else "random",
        max_length=t.max_seq_len, packing=t.packing, completion_only_loss=True, loss_type=resolved["loss_type"],
        eval_strategy="steps" if eval_ds is not None else "no", eval_steps=t.save_steps,
        report_to=["mlflow"] if track == "mlflow" else [], disable_tqdm=True, use_cpu=dev == "cpu",
        dataloader_pin_memory=dev == "cuda", include_num_input_tokens_seen="non_padding",
        fsdp="full_shard auto_wrap" if t.distributed == "fsdp" and int(os.environ.get("WORLD_SIZE", 1)) > 1 else None,
        save_only_model=False, remove_unused_columns=True,
    )
    from adapt.train.callbacks import ProgressCallback, SeedEachEpoch

    clear_previous_run(out, resume_from)  # recipe, data and model all loaded: now it is safe
    trainer = SFTTrainer(model=model, args=args, train_dataset=ds, eval_dataset=eval_ds, processing_class=tok,
                         peft_config=peft_config, callbacks=[ProgressCallback(enabled=progress), SeedEachEpoch()])
    if progress:
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # our bar shows the loss; no raw log dicts

    # --- train
    t0 = time.perf_counter()
    # an explicit path: the Trainer's own pick (the highest checkpoint-N) may be one a kill cut short
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    seconds = time.perf_counter() - t0
    state = trainer.state
    losses = [x["loss"] for x in state.log_history if "loss" in x]
    metrics = {
        "train_seconds": round(seconds, 2), "steps": state.global_step, "examples": len(ds),
        "train_loss": round(result.training_loss, 5), "first_loss": losses[0] if losses else None,
        "final_loss": losses[-1] if losses else None,
        "tokens_seen": int(state.num_input_tokens_seen),
        "tokens_per_s": round(state.num_input_tokens_seen / seconds, 2) if seconds else None,
        "peak_memory_mb": _peak_mb(dev),
        "eval": [x for x in state.log_history if "eval_loss" in x],
    }

    # --- save (rank 0): adapter renamed into place, then the run record
    if trainer.is_world_process_zero():
        with atomic_dir(out / "adapter", replace=True) as tmp:
            trainer.model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
        write_json(out / "run.json", {
            "recipe": recipe.model_dump(), "resolved": {**resolved, "max_steps": max_steps or t.max_steps,
                                                        "base_model": resolve_generator(recipe.model.name),
                                                        "world_size": trainer.args.world_size},
            "data": {**provenance, "fingerprint": fingerprint(examples), "examples": len(examples)},
            "metrics": metrics, "versions": versions(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        })
    return metrics


def _peak_mb(dev: str) -> float:
    import torch

    if dev == "cuda":
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux reports KiB


def data_report(recipe: Recipe) -> dict[str, Any] | None:
    """`adapt data check` on a recipe's own training file before any GPU time is spent; None in
    knowledge mode (examples built from a suite)."""
    if not (recipe.train and recipe.train.data):
        return None
    from adapt.models import load_tokenizer
    from adapt.train.check import check_data

    return check_data(recipe.train.data, load_tokenizer(recipe.model.name), recipe.train.max_seq_len)


def is_main_process() -> bool:
    return int(os.environ.get("RANK", 0)) == 0


def launch(args: list[str], num_processes: int) -> int:
    """Run `adapt finetune ARGS` in `num_processes` data-parallel processes on this machine (DDP or FSDP).
    Past one machine, call `accelerate launch --num_machines ... -m adapt finetune RECIPE` directly."""
    import subprocess

    import torch

    if torch.cuda.is_available():
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(num_processes),
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--multi_gpu",
               "-m", "adapt", "finetune", *args]
        return subprocess.call(cmd)
    # accelerate's --cpu launch starts a single process unless MPI is set up; torchrun starts them all
    # (gloo), and ACCELERATE_USE_CPU keeps the Trainer off any GPU. --standalone picks a free port.
    # torchrun would give every process one thread: share the cores out instead, as accelerate does.
    threads = str(max(1, len(os.sched_getaffinity(0)) // num_processes))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(num_processes),
           "-m", "adapt", "finetune", *args]
    env = {"OMP_NUM_THREADS": threads, **os.environ, "ACCELERATE_USE_CPU": "true"}
    return subprocess.call(cmd, env=env)
