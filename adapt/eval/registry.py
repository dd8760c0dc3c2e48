"""Every metric a summary row carries, declared once: key, bar name, direction, format, definition
and how it is estimated (with its interval) from one recipe's records.

The summary, the report, the ladder's bar, the terminal table and MLflow all iterate over METRICS,
so a metric's name is written here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from adapt.eval import stats
from adapt.rag import SUPPORT_THRESHOLD

if TYPE_CHECKING:  # records.py reads METRICS to (de)serialize rows, so the import goes this way only
    from adapt.eval.records import ItemRecord, SummaryRow, Timing

Interval = tuple[float, float | None]  # an upper end of None is unbounded (too few values to bound it)

CORRECT, INCORRECT, ABSTAINED = "correct", "incorrect", "abstained"


@dataclass
class Evidence:
    """What one row is estimated from: graded records, concurrency-1 timings and cost inputs."""

    records: list[ItemRecord]
    timings: list[Timing] = field(default_factory=list)
    usd_per_1k: float | None = None
    one_off_usd: float | None = None

    @cached_property
    def ranked(self) -> bool:
        """The rung retrieved (its records carry a rank) and items name their gold source."""
        return any(r.ranked and r.gold_source for r in self.records)

    @cached_property
    def answerable(self) -> list[ItemRecord]:
        return [r for r in self.records if r.gold]

    @cached_property
    def unanswerable(self) -> list[ItemRecord]:
        return [r for r in self.records if not r.gold]

    @cached_property
    def squad(self) -> dict[str, float]:
        from adapt.eval.squad import prediction_for_squad, squad_v2_scores

        return squad_v2_scores([(r.gold, prediction_for_squad(r.answer, r.grade)) for r in self.records])


@dataclass(frozen=True)
class Estimate:
    value: float | None
    interval: Interval | None = None
    n: int | None = None  # how many observations the estimate rests on


@dataclass(frozen=True)
class Metric:
    key: str                 # key in a row's values; dots nest in summary.json ("latency_ms.p95")
    label: str               # column header
    kind: str                # rate | score | pct | ms | per_s | usd | count
    better: str | None       # higher | lower | None (neither is better, e.g. abstaining)
    definition: str
    estimate: Callable[[Evidence], Estimate]
    bar: str | None = None   # name in --bar; None = not a bar metric
    terminal: bool = False   # shown in the terminal table (the report shows all)
    quantile: float | None = None  # a percentile of the timed requests: more timing decides it, not more items


def _rate(hit: Callable[[ItemRecord], bool],
          among: Callable[[Evidence], list[ItemRecord]] = lambda e: e.records) -> Callable[[Evidence], Estimate]:
    def est(e: Evidence) -> Estimate:
        rows = among(e)
        if not rows:
            return Estimate(None)
        k = sum(map(hit, rows))
        return Estimate(round(k / len(rows), 4), stats.wilson(k, len(rows)), len(rows))
    return est


def _mean(of: Callable[[ItemRecord], float | None],
          among: Callable[[Evidence], list[ItemRecord]]) -> Callable[[Evidence], Estimate]:
    def est(e: Evidence) -> Estimate:
        vals = [v for v in map(of, among(e)) if v is not None]
        if not vals:
            return Estimate(None)
        return Estimate(round(float(np.mean(vals)), 4), _round_iv(stats.bootstrap(vals, np.mean), 4), len(vals))
    return est


def _pct(of: Callable[[Timing], float | None], q: float) -> Callable[[Evidence], Estimate]:
    def est(e: Evidence) -> Estimate:
        vals = [v for v in map(of, e.timings) if v is not None]
        if not vals:
            return Estimate(None)
        return Estimate(round(float(np.percentile(vals, q)), 2), _round_iv(stats.quantile_interval(vals, q), 2),
                        len(vals))
    return est


def _round_iv(iv: Interval | None, digits: int) -> Interval | None:
    if iv is None:
        return None
    return round(iv[0], digits), None if iv[1] is None else round(iv[1], digits)


def _wall_s(e: Evidence) -> float | None:
    """Machine seconds of the batched pass; None for answers graded without running them (adapt score)."""
    walls = [r.wall_ms for r in e.records]
    if any(w is None for w in walls):
        return None
    return sum(w for w in walls if w is not None) / 1000


def _throughput(e: Evidence) -> Estimate:
    wall = _wall_s(e)
    return Estimate(round(len(e.records) / wall, 3) if wall else None)


def _tokens_per_s(e: Evidence) -> Estimate:
    wall = _wall_s(e)
    return Estimate(round(sum(r.output_tokens or 0 for r in e.records) / wall, 2) if wall else None)


def _mrr(e: Evidence) -> Estimate:
    if not e.ranked:
        return Estimate(None)
    ranks = [1 / r.retrieval_rank if r.retrieval_rank else 0.0 for r in e.records if r.gold_source]
    if not ranks:
        return Estimate(None)
    return Estimate(round(float(np.mean(ranks)), 4), _round_iv(stats.bootstrap(ranks, np.mean), 4), len(ranks))


def _hit(e: Evidence) -> Estimate:
    if not e.ranked:
        return Estimate(None)
    return _rate(lambda r: r.retrieval_rank is not None, lambda ev: [r for r in ev.records if r.gold_source])(e)


def _judge_agreement(e: Evidence) -> Estimate:
    judged = [r for r in e.records if r.lexical_grade]
    if not judged:
        return Estimate(None)
    return _rate(lambda r: r.lexical_grade == r.grade, lambda _: judged)(e)


def _checked(e: Evidence) -> list[ItemRecord]:
    return [r for r in e.records if r.supported is not None]


def _cited(e: Evidence) -> list[ItemRecord]:
    return [r for r in e.records if r.citations_supported is not None]


def _guarded(verdict: str) -> Callable[[Evidence], Estimate]:
    def est(e: Evidence) -> Estimate:
        if not any(r.guard for r in e.records):  # no guard: nothing to count
            return Estimate(None)
        return Estimate(sum(r.guard == verdict for r in e.records))
    return est


def _is(label: str) -> Callable[[ItemRecord], bool]:
    return lambda r: r.grade == label


def _answerable(e: Evidence) -> list[ItemRecord]:
    return e.answerable


def _unanswerable(e: Evidence) -> list[ItemRecord]:
    return e.unanswerable


METRICS: list[Metric] = [
    Metric("correct_rate", "correct", "rate", "higher",
           "correct / all items. Correct: states a gold answer and asserts nothing that contradicts it "
           "(hedging is allowed)", _rate(_is(CORRECT)), bar="correct", terminal=True),
    Metric("hallucination_rate", "hallucination", "rate", "lower",
           "incorrect / all items. Incorrect: a wrong value, several candidates of which some are wrong, a "
           "negated gold, a claim with a disclaimer, or any asserted answer to an unanswerable item",
           _rate(_is(INCORRECT)), bar="hallucination", terminal=True),
    Metric("abstain_rate", "abstained", "rate", None,
           "abstained / all items. Abstained: declines and asserts nothing that contradicts the gold "
           "(a side fact that does not answer is fine)", _rate(_is(ABSTAINED)), bar="abstain", terminal=True),
    Metric("answerable_accuracy", "answerable acc.", "rate", "higher",
           "correct answers among answerable items", _rate(_is(CORRECT), _answerable), bar="answerable_accuracy"),
    Metric("false_refusal_rate", "false refusal", "rate", "lower",
           "abstentions among answerable items", _rate(_is(ABSTAINED), _answerable), bar="false_refusal"),
    Metric("no_answer_accuracy", "no-answer acc.", "rate", "higher",
           "abstentions among unanswerable items", _rate(_is(ABSTAINED), _unanswerable), bar="no_answer_accuracy"),
    Metric("unanswerable_hallucination_rate", "unans. halluc.", "rate", "lower",
           "asserted answers among unanswerable items", _rate(_is(INCORRECT), _unanswerable),
           bar="unanswerable_hallucination"),
    Metric("em", "EM", "score", "higher", "SQuAD exact match, mean over answerable items, best over golds",
           _mean(lambda r: r.em, _answerable), bar="em"),
    Metric("f1", "F1", "score", "higher", "SQuAD token F1, mean over answerable items, best over golds "
           "(bootstrap interval)", _mean(lambda r: r.f1, _answerable), bar="f1"),
    Metric("squad.exact", "SQuAD2 EM", "pct", "higher",
           "official SQuAD 2.0 exact (percent, all items; an unanswerable item's only gold is the empty answer "
           "and an abstention is the empty answer)", lambda e: Estimate(e.squad["exact"]), bar="squad_exact"),
    Metric("squad.f1", "SQuAD2 F1", "pct", "higher", "official SQuAD 2.0 F1 (percent, all items)",
           lambda e: Estimate(e.squad["f1"]), bar="squad_f1"),
    Metric("latency_ms.p50", "p50", "ms", "lower",
           "median end-to-end time of one request at concurrency 1 (retrieval included), after a warm-up batch; "
           "percentiles get a distribution-free order-statistic interval, unbounded above when too few requests "
           "were timed (a p95 needs 72)",
           _pct(lambda t: t.latency_ms, 50), bar="p50_ms", terminal=True, quantile=50),
    Metric("latency_ms.p95", "p95", "ms", "lower", "95th percentile of the same per-request times",
           _pct(lambda t: t.latency_ms, 95), bar="p95_ms", terminal=True, quantile=95),
    Metric("ttft_ms.p50", "TTFT p50", "ms", "lower", "median time to the first token at concurrency 1",
           _pct(lambda t: t.ttft_ms, 50), bar="ttft_p50_ms", quantile=50),
    Metric("retrieval_ms.p50", "retrieval p50", "ms", "lower", "median retrieval time at concurrency 1",
           _pct(lambda t: t.retrieval_ms, 50), quantile=50),
    Metric("throughput_items_per_s", "items/s", "per_s", "higher",
           "items answered per second at the recipe's batch size (generation.batch_size)", _throughput,
           bar="throughput"),
    Metric("output_tokens_per_s", "out tok/s", "per_s", "higher", "generated tokens per second at the batch size",
           _tokens_per_s),
    Metric("retrieval.hit_at_k", "hit@k", "rate", "higher",
           "items whose gold source is among the k retrieved chunks (items that name a source)", _hit,
           bar="hit_at_k"),
    Metric("retrieval.mrr", "MRR", "score", "higher", "mean reciprocal rank of the gold source", _mrr),
    Metric("faithfulness.supported_rate", "supported", "rate", "higher",
           "answers the retrieved passages support, among those that do not abstain (rungs that retrieve): every "
           f"number, date and name the answer states is in the passages, and {SUPPORT_THRESHOLD:.0%} of its other "
           "content words; words it repeats from the question count for nothing. With --judge, the judge model's "
           "verdict", _rate(lambda r: bool(r.supported), _checked), bar="supported_rate", terminal=True),
    Metric("faithfulness.citation_accuracy", "citations hold", "rate", "higher",
           "answers with [n] markers whose cited passages alone support them, by the same check",
           _rate(lambda r: bool(r.citations_supported), _cited), bar="citation_accuracy"),
    Metric("guard.gated", "gated", "count", None,
           "questions the guard's retrieval gate answered with the abstain phrase, without calling the model",
           _guarded("gated")),
    Metric("guard.unsupported", "stopped", "count", None,
           "answers the guard's support check replaced with the abstain phrase (items.jsonl keeps raw_answer)",
           _guarded("unsupported")),
    Metric("cost.usd_per_1k_queries", "$/1k queries", "usd", "lower",
           "API: tokens x prices (usage the API did not report is estimated with a tokenizer and flagged); "
           "local or served model: machine seconds per item at the batch size x cost.usd_per_hour",
           lambda e: Estimate(e.usd_per_1k), bar="usd_per_1k", terminal=True),
    Metric("cost.one_off_usd", "one-off $", "usd", "lower",
           "index build (every rung that reads the index) and training time x cost.usd_per_hour",
           lambda e: Estimate(e.one_off_usd), bar="one_off_usd"),
    Metric("judge_agreement", "graders agree", "rate", None,
           "items where the lexical grader and the --judge model give the same label", _judge_agreement),
]

BY_BAR = {m.bar: m for m in METRICS if m.bar}
# the metrics other modules need by role: the plots, the recommendation's price, break-even
CORRECT_RATE, HALLUCINATION_RATE, ABSTAIN_RATE = METRICS[0], METRICS[1], METRICS[2]
PRICE = BY_BAR["usd_per_1k"]
ONE_OFF = BY_BAR["one_off_usd"]


def get(row: SummaryRow, key: str) -> Any:
    """A row's value of the metric with this key; None when it was not measured."""
    return row.values.get(key)


