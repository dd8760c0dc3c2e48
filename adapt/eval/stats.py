"""Small-sample statistics behind trustworthy verdicts.

Evaluation suites are small (60-1000 items), so a point estimate such as ``correct_rate = 0.83`` says
little on its own.  This module gives intervals (Wilson for rates, percentile bootstrap for anything
else), an exact paired test (McNemar) for comparing two systems on the same items, and a three-way
decision ("meets" / "fails" / "undecided") of one bar condition, with an estimate of how many items
would settle an undecided one.

numpy and the standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

Z95 = 1.959963984540054  # two-sided 95 % standard-normal quantile, Phi^-1(0.975)

_OPS = (">=", "<=", ">", "<")
# Above this many discordant pairs the exact big-integer sum gets slow; log-space is exact enough there.
_MCNEMAR_EXACT_MAX = 20_000


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """95 % Wilson score interval for ``k`` successes in ``n`` trials; None when ``n == 0``.

    Wilson rather than Wald because Wald collapses to a zero-width interval at 0/n and n/n and
    undercovers badly for small n -- exactly the regime of small eval suites.
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return None
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = (z / denom) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    lo, hi = center - half, center + half
    # Analytically lo == 0 at k == 0 and hi == 1 at k == n; pin them so rounding can't leave 1e-17 / 0.9999...
    if k == 0:
        lo = 0.0
    if k == n:
        hi = 1.0
    return max(0.0, lo), min(1.0, hi)


def bootstrap(values: Sequence[float], statistic: Callable[[np.ndarray], float], n_boot: int = 2000,
              seed: int = 0, level: float = 0.95) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``statistic`` over ``values``; None for fewer than 2 values.

    Resamples with replacement by drawing one ``(n_boot, n)`` index matrix from a seeded generator,
    so the result is deterministic for a given seed (reports must be reproducible run to run).
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    data = np.asarray(values, dtype=float).ravel()
    n = data.size
    if n < 2:  # one value has no spread to resample: any interval would be a fake zero-width one
        return None
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    resamples = data[idx]
    # The statistic is an arbitrary callable on a 1-D array, so apply it row by row (n_boot calls).
    stats = np.fromiter((float(statistic(row)) for row in resamples), dtype=float, count=n_boot)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.percentile(stats, [100.0 * alpha, 100.0 * (1.0 - alpha)])
    return float(lo), float(hi)


def percentile_interval(values: Sequence[float], q: float, seed: int = 0) -> tuple[float, float] | None:
    """Bootstrap interval of ``np.percentile(values, q)`` (linear interpolation, numpy's default),
    e.g. ``q=95`` for a p95 latency."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q must be in [0, 100], got {q}")
    return bootstrap(values, lambda a: float(np.percentile(a, q)), seed=seed)


def quantile_interval(values: Sequence[float], q: float, level: float = 0.95
                      ) -> tuple[float, float | None] | None:
    """Distribution-free interval for the q-th percentile from order statistics [x_(l), x_(u)].

    The percentile bootstrap cannot reach past the sample maximum, so for a tail percentile of a
    small sample it claims far more confidence than it has (about 65 % coverage for p95 of 20
    latencies). Here P(x_(l) <= true quantile <= x_(u)) = P(l <= B < u) for B ~ Binomial(n, q/100),
    which holds for any distribution. When even x_(n) is too low a bound (p95 needs 72 values),
    the upper end is None: unbounded. When even x_(1) is too high a bound, the lower end is 0 (the
    values are times, never negative). None for an empty sample."""
    x = sorted(float(v) for v in values)
    n = len(x)
    if n == 0:
        return None
    p, tail = q / 100.0, (1.0 - level) / 2.0
    cdf, acc = [], 0.0
    for k in range(n + 1):  # P(B <= k)
        acc += math.comb(n, k) * p ** k * (1.0 - p) ** (n - k)
        cdf.append(acc)
    lows = [l for l in range(1, n + 1) if cdf[l - 1] <= tail]
    highs = [u for u in range(1, n + 1) if cdf[u - 1] >= 1.0 - tail]
    lo = x[max(lows) - 1] if lows else 0.0
    hi = x[min(highs) - 1] if highs else None
    return lo, hi


def quantile_min_n(q: float, level: float = 0.95) -> int:
    """Fewest values for which the upper end of quantile_interval() exists: 1 - p^n >= 1 - tail."""
    p, tail = q / 100.0, (1.0 - level) / 2.0
    return max(1, math.ceil(math.log(tail) / math.log(p))) if 0 < p < 1 else 1


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for discordant counts ``b`` (A right, B wrong) and ``c``
    (B right, A wrong): ``min(1, 2 * P(X <= min(b, c)))`` with ``X ~ Binomial(b + c, 1/2)``.

    Returns 1.0 when ``b + c == 0`` (no discordant pair: no evidence either way).  Exact (not the
    chi-square approximation) because discordant counts on small suites are often single digits.
    """
    if b < 0 or c < 0:
        raise ValueError(f"counts must be >= 0, got b={b}, c={c}")
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    if abs(b - c) <= 1:
        # P(X <= floor(n/2)) >= 1/2 by symmetry, so the doubled tail is >= 1: exact answer, no rounding.
        return 1.0
    if n <= _MCNEMAR_EXACT_MAX:
        # Exact integer arithmetic: sum C(n, i) for i <= k, divided by 2^n.  int / int true division
        # is correctly rounded in Python even for huge operands, so nothing overflows.
        term, total = 1, 1
        for i in range(k):
            term = term * (n - i) // (i + 1)  # C(n, i+1) from C(n, i), stays an exact integer
            total += term
        tail = total / (1 << n)
    else:
        # log-space: log C(n, i) - n log 2, combined with a log-sum-exp.
        # log C(n, i) built by the same recurrence, as a cumulative sum (vectorised, no lgamma loop).
        i = np.arange(k, dtype=float)
        logs = np.concatenate(([0.0], np.cumsum(np.log(n - i) - np.log(i + 1)))) - n * math.log(2.0)
        m = float(logs.max())
        tail = math.exp(m + math.log(float(np.exp(logs - m).sum())))
    return min(1.0, 2.0 * tail)


