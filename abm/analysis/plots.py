"""Figures of an experiment folder, written beside its CSV files as PNG.

- ``trajectories.png``: homicide rate and recruitment over time per arm (13-week
  rolling means), mean over replicates with a 95% band;
- ``effects.png``: each policy's change against baseline, in %, with 95% intervals,
  in the short and the long window;
- ``side_effects.png``: changes in trust, reporting, incarceration, arrests of
  non-members, killings by police and cost (long window);
- ``maps.png``: homicides per block after the policies start, baseline and each arm,
  in the first replicate: the same city and seed in every arm.

Reads only the result files.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from abm import measures  # noqa: E402
from abm.analysis.statistics import half_width  # noqa: E402
from abm.results import table_path, table_rows  # noqa: E402


ROLL = 13


def _colors(arms: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab10")
    return {arm: ("black" if i == 0 else cmap((i - 1) % 10)) for i, arm in enumerate(arms)}


def _read(path: Path) -> list[dict]:
    """The rows of ``FOLDER/NAME.csv``, or of the folder's Parquet ``NAME`` table."""
    return table_rows(path.parent, path.name.removesuffix(".csv"))


def trajectories(out: Path, arms: list[str], start: int, burn_in: int) -> Path:
    rows = _read(out / "timeseries.csv")
    series: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        for metric in ("homicide_rate_per_100k", "recruitment_per_1000_youth"):
            series[(r["arm"], metric)][r["run_id"]].append(float(r[metric]))
    colors = _colors(arms)
    fig, axes = plt.subplots(2, 1, figsize=(10, 8), sharex=True)
    labels = {m: measures.label(m, step=True) for m in ("homicide_rate_per_100k", "recruitment_per_1000_youth")}
    kernel = np.ones(ROLL) / ROLL
    for ax, metric in zip(axes, labels, strict=True):
        top = 0.0
        for arm in arms:
            runs = list(series[(arm, metric)].values())
            if not runs:
                continue
            smooth = np.array([np.convolve(np.array(x), kernel, mode="valid") for x in runs])
            years = (np.arange(smooth.shape[1]) + ROLL) / 52
            mean = smooth.mean(axis=0)
            top = max(top, float(mean.max()))
            ax.plot(years, mean, color=colors[arm], lw=2 if arm == arms[0] else 1.5, label=arm)
            if len(runs) > 1:
                half = half_width(smooth.std(axis=0, ddof=1), len(runs))
                ax.fill_between(years, mean - half, mean + half, color=colors[arm], alpha=0.12, lw=0)
        ax.axvspan(0, burn_in / 52, color="0.9", lw=0)
        ax.axvline(start / 52, color="0.3", ls="--", lw=1)
        ax.set_ylabel(labels[metric])
        ax.set_ylim(0, top * 1.5 if top > 0 else 1)  # bands of few replicates can be far wider
        ax.grid(alpha=0.3)
    axes[0].text(start / 52, axes[0].get_ylim()[1] * 0.97, "  policies start", va="top", fontsize=9, color="0.3")
    axes[0].text(0.05, axes[0].get_ylim()[1] * 0.97, "burn-in", va="top", fontsize=9, color="0.4")
    axes[1].set_xlabel("Year (13-week rolling mean; bands: 95% interval over replicates)")
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.suptitle("Homicide and gang recruitment over time, by policy", fontsize=13)
    fig.tight_layout()
    path = out / "trajectories.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


WINDOW_LABELS = {"short": "after the policies start", "long": "at the end"}


def _entries(comparison: list[dict], arms: list[str]) -> list[tuple[str, str, object]]:
    """(label, arm, point) of each forest row: each arm but the baseline, at each
    design point (named by its parameter values when there are several)."""
    from abm.analysis.comparison import COLUMNS

    pts = list(dict.fromkeys(r["point"] for r in comparison))
    params = [k for k in (comparison[0] if comparison else {}) if k not in COLUMNS]
    if len(pts) <= 1:
        return [(arm, arm, pts[0] if pts else 0) for arm in arms[1:]]
    first = {}
    for r in comparison:
        first.setdefault(r["point"], r)
    return [(f"{arm} @ " + ", ".join(f"{p.split('.')[-1]}={first[pt].get(p)}" for p in params), arm, pt)
            for arm in arms[1:] for pt in pts]


