"""One report from a results folder, to share: a self-contained HTML page, or Markdown
whose tables go into a paper or a README.

    abm report results/policy_comparison
    abm report results/policy_sensitivity --format markdown

The report holds the experiment (from ``manifest.json``), the comparison table for each
window, whether the baseline holds steady, the sensitivity indices when there are any
(and those of an emulator), each with a ranking of the factors that marks the clear
leaders, and every figure in the folder (embedded in the page, so that it works on its
own; linked from the Markdown, which stays beside them). The page also holds the
manifest. It reads only the files.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
from dataclasses import dataclass, field
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
table.prose td,table.prose th{white-space:normal;text-align:left;vertical-align:top}
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


@dataclass
class Cell:
    """One cell of a table: its text, a second line (a change against baseline) with a
    tone ("neg" lower, "pos" higher, where its interval is clear of zero), or instead of
    the text a list of items, each marked if it stands out (a clearly leading factor)."""

    text: str
    note: str = ""
    tone: str = ""
    items: tuple[tuple[str, bool], ...] = ()


@dataclass
class Table:
    header: tuple[str, ...]
    rows: list[list[Cell]] = field(default_factory=list)
    prose: bool = False  # cells of text, wrapped, rather than numbers


# A report is a list of blocks, whatever its format: ("h1" | "h2" | "h3" | "h4" | "p",
# text), a Table, or ("figure", file name, title). "{marks}" in a paragraph stands for
# how the format marks a change clear of zero.
Block = tuple | Table


def comparison_table(rows: list[dict], window: str, baseline: str) -> Table:
    """The comparison of one design point (or pooled rows) in one window."""
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    index = {(r["arm"], r["metric"], r["window"]): r for r in rows}
    table = Table(("arm", *(label for _, label in HEADLINE)))
    for arm in arms:
        cells = [Cell(arm)]
        for metric, _ in HEADLINE:
            r = index.get((arm, metric, window))
            if metric == "cost_per_homicide_averted":
                cells.append(Cell(cost_text(r) if arm != baseline else "n/a"))
                continue
            if r is None:
                cells.append(Cell("n/a"))
                continue
            cell = Cell(_fmt(_num(r["mean"])))
            change = _num(r.get("change_pct"))
            if arm != baseline and not math.isnan(change):
                lo, hi = _num(r["change_pct_ci_low"]), _num(r["change_pct_ci_high"])
                cell.note = f"{change:+.0f}% [{lo:+.0f}, {hi:+.0f}]"
                cell.tone = "neg" if hi < 0 else "pos" if lo > 0 else ""
            cells.append(cell)
        table.rows.append(cells)
    return table


def point_tables(rows: list[dict], window: str, baseline: str, manifest: dict) -> list[Block]:
    """One table per design point, headed by its parameter values and run count."""
    from abm.analysis.comparison import COLUMNS, POOLED, point_label

    points = list(dict.fromkeys(r.get("point", "0") for r in rows))
    params = [k for k in rows[0] if k not in COLUMNS] if rows else []
    blocks: list[Block] = []
    for point in points:
        sub = [r for r in rows if r.get("point", "0") == point]
        if len(points) > 1 or params or point == POOLED:
            n = min((int(_num(r["n"])) for r in sub if r["metric"] == "homicide_rate_per_100k"
                     and r["window"] == window and not math.isnan(_num(r["n"]))), default=0)
            label = point_label(sub, point, params)
            if point == POOLED:
                label += f" ({manifest.get('design_points', '?')} sampled points)"
            blocks.append(("h4", f"{label}: {n} runs per arm"))
        blocks.append(comparison_table(sub, window, baseline))
    return blocks


def _sensitivity_columns(rows: list[dict]) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    """Whether the rows are Sobol indices, their number columns, and their ranking columns."""
    sobol = rows[0]["method"] != "morris"
    cols = ("S1", "S1_conf", "ST", "ST_conf") if sobol else ("mu_star", "mu_star_conf", "sigma")
    cols += ("Q2", "noise_share") if "Q2" in rows[0] else ()  # an emulator's fit
    ranked = ("ST_above", "ST_leading") if sobol else ()  # the factors it clearly exceeds; 1 if it leads
    return sobol, cols, ranked


def sensitivity_table(rows: list[dict]) -> list[Block]:
    """Every index of every factor, as in the file."""
    if not rows:
        return []
    _, cols, ranked = _sensitivity_columns(rows)
    table = Table(("arm", "output", "parameter", *cols, *ranked))
    for r in rows:
        table.rows.append([Cell(str(r[c] or "")) for c in ("arm", "output", "parameter")]
                          + [Cell(_fmt(_num(r.get(c)))) for c in cols]
                          + [Cell(str(r.get(c) or "")) for c in ranked])
    return [("h2", f"Sensitivity ({rows[0]['method']})"), table]


def ranking_table(rows: list[dict]) -> list[Block]:
    """For each arm and output, its factors from the most to the least influential (total
    Sobol index, or Morris's mu*, with the half-width of its 95% interval); those that
    clearly lead (their interval above every factor outside the top) stand out, and the
    last column says which factors each one clearly exceeds."""
    if not rows:
        return []
    sobol, _, _ = _sensitivity_columns(rows)
    key, conf = ("ST", "ST_conf") if sobol else ("mu_star", "mu_star_conf")
    emulated = "Q2" in rows[0]
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["arm"], r["output"]), []).append(r)
    header = ("arm", "output", f"factors by {key} (± half-width of its 95% interval)")
    header += ("clearly above",) if sobol else ()
    header += ("Q2, noise share",) if emulated else ()
    table = Table(header, prose=True)
    for (arm, output), members in groups.items():
        members = sorted(members, key=lambda r: -_num(r.get(key)) if not math.isnan(_num(r.get(key))) else math.inf)
        size = (lambda v: "n/a" if math.isnan(v) else f"{v:.2f}") if sobol else _fmt  # Sobol indices lie in [0, 1]
        ranking = tuple((f"{r['parameter']} {size(_num(r.get(key)))} (±{size(_num(r.get(conf)))})",
                         r.get("ST_leading") == "1") for r in members)
        cells = [Cell(arm), Cell(output), Cell("", items=ranking)]
        if sobol:
            above = "; ".join(f"{r['parameter']} > {r['ST_above'].replace(';', ',')}"
                              for r in members if r.get("ST_above"))
            cells.append(Cell(above or "none"))
        if emulated:
            first = members[0]
            cells.append(Cell(f"{_fmt(_num(first.get('Q2')))}, {_num(first.get('noise_share')):.0%}"))
        table.rows.append(cells)
    method = rows[0]["method"]
    return [("h2", f"Ranking ({method})"),
            ("p", "Factors from the most to the least influential; in bold, those that clearly lead (the "
                  "95% interval of each one's difference from every factor outside the top is above zero)."
                  if sobol else "Factors from the most to the least influential (Morris's mu*)."),
            table]


def stationarity_table(rows: list[dict]) -> list[Block]:
    """The baseline's long-window mean over its short window's, pooled over the points
    (or sets), with how many points hold steady (nothing without ``stationarity.csv``)."""
    pooled = [r for r in rows if r["point"] == POOLED]
    if not pooled:
        return []
    table = Table(("measure", "short window", "long window", "long / short [95% interval]", "points steady"))
    for r in pooled:
        at = [x for x in rows if x["point"] != POOLED and x["metric"] == r["metric"] and x.get("steady")]
        steady = f"{sum(x['steady'] == 'True' for x in at)} of {len(at)}" if len(at) > 1 else ""
        ratio = _fmt(_num(r["ratio"]))
        low, high = _num(r.get("ratio_ci_low")), _num(r.get("ratio_ci_high"))
        if not (math.isnan(low) or math.isnan(high)):
            ratio += f" [{low:.2f}, {high:.2f}]"
        cells = (measures.label(r["metric"], step=True), _fmt(_num(r["short"])), _fmt(_num(r["long"])), ratio, steady)
        table.rows.append([Cell(c) for c in cells])
    return [("h2", "Is the baseline steady?"),
            ("p", "The baseline arm's mean over the long window over its mean over the short one, with its 95% "
                  "interval (over the points, or over the replicates of a single point); a point (or parameter "
                  f"set) holds steady within {WITHIN:.0%}. A drifting baseline means long-window effects are "
                  "measured against a moving baseline."),
            table]


def _blocks(folder: Path, manifest: dict) -> list[Block]:
    """The page's content, whatever its format."""
    comparison = _read(folder / "comparison.csv", ("arm", "metric", "window", "mean"))
    baseline = manifest.get("baseline", "baseline")
    blocks: list[Block] = [
        ("h1", manifest.get("experiment", folder.name)),
        ("p", f"{manifest.get('runs', '?')} runs ({manifest.get('failed', 0)} failed), "
              f"{manifest.get('replications', '?')} replications, root seed {manifest.get('root_seed')}, "
              f"experiment file {manifest.get('experiment_file')} (hash {manifest.get('experiment_hash')}), "
              f"abm {manifest.get('version')} at commit {manifest.get('git_commit')}, "
              f"{manifest.get('started')} to {manifest.get('finished')}."),
    ]
    windows = manifest.get("windows", {})
    if comparison and len(manifest.get("arms", {})) > 1:
        blocks += [("h2", "Comparison"),
                   ("p", "Mean over replicates; with it, the change against baseline in %, paired by replicate "
                         "(common random numbers) within each design point, with its 95% interval ({marks}). "
                         "Cost per homicide averted is the extra cost of programmes and prison in US$ over the "
                         "homicides averted; it is not given where the change in homicides may be zero.")]
        for window, label in (("short", "Short window"), ("long", "Long window"), ("all", "Whole measured period")):
            if window in windows:
                first, last = windows[window]
                blocks.append(("h3", f"{label} (steps {first}-{last})"))
                blocks += point_tables(comparison, window, baseline, manifest)
    blocks += stationarity_table(_read(folder / "stationarity.csv", ("point", "metric", "short", "long", "ratio")))
    for name in ("sensitivity.csv", "sensitivity_emulator.csv"):  # the emulator's method says so
        rows = _read(folder / name, ("method", "arm", "output", "parameter"))
        blocks += ranking_table(rows) + sensitivity_table(rows)
    blocks += [("figure", name, title) for name, title in FIGURES if (folder / name).exists()]
    return blocks


def _cell_html(cell: Cell) -> str:
    if cell.items:
        text = ", ".join(f"<strong>{html.escape(t)}</strong>" if s else html.escape(t) for t, s in cell.items)
    else:
        text = html.escape(cell.text)
    if cell.note:
        text += f'<br><small class="{cell.tone}">{html.escape(cell.note)}</small>'
    return f"<td>{text}</td>"


def _cell_markdown(cell: Cell) -> str:
    """A Markdown table cell: leaders and changes clear of zero in bold, on one line,
    pipes escaped."""
    text = ", ".join(f"**{t}**" if s else t for t, s in cell.items) if cell.items else cell.text
    if cell.note:
        text += f" ({f'**{cell.note}**' if cell.tone else cell.note})"
    return " ".join(text.split()).replace("|", "\\|")


def to_html(blocks: list[Block], folder: Path, manifest: dict) -> str:
    parts = []
    for block in blocks:
        if isinstance(block, Table):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
            body = "".join("<tr>" + "".join(_cell_html(c) for c in row) + "</tr>" for row in block.rows)
            kind = " class='prose'" if block.prose else ""
            parts.append(f"<div class='wide'><table{kind}><tr>{head}</tr>{body}</table></div>")
        elif block[0] == "figure":
            _, name, title = block
            data = base64.b64encode((folder / name).read_bytes()).decode()
            parts.append(f'<h2>{html.escape(title)}</h2><img alt="{html.escape(title)}" '
                         f'src="data:image/png;base64,{data}">')
        else:
            tag, text = block
            text = text.replace("{marks}", "blue: lower, orange: higher, where the interval is clear of zero")
            parts.append(f"<{tag}>{html.escape(text)}</{tag}>")
    parts.append("<h2>Manifest</h2><pre>" + html.escape(json.dumps(manifest, indent=2)) + "</pre>")
    title = html.escape(manifest.get("experiment", "report"))
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")


def to_markdown(blocks: list[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            lines.append("| " + " | ".join(_cell_markdown(Cell(h)) for h in block.header) + " |")
            lines.append("|" + "---|" * len(block.header))
            lines += ["| " + " | ".join(_cell_markdown(c) for c in row) + " |" for row in block.rows]
        elif block[0] == "figure":
            _, name, title = block
            lines.append(f"### {title}\n\n![{title}]({name})")
        else:
            tag, text = block
            text = text.replace("{marks}", "in bold where it is clear of zero")
            lines.append(f"{'#' * int(tag[1])} {text}" if tag.startswith("h") else text)
        lines.append("")
    lines.append("The experiment's manifest, with its whole configuration, is `manifest.json` beside this file.")
    return "\n".join(lines) + "\n"


FORMATS = {"html": "report.html", "markdown": "report.md"}


def build_report(folder: Path, fmt: str = "html") -> Path:
    """Write the report into ``folder`` (an experiment's results): ``report.html``, one
    self-contained page, or ``report.md``, Markdown whose tables go into a paper or a
    README and whose figures are the folder's own files. Returns its path.

    Raises:
        ConfigError: in one line, when the folder is not an experiment's results.
    """
    manifest = read_manifest(folder)
    blocks = _blocks(folder, manifest)
    text = to_html(blocks, folder, manifest) if fmt == "html" else to_markdown(blocks)
    out = folder / FORMATS[fmt]
    write_text(out, text)
    return out
