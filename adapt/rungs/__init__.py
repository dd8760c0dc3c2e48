"""The ladder's rungs: one registered part per file in this folder.

A rung is composed of components (an index to retrieve from, a model, a trained adapter, ...).
The components say which recipe sections the rung reads, which artifacts must exist before it
answers (and how `adapt ladder` builds them), how it answers and what one-off cost it carries.
Nothing outside a rung's own file names it: callers ask the rung what it has.

Adding a rung: a file here that calls `register(Rung(...))`, plus a recipe with `rung: <name>`.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from pathlib import Path

    from adapt.backends import Generation
    from adapt.rag.index import Hit
    from adapt.recipe import Recipe

SECTIONS = ("model", "rag", "train")  # the recipe sections a rung may need; the others every rung has


def _build_index(recipe: Recipe, docs: str | Path, index: str | Path, progress: bool = True) -> float:
    from adapt.rag.index import build_index, build_seconds

    rag = recipe.rag
    build_index(docs, index, rag.embedder, rag.chunk_size, rag.chunk_overlap, progress=progress)
    return build_seconds(index)


def _index_seconds(recipe: Recipe, index: str | None) -> float:
    from adapt.rag.index import build_seconds

    return build_seconds(index or recipe.rag.index)


def _train_adapter(recipe: Recipe, output: Path, train_suite: Path | None = None, index: str | Path | None = None,
                   max_steps: int | None = None, resume: bool = False, overwrite: bool = False,
                   progress: bool = True) -> float:
    from adapt.train.finetune import finetune

    return finetune(recipe, output=output, max_steps=max_steps, suite_override=train_suite,
                    index_override=str(index) if index else None, progress=progress, resume=resume,
                    overwrite=overwrite)["train_seconds"]


def _train_seconds(recipe: Recipe, index: str | None) -> float:
    from adapt.artifacts import adapter_run

    return adapter_run(recipe.adapter_dir).get("metrics", {}).get("train_seconds", 0.0)


def _calibration_seconds(recipe: Recipe, index: str | None) -> float:
    return 0.0  # a recipe's own thresholds cost nothing to use; the ladder adds what its calibration took


@dataclass(frozen=True)
class Artifact:
    """Something a rung needs built before it answers. Its build time, recorded in the artifact, is
    the rung's one-off cost."""

    name: str
    # (recipe, ...) -> seconds it took; None: built by what evaluates (a calibration grades answers,
    # and rungs never reach for the grader)
    build: Callable[..., float] | None
    seconds: Callable[[Recipe, str | None], float]  # (recipe, index folder) -> what building it took


INDEX = Artifact("index", _build_index, _index_seconds)        # `adapt rag build`
ADAPTER = Artifact("adapter", _train_adapter, _train_seconds)  # `adapt finetune`
CALIBRATION = Artifact("calibration", None, _calibration_seconds)  # `adapt calibrate`; the ladder runs it


@dataclass(frozen=True)
class Component:
    section: str  # the recipe section it reads
    what: str     # one line, for error messages and docs
    artifact: Artifact | None = None


@dataclass(frozen=True)
class Retrieval(Component):
    """Passages from the recipe's index go into the prompt."""

    section: str = "rag"
    what: str = "the index whose passages ground the answer"
    artifact: Artifact | None = INDEX


@dataclass(frozen=True)
class IndexText(Component):
    """Answers are read straight out of the index's text, no model."""

    section: str = "rag"
    what: str = "the index the answers are read from"
    artifact: Artifact | None = INDEX


@dataclass(frozen=True)
class Guard(Component):
    """The guard (rag.guard) stops unsupported answers; its thresholds are calibrated on a suite."""

    section: str = "rag"
    what: str = "the guard that stops unsupported answers (rag.guard)"
    artifact: Artifact | None = CALIBRATION


@dataclass(frozen=True)
class Model(Component):
    section: str = "model"
    what: str = "the model that writes the answer"


@dataclass(frozen=True)
class Adapter(Component):
    """A LoRA adapter trained by `adapt finetune` on top of the model."""

    section: str = "train"
    what: str = "how `adapt finetune` trains the adapter"
    artifact: Artifact | None = ADAPTER
    bits: int | None = None  # 4: the base model is loaded in 4-bit while training (QLoRA)