def _forest(ax, comparison: list[dict], arms: list[str], metric: str, title: str) -> None:
    index = {(r["arm"], r["point"], r["metric"], r["window"]): r for r in comparison}
    shown = _entries(comparison, arms)
    for j, (window, marker, color) in enumerate((("short", "o", "tab:orange"), ("long", "s", "tab:blue"))):
        for i, (_, arm, point) in enumerate(shown):
            r = index.get((arm, point, metric, window))
            if r is None or _nan(r["change_pct"]):
                continue
            y = len(shown) - 1 - i + (0.15 if j == 0 else -0.15)
            lo, hi = r["change_pct_ci_low"], r["change_pct_ci_high"]
            if not (_nan(lo) or _nan(hi)):
                ax.plot([lo, hi], [y, y], color=color, lw=2)
            ax.plot(r["change_pct"], y, marker, color=color, ms=7,
                    label=WINDOW_LABELS[window] if i == 0 else None)
    ax.axvline(0, color="0.3", lw=1)
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels([label for label, _, _ in reversed(shown)])
    ax.set_title(title)
    ax.set_xlabel("change against baseline, % (95% interval)")
    ax.grid(axis="x", alpha=0.3)


def effects_by_point(out: Path, comparison: list[dict], arms: list[str], window: str = "long") -> Path | None:
    """The change against baseline (absolute and in %) along each swept parameter, with
    95% intervals: one line per arm (and per value of the other parameters)."""
    from abm.analysis.comparison import COLUMNS

    params = [k for k in (comparison[0] if comparison else {}) if k not in COLUMNS]
    if not params or len({r["point"] for r in comparison}) < 2:
        return None
    metrics = (("homicide_rate_per_100k", "homicides per 100,000 a year"),
               ("recruitment_per_1000_youth", "recruits per 1,000 youths a year"))
    colors = _colors(arms)
    fig, axes = plt.subplots(2 * len(metrics), len(params), figsize=(max(8.0, 5.5 * len(params) + 1), 11),
                             squeeze=False, sharex="col")
    for col, param in enumerate(params):
        others = [p for p in params if p != param]
        for row_i, (metric, label) in enumerate(metrics):
            for k, (key, suffix, unit) in enumerate((("change", "", label), ("change_pct", "_pct", "%"))):
                ax = axes[2 * row_i + k, col]
                for arm in arms[1:]:
                    rows = [r for r in comparison if r["arm"] == arm and r["metric"] == metric
                            and r["window"] == window]
                    combos = sorted({tuple(str(r.get(o)) for o in others) for r in rows})
                    for c, combo in enumerate(combos):
                        line = sorted((r for r in rows if tuple(str(r.get(o)) for o in others) == combo),
                                      key=lambda r: float(r[param]))
                        x = np.array([float(r[param]) for r in line])
                        y = np.array([float(r[key]) for r in line])
                        lo = np.array([float(r[f"change{suffix}_ci_low"]) for r in line])
                        hi = np.array([float(r[f"change{suffix}_ci_high"]) for r in line])
                        name = arm + ("" if not others else " (" + ", ".join(
                            f"{o.split('.')[-1]}={v}" for o, v in zip(others, combo, strict=True)) + ")")
                        # one colour per arm; the other parameters' values by line style and marker
                        ax.errorbar(x, y, yerr=[np.abs(y - lo), np.abs(hi - y)], fmt="os^D"[c % 4],
                                    ls=("-", "--", ":", "-.")[c % 4], capsize=4, color=colors[arm],
                                    label=name if (row_i, k) == (0, 0) else None)
                ax.axhline(0, color="0.3", lw=1)
                ax.grid(alpha=0.3)
                ax.set_ylabel(f"change in {unit}" if k == 0 else f"change in {label.split(' per')[0]}, %",
                              fontsize=9)
                if 2 * row_i + k == 2 * len(metrics) - 1:
                    ax.set_xlabel(param)
    if len(params) == 1:
        fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="lower center", ncol=min(4, len(arms)),
                   frameon=False)
    else:  # each column's lines hold the other parameters fixed: a legend of its own
        for col in range(len(params)):
            axes[0, col].legend(fontsize=7, loc="best")
    fig.suptitle(f"Effect against baseline at each design point\n({window} window; 95% intervals, "
                 "paired by replicate)", fontsize=12)
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    path = out / "effects_by_point.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def effects(out: Path, comparison: list[dict], arms: list[str], sets: int | None = None) -> Path:
    """Forest plot of each arm's change in homicide and recruitment, both windows;
    ``sets``: the number of an ensemble's parameter sets the intervals are taken over."""
    rows = len(_entries(comparison, arms)) + 1
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.6 * rows + 2), sharey=True)
    _forest(axes[0], comparison, arms, "homicide_rate_per_100k", "Homicide rate")
    _forest(axes[1], comparison, arms, "recruitment_per_1000_youth", "Gang recruitment")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False, fontsize=9)
    fig.suptitle("Policy effects, paired by replicate (same seeds in every arm)" if sets is None else
                 f"Policy effects over {sets} parameter sets (same seeds in every arm within a set;\n"
                 "the intervals carry the uncertainty about the parameters as well as chance)", fontsize=13)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path = out / "effects.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def side_effects(out: Path, comparison: list[dict], arms: list[str]) -> Path:
    metrics = (
        ("trust_mean", "Trust in police"),
        ("reporting_rate", "Reporting"),
        ("incarceration_per_100k", "Incarceration"),
        ("arrests_non_member_share", "Share of arrested not in gangs"),
        ("police_killings", "Killings by police"),
        ("total_cost", "Cost (programmes + prison)"),
    )
    rows = len(_entries(comparison, arms)) + 1
    fig, axes = plt.subplots(2, 3, figsize=(13, 0.35 * rows * 2 + 3.5), sharey=True)
    for ax, (metric, title) in zip(axes.ravel(), metrics, strict=True):
        _forest(ax, comparison, arms, metric, title)
        ax.set_xlabel("change, %")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False, fontsize=9)
    fig.suptitle("Side effects against baseline (95% intervals)", fontsize=13)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    path = out / "side_effects.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def maps(out: Path, arms: list[str], width: int, height: int) -> Path:
    rows = [r for r in _read(out / "blocks.csv") if r.get("point", "0") in ("0", "")]  # the first design point
    first: dict[str, int] = {}
    for r in rows:
        first[r["arm"]] = min(first.get(r["arm"], int(r["replicate"])), int(r["replicate"]))
    grids = {arm: np.zeros((height, width)) for arm in arms}
    for r in rows:
        if r["arm"] in grids and int(r["replicate"]) == first.get(r["arm"]):
            grids[r["arm"]][int(r["y"]), int(r["x"])] += int(r["homicides"])
    vmax = max(1.0, max(g.max() for g in grids.values()))
    cols = min(4, len(arms))
    nrows = math.ceil(len(arms) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols + 1, 3.4 * nrows + 0.6), squeeze=False,
                             layout="constrained")
    for ax in axes.ravel():
        ax.axis("off")
    image = None
    for ax, arm in zip(axes.ravel(), arms, strict=False):
        g = grids[arm]
        image = ax.imshow(np.where(g > 0, g, np.nan), cmap="inferno_r", vmin=0, vmax=vmax, origin="upper",
                          interpolation="nearest")
        ax.set_facecolor("0.93")
        ax.set_title(f"{arm}\n{int(g.sum())} homicides", fontsize=10)
        ax.axis("on")
        ax.set_xticks([])
        ax.set_yticks([])
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, label="homicides per block")
    fig.suptitle("Where homicides happen after the policies start (first replicate: same city and seed in every arm)",
                 fontsize=11)
    path = out / "maps.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def has_rows(path: Path) -> bool:
    """Whether ``FOLDER/NAME.csv`` holds more than its header, or the folder's Parquet
    ``NAME`` table holds a file."""
    found = table_path(path.parent, path.name.removesuffix(".csv"))
    if found is None:
        return False
    if found.suffix != ".csv":
        return True
    with found.open() as handle:
        return len(list(itertools.islice(handle, 2))) > 1


def all_figures(out: Path, comparison: list[dict]) -> list[Path]:
    manifest = json.loads((out / "manifest.json").read_text())
    windows = manifest["windows"]
    for name, text in (("short", "steps {0}-{1}, after the policies start"), ("long", "steps {0}-{1}, at the end")):
        WINDOW_LABELS[name] = text.format(*windows[name])
    arms = list(manifest["arms"])
    base = manifest["baseline"]
    arms = [base] + [a for a in arms if a != base]
    paths = []
    if has_rows(out / "timeseries.csv"):
        paths.append(trajectories(out, arms, manifest["policy_start_step"], manifest["windows"]["all"][0] - 1))
    if len(arms) > 1:
        sets = manifest.get("design_points") if manifest.get("ensemble") else None
        paths += [effects(out, comparison, arms, sets), side_effects(out, comparison, arms)]
        by_point = effects_by_point(out, comparison, arms)
        if by_point is not None:
            paths.append(by_point)
    if has_rows(out / "blocks.csv") and "grid" in manifest:
        paths.append(maps(out, arms, *manifest["grid"]))
    return paths
