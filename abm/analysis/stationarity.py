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

A point's ratio is that of its replicates' means; the pooled ratio (``point =
pooled``) is that of the points' means, each point counting once, as an ensemble's
sets do in ``comparison.csv``. Reads only ``runs.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from abm.analysis.comparison import POOLED, window_value
from abm.io import write_csv

MEASURES = ("homicide_rate_per_100k", "recruitment_per_1000_youth", "gang_members")
WITHIN = 0.10  # a long-window mean within 10% of the short window's holds steady
COLUMNS = ("point", "metric", "n", "short", "long", "ratio", "steady")


def _steady(ratio: float) -> bool | None:
    return None if math.isnan(ratio) else bool(abs(ratio - 1) <= WITHIN)


def _ratio(short: float, long: float) -> float:
    return long / short if short > 0 and not math.isnan(long) else math.nan


def stationarity(runs: list[dict], baseline: str) -> list[dict]:
    """One row per design point (or set) and measure of :data:`MEASURES`, then one
    pooled row per measure; none when the baseline arm has no runs."""
    groups: dict[int, list[dict]] = {}
    for r in runs:
        if r["arm"] == baseline:
            groups.setdefault(int(r.get("point") or 0), []).append(r)
    out = []
    means: dict[str, list[tuple[float, float]]] = {m: [] for m in MEASURES}
    for point in sorted(groups):
        for metric in MEASURES:
            pair = []
            for window in ("short", "long"):
                values = np.array([window_value(r, metric, window) for r in groups[point]])
                pair.append(float(np.nanmean(values)) if np.any(~np.isnan(values)) else math.nan)
            short, long = pair
            means[metric].append((short, long))
            ratio = _ratio(short, long)
            out.append({"point": point, "metric": metric, "n": len(groups[point]), "short": short, "long": long,
                        "ratio": ratio, "steady": _steady(ratio)})
    for metric in MEASURES:
        pairs = [(s, lg) for s, lg in means[metric] if not (math.isnan(s) or math.isnan(lg))]
        short = float(np.mean([s for s, _ in pairs])) if pairs else math.nan
        long = float(np.mean([lg for _, lg in pairs])) if pairs else math.nan
        ratio = _ratio(short, long)
        out.append({"point": POOLED, "metric": metric, "n": len(pairs), "short": short, "long": long,
                    "ratio": ratio, "steady": _steady(ratio)})
    return out if groups else []


def write_stationarity(path: Path, rows: list[dict]) -> None:
    """``stationarity.csv``: :data:`COLUMNS`, a row per point (or set) and measure, then the pooled rows."""
    write_csv(path, COLUMNS, rows)


def summary(rows: list[dict], unit: str = "points") -> list[str]:
    """Lines saying how steady the baseline is, measure by measure, with a warning when
    the pooled baseline drifts by more than :data:`WITHIN`. ``unit`` names the points
    (``points``, ``parameter sets``)."""
    pooled = [r for r in rows if r["point"] == POOLED]
    if not pooled:
        return []
    many = len({r["point"] for r in rows if r["point"] != POOLED}) > 1
    parts = []
    for row in pooled:
        text = f"{row['metric']} {row['ratio']:.2f}"
        if many:
            at = [r for r in rows if r["point"] != POOLED and r["metric"] == row["metric"] and r["steady"] is not None]
            text += f" ({sum(r['steady'] for r in at)} of {len(at)}{'' if parts else f' {unit} steady'})"
        parts.append(text)
    lines = [f"Baseline, long window over short (steady within {WITHIN:.0%}): " + "; ".join(parts)]
    drifting = [f"{r['metric']} {r['ratio']:.2f}" for r in pooled if r["steady"] is False]
    if drifting:
        lines.append(f"warning: the baseline drifts between the windows ({', '.join(drifting)}): long-window "
                     "effects are measured against a moving baseline (stationarity.csv)")
    return lines