@dataclass
class Answer:
    """What every rung returns for a question: the text, how it was generated, the passages behind it."""

    text: str
    generation: Generation | None = None
    sources: list[Hit] = field(default_factory=list)
    retrieval_s: float = 0.0
    raw_text: str | None = None  # what the model said, where the guard replaced it with the abstain phrase
    guard: str | None = None     # "passed" | "gated" | "unsupported" under a recipe's rag.guard; else None
    guard_reason: str | None = None  # why the guard stopped it


# (recipe, index folder or None) -> an object with answer(questions, max_new_tokens) -> list[Answer]
AnswererFactory = Callable[["Recipe", "str | None"], Any]


@dataclass(frozen=True)
class Rung:
    name: str
    place: int                           # position on the ladder, cheapest first
    description: str
    components: tuple[Component, ...]
    default_recipe: str | None = None    # what `adapt ladder` runs for this rung unless told otherwise
    in_default_ladder: bool = True       # climbed when `adapt ladder` is not told which rungs
    # Rungs that answer without the standard path (retrieve -> prompt -> generate) bring their own.
    answerer: AnswererFactory | None = None

    def component(self, kind: type[Component]) -> Component | None:
        return next((c for c in self.components if isinstance(c, kind)), None)

    @property
    def sections(self) -> frozenset[str]:
        return frozenset(c.section for c in self.components)

    @property
    def reads(self) -> list[str]:
        """The sections it reads, each once, in the order of its components."""
        return list(dict.fromkeys(c.section for c in self.components))

    @property
    def artifacts(self) -> list[Artifact]:
        """What must be built before this rung answers, in build order."""
        return list(dict.fromkeys(c.artifact for c in self.components if c.artifact is not None))

    def one_off_seconds(self, recipe: Recipe, index: str | None = None) -> float:
        """The rung's one-off cost in machine time: building its artifacts, as they recorded it."""
        return sum(a.seconds(recipe, index) for a in self.artifacts)

    @property
    def retrieves(self) -> bool:
        return self.component(Retrieval) is not None

    @property
    def reads_index(self) -> bool:
        return INDEX in self.artifacts

    @property
    def guarded(self) -> bool:
        return self.component(Guard) is not None

    @property
    def generates(self) -> bool:
        return self.component(Model) is not None

    @property
    def adapter(self) -> Adapter | None:
        return self.component(Adapter)  # type: ignore[return-value]

    def problems(self, present: set[str]) -> list[str]:
        """What is wrong with a recipe for this rung that has the sections `present`."""
        out = []
        for c in self.components:
            if c.section not in present:
                out.append(f"rung '{self.name}' needs a '{c.section}' section ({c.what})")
        for s in sorted(present - self.sections):
            same = [r.name for r in all_rungs() if r.sections == present and r.answerer is None]
            hint = f"; with a '{s}' section it is rung '{same[0]}'" if same else ""
            out.append(f"rung '{self.name}' does not read a '{s}' section{hint}")
        return out


_REGISTRY: dict[str, Rung] = {}
_LOADED: list[bool] = []


def register(rung: Rung) -> Rung:
    hash(rung)  # components must be frozen: rungs are compared by what they are made of
    if rung.name in _REGISTRY and _REGISTRY[rung.name] != rung:
        raise ValueError(f"rung '{rung.name}' is registered twice")
    _REGISTRY[rung.name] = rung
    return rung


def _load() -> None:
    """Import every module of this package once; each registers its rungs. A module that fails to
    import fails every lookup, rather than leaving a ladder with a rung silently missing."""
    if _LOADED:
        return
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")
    _LOADED.append(True)


def with_retrieval(rung: Rung) -> Rung | None:
    """The rung that is `rung` (one that trains an adapter) answering from retrieved passages: how a
    lora recipe with a rag section was read before rag+lora was a rung of its own."""
    if rung.adapter is None:
        return None
    want = set(rung.components) | {Retrieval()}
    return next((r for r in all_rungs() if set(r.components) == want and r.answerer is None), None)


def all_rungs() -> list[Rung]:
    """Every registered rung, in ladder order."""
    _load()
    return sorted(_REGISTRY.values(), key=lambda r: (r.place, r.name))


def names() -> list[str]:
    return [r.name for r in all_rungs()]


def default_ladder() -> list[str]:
    """The rungs `adapt ladder` climbs unless told otherwise, cheapest first."""
    return [r.name for r in all_rungs() if r.default_recipe and r.in_default_ladder]


def get(name: str) -> Rung:
    _load()
    if name not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(name, names(), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ValueError(f"unknown rung '{name}' ({hint}known: {', '.join(names())})")
    return _REGISTRY[name]
