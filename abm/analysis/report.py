"""One self-contained HTML page from a results folder, to share.

    abm report results/policy_comparison

The page holds the experiment (from ``manifest.json``), the comparison table for each
window, the sensitivity indices when there are any (and those of an emulator), every figure in the folder
(embedded, so the page works on its own), and the manifest. It reads only the files.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
from pathlib import Path

from abm import measures
from abm.analysis.comparison import POOLED, cost_text
from abm.analysis.stationarity import WITHIN
from abm.io import write_text
from abm.schema import ConfigError

# Window measures in the page's comparison tables (labels from abm.measures), and the
# comparison's own cost per homicide averted.
HEADLINE = tuple(
    (name, measures.label(name))
    for name in ("homicide_rate_per_100k", "recruitment_per_1000_youth", "trust_mean", "reporting_rate",
                 "incarceration_per_100k", "arrests_non_member_share", "police_killings", "total_cost")
) + (("cost_per_homicide_averted", "US$ per homicide averted"),)
FIGURES = (
    ("trajectories.png", "Homicide and recruitment over time"),
    ("effects.png", "Effects against baseline"),
    ("effects_by_point.png", "Effects at each design point"),
    ("side_effects.png", "Side effects"),
    ("maps.png", "Where homicides happen"),
    ("sensitivity.png", "Sensitivity indices"),
    ("sensitivity_emulator.png", "Sensitivity indices from an emulator"),
)
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
table{border-collapse:collapse;font-size:0.9em;margin:0.5em 0 1.5em}
th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
th{background:#f4f4f4}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0 1.5em}
.neg{color:#1d4ed8}.pos{color:#c2410c}
.wide{overflow-x:auto}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:0.8em}
small{color:#666}
"""


def _read(path: Path, columns: tuple[str, ...]) -> list[dict]:
    """The rows of a CSV file of the folder (none if it is missing).

    Raises:
        ConfigError: the file is not text, or lacks one of ``columns``.
    """
    if not path.exists():
        return []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise ConfigError(f"{path}: not a table written by abm experiment (no column {', '.join(missing)})")
            return list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path}: not a table written by abm experiment ({exc})") from None


def read_manifest(folder: Path) -> dict:
    """The manifest of an experiment's results folder, checked for what the page uses.

    Raises:
        ConfigError: in one line, when the folder is not an experiment's results
            (no manifest, a malformed one, a single run's, no runs.csv).
    """
    from abm import folders

    path = folder / folders.MANIFEST
    manifest = folders.read_manifest(folder)
    if manifest is None:
        raise ConfigError(f"{folder}: not a results folder (no manifest.json)")
    if "experiment" not in manifest and "scenario" in manifest:
        raise ConfigError(f"{folder}: holds one run (abm run), not an experiment; abm report needs the folder "
                          "of abm experiment")
    expected = {"experiment": str, "arms": dict, "baseline": str}
    for key, kind in expected.items():
        if not isinstance(manifest.get(key), kind):
            problem = "missing" if key not in manifest else f"not a {'text' if kind is str else 'JSON object'}"
            raise ConfigError(f"{path}: not the manifest of an experiment ('{key}' {problem})")
    windows = manifest.get("windows", {})
    if not isinstance(windows, dict) or not all(
        isinstance(w, list) and len(w) == 2 and all(isinstance(x, int) for x in w) for w in windows.values()
    ):
        raise ConfigError(f"{path}: 'windows' must map names to [first, last] steps")
    if not (folder / "runs.csv").is_file():
        raise ConfigError(f"{folder}: no runs.csv beside manifest.json (an experiment that wrote no runs)")
    if manifest.get("status") not in (None, "complete"):
        raise ConfigError(f"{folder}: an unfinished sweep (status {manifest.get('status')!r}); finish it with "
                          "abm experiment ... --resume, which makes the report's tables and figures")
    return manifest


def _num(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "inf"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def comparison_table(rows: list[dict], window: str, baseline: str) -> str:
    """The comparison of one design point (or pooled rows) in one window."""
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    index = {(r["arm"], r["metric"], r["window"]): r for r in rows}
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in HEADLINE)
    body = []
    for arm in arms:
        cells = []
        for metric, _ in HEADLINE:
            r = index.get((arm, metric, window))
            if metric == "cost_per_homicide_averted":
                cells.append(f"<td>{html.escape(cost_text(r)) if arm != baseline else 'n/a'}</td>")
                continue
            if r is None:
                cells.append("<td>n/a</td>")
                continue
            mean = _num(r["mean"])
            text = _fmt(mean)
            change = _num(r.get("change_pct"))
            if arm != baseline and not math.isnan(change):
                lo, hi = _num(r["change_pct_ci_low"]), _num(r["change_pct_ci_high"])
                cls = "neg" if hi < 0 else "pos" if lo > 0 else ""
                text += f'<br><small class="{cls}">{change:+.0f}% [{lo:+.0f}, {hi:+.0f}]</small>'
            cells.append(f"<td>{text}</td>")
        body.append(f"<tr><td>{html.escape(arm)}</td>{''.join(cells)}</tr>")
    return f"<div class='wide'><table><tr><th>arm</th>{head}</tr>{''.join(body)}</table></div>"


def point_tables(rows: list[dict], window: str, baseline: str, manifest: dict) -> str:
    """One table per design point, headed by its parameter values and run count."""
    from abm.analysis.comparison import COLUMNS, POOLED, point_label

    points = list(dict.fromkeys(r.get("point", "0") for r in rows))
    params = [k for k in rows[0] if k not in COLUMNS] if rows else []
    parts = []
    for point in points:
        sub = [r for r in rows if r.get("point", "0") == point]
        if len(points) > 1 or params or point == POOLED:
            n = min((int(_num(r["n"])) for r in sub if r["metric"] == "homicide_rate_per_100k"
                     and r["window"] == window and not math.isnan(_num(r["n"]))), default=0)
            label = point_label(sub, point, params)
            if point == POOLED:
                label += f" ({manifest.get('design_points', '?')} sampled points)"
            parts.append(f"<h4>{html.escape(label)}: {n} runs per arm</h4>")
        parts.append(comparison_table(sub, window, baseline))
    return "".join(parts)


