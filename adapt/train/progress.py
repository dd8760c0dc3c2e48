"""A rich progress bar for training: step, loss, non-padding tokens/s and ETA."""

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
