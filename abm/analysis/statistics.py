"""Intervals and statistics over replicates: Student-t intervals of a mean, paired
differences between arms, and bootstrap intervals of a ratio of means.

Quantiles and the bootstrap come from ``scipy.stats``. Every function ignores NaN where
it says so and draws random numbers only from a generator seeded by its caller.
"""

from __future__ import annotations

import math
import warnings

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
    violence) does not inflate it. The interval is symmetric and can reach below -100%
    with few, noisy pairs; when no arm value is negative (a rate, a count, a share) the
    mean ratio cannot be, and the lower limit is cut at -100%. NaN with fewer than two
    pairs or a baseline mean <= 0.
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
    low = ratio - half
    if a.min() >= 0:
        low = max(low, 0.0)
    return 100 * (ratio - 1), 100 * (low - 1), 100 * (ratio + half - 1)


def bootstrap_ratio_interval(num: np.ndarray, den: np.ndarray, seed: int, resamples: int = 2000,
                             level: float = LEVEL) -> tuple[float, float]:
    """The ``level`` interval of ``mean(num) / mean(den)`` by the paired bootstrap.

    Pairs ``(num[i], den[i])`` (one per replicate) are resampled together with
    :func:`scipy.stats.bootstrap` (``paired=True``, the ratio computed for all
    resamples at once), drawing from ``numpy.random.default_rng(seed)``: the same seed
    gives the same interval. A resample whose mean denominator is not positive (one
    that, for the cost per homicide averted, averts nothing) has an infinite ratio.

    The method is the percentile interval (the ``(1 - level) / 2`` and
    ``(1 + level) / 2`` quantiles of the resampled ratios), not scipy's default BCa
    or the basic interval. The ratio is unbounded: when the denominator's mean is
    near zero some resamples are infinite, and only an interval read off the ordered
    resamples keeps a meaning then (an infinite upper limit: the data cannot rule out
    that nothing is averted). BCa's jackknife acceleration is undefined as soon as
    leaving one pair out gives an infinite ratio, and the basic interval reflects the
    quantiles about the estimate (``2 R - q``), which turns an infinite upper quantile
    into an infinitely negative lower limit. The percentile interval also carries
    over to monotone transformations of the ratio (up to interpolation between
    neighbouring resamples): its reciprocal, homicides averted per dollar, has the
    reciprocal limits when costs are positive. It is only first-order accurate: with
    few replicates it tends to be too narrow.

    Pairs where either value is NaN are left out. NaN, NaN when there are fewer than
    two pairs, when ``mean(den)`` is not positive (the ratio itself is undefined), or
    when all pairs are equal (there is no spread between replicates to resample).
    """
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    ok = ~(np.isnan(num) | np.isnan(den))
    num, den = num[ok], den[ok]
    if len(num) < 2 or den.mean() <= 0 or (np.ptp(num) == 0 and np.ptp(den) == 0):
        return math.nan, math.nan
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"), warnings.catch_warnings():
        # Infinite resamples make scipy's standard error NaN, and its quantile NaN
        # when it falls exactly on an order statistic next to an infinite one (0 x inf).
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap((num, den), _ratio_of_means, paired=True, vectorized=True,
                                 n_resamples=resamples, confidence_level=level, method="percentile",
                                 rng=np.random.default_rng(seed))
    interval = result.confidence_interval
    # Such a NaN limit touches the infinite resamples: take it as infinite (wider).
    return tuple(math.inf if math.isnan(v) else float(v) for v in (interval.low, interval.high))


def _ratio_of_means(num: np.ndarray, den: np.ndarray, axis: int = -1) -> np.ndarray:
    """``mean(num) / mean(den)`` along ``axis``; infinite where ``mean(den) <= 0``."""
    n, d = np.mean(num, axis=axis), np.mean(den, axis=axis)
    positive = d > 0
    return np.where(positive, n / np.where(positive, d, 1.0), np.inf)
