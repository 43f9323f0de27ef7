"""Global sensitivity analysis of an experiment with a Sobol or Morris design.

For each arm and each output named in the experiment file, the output is averaged
over replicates at every design point, and SALib computes the indices: Sobol
first-order (S1) and total (ST) indices with their 95% confidence half-widths, or
Morris mu* (mean absolute elementary effect, with its 95% confidence half-width) and
sigma (its spread: non-linearity and interactions). The sample matrix is rebuilt
from the experiment file (the design's seed), so only ``runs.csv`` and the file are
needed.

Each arm other than the baseline is analysed twice: its outputs' levels, and its
effects, ``<output> effect``: the arm's output minus the baseline's at the same design
point (the same parameters and, with common seeds, the same seeds). The indices of an
effect say which uncertain parameters decide what the policy does, not only where the
city is.

Writes ``sensitivity.csv`` (arm, output, parameter, method, S1, S1_conf, ST, ST_conf,
mu_star, mu_star_conf, sigma) and ``sensitivity.png``. In a grouped design the
``parameter`` column names the group.
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

COLUMNS = ("arm", "output", "parameter", "method", "S1", "S1_conf", "ST", "ST_conf", "mu_star", "mu_star_conf",
           "sigma")


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


def analyse(exp: Experiment, runs: list[dict]) -> list[dict]:
    design = exp.spec.design
    if design is None or design.method not in ("sobol", "morris"):
        return []
    problem = design.problem()
    seed = exp.spec.root_seed if design.seed is None else design.seed
    x = design.matrix(exp.spec.root_seed)
    rows = []
    baseline = exp.spec.baseline
    cases = [(arm, output, False) for arm in exp.arms for output in exp.spec.outputs]
    cases += [(arm, output, True) for arm in exp.arms if arm != baseline for output in exp.spec.outputs]
    for arm, output, effect in cases:
        y = outputs_by_point(runs, arm, output, len(exp.points))
        if effect:
            y = y - outputs_by_point(runs, baseline, output, len(exp.points))
            output = output + EFFECT
        if np.isnan(y).any():
            # Sensitivity needs every point; fill the few missing with the mean and say so in the row.
            y = np.where(np.isnan(y), np.nanmean(y), y)
        if design.method == "sobol":
            from SALib.analyze import sobol

            s = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
            for i, name in enumerate(design.factors):
                rows.append({"arm": arm, "output": output, "parameter": name, "method": "sobol",
                             "S1": s["S1"][i], "S1_conf": s["S1_conf"][i], "ST": s["ST"][i],
                             "ST_conf": s["ST_conf"][i]})
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


def plot(out: Path, rows: list[dict]) -> Path | None:
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = list(dict.fromkeys((r["arm"], r["output"]) for r in rows))
    method = rows[0]["method"]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 2.2 + 0.45 * len(rows) / max(len(panels), 1) * len(panels)),
                             squeeze=False)
    for ax, (arm, output) in zip(axes[:, 0], panels, strict=True):
        sub = [r for r in rows if r["arm"] == arm and r["output"] == output]
        names = [r["parameter"] for r in sub]
        y = np.arange(len(sub))
        if method == "sobol":
            ax.barh(y + 0.2, [r["S1"] for r in sub], 0.4, xerr=[r["S1_conf"] for r in sub], label="S1 (first order)",
                    color="tab:blue")
            ax.barh(y - 0.2, [r["ST"] for r in sub], 0.4, xerr=[r["ST_conf"] for r in sub], label="ST (total)",
                    color="tab:orange")
            ax.set_xlabel("Sobol index (95% confidence)")
        else:
            ax.barh(y, [r["mu_star"] for r in sub], 0.6, xerr=[r["mu_star_conf"] for r in sub], label="mu*",
                    color="tab:blue")
            ax.plot([r["sigma"] for r in sub], y, "o", color="tab:red", label="sigma")
            ax.set_xlabel("Morris elementary effects (95% confidence on mu*)")
        ax.set_yticks(y)
        ax.set_yticklabels(names)
        ax.invert_yaxis()
        ax.set_title(f"{output} ({arm})")
        ax.axvline(0, color="0.4", lw=0.8)
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path = out / "sensitivity.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_sensitivity(exp: Experiment, out: Path) -> list[dict]:
    rows = analyse(exp, read_runs(out / "runs.csv"))
    if rows:
        write_sensitivity(out, rows)
        plot(out, rows)
    return rows
