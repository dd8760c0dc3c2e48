"""Recipes: one YAML file per rung of the ladder, validated into typed models.

Unknown keys are errors (with a "did you mean"), so a misspelt option never silently falls back to a
default. Every problem in a file is reported at once, naming the file and the field path.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from adapt.data.suite import SPLIT_SEED
from adapt.errors import UserError
from adapt.rag import CHUNK_OVERLAP, CHUNK_SIZE, DEFAULT_EMBEDDER, DEFAULT_INDEX

DEFAULT_ABSTAIN = "I don't know based on the provided information."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class ModelSpec(_Strict):
    """A local model (builtin alias, path or hub id) or an OpenAI-compatible endpoint."""

    name: str | None = Field(None, description="builtin alias, local path or hub id (local backends)")
    backend: Literal["local", "vllm", "openai"] | None = Field(
        None, description="local = transformers; vllm = in-process vLLM (GPU); openai = HTTP endpoint")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    adapter: str | None = Field(None, description="PEFT adapter folder applied on top of the base model")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    model: str | None = Field(None, description="model name sent to the endpoint")
    api_key_env: str | None = Field(None, description="environment variable holding the API key")
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(4, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_kind(self) -> ModelSpec:
        if self.base_url:
            if self.name:
                raise ValueError("give either 'name' (local model) or 'base_url' (endpoint), not both")
            if not self.model:
                raise ValueError("an endpoint needs 'model' (the model name the server expects)")
            self.backend = self.backend or "openai"
            if self.backend != "openai":
                raise ValueError("'base_url' only goes with backend 'openai'")
        else:
            if not self.name:
                raise ValueError("give 'name' (builtin alias, path or hub id) or 'base_url' (endpoint)")
            self.backend = self.backend or "local"
            if self.backend == "openai":
                raise ValueError("backend 'openai' needs 'base_url'")
        return self


class GenerationSpec(_Strict):
    max_new_tokens: int = Field(64, ge=1, le=32768)
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 = greedy")
    system_prompt: str | None = None
    batch_size: int = Field(8, ge=1, le=1024, description="prompts per generate call (or concurrent requests)")
    abstain_phrase: str = Field(DEFAULT_ABSTAIN, description="what the model is told to say when it cannot answer")


class CostSpec(_Strict):
    usd_per_hour: float | None = Field(None, ge=0, description="price of the machine running a local model")
    usd_per_1m_input: float | None = Field(None, ge=0, description="API price per 1M input tokens")
    usd_per_1m_output: float | None = Field(None, ge=0, description="API price per 1M output tokens")


class RagSpec(_Strict):
    index: str = Field(DEFAULT_INDEX, description="index folder written by `adapt rag build`")
    docs: str | None = Field(None, description="documents folder; `adapt ladder` builds the index from it")
    embedder: str = Field(DEFAULT_EMBEDDER, description="sentence-transformers model (alias, path or hub id)")
    chunk_size: int = Field(CHUNK_SIZE, ge=16, le=8192, description="chunk length in embedder tokens")
    chunk_overlap: int = Field(CHUNK_OVERLAP, ge=0, description="tokens shared by neighbouring chunks of one section")
    k: int = Field(4, ge=1, le=100, description="passages put in the prompt")
    mode: Literal["dense", "bm25", "hybrid"] = "hybrid"
    rerank: str | None = Field(None, description="cross-encoder model that reorders the retrieved passages")

    @model_validator(mode="after")
    def _overlap(self) -> RagSpec:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


class SuiteSource(_Strict):
    """Knowledge mode: training examples built from an eval suite and a RAG index."""

    suite: str = Field(description="eval suite JSONL (id, question, answers)")
    index: str = Field(DEFAULT_INDEX, description="index the passages are retrieved from")
    docs: str | None = Field(None, description="documents to build the index from when it does not exist yet")
    k: int = Field(3, ge=1, le=50, description="passages per training example")
    train_fraction: float = Field(0.5, gt=0, lt=1, description="share of items used for training; the rest stay for eval")
    seed: int = Field(SPLIT_SEED, description="seed of the train/eval split; `adapt ladder` splits with the same one")


class TrainSpec(_Strict):
    data: str | None = Field(None, description="JSONL, CSV or a datasets folder (chat, instruction or prompt/completion rows)")
    from_suite: SuiteSource | None = None
    output_dir: str | None = Field(None, description="default runs/<recipe name>")
    r: int = Field(16, ge=1, description="LoRA rank")
    alpha: int = Field(32, ge=1, description="LoRA scaling numerator (the update is scaled by alpha / r)")
    dropout: float = Field(0.05, ge=0, lt=1, description="dropout on the LoRA input")
    target_modules: str | list[str] = Field("all-linear", description="'all-linear' or module names, e.g. "
                                            "[q_proj, v_proj]; naming lm_head trains it too (full-logits loss)")
    max_seq_len: int = Field(512, ge=16, description="tokens per row; longer rows are truncated")
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, description="-1 = run the epochs")
    batch_size: int = Field(8, ge=1, description="rows per device per step")
    grad_accum: int = Field(1, ge=1, description="gradient accumulation steps")
    learning_rate: float = Field(2e-4, gt=0)
    scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    warmup_ratio: float = Field(0.03, ge=0, lt=1, description="share of the steps spent warming up")
    eval_split: float = Field(0.0, ge=0, lt=1, description="share of rows held out for an eval loss")
    packing: bool = Field(False, description="pack rows into max_seq_len sequences (best-fit, padding-free)")
    group_by_length: bool = Field(True, description="batch rows of similar length together (shuffled in groups "
                                  "of 50 batches) to cut padding; false for plain random batches")
    gradient_checkpointing: bool | None = Field(None, description="None = on for CUDA, off on CPU")
    bf16: bool | None = Field(None, description="None = on for CUDA with bf16 support, off on CPU")
    save_steps: int = Field(50, ge=1, description="checkpoint every N steps (what --resume continues from)")
    logging_steps: int = Field(5, ge=1)
    seed: int = 42
    distributed: Literal["ddp", "fsdp"] = "ddp"

    @model_validator(mode="after")
    def _data(self) -> TrainSpec:
        if bool(self.data) == bool(self.from_suite):
            raise ValueError("give exactly one of 'data' or 'from_suite'")
        return self


class ServeSpec(_Strict):
    tensor_parallel_size: int = Field(1, ge=1)
    max_model_len: int | None = Field(None, ge=16)
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    max_tokens_cap: int = Field(1024, ge=1, description="upper bound on a request's max_tokens")
    max_prompt_chars: int = Field(32000, ge=1)
    max_body_bytes: int = Field(1_000_000, ge=1024)
    max_queue: int = Field(64, ge=1, description="requests waiting beyond this get 503")
    max_batch_size: int = Field(8, ge=1)
    batch_wait_ms: float = Field(5.0, ge=0, description="how long the batcher waits to fill a batch")


class Recipe(_Strict):
    name: str
    rung: str = Field(description="the ladder rung: baseline, prompt, rag, lora, qlora, rag+lora, rag+qlora "
                                  "(`adapt rungs` lists them)")
    description: str = ""
    model: ModelSpec | None = None
    generation: GenerationSpec = GenerationSpec()
    cost: CostSpec = CostSpec()
    rag: RagSpec | None = None
    train: TrainSpec | None = None
    serve: ServeSpec = ServeSpec()

    @model_validator(mode="after")
    def _rung_needs(self) -> Recipe:
        from adapt import rungs

        rung = rungs.get(self.rung)  # an unknown name is a ValueError listing the known ones
        problems = rung.problems({s for s in rungs.SECTIONS if getattr(self, s) is not None})
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def run_dir(self) -> Path:
        """Where `adapt finetune` writes this recipe's adapter."""
        return Path(self.train.output_dir if self.train and self.train.output_dir else f"runs/{self.name}")

    @property
    def adapter_dir(self) -> str | None:
        """The adapter this recipe answers with: model.adapter, else the one its training writes."""
        if self.model is None or self.model.backend == "openai":
            return None
        return self.model.adapter or (str(self.run_dir / "adapter") if self.train else None)


