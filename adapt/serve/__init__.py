"""`adapt serve`: a recipe behind an OpenAI-compatible API, on vLLM's server (GPU) or our own (transformers)."""

from __future__ import annotations

import ipaddress
import os
import sys
from typing import Callable

from adapt import rungs
from adapt.errors import UserError
from adapt.recipe import Recipe

ENGINES = ("auto", "vllm", "transformers")


def check_host(host: str, api_key: str | None) -> None:
    """Without an API key the server must be reachable only from this machine."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        raise UserError(f"must be an IP address or localhost, not '{host}'", param="host") from None
    if not loopback and not api_key:
        raise UserError(f"refusing to bind {host} without an API key: pass --api-key or set ADAPT_API_KEY")


def choose_engine(recipe: Recipe, engine: str) -> str:
    """vLLM when asked for, or (auto) when it is installed, a GPU is present and nothing is retrieved."""
    if engine not in ENGINES:
        raise UserError(f"must be {', '.join(ENGINES)}, not '{engine}'", param="engine")
    rung = rungs.get(recipe.rung)
    if not rung.generates or recipe.model.backend == "openai":
        raise UserError(f"recipe '{recipe.name}' (rung {recipe.rung}) has no local model to serve")
    if engine == "vllm" and rung.retrieves:
        raise UserError("the vllm engine serves the model alone; use --engine transformers for a rag recipe")
    if engine != "auto":
        return engine
    import importlib.util

    import torch

    gpu = importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()
    return "vllm" if gpu and not rung.retrieves else "transformers"


def serve(recipe: Recipe, engine: str = "auto", host: str = "127.0.0.1", port: int = 8000,
          api_key: str | None = None, merged: str | None = None, max_batch_size: int | None = None,
          say: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> int:
    """Serve until stopped; returns the exit code. The key defaults to $ADAPT_API_KEY."""
    key = api_key or os.environ.get("ADAPT_API_KEY") or None
    check_host(host, key)
    engine = choose_engine(recipe, engine)
    if engine == "vllm":
        from adapt.serve.vllm import run_vllm, vllm_command

        return run_vllm(vllm_command(recipe, host, port, key, merged), host, port)
    import uvicorn

    from adapt.serve.app import create_app

    if max_batch_size:
        recipe = recipe.model_copy(update={"serve": recipe.serve.model_copy(update={"max_batch_size": max_batch_size})})
    app = create_app(recipe, api_key=key)
    say(f"serving {recipe.name} ({recipe.rung}) on http://{host}:{port}/v1 with transformers"
        + (", API key required" if key else ""))
    uvicorn.run(app, host=host, port=port, log_level="warning", limit_concurrency=recipe.serve.max_queue * 2 + 8)
    return 0