def sensitivity_table(rows: list[dict]) -> str:
    if not rows:
        return ""
    method = rows[0]["method"]
    sobol = method != "morris"
    cols = ("S1", "S1_conf", "ST", "ST_conf") if sobol else ("mu_star", "mu_star_conf", "sigma")
    cols += ("Q2", "noise_share") if "Q2" in rows[0] else ()  # an emulator's fit
    ranked = ("ST_above", "ST_leading") if sobol else ()  # the factors it clearly exceeds; 1 if it leads
    head = "".join(f"<th>{c}</th>" for c in ("arm", "output", "parameter", *cols, *ranked))
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r[c] or ''))}</td>" for c in ("arm", "output", "parameter"))
        + "".join(f"<td>{_fmt(_num(r.get(c)))}</td>" for c in cols)
        + "".join(f"<td>{html.escape(str(r.get(c) or ''))}</td>" for c in ranked) + "</tr>"
        for r in rows
    )
    return f"<h2>Sensitivity ({method})</h2><table><tr>{head}</tr>{body}</table>"


def stationarity_table(rows: list[dict]) -> str:
    """The baseline's long-window mean over its short window's, pooled over the points
    (or sets), with how many points hold steady (empty without ``stationarity.csv``)."""
    pooled = [r for r in rows if r["point"] == POOLED]
    if not pooled:
        return ""
    body = []
    for r in pooled:
        at = [x for x in rows if x["point"] != POOLED and x["metric"] == r["metric"] and x.get("steady")]
        steady = f"{sum(x['steady'] == 'True' for x in at)} of {len(at)}" if len(at) > 1 else ""
        ratio = _fmt(_num(r["ratio"]))
        low, high = _num(r.get("ratio_ci_low")), _num(r.get("ratio_ci_high"))
        if not (math.isnan(low) or math.isnan(high)):
            ratio += f" [{low:.2f}, {high:.2f}]"
        cells = (measures.label(r["metric"], step=True), _fmt(_num(r["short"])), _fmt(_num(r["long"])), ratio, steady)
        body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("measure", "short window", "long window",
                                               "long / short [95% interval]", "points steady"))
    return (f"<h2>Is the baseline steady?</h2><p>The baseline arm's mean over the long window over its mean over "
            "the short one, with its 95% interval (over the points, or over the replicates of a single point); a "
            f"point (or parameter set) holds steady within {WITHIN:.0%}. A drifting baseline means long-window "
            "effects are measured against a moving baseline.</p>"
            f"<table><tr>{head}</tr>{''.join(body)}</table>")


def build_report(folder: Path) -> Path:
    """Write ``report.html`` into ``folder`` (an experiment's results); its path.

    Raises:
        ConfigError: in one line, when the folder is not an experiment's results.
    """
    manifest = read_manifest(folder)
    comparison = _read(folder / "comparison.csv", ("arm", "metric", "window", "mean"))
    sensitivity = _read(folder / "sensitivity.csv", ("method", "arm", "output", "parameter"))
    baseline = manifest.get("baseline", "baseline")
    parts = [
        f"<h1>{html.escape(manifest.get('experiment', folder.name))}</h1>",
        "<p>" + html.escape(
            f"{manifest.get('runs', '?')} runs ({manifest.get('failed', 0)} failed), "
            f"{manifest.get('replications', '?')} replications, root seed {manifest.get('root_seed')}, "
            f"experiment file {manifest.get('experiment_file')} (hash {manifest.get('experiment_hash')}), "
            f"abm {manifest.get('version')} at commit {manifest.get('git_commit')}, "
            f"{manifest.get('started')} to {manifest.get('finished')}."
        ) + "</p>",
    ]
    windows = manifest.get("windows", {})
    if comparison and len(manifest.get("arms", {})) > 1:
        parts.append("<h2>Comparison</h2><p>Mean over replicates; below it, the change against baseline in %, "
                     "paired by replicate (common random numbers) within each design point, with its 95% interval "
                     "(blue: lower, orange: higher, where the interval is clear of zero). Cost per homicide "
                     "averted is the extra cost of programmes and prison in US$ over the homicides averted; "
                     "it is not given where the change in homicides may be zero.</p>")
        for window, label in (("short", "Short window"), ("long", "Long window"), ("all", "Whole measured period")):
            if window in windows:
                first, last = windows[window]
                parts.append(f"<h3>{label} (steps {first}-{last})</h3>"
                             + point_tables(comparison, window, baseline, manifest))
    steady = _read(folder / "stationarity.csv", ("point", "metric", "short", "long", "ratio"))
    parts.append(stationarity_table(steady))
    parts.append(sensitivity_table(sensitivity))
    parts.append(sensitivity_table(_read(folder / "sensitivity_emulator.csv", ("method", "arm", "output", "parameter"))))
    for name, title in FIGURES:
        path = folder / name
        if path.exists():
            data = base64.b64encode(path.read_bytes()).decode()
            parts.append(f'<h2>{html.escape(title)}</h2><img alt="{html.escape(title)}" src="data:image/png;base64,{data}">')
    parts.append("<h2>Manifest</h2><pre>" + html.escape(json.dumps(manifest, indent=2)) + "</pre>")
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(manifest.get('experiment', 'report'))}"
            f"</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
    out = folder / "report.html"
    write_text(out, page)
    return out
