"""Random streams: one generator per mechanism and decision, derived from the run's seed.

Every random number of a run comes from a generator keyed by the run's seed, the name
of the decision that draws it (``"joining"``, ``"patrol"``, ...) and, for weekly
decisions, the week. Keys are hashed into numpy's ``SeedSequence`` spawn key, so a
stream does not depend on which other streams were made before it, or in what order.

What this buys is common random numbers across the arms of an experiment. When a
policy changes how many numbers one mechanism draws in a week, no other mechanism's
numbers move, and the same mechanism's numbers are back in step the next week.
Within a decision, draws are laid out per person (one uniform per youth slot, whether
or not that youth is a candidate this week), per block or per officer, so that a
change for one person does not shift the draws of another. Discrete counts are drawn
by inverting their distribution function at one uniform per unit
(:func:`poisson`, :func:`binomial`): a small change of a block's rate changes its
count only when the rate crosses that block's uniform.
"""

from __future__ import annotations

import zlib
from statistics import NormalDist

import numpy as np


# Above these, counts come from a table of the whole distribution function (exact;
# fine for the few large counts of a week, such as sentence lengths); beyond the
# table's reach, from the normal approximation.
LARGE = 30.0
LARGE_TRIALS = 50
TABLE_MAX = 20_000
MAX_COUNT = 2**62
# Tables are built for this many cells (units x counts) at a time, at most (32 MB).
TABLE_CELLS = 4_000_000
# The largest rate and number of trials counts are drawn at. No weekly count of a city
# of at most five million people comes near it: a larger one is a runaway scenario or
# a bug, and its counts would take memory and time without end. Rates that are not
# finite or are negative, and chances outside 0-1, are refused too.
MAX_RATE = 1e9
_LOG_FACTORIAL = np.zeros(1)


def log_factorial(k: np.ndarray) -> np.ndarray:
    """log(k!) for whole numbers ``k`` (a table grown as needed)."""
    global _LOG_FACTORIAL
    top = int(np.max(k, initial=0))
    if top >= len(_LOG_FACTORIAL):
        size = max(top + 1, 2 * len(_LOG_FACTORIAL))
        _LOG_FACTORIAL = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, size)))])
    return _LOG_FACTORIAL[k]


def _invert_table(u: np.ndarray, log_pmf: np.ndarray) -> np.ndarray:
    """The smallest k whose distribution function reaches u, from a table of log pmf
    (one row per unit, one column per count)."""
    cdf = np.cumsum(np.exp(log_pmf), axis=1)
    return np.minimum((cdf < u[:, None]).sum(axis=1), log_pmf.shape[1] - 1)


