"""Fair comparison of arms: means with 95% intervals, and paired changes against baseline.

Every replicate uses the same seed in every arm (common random numbers), so an arm's
change is measured replicate by replicate (and design point by design point): ``change`` is the mean of the paired
differences (arm minus baseline) with a Student-t 95% interval; ``change_pct`` is that
change as a percentage of the baseline mean, with the delta-method interval of the
ratio of paired means (:func:`abm.analysis.statistics.percent_change_interval`), which
carries the baseline mean's own uncertainty. The cost per homicide averted is the mean extra cost
(programme plus prison) over the mean homicides averted, with a paired bootstrap
interval (replicates resampled with a fixed seed); it is empty when no homicides are
averted on average.

Arms are compared within each design point: a design's points are different
conditions (e.g. police force sizes), and pooling them would count the differences
between conditions as chance. Each row names its point and the point's parameter
values; ``n`` says how many replicates it holds. Pooling over points is done only on
request (``pool=True``), and such rows say ``point = pooled``: the natural summary
of a design whose points are random draws from ranges (random, lhs, sobol, morris),
where the pooled change is the average effect over those ranges.

An ensemble's parameter sets (``sets=True``) are compared together too, but each set
counts once: an arm's runs are first averaged over the replicates of each set, and
means, changes and intervals are taken over the sets (``n`` is the number of sets), so
the intervals carry the uncertainty about the parameters as well as chance.
``parameter_share`` then says how much of the variance of the paired change between
runs comes from the parameter set rather than from chance (a one-way random-effects
decomposition of the run-level paired differences: between sets and within them).
A design's pooled rows carry it too, between its points, where the points have
replicates: how much of a policy's effect over the design's ranges is decided by the
parameters, and how much is chance that one run per point would leave in every
sensitivity index.

When the baseline arm runs a policy too (the same policy with its staff or budget at
zero, say), the measures of that policy are compared as well (hot spots' violence on
the hot spots and around them, for instance): what the policy's own measures say is
then a paired effect, not a count beside a baseline that has none.

Reads only ``runs.csv``, so it works on results made elsewhere.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from abm.analysis.statistics import (
    bootstrap_ratio_interval,
    mean_interval,
    paired_differences,
    percent_change_interval,
)
from abm.io import write_csv
from abm.measures import COMPARED, window_measures

METRICS = COMPARED  # the window measures compared (abm.measures), in the table's order
WINDOWS = ("short", "long", "all")
POOLED = "pooled"
COLUMNS = (
    "arm", "point", "metric", "window", "n", "mean", "ci_low", "ci_high", "change", "change_ci_low", "change_ci_high",
    "change_pct", "change_pct_ci_low", "change_pct_ci_high", "note", "parameter_share",
)
# Notes on cost per homicide averted rows.
BASELINE = "the baseline"
NO_AVERTED = "no homicides averted on average"
UNSURE = "the change in homicides may be zero (its interval includes 0)"
BOOTSTRAP = 2000


def read_runs(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["status"] == "ok"]


def window_value(row: dict, metric: str, window: str) -> float:
    """A run's value of ``metric`` over ``window`` (short, long, all) in ``runs.csv``; NaN when empty."""
    key = metric if window == "all" else f"{metric}__{window}"
    text = row.get(key, "")
    return float(text) if text not in ("", None) else math.nan


def metrics(runs: list[dict], baseline: str) -> tuple[str, ...]:
    """The measures compared: :data:`METRICS`, then the window measures of the policies
    the baseline arm runs (``runs.csv``'s ``policies``), which only then have a
    baseline to be compared with."""
    import abm.policies  # noqa: F401  (registers the policies' measures)

    ran = {p for r in runs if r["arm"] == baseline for p in (r.get("policies") or "").split("+") if p}
    return METRICS + tuple(m.name for m in window_measures() if m.owner in ran and m.name not in METRICS)


