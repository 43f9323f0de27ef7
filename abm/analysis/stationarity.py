"""Whether the baseline holds steady over the measured years: the baseline arm's mean
over the long window over its mean over the short one, at each design point or
parameter set, and over all of them.

A policy's long-run effect is measured against the baseline of the same years. When
that baseline drifts (gangs still growing, or losing their territory, after burn-in),
the long window measures the policy against a moving baseline, and the two windows'
effects differ for that reason as well as for the policy's own dynamics. An experiment
writes ``stationarity.csv`` and says at how many points or sets its baseline holds
within :data:`WITHIN` (docs/ODD.md, section 5: the district's baseline holds within
10% over ten seeds).

A point's ratio is that of its replicates' means, with the 95% interval of a ratio of
paired means (each run pairs its two windows:
:func:`abm.analysis.statistics.percent_change_interval`); the pooled ratio (``point =
pooled``) is that of the points' means, each point counting once, as an ensemble's
sets do in ``comparison.csv``, with its interval over the points. A point is
``steady`` when its ratio lies within :data:`WITHIN` of 1; the command warns only when
a pooled ratio lies outside that band and its interval excludes 1, so that the
chance of a few runs of a small city is not called a drift. Reads only ``runs.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from abm.analysis.comparison import POOLED, window_value
from abm.analysis.statistics import percent_change_interval
from abm.io import write_csv

MEASURES = ("homicide_rate_per_100k", "recruitment_per_1000_youth", "gang_members")
WITHIN = 0.10  # a long-window mean within 10% of the short window's holds steady
COLUMNS = ("point", "metric", "n", "short", "long", "ratio", "ratio_ci_low", "ratio_ci_high", "steady")


def _steady(ratio: float) -> bool | None:
    return None if math.isnan(ratio) else bool(abs(ratio - 1) <= WITHIN)


def _row(point, metric: str, short: np.ndarray, long: np.ndarray) -> dict:
    """The row of paired window values (one pair per run, or per point)."""
    ok = ~(np.isnan(short) | np.isnan(long))
    pct, low, high = percent_change_interval(long[ok], short[ok])
    ratio, low, high = (1 + v / 100 for v in (pct, low, high))
    return {"point": point, "metric": metric, "n": int(ok.sum()),
            "short": float(short[ok].mean()) if ok.any() else math.nan,
            "long": float(long[ok].mean()) if ok.any() else math.nan,
            "ratio": ratio, "ratio_ci_low": low, "ratio_ci_high": high, "steady": _steady(ratio)}


def stationarity(runs: list[dict], baseline: str) -> list[dict]:
    """One row per design point (or set) and measure of :data:`MEASURES`, then one
    pooled row per measure; none when the baseline arm has no runs."""
    groups: dict[int, list[dict]] = {}
    for r in runs:
        if r["arm"] == baseline:
            groups.setdefault(int(r.get("point") or 0), []).append(r)
    if not groups:
        return []
    out = []
    means: dict[str, list[tuple[float, float]]] = {m: [] for m in MEASURES}
    for point in sorted(groups):
        for metric in MEASURES:
            short, long = (np.array([window_value(r, metric, w) for r in groups[point]]) for w in ("short", "long"))
            row = _row(point, metric, short, long)
            out.append(row)
            means[metric].append((row["short"], row["long"]))
    for metric in MEASURES:
        out.append(_row(POOLED, metric, *(np.array(v, dtype=float) for v in zip(*means[metric], strict=True))))
    return out


def write_stationarity(path: Path, rows: list[dict]) -> None:
    """``stationarity.csv``: :data:`COLUMNS`, a row per point (or set) and measure, then the pooled rows."""
    write_csv(path, COLUMNS, rows)


def summary(rows: list[dict], unit: str = "points") -> list[str]:
    """Lines saying how steady the baseline is, measure by measure, with a warning when
    the pooled baseline drifts by more than :data:`WITHIN` beyond chance (its interval
    excludes 1). ``unit`` names the points (``points``, ``parameter sets``)."""
    pooled = [r for r in rows if r["point"] == POOLED]
    if not pooled:
        return []
    many = len({r["point"] for r in rows if r["point"] != POOLED}) > 1
    parts = []
    for row in pooled:
        text = f"{row['metric']} {row['ratio']:.2f}"
        if not math.isnan(row["ratio_ci_low"]):
            text += f" [{row['ratio_ci_low']:.2f}, {row['ratio_ci_high']:.2f}]"
        if many:
            at = [r for r in rows if r["point"] != POOLED and r["metric"] == row["metric"] and r["steady"] is not None]
            text += f" ({sum(r['steady'] for r in at)} of {len(at)}{'' if parts else f' {unit} steady'})"
        parts.append(text)
    lines = [f"Baseline, long window over short (steady within {WITHIN:.0%}): " + "; ".join(parts)]
    drifting = [f"{r['metric']} {r['ratio']:.2f} [{r['ratio_ci_low']:.2f}, {r['ratio_ci_high']:.2f}]"
                for r in pooled if r["steady"] is False and (r["ratio_ci_high"] < 1 or r["ratio_ci_low"] > 1)]
    if drifting:
        lines.append(f"warning: the baseline drifts between the windows ({', '.join(drifting)}): long-window "
                     "effects are measured against a moving baseline (stationarity.csv)")
    return lines