def _normal_quantile(u: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    z = np.array([NormalDist().inv_cdf(min(max(x, 1e-300), 1 - 1e-16)) for x in u.tolist()])
    return np.clip(np.floor(mean + sd * z + 0.5), 0, MAX_COUNT).astype(np.int64)


def name_key(name: str) -> int:
    """A stable 32-bit number for a stream name (the same in every process)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """The random streams of one run, all derived from ``seed``.

    ``streams.get("joining", week)`` is the generator of the joining decision in that
    week; calling it twice with the same key gives two generators in the same state.
    """

    def __init__(self, seed: int):
        if seed < 0:
            raise ValueError(f"seed must be >= 0 (got {seed})")
        self.seed = int(seed)

    def get(self, name: str, *key: int) -> np.random.Generator:
        sequence = np.random.SeedSequence(self.seed, spawn_key=(name_key(name), *(int(k) for k in key)))
        return np.random.Generator(np.random.PCG64(sequence))


def poisson(u: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Poisson counts at ``rate``, one per uniform in ``u`` (inverse distribution function).

    Small rates (the weekly rates of confrontations and stops) sum the distribution
    count by count, stopping as soon as every unit is placed; rates above ``LARGE``
    (sentence lengths) invert a table of the whole distribution, a block of units at a
    time. A rate that is not finite, is negative or exceeds :data:`MAX_RATE` is refused
    (ValueError) rather than drawn.
    """
    u = np.asarray(u, dtype=float)
    rate = np.broadcast_to(np.asarray(rate, dtype=float), u.shape)
    refuse_bad("poisson", "rate", rate, MAX_RATE)
    k = np.zeros(u.shape, dtype=np.int64)
    large = rate > LARGE
    if large.any():
        k[large] = _poisson_large(u[large], rate[large])
    pmf = np.where(large, 0.0, np.exp(-rate))
    cdf = pmf.copy()
    todo = np.flatnonzero(~large & (u > cdf))
    n = 0
    while len(todo):
        n += 1
        pmf_t = pmf[todo] * rate[todo] / n
        cdf_t = cdf[todo] + pmf_t
        # Far in the tail the sum stops growing in floating point; stop there.
        stuck = cdf_t <= cdf[todo]
        pmf[todo], cdf[todo] = pmf_t, cdf_t
        k[todo] = n
        todo = todo[(u[todo] > cdf_t) & ~stuck]
    return k


def binomial(u: np.ndarray, trials: np.ndarray, p: float | np.ndarray) -> np.ndarray:
    """Binomial counts of ``trials`` with success chance ``p``, one per uniform in ``u``
    (inverse distribution function). Trials above :data:`MAX_RATE` and chances that are
    not in 0-1 are refused (ValueError)."""
    trials = np.asarray(trials, dtype=np.int64)
    u = np.asarray(u, dtype=float)
    p = np.broadcast_to(np.asarray(p, dtype=float), trials.shape)
    refuse_bad("binomial", "trials", trials, MAX_RATE)
    refuse_bad("binomial", "chance", p, 1.0)
    k = np.zeros(trials.shape, dtype=np.int64)
    certain = p >= 1.0
    k[certain] = trials[certain]
    live = ~certain & (p > 0) & (trials > 0)
    large = live & (trials > LARGE_TRIALS)
    if large.any():
        k[large] = _binomial_large(u[large], trials[large], p[large])
        live &= ~large
    idx = np.flatnonzero(live)
    if len(idx) == 0:
        return k
    n, q = trials[idx], p[idx]
    pmf = (1 - q) ** n
    cdf = pmf.copy()
    odds = q / (1 - q)
    j = 0
    todo = np.flatnonzero(u[idx] > cdf)
    while len(todo):
        j += 1
        pmf[todo] = pmf[todo] * (n[todo] - j + 1) / j * odds[todo]
        cdf[todo] += pmf[todo]
        k[idx[todo]] = j
        todo = todo[(u[idx[todo]] > cdf[todo]) & (j < n[todo])]
    return k


class RateError(ValueError, FloatingPointError):
    """A rate, number of trials or chance no count can be drawn at. A ValueError (a
    bad argument) and a FloatingPointError (a run whose numbers went wrong), which is
    what the command line reports as a failed run."""


def refuse_bad(sampler: str, what: str, values: np.ndarray, limit: float) -> None:
    """A :class:`RateError` naming the first value a count cannot be drawn at: not
    finite, negative, or above ``limit``."""
    bad = ~np.isfinite(values) | (values < 0) | (values > limit)
    if bad.any():
        value = float(np.asarray(values)[bad].flat[0])
        raise RateError(f"{sampler}: cannot draw a count at {what} {value!r}: it must be finite, "
                         f">= 0 and at most {limit:g}")


def _rows(n_rows: int, n_cols: int):
    """Slices of rows of a table with at most :data:`TABLE_CELLS` cells each."""
    step = max(1, TABLE_CELLS // max(n_cols, 1))
    return (slice(i, i + step) for i in range(0, n_rows, step))


def _poisson_large(u: np.ndarray, rate: np.ndarray) -> np.ndarray:
    out = np.empty(len(u), dtype=np.int64)
    table = rate <= TABLE_MAX
    if table.any():
        lam, u_t = rate[table], u[table]
        top = int(np.ceil(lam.max() + 12 * np.sqrt(lam.max()) + 12))
        ks = np.arange(top + 1)
        log_fact = log_factorial(ks)[None, :]
        counts = np.empty(len(lam), dtype=np.int64)
        for rows in _rows(len(lam), len(ks)):
            log_pmf = ks[None, :] * np.log(lam[rows])[:, None] - lam[rows][:, None] - log_fact
            counts[rows] = _invert_table(u_t[rows], log_pmf)
        out[table] = counts
    if (~table).any():
        out[~table] = _normal_quantile(u[~table], rate[~table], np.sqrt(rate[~table]))
    return out


def _binomial_large(u: np.ndarray, trials: np.ndarray, p: np.ndarray) -> np.ndarray:
    out = np.empty(len(u), dtype=np.int64)
    table = trials <= TABLE_MAX
    if table.any():
        n_all, q_all, u_t = trials[table], p[table], u[table]
        ks = np.arange(int(n_all.max()) + 1)
        counts = np.empty(len(n_all), dtype=np.int64)
        for rows in _rows(len(n_all), len(ks)):
            n, q = n_all[rows], q_all[rows]
            with np.errstate(divide="ignore", invalid="ignore"):
                log_pmf = (
                    log_factorial(n)[:, None] - log_factorial(ks)[None, :]
                    - log_factorial(np.maximum(n[:, None] - ks[None, :], 0))
                    + ks[None, :] * np.log(q)[:, None] + (n[:, None] - ks[None, :]) * np.log1p(-q)[:, None]
                )
            log_pmf = np.where(ks[None, :] <= n[:, None], log_pmf, -np.inf)
            counts[rows] = _invert_table(u_t[rows], log_pmf)
        out[table] = counts
    if (~table).any():
        n, q = trials[~table], p[~table]
        out[~table] = np.minimum(_normal_quantile(u[~table], n * q, np.sqrt(n * q * (1 - q))), n)
    return out