def measure(e: Evidence) -> tuple[dict[str, Any], dict[str, Interval], dict[str, int]]:
    """Every metric of one row by key, the intervals of those that have one, and the n each rests on."""
    values: dict[str, Any] = {}
    intervals: dict[str, Interval] = {}
    counts: dict[str, int] = {}
    for m in METRICS:
        est = m.estimate(e)
        values[m.key] = est.value
        if est.interval is not None and est.value is not None:
            intervals[m.key] = est.interval
        if est.n is not None and est.value is not None:
            counts[m.key] = est.n
    return values, intervals, counts


def definitions() -> dict[str, str]:
    return {m.key: m.definition for m in METRICS}


# --- formatting for people: percentages, whole ms or seconds, dollars with two significant digits ---

def _sig2(x: float) -> float:
    """x rounded to two significant digits."""
    return float(f"{x:.2g}") if x else 0.0


def fmt_value(kind: str, x: float | None) -> str:
    if x is None:
        return "-"
    if kind in ("rate", "score"):  # shares and 0-1 scores alike read as percentages
        return f"{100 * x:.0f} %"
    if kind == "pct":
        return f"{x:.1f} %"
    if kind == "ms":
        if x < 1:
            return "<1 ms"
        return f"{x:,.0f} ms" if round(x) < 1000 else f"{x / 1000:,.1f} s"
    if kind == "usd":
        return fmt_usd(x)
    if kind == "per_s":
        return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"
    return f"{int(x):,}"


def fmt_usd(x: float) -> str:
    """Two significant digits, never scientific notation: $0.013, $0.0000030, $12, $1,200."""
    x = _sig2(x)
    if x == 0:
        return "$0"
    if abs(x) >= 10:
        return f"${x:,.0f}"
    digits = 1 - int(np.floor(np.log10(abs(x))))
    return f"${x:.{digits}f}"


def fmt_interval(kind: str, iv: Interval | None) -> str:
    if iv is None:
        return ""
    lo, hi = iv
    if kind in ("rate", "score"):
        return f"[{100 * lo:.0f}–{100 * hi:.0f}]"
    return f"[{fmt_value(kind, lo)}–{'∞' if hi is None else fmt_value(kind, hi)}]"


def fmt_cell(m: Metric, row: SummaryRow) -> str:
    v = get(row, m.key)
    iv = row.intervals.get(m.key)
    text = fmt_value(m.kind, v)
    return f"{text} {fmt_interval(m.kind, iv)}" if iv and v is not None else text


def header(m: Metric) -> str:
    """The column label with its direction: ↑ higher is better, ↓ lower is better."""
    return m.label + {"higher": " ↑", "lower": " ↓"}.get(m.better or "", "")
