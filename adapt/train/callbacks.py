"""Trainer callbacks: a rich progress bar (step, loss, non-padding tokens/s, ETA) and per-epoch seeding."""

from __future__ import annotations

import time
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from transformers import TrainerCallback


class ProgressCallback(TrainerCallback):
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar: Progress | None = None
        self.loss: float | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if not (self.enabled and state.is_world_process_zero):
            return
        self.t0, self.tokens0 = time.perf_counter(), state.num_input_tokens_seen
        self.bar = Progress(TextColumn("train"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("loss {task.fields[loss]}  {task.fields[tps]} tok/s"), TimeRemainingColumn())
        self.bar.start()
        self.task = self.bar.add_task("train", total=state.max_steps, completed=state.global_step, loss="-", tps="-")

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kw: Any) -> None:
        if logs and "loss" in logs:
            self.loss = logs["loss"]

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if self.bar is None:
            return
        dt = time.perf_counter() - self.t0
        tps = (state.num_input_tokens_seen - self.tokens0) / dt if dt > 0 else 0
        self.bar.update(self.task, completed=state.global_step, tps=f"{tps:.0f}",
                        loss="-" if self.loss is None else f"{self.loss:.4f}")

    def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


class SeedEachEpoch(TrainerCallback):
    """Seeds torch's global RNG at each epoch start. transformers' LengthGroupedSampler (group_by_length)
    draws the epoch's order from that RNG, so without this a resumed run shuffles its epoch differently
    from the run it continues; with it the order is a function of (seed, epoch) and --resume replays it.
    The Trainer restores the checkpoint's RNG state after the order is drawn, so dropout still matches."""

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        import torch

        torch.manual_seed(args.seed + int(state.epoch or 0))
