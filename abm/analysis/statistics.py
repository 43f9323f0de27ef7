"""Intervals and statistics over replicates: Student-t intervals of a mean, paired
differences between arms, and bootstrap intervals of a ratio of means.

Quantiles come from ``scipy.stats``. Every function ignores NaN where it says so and
draws random numbers only from a generator seeded by its caller.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

LEVEL = 0.95


def t_quantile(df: int, level: float = LEVEL) -> float:
    """The two-sided Student-t quantile for ``df`` degrees of freedom (1.96 as df grows)."""
    return float(stats.t.ppf(0.5 + level / 2, df))


def half_width(sd: np.ndarray | float, n: int, level: float = LEVEL) -> np.ndarray | float:
    """Half-width of the ``level`` interval of a mean of ``n`` values with standard deviation ``sd``."""
    return t_quantile(n - 1, level) * sd / math.sqrt(n)


def mean_interval(values, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and ``level`` interval of the mean (Student t), ignoring NaN.

    NaN for the interval with fewer than two values; all NaN with none.
    """
    x = np.array([v for v in values if not (isinstance(v, float) and math.isnan(v))], dtype=float)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if len(x) < 2:
        return m, math.nan, math.nan
    half = float(half_width(float(x.std(ddof=1)), len(x), level))
    return m, m - half, m + half


def paired_differences(arm: dict, baseline: dict, value) -> tuple[np.ndarray, np.ndarray]:
    """Values of an arm and of the baseline on the keys they share (replicate, design
    point), in key order: ``value(row)`` of each. Their difference is the paired change."""
    keys = sorted(set(arm) & set(baseline))
    return (np.array([value(arm[k]) for k in keys], dtype=float),
            np.array([value(baseline[k]) for k in keys], dtype=float))


def percent_change_interval(arm: np.ndarray, base: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Change of the arm's mean against the baseline's, in %, with its ``level`` interval.

    The change is ``100 (R - 1)`` with ``R = mean(arm) / mean(base)`` over the pairs
    where both are numbers (equal to the mean paired difference over the baseline
    mean). Its interval is the delta-method interval of a ratio of paired means:
    ``se(R) = sd(arm - R base) / (sqrt(n) mean(base))`` with a Student t quantile on
    ``n - 1`` degrees of freedom. Unlike scaling the interval of the differences by a
    fixed baseline mean, it carries the uncertainty of the baseline mean, and a
    change proportional to the baseline level (a policy that removes a share of
    violence) does not inflate it. NaN with fewer than two pairs or a baseline mean <= 0.
    """
    a, b = np.asarray(arm, dtype=float), np.asarray(base, dtype=float)
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok], b[ok]
    if len(a) == 0 or b.mean() <= 0:
        return math.nan, math.nan, math.nan
    ratio = a.mean() / b.mean()
    if len(a) < 2:
        return 100 * (ratio - 1), math.nan, math.nan
    se = float(np.std(a - ratio * b, ddof=1)) / (math.sqrt(len(a)) * b.mean())
    half = t_quantile(len(a) - 1, level) * se
    return 100 * (ratio - 1), 100 * (ratio - half - 1), 100 * (ratio + half - 1)


def bootstrap_ratio_interval(num: np.ndarray, den: np.ndarray, seed: int, resamples: int = 2000,
                             level: float = LEVEL) -> tuple[float, float]:
    """Interval of ``mean(num) / mean(den)`` by the paired bootstrap (pairs resampled).

    Resamples whose denominator is not positive count as an infinite ratio, and the
    quantiles are taken without interpolation (between inf and a number it gives NaN).
    """
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(num), (resamples, len(num)))
    n, d = num[picks].mean(axis=1), den[picks].mean(axis=1)
    ratios = np.where(d > 0, n / np.where(d > 0, d, 1), np.inf)
    tail = (1 - level) / 2
    low, high = np.quantile(ratios, [tail, 1 - tail], method="inverted_cdf")
    return float(low), float(high)
