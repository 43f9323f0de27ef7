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