def interval(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% interval (Student t), ignoring NaN."""
    return mean_interval([float(v) for v in x])


def compare(runs: list[dict], baseline: str, arms: list[str] | None = None, seed: int = 0,
            parameters: list[str] | tuple = (), pool: bool = False, sets: bool = False) -> list[dict]:
    """One row per arm, design point, metric and window: the arm against the baseline
    at the same point, paired by replicate (the same seed and parameters). With
    ``pool``, one row per arm, metric and window over every point (``point =
    "pooled"``), pairs being (point, replicate), with ``parameter_share`` between the
    points. With ``sets`` (an ensemble), one row per arm, metric and window over the
    sets, each set's replicates averaged first, with ``parameter_share`` between the
    sets. Rows carry the point's values of ``parameters``."""
    if sets:
        return compare_sets(runs, baseline, arms or sorted({r["arm"] for r in runs}), seed)
    groups: dict[object, list[dict]] = {}
    for r in runs:
        groups.setdefault(POOLED if pool else int(r.get("point") or 0), []).append(r)
    arms = arms or sorted({r["arm"] for r in runs})
    out = []
    for point in sorted(groups, key=str) if pool else sorted(groups):
        values = {} if pool else {p: groups[point][0].get(p, "") for p in parameters}
        for row in compare_point(groups[point], baseline, arms, seed):
            out.append({**row, "point": point, **values})
    if pool:
        add_parameter_share(out, runs, baseline)
    return out


def compare_point(runs: list[dict], baseline: str, arms: list[str], seed: int) -> list[dict]:
    by_arm: dict[str, dict[tuple[int, int], dict]] = {}
    for r in runs:
        by_arm.setdefault(r["arm"], {})[(int(r.get("point") or 0), int(r["replicate"]))] = r
    base = by_arm.get(baseline, {})
    compared = metrics(runs, baseline)
    out = []
    for arm in arms:
        reps = by_arm.get(arm, {})
        paired = sorted(set(reps) & set(base))
        for window in WINDOWS:
            for metric in compared:
                x = np.array([window_value(reps[r], metric, window) for r in sorted(reps)])
                mean, lo, hi = interval(x)
                a, b = paired_differences(reps, base, lambda row: window_value(row, metric, window))  # noqa: B023
                change, clo, chi = interval(a - b)
                pct, pct_lo, pct_hi = percent_change_interval(a, b)
                out.append({
                    "arm": arm, "metric": metric, "window": window, "n": int((~np.isnan(x)).sum()),
                    "mean": mean, "ci_low": lo, "ci_high": hi,
                    "change": change, "change_ci_low": clo, "change_ci_high": chi,
                    "change_pct": pct, "change_pct_ci_low": pct_lo, "change_pct_ci_high": pct_hi,
                })
            if arm == baseline:
                out.append({**{k: math.nan for k in COLUMNS}, "arm": arm, "metric": "cost_per_homicide_averted",
                            "window": window, "n": len(paired), "note": BASELINE})
            else:
                out.append(cost_per_homicide_averted(arm, window, reps, base, paired, seed))
    return out


def set_means(runs: list[dict]) -> list[dict]:
    """One row per arm and set: each compared measure (and cost and homicides) averaged
    over the set's replicates; the set's number becomes the row's ``replicate``."""
    keys = [m if w == "all" else f"{m}__{w}" for m in (*METRICS, "total_cost", "homicides") for w in WINDOWS]
    groups: dict[tuple[str, int], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["arm"], int(r.get("point") or 0)), []).append(r)
    out = []
    for (arm, point), rows in sorted(groups.items()):
        row = {"arm": arm, "point": 0, "replicate": point}
        for key in keys:
            values = np.array([window_value(r, key, "all") for r in rows])
            row[key] = float(np.nanmean(values)) if np.any(~np.isnan(values)) else math.nan
        out.append(row)
    return out


def parameter_share(diffs: dict[int, list[float]]) -> float:
    """Share of the variance of run-level paired differences due to the set (or design
    point) they were run at, between sets, rather than to chance, within sets: a one-way
    random-effects decomposition with unequal group sizes. NaN with fewer than two sets
    or no set with two replicates."""
    groups = [np.array([v for v in d if not math.isnan(v)]) for d in diffs.values()]
    groups = [g for g in groups if len(g)]
    k, n = len(groups), sum(len(g) for g in groups)
    if k < 2 or n - k < 1:
        return math.nan
    grand = np.concatenate(groups).mean()
    within = sum(float(((g - g.mean()) ** 2).sum()) for g in groups) / (n - k)
    between_ms = sum(len(g) * float((g.mean() - grand) ** 2) for g in groups) / (k - 1)
    n0 = (n - sum(len(g) ** 2 for g in groups) / n) / (k - 1)
    between = max(0.0, (between_ms - within) / n0)
    total = between + within
    return between / total if total > 0 else 0.0


def compare_sets(runs: list[dict], baseline: str, arms: list[str], seed: int) -> list[dict]:
    """Rows over an ensemble's sets (see the module's docstring)."""
    rows = compare_point(set_means(runs), baseline, arms, seed)
    for row in rows:
        row["point"] = POOLED
    add_parameter_share(rows, runs, baseline)
    return rows


def add_parameter_share(rows: list[dict], runs: list[dict], baseline: str) -> None:
    """Each policy row's ``parameter_share``: :func:`parameter_share` of the run-level
    paired differences (the arm minus the baseline, replicate by replicate), grouped by
    the point or set they were run at."""
    by_arm: dict[str, list[tuple[int, dict, dict]]] = {}
    by_run = {(r["arm"], int(r.get("point") or 0), int(r["replicate"])): r for r in runs}
    for (arm, point, rep), r in by_run.items():
        base = by_run.get((baseline, point, rep))
        if arm != baseline and base is not None:
            by_arm.setdefault(arm, []).append((point, r, base))
    for row in rows:
        if row["arm"] == baseline or row["metric"] == "cost_per_homicide_averted":
            continue
        diffs: dict[int, list[float]] = {}
        for point, r, base in by_arm.get(row["arm"], []):
            diffs.setdefault(point, []).append(window_value(r, row["metric"], row["window"])
                                               - window_value(base, row["metric"], row["window"]))
        row["parameter_share"] = parameter_share(diffs)


