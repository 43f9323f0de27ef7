"""Global sensitivity analysis of an experiment with a Sobol or Morris design.

For each arm and each output named in the experiment file, the output is averaged
over replicates at every design point, and SALib computes the indices: Sobol
first-order (S1) and total (ST) indices with their 95% confidence half-widths, or
Morris mu* (mean absolute elementary effect, with its 95% confidence half-width) and
sigma (its spread: non-linearity and interactions). The sample matrix is rebuilt
from the experiment file (the design's seed), so only ``runs.csv`` and the file are
needed.

Each arm other than the baseline is analysed three ways: its outputs' levels, its
effects, ``<output> effect``: the arm's output minus the baseline's at the same design
point (the same parameters and, with common seeds, the same seeds), and its relative
effect, ``<output> effect %``: that change in percent of the baseline's output. The
indices of an effect say which uncertain parameters decide what the policy does, not
only where the city is; where a policy's change is roughly a fixed share of what it
meets, its absolute effect follows whatever sets the baseline's level, and its
relative effect says what decides the share.

Which factor leads is read from paired differences, not from overlapping intervals:
the bootstrap resamples the base rows once for every factor (SALib's resamples), so
``ST_above`` lists the factors whose total index this one exceeds: the 95% interval
of their paired difference (percentiles of the resamples) lies above zero. Two
intervals that overlap can still rank clearly, as the factors' estimates share their
rows and their chance. ``ST_leading`` marks the clear top of the ranking: the
smallest set of the largest factors in which every one ranks clearly above every
factor outside it (one factor when a leader is clear; 0 in every row when no set
short of all the factors is clear of the rest).

Writes ``sensitivity.csv`` (arm, output, parameter, method, S1, S1_conf, ST, ST_conf,
ST_above, ST_leading, mu_star, mu_star_conf, sigma) and ``sensitivity.png``. In a
grouped design the ``parameter`` column names the group.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from abm.analysis.comparison import read_runs
from abm.io import write_csv
from abm.sweep.design import MORRIS_LEVELS

if TYPE_CHECKING:
    from abm.sweep.experiment import Experiment

EFFECT = " effect"  # suffix of an output analysed as the arm's change against the baseline
RELATIVE = " effect %"  # suffix of an output analysed as that change in % of the baseline's output

COLUMNS = ("arm", "output", "parameter", "method", "S1", "S1_conf", "ST", "ST_conf", "ST_above", "ST_leading",
           "mu_star", "mu_star_conf", "sigma")
RESAMPLES = 1000  # bootstrap resamples of a Sobol design's base rows
LEVEL = 0.95


def ranked_above(resamples: np.ndarray, names: list[str], level: float = LEVEL) -> list[list[str]]:
    """For each factor, the factors whose index it exceeds: the ``level`` percentile
    interval of their paired difference over the bootstrap ``resamples`` (one row per
    resample, one column per factor, the same base rows in every column) lies above
    zero."""
    resamples = np.asarray(resamples, dtype=float)
    above = []
    for i in range(len(names)):
        diffs = resamples[:, [i]] - resamples
        low = np.quantile(diffs, (1 - level) / 2, axis=0)
        above.append([names[j] for j in range(len(names)) if j != i and low[j] > 0])
    return above


def leading(totals, above: list[list[str]], names: list[str]) -> list[str]:
    """The clear top of a ranking: the smallest set of the factors with the largest
    total indices such that each of them ranks clearly above (``above``, from
    :func:`ranked_above`) every factor outside the set; empty when only the set of all
    factors qualifies."""
    order = [names[i] for i in np.argsort(-np.asarray(totals, dtype=float), kind="stable")]
    clearly = dict(zip(names, map(set, above)))
    for k in range(1, len(order)):
        if all(set(order[k:]) <= clearly[name] for name in order[:k]):
            return order[:k]
    return []


def outputs_by_point(runs: list[dict], arm: str, output: str, n_points: int) -> np.ndarray:
    """The output averaged over replicates at each design point (NaN where no run is ok)."""
    sums, counts = defaultdict(float), defaultdict(int)
    for r in runs:
        if r["arm"] == arm and r.get(output, "") not in ("", "nan"):
            value = float(r[output])
            if not math.isnan(value):
                sums[int(r["point"])] += value
                counts[int(r["point"])] += 1
    return np.array([sums[k] / counts[k] if counts[k] else math.nan for k in range(n_points)])


def effect_series(exp: Experiment, runs: list[dict], outputs: list[str] | None = None):
    """For each arm's outputs, then each policy arm's effects and relative effects:
    ``(arm, output, values at the design points)``, the output named with its kind's
    suffix. A missing point is filled with the mean of the others; a series defined at
    no point (a relative effect where the baseline's output is 0 everywhere) stays NaN
    throughout, and gets no indices."""
    baseline = exp.spec.baseline
    outputs = exp.spec.outputs if outputs is None else outputs
    cases = [(arm, output, "") for arm in exp.arms for output in outputs]
    cases += [(arm, output, kind) for kind in (EFFECT, RELATIVE) for arm in exp.arms if arm != baseline
              for output in outputs]
    for arm, output, kind in cases:
        y = outputs_by_point(runs, arm, output, len(exp.points))
        if kind:
            base = outputs_by_point(runs, baseline, output, len(exp.points))
            if kind == EFFECT:
                y = y - base
            else:  # undefined where the baseline's output is 0 (filled below like a missing point)
                y = 100 * np.divide(y - base, base, out=np.full(len(y), np.nan), where=base != 0)
        if np.isnan(y).any() and not np.isnan(y).all():
            # Sensitivity needs every point; fill the few missing with the mean.
            y = np.where(np.isnan(y), np.nanmean(y), y)
        yield arm, output + kind, y


def analyse(exp: Experiment, runs: list[dict]) -> list[dict]:
    design = exp.spec.design
    if design is None or design.method not in ("sobol", "morris"):
        return []
    problem = design.problem()
    seed = exp.spec.root_seed if design.seed is None else design.seed
    x = design.matrix(exp.spec.root_seed)
    rows = []
    for arm, output, y in effect_series(exp, runs):
        if np.isnan(y).all():
            continue
        if design.method == "sobol":
            from SALib.analyze import sobol

            if np.ptp(y) == 0:  # an output that never varies: no factor moves it, nothing to rank
                zero = np.zeros(len(design.factors))
                s = {"S1": zero, "S1_conf": zero, "ST": zero, "ST_conf": zero,
                     "ST_conf_all": np.zeros((1, len(design.factors)))}
            else:
                s = sobol.analyze(problem, y, calc_second_order=False, num_resamples=RESAMPLES,
                                  conf_level=LEVEL, keep_resamples=True, seed=seed)
            above = ranked_above(s["ST_conf_all"], design.factors)
            top = leading(s["ST"], above, design.factors)
            for i, name in enumerate(design.factors):
                rows.append({"arm": arm, "output": output, "parameter": name, "method": "sobol",
                             "S1": s["S1"][i], "S1_conf": s["S1_conf"][i], "ST": s["ST"][i],
                             "ST_conf": s["ST_conf"][i], "ST_above": "; ".join(above[i]),
                             "ST_leading": int(name in top)})
        else:
            from SALib.analyze import morris

            s = morris.analyze(problem, x, y, num_levels=MORRIS_LEVELS, seed=seed)
            for i, name in enumerate(design.factors):
                rows.append({"arm": arm, "output": output, "parameter": name, "method": "morris",
                             "mu_star": s["mu_star"][i], "mu_star_conf": s["mu_star_conf"][i],
                             "sigma": s["sigma"][i]})
    return rows


def write_sensitivity(out: Path, rows: list[dict]) -> None:
    write_csv(out / "sensitivity.csv", COLUMNS, [{k: _plain(v) for k, v in r.items()} for r in rows])


def _plain(v):
    return float(v) if isinstance(v, np.floating) else v


def plot(out: Path, rows: list[dict], filename: str = "sensitivity.png", label: str | None = None) -> Path | None:
    """Bars per arm (rows of panels) and output (columns): an arm's levels for the
    baseline; for every other arm where there are any, a row of its effects
    (``<output> effect``) and a row of its relative effects (``<output> effect %``)."""
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def kind(output: str) -> str:
        return next((k for k in (RELATIVE, EFFECT) if output.endswith(k)), "")

    with_effects = {r["arm"] for r in rows if kind(r["output"])}  # every arm but the baseline
    panels: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        if r["arm"] in with_effects and not kind(r["output"]):
            continue  # a policy arm's levels: its effects say more
        outputs = panels.setdefault((r["arm"], kind(r["output"])), [])
        if r["output"] not in outputs:
            outputs.append(r["output"])
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    panels = dict(sorted(panels.items(), key=lambda kv: arms.index(kv[0][0])))  # an arm's two rows together
    n_rows, n_cols = len(panels), max(len(v) for v in panels.values())
    names = list(dict.fromkeys(r["parameter"] for r in rows))
    method = rows[0]["method"]
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.6 * n_cols + 2.2, 0.9 + n_rows * (0.55 + 0.2 * len(names))),
                             squeeze=False, sharey=True)
    y = np.arange(len(names))
    for i, ((arm, _), outputs) in enumerate(panels.items()):
        for j in range(n_cols):
            ax = axes[i, j]
            if j >= len(outputs):
                ax.axis("off")
                continue
            output = outputs[j]
            by_name = {r["parameter"]: r for r in rows if r["arm"] == arm and r["output"] == output}
            sub = [by_name.get(name, {}) for name in names]
            if method != "morris":
                ax.barh(y - 0.2, [r.get("S1", np.nan) for r in sub], 0.4,
                        xerr=[r.get("S1_conf", 0) for r in sub], label="S1 (first order)", color="tab:blue")
                ax.barh(y + 0.2, [r.get("ST", np.nan) for r in sub], 0.4,
                        xerr=[r.get("ST_conf", 0) for r in sub], label="ST (total)", color="tab:orange")
            else:
                ax.barh(y, [r.get("mu_star", np.nan) for r in sub], 0.6,
                        xerr=[r.get("mu_star_conf", 0) for r in sub], label="mu*", color="tab:blue")
                sigma = np.array([r.get("sigma", np.nan) for r in sub], dtype=float)
                if not np.isnan(sigma).all():  # SALib gives no sigma for a group of several parameters
                    ax.plot(sigma, y, "o", color="tab:red", ms=3, label="sigma")
            ax.set_title(f"{arm}: {output}", fontsize=9)
            ax.axvline(0, color="0.4", lw=0.8)
            ax.tick_params(labelsize=8)
    axes[0, 0].set_yticks(y)
    axes[0, 0].set_yticklabels(names)
    axes[0, 0].invert_yaxis()
    axes[0, 0].legend(loc="lower right", fontsize=7)
    fig.supxlabel(label or ("Sobol index (95% confidence)" if method == "sobol" else
                            "Morris elementary effects: mu* (95% confidence) and sigma, in the output's units"))
    fig.tight_layout()
    path = out / filename
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def run_sensitivity(exp: Experiment, out: Path) -> list[dict]:
    rows = analyse(exp, read_runs(out / "runs.csv"))
    if rows:
        write_sensitivity(out, rows)
        plot(out, rows)
    return rows
