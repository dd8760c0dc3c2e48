import math
from fractions import Fraction

import numpy as np
import pytest

from adapt.eval.stats import (Z95, Decision, bootstrap, decide, mcnemar_exact, percentile_interval, verdict,
                              wilson)


# ---------------------------------------------------------------- Wilson

def _wilson_by_quadratic(k, n, z=Z95):
    """Independent form: the Wilson bounds are the roots t of (p - t)^2 = z^2 t (1 - t) / n."""
    p = k / n
    a = 1 + z * z / n
    b = -(2 * p + z * z / n)
    c = p * p
    disc = math.sqrt(b * b - 4 * a * c)
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


# Textbook / statsmodels proportion_confint(method="wilson") values, 4 decimals.
@pytest.mark.parametrize("k,n,lo,hi", [
    (0, 10, 0.0, 0.2775),
    (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0),
    (30, 100, 0.2189, 0.3958),
])
def test_wilson_known_values(k, n, lo, hi):
    got = wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)
    assert got == pytest.approx(_wilson_by_quadratic(k, n), abs=1e-12)


def test_wilson_edges_and_clamping():
    assert wilson(0, 0) is None
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0      # pinned exactly, not 1e-17 off
    # 0/n upper bound is z^2 / (n + z^2) in closed form
    assert wilson(0, 50)[1] == pytest.approx(Z95 ** 2 / (50 + Z95 ** 2), rel=1e-12)
    for k in range(0, 61):
        lo, hi = wilson(k, 60)
        assert 0.0 <= lo <= k / 60 <= hi <= 1.0
    # narrower with more data, wider with a bigger z
    assert np.diff(wilson(30, 100)) > np.diff(wilson(300, 1000))
    assert np.diff(wilson(30, 100, z=2.5758)) > np.diff(wilson(30, 100))
    with pytest.raises(ValueError):
        wilson(11, 10)
    with pytest.raises(ValueError):
        wilson(-1, 10)


def test_wilson_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    if not hasattr(stats, "binomtest"):
        pytest.skip("scipy too old for binomtest")
    for k, n in [(0, 10), (1, 60), (7, 60), (30, 100), (81, 100), (999, 1000), (1000, 1000)]:
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-9)


# ---------------------------------------------------------------- bootstrap

def test_bootstrap_deterministic_and_seed_sensitive():
    x = np.random.default_rng(7).normal(10, 2, size=80)
    a = bootstrap(x, np.mean, seed=3)
    assert a == bootstrap(list(x), np.mean, seed=3)          # same seed -> identical, list or array
    assert a != bootstrap(x, np.mean, seed=4)
    assert bootstrap([1.0], np.mean) is None and bootstrap([], np.mean) is None


def test_bootstrap_coverage_sanity():
    x = np.random.default_rng(11).normal(0, 1, size=400)
    lo, hi = bootstrap(x, np.mean)
    assert lo < x.mean() < hi
    # close to the normal-theory interval mean +- 1.96 s / sqrt(n) for a large normal sample
    half = Z95 * x.std(ddof=1) / math.sqrt(len(x))
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.1)
    assert lo == pytest.approx(x.mean() - half, abs=0.2 * half)
    # smaller sample -> wider; lower level -> narrower
    lo20, hi20 = bootstrap(x[:20], np.mean)
    assert hi20 - lo20 > 2 * (hi - lo)
    lo80, hi80 = bootstrap(x, np.mean, level=0.80)
    assert lo < lo80 < hi80 < hi


def test_bootstrap_of_binary_rate_is_near_wilson():
    x = np.array([1.0] * 30 + [0.0] * 70)
    lo, hi = bootstrap(x, np.mean, n_boot=4000)
    wlo, whi = wilson(30, 100)
    assert lo == pytest.approx(wlo, abs=0.03) and hi == pytest.approx(whi, abs=0.03)


def test_bootstrap_constant_data_and_bad_args():
    assert bootstrap([2.5] * 10, np.mean) == (2.5, 2.5)
    with pytest.raises(ValueError):
        bootstrap([1, 2, 3], np.mean, level=1.5)
    with pytest.raises(ValueError):
        bootstrap([1, 2, 3], np.mean, n_boot=0)


def test_percentile_interval():
    lat = np.random.default_rng(5).lognormal(0, 0.5, size=200)
    lo, hi = percentile_interval(lat, 95)
    assert lo <= np.percentile(lat, 95) <= hi
    assert lat.min() <= lo < hi <= lat.max()
    # it is exactly the bootstrap of np.percentile with numpy's default (linear) interpolation
    assert (lo, hi) == bootstrap(lat, lambda a: float(np.percentile(a, 95)), seed=0)
    assert percentile_interval(lat, 50, seed=1) == percentile_interval(lat, 50, seed=1)
    assert percentile_interval([3.0], 95) is None
    with pytest.raises(ValueError):
        percentile_interval(lat, 101)


# ---------------------------------------------------------------- McNemar

