"""Intervals over replicates (abm/analysis/statistics.py)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from abm.analysis.statistics import mean_interval, percent_change_interval


def test_a_change_proportional_to_the_baseline_has_no_spread():
    base = np.array([60.0, 95.0, 70.0, 110.0, 80.0])
    pct, lo, hi = percent_change_interval(0.5 * base, base)
    assert math.isclose(pct, -50.0) and math.isclose(lo, -50.0) and math.isclose(hi, -50.0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 200), st.floats(1, 200)), min_size=2, max_size=20))
def test_the_change_is_the_mean_difference_over_the_baseline_mean_and_lies_in_its_interval(pairs):
    a, b = np.array(pairs).T
    pct, lo, hi = percent_change_interval(a, b)
    assert math.isclose(pct, 100 * (a - b).mean() / b.mean(), rel_tol=1e-9, abs_tol=1e-9)
    assert lo <= pct + 1e-9 and pct <= hi + 1e-9


def test_noisier_pairs_give_a_wider_interval_and_nan_pairs_are_left_out():
    rng = np.random.default_rng(3)
    base = rng.uniform(50, 100, 12)
    quiet = percent_change_interval(0.7 * base + rng.normal(0, 1, 12), base)
    loud = percent_change_interval(0.7 * base + rng.normal(0, 10, 12), base)
    assert (loud[2] - loud[1]) > (quiet[2] - quiet[1])
    with_nan = percent_change_interval(np.append(0.7 * base, np.nan), np.append(base, 80.0))
    assert np.allclose(with_nan, percent_change_interval(0.7 * base, base))
    assert all(math.isnan(v) for v in percent_change_interval(np.array([1.0, 2.0]), np.array([0.0, 0.0])))


def test_a_change_in_a_non_negative_measure_never_falls_below_minus_100_percent():
    # Two noisy pairs: the symmetric interval reaches far below -100%, but a mean of
    # rates cannot be negative. A measure that can be negative keeps the whole interval.
    base, arm = np.array([10.0, 100.0]), np.array([60.0, 0.0])
    pct, lo, hi = percent_change_interval(arm, base)
    assert lo == -100.0 and hi > 0 and lo <= pct
    shifted = percent_change_interval(arm - 1.0, base)
    assert shifted[1] < -100.0


def test_mean_interval_widens_with_fewer_replicates():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    m, lo, hi = mean_interval(x)
    m2, lo2, hi2 = mean_interval(np.tile(x, 4))
    assert m == m2 and (hi - lo) > (hi2 - lo2)


def test_t_quantiles_are_the_tabulated_values():
    from abm.analysis.statistics import t_quantile

    assert math.isclose(t_quantile(5), 2.5706, abs_tol=1e-4)
    assert math.isclose(t_quantile(30), 2.0423, abs_tol=1e-4)  # not 1.96
    assert math.isclose(t_quantile(10**6), 1.9600, abs_tol=1e-4)


def _reference_interval(num, den, resamples, seed, level=0.95):
    """The percentile interval of the ratio of means, resampling pairs by hand."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(num), (resamples, len(num)))
    n, d = num[picks].mean(axis=1), den[picks].mean(axis=1)
    ratios = np.where(d > 0, n / np.where(d > 0, d, 1), np.inf)
    return np.quantile(ratios, [(1 - level) / 2, (1 + level) / 2])


# Extra cost and homicides averted of 12 paired replicates (a made-up but typical sample).
COST = np.array([41e3, 55e3, 38e3, 62e3, 47e3, 51e3, 35e3, 58e3, 44e3, 49e3, 60e3, 40e3])
AVERTED = np.array([1.2, 0.8, 1.5, 0.6, 1.1, 0.9, 1.4, 0.7, 1.0, 1.3, 0.5, 1.6])


def test_the_bootstrap_interval_agrees_with_a_reference_and_is_reproducible():
    from abm.analysis.statistics import bootstrap_ratio_interval

    low, high = bootstrap_ratio_interval(COST, AVERTED, seed=7, resamples=20_000)
    ref_low, ref_high = _reference_interval(COST, AVERTED, 20_000, seed=99)
    estimate = COST.mean() / AVERTED.mean()
    assert low < estimate < high
    # Two independent sets of 20,000 resamples: the limits agree to Monte Carlo error.
    assert math.isclose(low, ref_low, rel_tol=0.02) and math.isclose(high, ref_high, rel_tol=0.02)
    assert bootstrap_ratio_interval(COST, AVERTED, seed=7) == bootstrap_ratio_interval(COST, AVERTED, seed=7)
    assert bootstrap_ratio_interval(COST, AVERTED, seed=7) != bootstrap_ratio_interval(COST, AVERTED, seed=8)


def test_resamples_that_avert_nothing_make_the_upper_limit_infinite():
    from abm.analysis.statistics import bootstrap_ratio_interval

    averted = np.array([3.0, -2.0, 4.0, -1.0, 0.5, 1.0])  # mean 0.92: often not positive when resampled
    cost = np.array([1e5, 2e5, 1.5e5, 0.5e5, 1e5, 1.2e5])
    low, high = bootstrap_ratio_interval(cost, averted, seed=1)
    assert math.isfinite(low) and high == math.inf
    # A ratio that is the same in every pair has no spread: the interval is that ratio.
    low, high = bootstrap_ratio_interval(3 * AVERTED, AVERTED, seed=1)
    assert math.isclose(low, 3.0) and math.isclose(high, 3.0)


def test_degenerate_samples_give_nan_without_warnings(recwarn):
    from abm.analysis.statistics import bootstrap_ratio_interval

    cases = [
        (COST[:1], AVERTED[:1]),                   # one pair
        (COST, np.zeros_like(AVERTED)),            # nothing averted on average
        (COST, -AVERTED),                          # more homicides, not fewer
        (np.full(5, 4e4), np.full(5, 1.0)),        # all pairs equal
        (np.array([np.nan, 1.0]), np.array([1.0, np.nan])),  # no complete pair
    ]
    for num, den in cases:
        assert all(math.isnan(v) for v in bootstrap_ratio_interval(num, den, seed=1))
    assert len(recwarn) == 0
    # Pairs with a NaN are left out.
    with_nan = bootstrap_ratio_interval(np.append(COST, np.nan), np.append(AVERTED, 1.0), seed=3)
    assert with_nan == bootstrap_ratio_interval(COST, AVERTED, seed=3)
