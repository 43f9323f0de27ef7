"""Sobol indices from an emulator: a Gaussian process fitted to an experiment's runs.

Saltelli's estimators (:mod:`abm.analysis.sensitivity`) use each run once, in the
pairs of rows they were sampled for, and with one replicate per point the chance
between seeds adds to every factor's total index alike. An emulator, a statistical
model of the simulation's mean output over the parameters (Oakley & O'Hagan 2004;
Marrel et al. 2009), learns from all the runs together and costs nothing to
evaluate, so the indices can be computed from as many evaluations as needed. The
Gaussian process here has a squared-exponential kernel with one length per
parameter (no shorter than ``LENGTH_MIN`` of its range) and a white-noise term: the
noise term takes up the spread between seeds at one point, so the indices are those
of the mean output, and ``noise_share`` estimates the share of the outputs' variance
that is chance. In a sparse design (a hundred points in forty dimensions) chance and
signal cannot be told apart, and part of chance stays in the mean.

How sure: the process is fitted again, hyperparameters included, to half-samples of
the design points (a delete-half jackknife, Shao & Wu 1989; resampling the points
as in Storlie et al. 2009, but without the repeated points of a bootstrap, which a
process would take for replicates without chance); every resample draws its own
Monte Carlo sample, so the intervals hold the emulator's uncertainty, its kernel's
and the Monte Carlo error. The groups' indices of one resample share its fit and
sample, so ``ST_above`` and ``ST_leading`` read paired differences exactly as for
Saltelli's estimators.

How good: ``Q2`` is the share of the output's variance that the emulator predicts
at points it was not fitted to (5-fold cross-validation); it cannot exceed
1 - ``noise_share``, as chance cannot be predicted. Indices of an emulator with a
low ``Q2`` describe the emulator more than the model: below ``Q2_RANKS`` (0.5) no
factor is ranked above another.

Writes ``sensitivity_emulator.csv`` (arm, output, parameter, method, S1, S1_conf, ST,
ST_conf, ST_above, ST_leading, Q2, noise_share) and ``sensitivity_emulator.png``.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from abm.analysis.comparison import read_runs
from abm.analysis.sensitivity import EFFECT, LEVEL, RELATIVE, effect_series, leading, ranked_above
from abm.io import write_csv

if TYPE_CHECKING:
    from abm.sweep.design import Design
    from abm.sweep.experiment import Experiment

COLUMNS = ("arm", "output", "parameter", "method", "S1", "S1_conf", "ST", "ST_conf", "ST_above", "ST_leading",
           "Q2", "noise_share")
RESAMPLES = 100  # half-samples the emulator is refitted to
SAMPLE = 1024  # Monte Carlo base rows per resample
SAMPLE_ESTIMATE = 16384  # Monte Carlo base rows of the point estimate
FOLDS = 5  # cross-validation of Q2
REFIT_STEPS = 30  # optimiser steps of a refit, from the full sample's hyperparameters
# An emulator that predicts less than this share of an output's variance at left-out
# points ranks nothing: fitted to chance alone, a process can find length scales that
# make one factor look decisive.
Q2_RANKS = 0.5
# The shortest length of the kernel, in ranges of a parameter: shorter, a process
# mimics chance with wiggles between design points instead of its noise term.
LENGTH_MIN = 0.1
JITTER = 1e-10  # added to the kernel's diagonal, as scikit-learn's process does (its alpha)
FLAT = 1e-6  # an emulator whose variance is below this share of the output's has no indices
EXTRA = "sensitivity"  # the package extra that brings scikit-learn


def unavailable() -> str | None:
    """What is missing for an emulator, in one line; None when nothing is."""
    import importlib.util

    if importlib.util.find_spec("sklearn") is None:
        return (f'design.emulator needs scikit-learn: pip install "citizen-security-abm[{EXTRA}]" '
                f'(from a checkout: pip install ".[{EXTRA}]")')
    return None


def bounds(design: Design) -> tuple[np.ndarray, np.ndarray]:
    """Each parameter's lowest and highest value."""
    return (np.array([p.low for p in design.parameters.values()], dtype=float),
            np.array([p.high for p in design.parameters.values()], dtype=float))


def scaled(design: Design, points: list[dict]) -> np.ndarray:
    """The design points' values (as run: integers rounded) on [0, 1] per parameter."""
    low, high = bounds(design)
    x = np.array([[point[name] for name in design.names] for point in points], dtype=float)
    return (x - low) / (high - low)