@dataclass(frozen=True)
class Decision:
    """Outcome of one bar condition."""

    status: str            # "meets" | "fails" | "undecided"
    needed_n: int | None   # for "undecided": estimated suite size at which the interval would exclude
                           # the target; None when it cannot be estimated (estimate == target) or decided


def _sides(interval: tuple[float, float], op: str, target: float) -> tuple[bool, bool]:
    """(meets, fails) for an interval against ``op target``."""
    lo, hi = interval
    if op == ">=":
        return lo >= target, hi < target
    if op == ">":
        return lo > target, hi <= target
    if op == "<=":
        return hi <= target, lo > target
    return hi < target, lo >= target  # "<"


def decide(value: float, interval: tuple[float, float] | None, op: str, target: float, n: int,
           kind: str) -> Decision:
    """Decide one bar condition ``value op target`` (op in '>=', '<=', '>', '<') from its interval.

    meets: the whole interval is on the right side of the target; fails: the whole interval is on
    the wrong side; undecided otherwise -- the suite is too small to tell, and ``needed_n`` estimates
    how many items would tell.  A missing interval (a point measurement such as cost) is treated as
    ``[value, value]``.

    needed_n: for ``kind == 'rate'`` the smallest n with ``z*sqrt(t(1-t)/n) < |value - target|``,
    t the target (the Wald form with the score-test variance, which is exactly when the Wilson
    interval around an unchanged estimate stops covering the target; falls back to the estimate's
    variance, clamped off 0/1, when t is 0 or 1); for other kinds the interval's half-width (on the
    target's side) is scaled like ``1/sqrt(n)``: ``ceil(n * (half_width / |value - target|)**2)``.
    Never below ``n + 1``: the current n already failed to separate.  None when ``value == target``.
    """
    if op not in _OPS:
        raise ValueError(f"op must be one of {_OPS}, got {op!r}")
    iv = (float(value), float(value)) if interval is None else (float(interval[0]), float(interval[1]))
    if iv[0] > iv[1]:
        raise ValueError(f"interval lower bound above upper bound: {iv}")
    meets, fails = _sides(iv, op, target)
    if meets:
        return Decision("meets", None)
    if fails:
        return Decision("fails", None)

    gap = abs(value - target)
    if gap == 0:  # the estimate sits on the bar: no amount of data is predicted to move it off
        return Decision("undecided", None)
    if kind == "rate":
        # The Wilson interval is exactly the set of t with |p - t| <= z*sqrt(t(1-t)/n) (score test), so
        # with the estimate held fixed it stops covering the target once z^2 t(1-t)/n < gap^2.  This is
        # the Wald formula z*sqrt(v/n) < gap with the variance taken at the target instead of at p:
        # it is consistent with wilson() and gives a real answer for an observed 0/n or n/n, where
        # p(1-p) = 0 would claim n = 1 suffices.
        var = target * (1.0 - target)
        if var <= 0.0:
            # Target on the boundary (0 or 1): fall back to Wald with p clamped half an observation
            # away from 0/1.
            eps = 1.0 / (2 * max(n, 1))
            p = min(max(float(value), eps), 1.0 - eps)
            var = p * (1.0 - p)
        # z^2 var / n < gap^2  <=>  n > z^2 var / gap^2 ; smallest such integer
        needed = math.floor(Z95 * Z95 * var / (gap * gap)) + 1
    else:
        # Half-width on the side facing the target is what has to shrink below the gap.
        half = (iv[1] - value) if target > value else (value - iv[0])
        half = max(half, gap)  # undecided means the interval reaches the target, so half >= gap
        # round() first so float noise (0.7 - 0.65 = 0.04999999999999993) can't push an exact 960 to 961
        needed = math.ceil(round(max(n, 1) * (half / gap) ** 2, 6))
    return Decision("undecided", max(needed, n + 1))


def verdict(decisions: list[Decision]) -> tuple[str, int | None]:
    """Combine a rung's conditions: 'fails' if any fails, 'meets' if all meet, else 'inconclusive'
    with needed_n = max over the undecided ones (None if any undecided has None).

    Raises ValueError on an empty list: a bar with no conditions must not silently "meet".
    """
    if not decisions:
        raise ValueError("verdict needs at least one decision")
    if any(d.status == "fails" for d in decisions):
        return "fails", None
    if all(d.status == "meets" for d in decisions):
        return "meets", None
    needs = [d.needed_n for d in decisions if d.status == "undecided"]
    if any(x is None for x in needs):
        return "inconclusive", None
    return "inconclusive", max(needs)  # type: ignore[type-var]