def _mcnemar_by_sum(b, c):
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(Fraction(math.comb(n, i), 2 ** n) for i in range(min(b, c) + 1))
    return float(min(Fraction(1), 2 * tail))


def test_mcnemar_known_values():
    assert mcnemar_exact(0, 6) == 0.03125                      # 2 / 2^6
    assert mcnemar_exact(1, 9) == 0.021484375                  # 2 * 11 / 2^10
    assert mcnemar_exact(6, 0) == 0.03125                      # symmetric
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0 and mcnemar_exact(5, 6) == 1.0
    assert mcnemar_exact(0, 5) == 0.0625                       # 5 discordant all one way: not < 0.05


@pytest.mark.parametrize("b", range(0, 25, 3))
@pytest.mark.parametrize("c", range(0, 25, 4))
def test_mcnemar_matches_direct_binomial_sum(b, c):
    assert mcnemar_exact(b, c) == pytest.approx(_mcnemar_by_sum(b, c), rel=1e-14)


def test_mcnemar_large_counts_do_not_overflow():
    # exact-integer branch, 2^2000 would overflow a float
    assert mcnemar_exact(900, 1100) == pytest.approx(_mcnemar_by_sum(900, 1100), rel=1e-12)
    # log-space branch (b + c above the exact cut-off)
    p = mcnemar_exact(30000, 31000)
    assert 0.0 < p < 1e-3
    assert mcnemar_exact(40000, 40000) == 1.0
    assert mcnemar_exact(0, 50000) == 0.0                      # underflows to 0, no exception


def test_mcnemar_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    for b, c in [(3, 12), (40, 61), (200, 260), (9800, 10200)]:
        assert mcnemar_exact(b, c) == pytest.approx(stats.binomtest(min(b, c), b + c, 0.5).pvalue, rel=1e-9)
    # log-space branch against the regularised incomplete beta
    assert mcnemar_exact(30000, 31000) == pytest.approx(2 * stats.binom.cdf(30000, 61000, 0.5), rel=1e-8)


def test_mcnemar_rejects_negative():
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 3)


# ---------------------------------------------------------------- decide

T = 0.5


@pytest.mark.parametrize("op,interval,status", [
    (">=", (0.50, 0.70), "meets"),       # lo == target meets for >=
    (">=", (0.49, 0.70), "undecided"),
    (">=", (0.30, 0.49), "fails"),
    (">=", (0.30, 0.50), "undecided"),   # hi == target is not strictly below
    (">", (0.51, 0.70), "meets"),
    (">", (0.50, 0.70), "undecided"),    # lo == target does not meet a strict >
    (">", (0.30, 0.50), "fails"),        # hi == target fails a strict >
    (">", (0.30, 0.51), "undecided"),
    ("<=", (0.30, 0.50), "meets"),
    ("<=", (0.30, 0.51), "undecided"),
    ("<=", (0.51, 0.70), "fails"),
    ("<=", (0.50, 0.70), "undecided"),
    ("<", (0.30, 0.49), "meets"),
    ("<", (0.30, 0.50), "undecided"),
    ("<", (0.50, 0.70), "fails"),
    ("<", (0.49, 0.70), "undecided"),
])
def test_decide_each_op(op, interval, status):
    value = sum(interval) / 2
    d = decide(value, interval, op, T, 100, "mean")
    assert d.status == status
    assert (d.needed_n is None) == (status != "undecided")


@pytest.mark.parametrize("value,op,status", [
    (0.3, "<=", "meets"), (0.6, "<=", "fails"), (0.5, "<=", "meets"), (0.5, "<", "fails"),
    (0.5, ">=", "meets"), (0.5, ">", "fails"), (0.7, ">", "meets"), (0.2, ">=", "fails"),
])
def test_decide_point_measurement(value, op, status):
    # a missing interval (e.g. cost) is [value, value]: always decided
    assert decide(value, None, op, T, 0, "cost") == Decision(status, None)


def test_decide_rejects_bad_input():
    with pytest.raises(ValueError):
        decide(0.5, (0.4, 0.6), "==", 0.5, 10, "rate")
    with pytest.raises(ValueError):
        decide(0.5, (0.6, 0.4), ">=", 0.5, 10, "rate")


def test_needed_n_rate_p045_vs_050():
    n = 100
    d = decide(0.45, wilson(45, n), ">=", 0.5, n, "rate")
    assert d.status == "undecided"
    # z^2 * 0.25 / 0.05^2 = 384.1 -> 385 (Wald with p(1-p) would give 381): "roughly 380"
    assert d.needed_n == 385
    assert 370 <= d.needed_n <= 400