def draw(design: Design, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points from the design's distribution, as the runs see it: uniform over
    each parameter's range, integers rounded; on [0, 1] per parameter."""
    low, high = bounds(design)
    whole = np.array([p.integer for p in design.parameters.values()])
    values = low + rng.random((n, len(low))) * (high - low)
    values[:, whole] = np.round(values[:, whole])
    return (values - low) / (high - low)


def members(design: Design) -> list[np.ndarray]:
    """For each factor (a group, or else a parameter), the columns of its parameters."""
    if design.groups:
        return [np.array([i for i, p in enumerate(design.parameters.values()) if p.group == g])
                for g in design.groups]
    return [np.array([i]) for i in range(len(design.parameters))]


def fit(x: np.ndarray, y: np.ndarray, seed: int):
    """A Gaussian process of ``y`` over ``x`` (on [0, 1]): a constant times a
    squared-exponential kernel with one length per column, plus white noise, its
    hyperparameters fitted by maximum likelihood (L-BFGS-B, as scikit-learn's own
    optimiser, but on :func:`likelihood`)."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    kernel = (ConstantKernel(1.0, (1e-3, 1e2)) * RBF(np.full(x.shape[1], 0.5), (LENGTH_MIN, 1e3))
              + WhiteKernel(0.1, (1e-6, 1.0)))
    with at_bounds():
        return GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed,
                                        optimizer=Maximiser(x, y)).fit(x, y)


def likelihood(theta: np.ndarray, x: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
    """Minus the log marginal likelihood of standardised outputs ``z`` at ``x``, and
    its gradient, under the kernel c RBF(l) + s white with ``theta`` = log(c, l, s):
    what scikit-learn's process minimises, with its jitter (``JITTER`` on the
    diagonal), but its gradient computed from matrix products instead of a tensor of
    the kernel's derivatives by every length at every pair of points (n x n x d), which
    made a fit of 336 points in 42 dimensions take seconds
    (Rasmussen & Williams 2006, eq. 5.9)."""
    from scipy.linalg import LinAlgError, cho_solve, cholesky
    from scipy.spatial.distance import pdist, squareform

    c, lengths, s = np.exp(theta[0]), np.exp(theta[1:-1]), np.exp(theta[-1])
    scaled_x = x / lengths
    signal = c * np.exp(-0.5 * squareform(pdist(scaled_x, "sqeuclidean")))
    k = signal.copy()
    k[np.diag_indices_from(k)] += s + JITTER
    try:
        low = cholesky(k, lower=True, check_finite=False)
    except LinAlgError:  # as scikit-learn: no likelihood, no gradient
        return np.inf, np.zeros_like(theta)
    alpha = cho_solve((low, True), z, check_finite=False)
    value = -0.5 * z @ alpha - np.log(np.diag(low)).sum() - 0.5 * len(z) * np.log(2 * np.pi)
    inner = np.outer(alpha, alpha) - cho_solve((low, True), np.eye(len(z)), check_finite=False)
    m = inner * signal
    # d/d log l_k of the signal is signal * (x_ik - x_jk)^2 / l_k^2; summed against
    # ``inner`` (symmetric), sum_ij m_ij (a_i - a_j)^2 = 2 (sum_i a_i^2 sum_j m_ij - a'ma).
    by_length = m.sum(axis=1) @ scaled_x ** 2 - np.einsum("ik,ik->k", scaled_x, m @ scaled_x)
    gradient = np.concatenate([[0.5 * m.sum()], by_length, [0.5 * s * np.trace(inner)]])
    return -value, -gradient


class Maximiser:
    """Scikit-learn's ``optimizer`` for a process of ``y`` over ``x``: L-BFGS-B on
    :func:`likelihood` (which scikit-learn's objective equals), from the hyperparameters
    it is given, within their bounds, for at most ``steps`` steps (None: to
    convergence)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, steps: int | None = None):
        std = np.std(y)
        self.x, self.z = x, (y - np.mean(y)) / (std if std > 0 else 1.0)  # as normalize_y standardises
        self.steps = steps

    def __call__(self, objective, theta: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, float]:
        from scipy.optimize import minimize

        found = minimize(likelihood, theta, args=(self.x, self.z), method="L-BFGS-B", jac=True, bounds=bounds,
                         options={} if self.steps is None else {"maxiter": self.steps})
        return found.x, found.fun