# --- loading -------------------------------------------------------------------------------------

def recipes_dir() -> Path:
    env = os.environ.get("ADAPT_RECIPES")
    if env:
        return Path(env)
    local = Path.cwd() / "recipes"
    return local if local.is_dir() else Path(__file__).resolve().parents[1] / "recipes"


def available() -> list[Path]:
    return sorted(recipes_dir().glob("*.yaml"))


def resolve_path(ref: str) -> Path:
    """A recipe name (`prompt-local`) or a path to a YAML file."""
    p = Path(ref)
    if p.suffix in (".yaml", ".yml") or os.sep in ref:
        if not p.is_file():
            raise UserError(f"recipe file not found: {ref}")
        return p
    p = recipes_dir() / f"{ref}.yaml"
    if not p.is_file():
        names = ", ".join(x.stem for x in available()) or "(none)"
        close = difflib.get_close_matches(ref, [x.stem for x in available()], n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UserError(f"no recipe named '{ref}' in {recipes_dir()}.{hint} Available: {names}")
    return p


# `${VAR}` is expanded only in these fields: where a recipe points (paths, model, endpoint). Anywhere else
# (prompts, the abstain phrase, descriptions) a `${...}` is text the user meant, and expanding it
# everywhere would let a shared recipe smuggle e.g. ${OPENAI_API_KEY} into the URL it sends requests to.
ENV_FIELDS: tuple[tuple[str, ...], ...] = (
    ("rag", "index"), ("rag", "docs"),
    ("train", "data"), ("train", "output_dir"),
    ("train", "from_suite", "suite"), ("train", "from_suite", "index"), ("train", "from_suite", "docs"),
    ("model", "name"), ("model", "adapter"), ("model", "base_url"), ("model", "model"), ("model", "api_key_env"),
)
_ENV = re.compile(r"\$\$|\$\{(\w+)(?::-([^}]*))?\}")
# Every expanded field ends up in run.json and eval results (recipe.model_dump()), so a variable whose
# name says it holds a secret is refused outright; an API key is passed by name through api_key_env.
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


def _expand_value(text: str, field: str, source: str) -> str:
    """`${VAR}`, `${VAR:-default}` (default also when VAR is empty, as in sh) and `$$` for a literal `$`."""
    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        var, default = m.group(1), m.group(2)
        if _SECRET_NAME.search(var):
            raise UserError(f"{source}: {field}: ${{{var}}} looks like a secret, and recipes are written into "
                            "run.json and eval results; pass an API key by name with model.api_key_env")
        value = os.environ.get(var)
        if not value and default is not None:
            return default
        if value is None:
            raise UserError(f"{source}: {field}: environment variable {var} is not set "
                            f"(set it, or give a default: ${{{var}:-value}})")
        return value

    return _ENV.sub(sub, text)


def _expand_env(data: dict[str, Any], source: str = "<recipe>") -> dict[str, Any]:
    """A copy of the raw recipe with `${VAR}` expanded in ENV_FIELDS; everything else as written."""
    import copy

    data = copy.deepcopy(data)
    if isinstance(data.get("model"), str):  # shorthand `model: NAME` is model.name
        data["model"] = {"name": data["model"]}
    for path in ENV_FIELDS:
        parent: Any = data
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and isinstance(parent.get(path[-1]), str):
            parent[path[-1]] = _expand_value(parent[path[-1]], ".".join(path), source)
    return data


def load_recipe(ref: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    path = resolve_path(str(ref))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise UserError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of recipe fields at the top level")
    return parse_recipe(data, source=str(path))


def parse_recipe(data: dict[str, Any], source: str = "<recipe>") -> Recipe:
    try:
        return Recipe.model_validate(_expand_env(data, source))
    except ValidationError as e:
        raise UserError(format_errors(e, source)) from None


def format_errors(err: ValidationError, source: str) -> str:
    lines = [f"{source}: {err.error_count()} problem(s)"]
    for e in err.errors():
        loc = [str(x) for x in e["loc"] if not str(x).startswith("function-")]
        field = ".".join(loc) or "(top level)"
        if e["type"] == "extra_forbidden":
            known = _fields_at(Recipe, loc[:-1])
            close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"
            lines.append(f"  {field}: unknown key{hint}")
        elif e["type"] == "missing":
            lines.append(f"  {field}: required field is missing")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            got = e.get("input")
            shown = f" (got {got!r})" if not isinstance(got, dict | list) and got is not None else ""
            lines.append(f"  {field}: {msg}{shown}")
    return "\n".join(lines)


def _fields_at(model: type[BaseModel], loc: list[str]) -> list[str]:
    for part in loc:
        ann = model.model_fields[part].annotation if part in model.model_fields else None
        nxt = _model_in(ann)
        if nxt is None:
            return []
        model = nxt
    return list(model.model_fields)


def _model_in(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    if get_origin(ann) is not None:
        for a in get_args(ann):
            m = _model_in(a)
            if m is not None:
                return m
    return None
