"""The vLLM engine: build vLLM's own OpenAI-compatible server command, run it, wait until healthy."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from adapt.errors import UserError
from adapt.recipe import Recipe


class VLLMCommand(list):
    """A `vllm serve` argument list plus the environment variables it needs (`env`).

    Secrets travel in `env`, never in the arguments: any local user can read a process's
    command line (`ps`), while its environment is private to its owner."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        super().__init__(args)
        self.env = dict(env or {})


def vllm_command(recipe: Recipe, host: str, port: int, api_key: str | None, merged: str | None = None) -> VLLMCommand:
    """`vllm serve` for the recipe's base model with its LoRA adapter (or a merged export)."""
    from adapt.models import resolve_generator

    if recipe.model is None or recipe.model.backend == "openai":
        raise UserError(f"recipe '{recipe.name}' has no local model to serve")
    s = recipe.serve
    model = merged or resolve_generator(recipe.model.name)
    exe = shutil.which("vllm") or "vllm"
    cmd = [exe, "serve", model, "--host", host, "--port", str(port),
           "--tensor-parallel-size", str(s.tensor_parallel_size),
           "--gpu-memory-utilization", str(s.gpu_memory_utilization)]
    if s.max_model_len:
        cmd += ["--max-model-len", str(s.max_model_len)]
    adapter = recipe.adapter_dir
    if adapter and not merged:
        if not (Path(adapter) / "adapter_config.json").is_file():
            raise UserError(f"no adapter at {adapter}: run `adapt finetune {recipe.name}` first, or pass --merged")
        cmd += ["--enable-lora", "--lora-modules", f"{recipe.name}={adapter}"]
        if recipe.train and recipe.train.r > 16:  # vLLM's default max LoRA rank is 16
            cmd += ["--max-lora-rank", str(recipe.train.r)]
    else:
        cmd += ["--served-model-name", recipe.name]
    # vLLM reads VLLM_API_KEY when no --api-key is given; the key must not show in `ps`
    return VLLMCommand(cmd, {"VLLM_API_KEY": api_key} if api_key else None)


def run_vllm(cmd: list[str], host: str, port: int, timeout_s: float = 900) -> int:
    """Start vLLM, wait for /health, forward SIGINT/SIGTERM, return its exit code."""
    import httpx

    env = {**os.environ, **getattr(cmd, "env", {})}
    try:
        proc = subprocess.Popen(list(cmd), env=env)
    except FileNotFoundError:
        raise UserError("vLLM is not installed: pip install -e '.[gpu]' (CUDA), or use --engine transformers") from None
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, f: proc.send_signal(s))
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/health"
    deadline = time.time() + timeout_s
    while proc.poll() is None and time.time() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                print(f"vLLM is serving on http://{host}:{port}/v1", file=sys.stderr)
                break
        except httpx.HTTPError:
            pass
        time.sleep(2)
    return proc.wait()