@contextlib.contextmanager
def at_bounds():
    """Quiet about hyperparameters at their bounds: a length at its upper bound is a
    parameter without effect, as it may be."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def refit(gp, x: np.ndarray, y: np.ndarray, optimise: bool = True):
    """The process fitted to other runs, its hyperparameters starting from ``gp``'s
    fit for at most ``REFIT_STEPS`` steps (a half-sample's optimum lies near the full
    sample's), or, with ``optimise`` false, held there."""
    from sklearn.gaussian_process import GaussianProcessRegressor

    with at_bounds():
        return GaussianProcessRegressor(gp.kernel_, normalize_y=True,
                                        optimizer=Maximiser(x, y, REFIT_STEPS) if optimise else None).fit(x, y)


def noise_share(gp) -> float:
    """The fitted white noise as a share of the outputs' variance (the process
    standardises its outputs, so the noise level is that share directly)."""
    return float(gp.kernel_.k2.noise_level)


def q2(gp, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """Share of the variance of ``y`` predicted at left-out points (``FOLDS``-fold,
    the kernel held at ``gp``'s fit)."""
    folds = np.random.default_rng(seed).permutation(len(y)) % FOLDS
    predicted = np.empty(len(y))
    for k in range(FOLDS):
        out = folds == k
        predicted[out] = refit(gp, x[~out], y[~out], optimise=False).predict(x[out])
    return float(1 - ((y - predicted) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def indices(predict, design: Design, n: int, rng: np.random.Generator,
            flat: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """First-order (Saltelli et al. 2010) and total (Jansen 1999) indices of each
    factor of the function ``predict``, from ``n`` base rows of two independent
    samples A and B and, per factor, A with that factor's columns from B; zero for a
    function whose variance is at most ``flat`` (a fit that put everything into
    chance, whose ratios would be noise over nothing)."""
    cols = members(design)
    a, b = draw(design, n, rng), draw(design, n, rng)
    mixed = []
    for c in cols:
        ab = a.copy()
        ab[:, c] = b[:, c]
        mixed.append(ab)
    f = predict(np.vstack([a, b, *mixed]))
    f = f - f[:2 * n].mean()  # centred: the first-order estimator's spread grows with the mean
    fa, fb, fab = f[:n], f[n:2 * n], f[2 * n:].reshape(len(cols), n)
    var = np.var(np.concatenate([fa, fb]))
    if var <= flat:
        return np.zeros(len(cols)), np.zeros(len(cols))
    first = np.mean(fb * (fab - fa), axis=1) / var
    total = 0.5 * np.mean((fa - fab) ** 2, axis=1) / var
    return first, total


def emulate(design: Design, x: np.ndarray, y: np.ndarray, seed: int,
            resamples: int = RESAMPLES, sample: int = SAMPLE, estimate: int = SAMPLE_ESTIMATE) -> dict:
    """Indices of one output from its values ``y`` at the design points ``x``: point
    estimates from the process fitted to all points; intervals and paired rankings
    from ``resamples`` half-samples (a delete-half jackknife: half the points, drawn
    without replacement, and the process fitted to them again, hyperparameters too),
    whose spread around their mean is that of an estimate from all points (Shao &
    Wu 1989), each placed around the full estimate."""
    from threadpoolctl import threadpool_limits  # scikit-learn's dependency

    # One thread of linear algebra: on matrices of a few hundred rows, more threads
    # only wait for each other (at 336 points, a series took 4 times as long on two).
    with threadpool_limits(1):
        return _emulate(design, x, y, seed, resamples, sample, estimate)


def _emulate(design: Design, x: np.ndarray, y: np.ndarray, seed: int, resamples: int, sample: int,
             estimate: int) -> dict:
    factors = len(members(design))
    if np.ptp(y) == 0:  # an output that does not vary (a policy that changes nothing) has no indices to rank
        zero = np.zeros(factors)
        return {"S1": zero, "S1_conf": zero, "ST": zero, "ST_conf": zero, "ST_above": [[] for _ in range(factors)],
                "ST_leading": [], "Q2": np.nan, "noise_share": np.nan}
    rng = np.random.default_rng(seed)
    gp = fit(x, y, seed)
    flat = FLAT * np.var(y)
    s1, st = indices(gp.predict, design, estimate, rng, flat)
    half_s1, half_st = np.empty((resamples, len(s1))), np.empty((resamples, len(st)))
    for i in range(resamples):
        rows = rng.permutation(len(y))[:len(y) // 2]
        half_s1[i], half_st[i] = indices(refit(gp, x[rows], y[rows]).predict, design, sample, rng, flat)
    boot_s1 = s1 + half_s1 - half_s1.mean(axis=0)
    boot_st = st + half_st - half_st.mean(axis=0)
    tail = (1 - LEVEL) / 2

    def width(b: np.ndarray) -> np.ndarray:  # half the central interval, as SALib's *_conf
        return (np.quantile(b, 1 - tail, axis=0) - np.quantile(b, tail, axis=0)) / 2

    predicted = q2(gp, x, y, seed)
    above = ranked_above(boot_st, design.factors) if predicted >= Q2_RANKS else [[] for _ in design.factors]
    return {"S1": s1, "S1_conf": width(boot_s1), "ST": st, "ST_conf": width(boot_st), "ST_above": above,
            "ST_leading": leading(st, above, design.factors), "Q2": predicted, "noise_share": noise_share(gp)}


def analyse(exp: Experiment, runs: list[dict], outputs: list[str] | None = None,
            workers: int | None = None, resamples: int = RESAMPLES) -> list[dict]:
    """Emulator indices for the baseline's outputs and each policy's effects (absolute
    and relative), as :func:`abm.analysis.sensitivity.analyse` gives Saltelli's (not
    the policy arms' levels, which say less than their effects); the outputs are
    shared among ``workers`` processes (default: one per core). Each has its seed
    by its place among all of Saltelli's series."""
    design = exp.spec.design
    if design is None or not design.emulator:
        return []
    problem = unavailable()
    if problem:
        raise RuntimeError(problem)
    seed = exp.spec.root_seed if design.seed is None else design.seed
    x = scaled(design, exp.points)
    if outputs is None:
        outputs = exp.spec.outputs if design.emulator is True else design.emulator
    series, jobs = [], []
    for n, (arm, output, y) in enumerate(effect_series(exp, runs, outputs)):
        if (arm == exp.spec.baseline or output.endswith((EFFECT, RELATIVE))) and not np.isnan(y).all():
            series.append((arm, output))
            jobs.append((design, x, y, seed + n, resamples))
    results = emulate_all(jobs, workers)
    rows = []
    for (arm, output), s in zip(series, results):
        for i, name in enumerate(design.factors):
            rows.append({"arm": arm, "output": output, "parameter": name, "method": "sobol emulator",
                         "S1": float(s["S1"][i]), "S1_conf": float(s["S1_conf"][i]), "ST": float(s["ST"][i]),
                         "ST_conf": float(s["ST_conf"][i]), "ST_above": "; ".join(s["ST_above"][i]),
                         "ST_leading": int(name in s["ST_leading"]), "Q2": s["Q2"],
                         "noise_share": s["noise_share"]})
    return rows


def emulate_all(jobs: list[tuple], workers: int | None = None) -> list[dict]:
    """:func:`emulate` of each job's arguments, shared among ``workers`` processes
    (default: one per core); each job has its own seed, so the results are the same
    on any number. Stopped (SIGTERM, Ctrl-C), the workers end at once: the pool
    terminates them on leaving its block, where an executor would wait for every
    output to be analysed."""
    workers = min(len(jobs), workers or os.cpu_count() or 1)
    if workers <= 1:
        return [emulate(*job) for job in jobs]
    import multiprocessing

    # Processes started from a clean server, not forked from this one (which may hold threads).
    start = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(start).Pool(workers) as pool:
        return pool.starmap(emulate, jobs, chunksize=1)


def run_emulator(exp: Experiment, out: Path) -> list[dict]:
    """Emulator indices of a finished experiment in ``out``, written with their figure."""
    from abm.analysis.sensitivity import plot

    rows = analyse(exp, read_runs(out / "runs.csv"))
    if rows:
        write_csv(out / "sensitivity_emulator.csv", COLUMNS, rows)
        plot(out, rows, filename="sensitivity_emulator.png",
             label="Sobol index of a Gaussian-process emulator (95% interval from half-samples)")
    return rows