def points(rows: list[dict]) -> list:
    """The design points of comparison rows, in order."""
    return list(dict.fromkeys(r["point"] for r in rows))


def point_label(rows: list[dict], point, parameters: list[str] | tuple) -> str:
    """``police.officers = 135`` for a point's rows; ``pooled over N points`` for pooled rows."""
    if point == POOLED:
        return "pooled over every design point"
    row = next(r for r in rows if r["point"] == point)
    return ", ".join(f"{p} = {row.get(p, '')}" for p in parameters) or f"point {point}"


def cost_per_homicide_averted(arm, window, reps, base, paired, seed) -> dict:
    """Extra cost (programmes and prison, US$) over homicides averted, paired by
    replicate, with a bootstrap interval. ``note`` says when the ratio means little:
    no homicides averted on average (no ratio), or a change in homicides whose
    interval includes zero (the ratio is kept in the file but not shown as known)."""
    row = {k: math.nan for k in COLUMNS}
    row.update(arm=arm, metric="cost_per_homicide_averted", window=window, n=len(paired), note="")
    if not paired:
        return row
    extra = np.array([window_value(reps[r], "total_cost", window) - window_value(base[r], "total_cost", window)
                      for r in paired])
    averted = np.array([window_value(base[r], "homicides", window) - window_value(reps[r], "homicides", window)
                        for r in paired])
    if averted.mean() <= 0:
        row["note"] = NO_AVERTED
        return row
    row["mean"] = float(extra.mean() / averted.mean())
    # Resamples that avert nothing are infinitely costly.
    row["ci_low"], row["ci_high"] = bootstrap_ratio_interval(extra, averted, seed, BOOTSTRAP)
    _, low, _ = interval(averted)
    if not low > 0:
        row["note"] = UNSURE
    return row


def cost_text(row: dict | None) -> str:
    """Cost per homicide averted in words, the same on the console and in the report:
    ``$468k [52k, inf]``; ``saves $9.3k [4.0k, 25.2k]`` when the policy is cheaper and
    averts homicides; ``$1.0k (from saving 0.2k to costing 2.0k)`` when the interval
    crosses zero; ``not known: ...`` when the homicide change may be zero."""
    if row is None:
        return "n/a"
    mean, low, high = (_number(row.get(k)) for k in ("mean", "ci_low", "ci_high"))
    note = row.get("note") or ""
    if note == BASELINE:
        return "n/a"
    if math.isnan(mean):
        return f"n/a ({note or NO_AVERTED})"
    if note == UNSURE:
        return "not known: homicides may not fall"

    def k(v: float) -> str:  # thousands of US$, sign left to the words
        return "inf" if math.isinf(v) else "n/a" if math.isnan(v) else f"{abs(v) / 1e3:,.1f}k"

    if high < 0:
        return f"saves ${k(mean)} [{k(high)}, {k(low)}]"
    if low < 0:
        return f"{'saves ' if mean < 0 else ''}${k(mean)} (from saving {k(low)} to costing {k(high)})"
    return f"${k(mean)} [{k(low)}, {k(high)}]"


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def write_comparison(path: Path, rows: list[dict], parameters: list[str] | tuple = ()) -> None:
    """``comparison.csv``: arm, point, the point's parameter values, then the measures."""
    write_csv(path, [*COLUMNS[:2], *parameters, *COLUMNS[2:]], rows)


def table(rows: list[dict], window: str, metrics: tuple[str, ...]) -> str:
    """A Markdown table of change_pct (with interval) per arm for some metrics, of
    the rows of one design point."""
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    index = {(r["arm"], r["metric"], r["window"]): r for r in rows}
    head = "| arm | " + " | ".join(metrics) + " |"
    lines = [head, "|" + "---|" * (len(metrics) + 1)]
    for arm in arms:
        cells = []
        for m in metrics:
            r = index.get((arm, m, window))
            cells.append(_cell(r, m))
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(r: dict | None, metric: str) -> str:
    if metric == "cost_per_homicide_averted":
        return cost_text(r)
    if r is None or r["mean"] is None or (isinstance(r["mean"], float) and math.isnan(r["mean"])):
        return "n/a"
    mean = f"{r['mean']:.3g}"
    if isinstance(r["change_pct"], float) and not math.isnan(r["change_pct"]) and r["change"] != 0:
        return f"{mean} ({r['change_pct']:+.0f}% [{r['change_pct_ci_low']:+.0f}, {r['change_pct_ci_high']:+.0f}])"
    return mean