@pytest.mark.parametrize("k,n,op,target", [
    (45, 100, ">=", 0.5), (52, 60, ">=", 0.9), (0, 10, "<=", 0.1), (10, 10, ">=", 0.8),
    (1, 60, "<=", 0.05), (170, 200, ">", 0.8),
])
def test_needed_n_rate_is_where_wilson_stops_covering(k, n, op, target):
    p = k / n
    d = decide(p, wilson(k, n), op, target, n, "rate")
    assert d.status == "undecided" and d.needed_n > n

    def covers(m):  # Wilson interval of the same estimate at suite size m, k allowed fractional
        lo, hi = _wilson_by_quadratic(p * m, m)
        return lo <= target <= hi

    assert not covers(d.needed_n)        # the estimate held, this many items decides it
    assert covers(d.needed_n - 1)        # and it is the smallest such size
    if k in (0, n):
        assert d.needed_n > n + 1        # 0/n or n/n still yields a real answer, not n = 1


def test_needed_n_rate_target_on_boundary_and_on_target():
    # target 1.0: variance from the estimate clamped off 0/1 -- finite and > n
    d = decide(0.98, (0.9, 1.0), "<", 1.0, 50, "rate")
    assert d.status == "undecided" and d.needed_n is not None and d.needed_n > 50
    # estimate exactly on the target: no estimate possible
    assert decide(0.5, wilson(50, 100), ">=", 0.5, 100, "rate") == Decision("undecided", None)
    assert decide(0.5, wilson(50, 100), "<", 0.5, 100, "rate") == Decision("undecided", None)
    assert decide(0.5, (0.4, 0.6), "<=", 0.5, 100, "f1") == Decision("undecided", None)


def test_needed_n_other_kinds_scales_with_inverse_square_root():
    # half-width 2 toward the target, gap 1 -> (2/1)^2 = 4x the items
    d = decide(10.0, (8.0, 12.0), "<=", 11.0, 100, "latency")
    assert d == Decision("undecided", 400)
    # asymmetric interval: only the side facing the target matters
    d = decide(0.70, (0.50, 0.75), ">=", 0.65, 60, "f1")       # lower half 0.20, gap 0.05 -> 16x
    assert d == Decision("undecided", 960)
    d = decide(0.60, (0.50, 0.75), ">=", 0.65, 60, "f1")       # upper half 0.15, gap 0.05 -> 9x
    assert d == Decision("undecided", 540)
    # rounded up
    d = decide(1.0, (0.0, 2.5), "<=", 2.0, 10, "latency")      # 10 * 1.5^2 = 22.5 -> 23
    assert d.needed_n == 23
    # interval ends exactly on the target of a strict '>': the formula says n, but n did not decide it
    assert decide(0.6, (0.5, 0.7), ">", 0.5, 80, "f1") == Decision("undecided", 81)


# ---------------------------------------------------------------- verdict

M, F = Decision("meets", None), Decision("fails", None)


def test_verdict_combination():
    assert verdict([M, M]) == ("meets", None)
    assert verdict([M, F]) == ("fails", None)
    assert verdict([Decision("undecided", None), F]) == ("fails", None)   # a fail is a fail
    assert verdict([M, Decision("undecided", 381), Decision("undecided", 90)]) == ("inconclusive", 381)
    assert verdict([Decision("undecided", 381), Decision("undecided", None)]) == ("inconclusive", None)
    with pytest.raises(ValueError):
        verdict([])


def test_end_to_end_two_conditions():
    # correct_rate 52/60 vs >= 0.8 and p95 latency vs <= 3.0 s
    lat = np.random.default_rng(2).gamma(4.0, 0.25, size=60)     # mean 1 s, p95 ~ 1.9 s
    conds = [
        decide(52 / 60, wilson(52, 60), ">=", 0.8, 60, "rate"),
        decide(float(np.percentile(lat, 95)), percentile_interval(lat, 95), "<=", 3.0, 60, "latency"),
    ]
    status, needed = verdict(conds)
    assert conds[0].status == "undecided" and conds[1].status == "meets"
    assert status == "inconclusive" and needed == conds[0].needed_n > 60


def test_quantile_interval_covers_a_tail_percentile_where_the_bootstrap_does_not():
    """Why latency percentiles get order-statistic intervals: on 20 skewed latencies the percentile
    bootstrap's 95 % interval for p95 misses the true p95 most of the time (it never reaches past the
    sample maximum); the order-statistic interval is unbounded above until it can keep its promise."""
    from adapt.eval.stats import percentile_interval, quantile_interval, quantile_min_n

    rng = np.random.default_rng(7)
    true_p95, true_p50 = float(np.exp(1.6448536 * 0.5)), 1.0  # lognormal(0, 0.5)
    boot = order95 = order50 = 0
    trials = 100
    for _ in range(trials):
        x = rng.lognormal(0.0, 0.5, 20)
        lo, hi = percentile_interval(x, 95, seed=1)
        boot += lo <= true_p95 <= hi
        lo, hi = quantile_interval(x, 95)
        order95 += lo <= true_p95 and (hi is None or true_p95 <= hi)
        lo, hi = quantile_interval(x, 50)
        order50 += lo <= true_p50 <= hi
    assert boot / trials < 0.8
    assert order95 / trials >= 0.95 and order50 / trials >= 0.93
    assert quantile_interval(list(range(20)), 95)[1] is None and quantile_min_n(95) == 72
    assert quantile_interval(list(range(100)), 95)[1] is not None
