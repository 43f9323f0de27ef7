"""The debrief table: what each city's policies did, counted since the policies started
and over the last year, with the trade-offs (prisoners, trust, killings by police, cost)
beside homicide and recruitment; and the same numbers as CSV to take away.

With several seeds per side each cell is the median over the seeds and its range, and
the difference is taken seed by seed (each city against the comparison city on the
same seed), so its range says how much of it is chance.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from abm.viz.classroom import ClassroomModel

YEAR = 52


@dataclass(frozen=True)
class Quantity:
    label: str
    value: Callable[[ClassroomModel, int, int], float]  # (model, side, seed index) -> number
    fmt: str


def _since(model: ClassroomModel, side: int, seed: int, key: str) -> list:
    return [r[key] for r in model.rows(model.sides[side][1][seed])[model.start_step:]]


def _last_year(model: ClassroomModel, side: int, seed: int, key: str) -> list:
    return [r[key] for r in model.rows(model.sides[side][1][seed])[-YEAR:]]


def _now(model: ClassroomModel, side: int, seed: int, key: str) -> float:
    rows = model.rows(model.sides[side][1][seed])
    return rows[-1][key] if rows else float("nan")


def _street(model: ClassroomModel, side: int, seed: int) -> float:
    counts = model.street[side][seed]
    return counts[-1] if counts else float("nan")


def _share(num: list, den: list) -> float:
    return sum(num) / sum(den) if sum(den) else float("nan")


QUANTITIES = (
    Quantity("Homicides since the policies started", lambda m, s, i: sum(_since(m, s, i, "homicides")), "{:.0f}"),
    Quantity("Homicides, last year", lambda m, s, i: sum(_last_year(m, s, i, "homicides")), "{:.0f}"),
    Quantity("New gang members since the policies started", lambda m, s, i: sum(_since(m, s, i, "recruits")),
             "{:.0f}"),
    Quantity("New gang members, last year", lambda m, s, i: sum(_last_year(m, s, i, "recruits")), "{:.0f}"),
    Quantity("Gang members on the street now", _street, "{:.0f}"),
    Quantity("Gang members in prison now", lambda m, s, i: _now(m, s, i, "gang_members") - _street(m, s, i), "{:.0f}"),
    Quantity("Youths in prison now (members or not)", lambda m, s, i: _now(m, s, i, "incarcerated"), "{:.0f}"),
    Quantity("Share of arrested who were not gang members, since the policies started",
             lambda m, s, i: _share(_since(m, s, i, "arrests_non_member"), _since(m, s, i, "arrests")), "{:.0%}"),
    Quantity("Trust in police now (0-1)", lambda m, s, i: _now(m, s, i, "trust_mean"), "{:.3f}"),
    Quantity("Killings by police since the policies started", lambda m, s, i: sum(_since(m, s, i, "police_killings")),
             "{:.0f}"),
    Quantity("Programme cost, last year (US$)", lambda m, s, i: sum(_last_year(m, s, i, "policy_cost")), "{:,.0f}"),
    Quantity("Prison cost, last year (US$)", lambda m, s, i: sum(_last_year(m, s, i, "prison_cost")), "{:,.0f}"),
    Quantity("Cost since the policies started: programmes + prison (US$)",
             lambda m, s, i: sum(_since(m, s, i, "policy_cost")) + sum(_since(m, s, i, "prison_cost")), "{:,.0f}"),
)
COST_PER_AVERTED = "Extra cost per homicide averted since the policies started (US$)"


def planned(model: ClassroomModel) -> list[str]:
    """Each city's programme cost a year as planned (its policies' officers, workers and
    places in full use), known before the policies start: one line per city. Prison
    costs are not planned: they follow from who is arrested and sentenced."""
    lines = []
    for label, runs in model.sides:
        city = runs[0]
        known, unknown = 0.0, []
        for policy in city.policies:
            weekly = policy.planned_cost(city)
            if weekly is None:
                unknown.append(type(policy).label or type(policy).name)
            else:
                known += weekly * YEAR
        text = f"{label}: programmes as planned cost US${known:,.0f} a year"
        if unknown:
            text += f", plus {' and '.join(unknown)} as used"
        lines.append(text)
    return lines


def values(model: ClassroomModel, quantity: Quantity) -> np.ndarray:
    """(sides, seeds) of one quantity."""
    return np.array([[quantity.value(model, s, i) for i in range(model.seeds)] for s in range(len(model.sides))],
                    dtype=float)


def cost_per_homicide_averted(model: ClassroomModel) -> float | None:
    """The first city's extra cost (programmes and prison, since the policies started)
    over the homicides it had fewer than the comparison city, over all seeds together;
    None when it had no fewer."""
    if len(model.sides) < 2:
        return None
    homicides = values(model, QUANTITIES[0]).sum(axis=1)
    cost = values(model, QUANTITIES[-1]).sum(axis=1)
    averted = homicides[1] - homicides[0]
    return float((cost[0] - cost[1]) / averted) if averted > 0 else None


def _cell(x: np.ndarray, fmt: str) -> str:
    x = x[~np.isnan(x)]
    if not len(x):
        return "-"
    if len(x) == 1:
        return fmt.format(x[0])
    return f"{fmt.format(np.median(x))} ({fmt.format(x.min())} to {fmt.format(x.max())})"


def _difference(d: np.ndarray, fmt: str) -> str:
    d = d[~np.isnan(d)]
    if not len(d):
        return "-"
    unit = ""
    if fmt.endswith("%}"):  # a difference of shares is in percentage points
        d, fmt, unit = d * 100, "{:.0f}", " points"
    signed = fmt.replace("{:", "{:+")
    if len(d) == 1:
        return signed.format(d[0]) + unit
    lower, higher = int((d < 0).sum()), int((d > 0).sum())
    return (f"{signed.format(np.median(d))}{unit} ({signed.format(d.min())} to {signed.format(d.max())}); "
            f"lower on {lower}, higher on {higher} of {len(d)}")


def table(model: ClassroomModel) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the debrief table, as text."""
    header = ["", *(label for label, _ in model.sides)]
    compare = len(model.sides) == 2
    if compare:
        header.append("Difference (first city minus second)")
    rows = []
    if model.week <= model.start_step:
        return header, rows
    for q in QUANTITIES:
        x = values(model, q)
        row = [q.label, *(_cell(x[s], q.fmt) for s in range(len(model.sides)))]
        if compare:
            row.append(_difference(x[0] - x[1], q.fmt))
        rows.append(row)
    if compare:
        per = cost_per_homicide_averted(model)
        text = f"{per:,.0f}" if per is not None else "no homicide averted"
        rows.append([COST_PER_AVERTED + (", all seeds together" if model.seeds > 1 else ""), text, "", ""])
    return header, rows


def numbers_csv(model: ClassroomModel) -> str:
    """Every quantity for every city and seed, and the differences: one line each."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["quantity", "city", "seed", "value", "preset", "week", "policies_start_week"])
    seeds = [model.seed + i for i in range(model.seeds)]
    meta = [model.preset, model.week, model.start_step]
    for q in QUANTITIES:
        x = values(model, q)
        for s, (label, _) in enumerate(model.sides):
            for i, seed in enumerate(seeds):
                writer.writerow([q.label, label, seed, repr(float(x[s, i])), *meta])
        if len(model.sides) == 2:
            for i, seed in enumerate(seeds):
                writer.writerow([q.label, "difference", seed, repr(float(x[0, i] - x[1, i])), *meta])
    if len(model.sides) == 2:
        per = cost_per_homicide_averted(model)
        writer.writerow([COST_PER_AVERTED, "all seeds", "", "" if per is None else repr(per), *meta])
    return out.getvalue()
