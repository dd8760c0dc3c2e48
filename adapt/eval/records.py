"""The records passed between the eval stages: one graded answer (items.jsonl), one timed request
(timings.jsonl) and one summary row per recipe (summary.json).

Each type writes the JSON keys the files hold (`to_dict`) and reads them back tolerantly (`from_dict`:
a resumed run, a finished run's summary). Metric values in a row are keyed by the registry's metric
keys and read with `registry.get`; only `to_dict` / `from_dict` know that a key's dots become nested
objects in JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from adapt.eval import registry
from adapt.eval.registry import Interval

# what a run measures about an answer: absent from answers graded without running them (adapt score)
_RUN_ONLY = ("input_tokens", "output_tokens", "usage_estimated", "wall_ms")
# the judge's fields: absent when no judge ran (judge_raw) or its reply could not be read (lexical_grade)
_JUDGE = ("judge_raw", "lexical_grade")
# grounding: written for rungs that retrieve (what the passages support, what the guard stopped)
_GROUNDING = ("similarity", "supported", "support_reason", "citations_supported", "support_judge_raw", "passages",
              "raw_answer", "guard")


@dataclass(kw_only=True)
class ItemRecord:
    """One graded answer of one recipe. Fields are declared in the order items.jsonl writes them."""

    recipe: str
    rung: str
    id: str
    question: str
    gold: list[str]  # [] marks an unanswerable item
    answer: str
    grade: str       # registry.CORRECT | INCORRECT | ABSTAINED (the judge's, when one ran)
    reason: str
    em: float | None  # None for unanswerable items
    f1: float | None
    input_tokens: int | None = None
    output_tokens: int | None = None
    usage_estimated: bool | None = None  # the API reported no usage; tokens were counted locally
    wall_ms: float | None = None         # this item's share of its batch's machine time
    sources: list[str] = field(default_factory=list)  # ids of the retrieved chunks, best first
    citations: list[str] = field(default_factory=list)  # the same chunks as a reader finds them: "policy.pdf p. 2"
    gold_source: str | None = None
    # ranked: the rung retrieves, so retrieval_rank is written; then None means the gold source was missed
    ranked: bool = False
    retrieval_rank: int | None = None
    judge_raw: str | None = None      # the judge's reply
    lexical_grade: str | None = None  # the lexical grader's label, kept beside the judge's
    similarity: float | None = None   # the best passage's cosine similarity to the question
    # whether the passages support the answer (None: it abstained, or nothing was retrieved), and why
    supported: bool | None = None
    support_reason: str | None = None
    citations_supported: bool | None = None  # the [n]-cited passages alone support it; None: no markers
    support_judge_raw: str | None = None     # the --judge model's support verdict, when one ran
    passages: list[str] | None = None  # the passages' text, kept where the report shows them: unsupported or guarded
    raw_answer: str | None = None      # what the model said before the guard replaced it
    guard: str | None = None           # "passed" | "gated" | "unsupported"; None: no guard

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not d.pop("ranked"):
            del d["retrieval_rank"]
        for key in (*_RUN_ONLY, *_JUDGE, *_GROUNDING):
            if d[key] is None:
                del d[key]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ItemRecord:
        return cls(**{k: v for k, v in d.items() if k in _names(cls)}, ranked="retrieval_rank" in d)


@dataclass
class Timing:
    """One request timed alone (concurrency 1, after the warm-up), retrieval included."""

    recipe: str
    id: str
    latency_ms: float
    ttft_ms: float
    retrieval_ms: float | None  # time spent reading the index; None for rungs that read none

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Timing:
        return cls(**{k: v for k, v in d.items() if k in _names(cls)})


@dataclass
class Timed:
    """What a row's latency figures were measured on."""

    n: int = 0
    concurrency: int = 1
    batch_size: int | None = None


@dataclass
class SummaryRow:
    """One recipe's row: every registry metric (values, intervals, the n each rests on) and what it was
    measured on."""

    recipe: str
    rung: str
    n: int
    n_answerable: int
    n_unanswerable: int
    values: dict[str, Any] = field(default_factory=dict)  # metric key -> value (None: not measured)
    squad: dict[str, float] = field(default_factory=dict)  # the official SQuAD 2.0 script's output
    timed: Timed = field(default_factory=Timed)
    intervals: dict[str, Interval] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    usage_estimated: int = 0  # answers whose token usage was estimated
    # set for recipes that ran (adapt eval); None for answers graded without running them (adapt score),
    # whose rows write neither key
    one_off_s: float | None = None
    price_basis: str | None = None  # summary.price_basis: 'tokens' | 'machine time' | None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"recipe": self.recipe, "rung": self.rung, "n": self.n,
                             "n_answerable": self.n_answerable, "n_unanswerable": self.n_unanswerable}
        for key, value in self.values.items():
            _put(d, key, value)
        d["squad"] = dict(self.squad)  # the full scores, where the squad metrics put their two
        d["timed"] = asdict(self.timed)
        d["intervals"] = {k: list(iv) for k, iv in self.intervals.items()}
        d["counts"] = dict(self.counts)
        d["usage_estimated"] = self.usage_estimated
        if self.one_off_s is not None:
            d["one_off_s"] = self.one_off_s
            d["price_basis"] = self.price_basis
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SummaryRow:
        return cls(recipe=d["recipe"], rung=d["rung"], n=d["n"], n_answerable=d["n_answerable"],
                   n_unanswerable=d["n_unanswerable"],
                   values={m.key: _dig(d, m.key) for m in registry.METRICS}, squad=d.get("squad") or {},
                   timed=Timed(**(d.get("timed") or {})),
                   intervals={k: (iv[0], iv[1]) for k, iv in (d.get("intervals") or {}).items()},
                   counts=dict(d.get("counts") or {}), usage_estimated=d.get("usage_estimated", 0),
                   one_off_s=d.get("one_off_s"), price_basis=d.get("price_basis"))


def rows_of(summary: dict[str, Any]) -> list[SummaryRow]:
    """The typed rows of a summary as evaluate(), score() and summary.json hold it."""
    return [SummaryRow.from_dict(r) for r in summary["recipes"]]


def _names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def _put(d: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    for part in parents:
        d = d.setdefault(part, {})
    d[last] = value


def _dig(d: dict[str, Any], key: str) -> Any:
    v: Any = d
    for part in key.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    return v
