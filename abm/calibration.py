"""How far a scenario is from the calibration targets, over many seeds.

    abm calibrate configs/district.toml --seeds 10 --workers 2

runs seeds 1..N and prints, for each target of ``configs/targets.toml`` (or of
``--targets FILE``), the mean of its measure over seeds, a 95% interval for that mean
(Student t), the target, its tolerance, the distance of the mean from the target and
whether the target is met (distance at most the tolerance); then other headline
measures, without targets. Each run is the pure ``simulate(scenario, seed)``, so the
numbers do not depend on the number of workers.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor

from abm.analysis.statistics import mean_interval
from abm.config import Scenario
from abm.metrics import pattern_measures
from abm.simulate import simulate
from abm.targets import Target

# Measures shown after the targets, when no target names them.
HEADLINE = (
    "homicide_rate_per_100k",
    "conviction_rate",
    "homicide_share_top5pct_blocks",
    "clearance_rate",
    "recruitment_per_1000_youth",
    "gang_members",
    "incarceration_per_100k",
    "arrests_non_member_share",
    "trust_mean",
    "reporting_rate",
    "collective_efficacy_mean",
    "police_killings",
    "victims_bystander_resident_share",
)


def _measures(args: tuple[Scenario, int]) -> dict:
    """One seed's summary with its pattern measures (over the same weeks after burn-in)."""
    scenario, seed = args
    result = simulate(scenario, seed)
    s = result.summary
    return {**s, **pattern_measures(result.timeseries, result.events, s["burn_in"] + 1, s["steps"])}


def run_seeds(scenario: Scenario, seeds: list[int], workers: int | None = None) -> list[dict]:
    """Each seed's summary and pattern measures, in the order of ``seeds``."""
    workers = workers or os.cpu_count() or 1
    jobs = [(scenario, s) for s in seeds]
    if workers == 1:
        return [_measures(j) for j in jobs]
    from abm.sweep.runner import worker_context

    with ProcessPoolExecutor(max_workers=workers, mp_context=worker_context()) as pool:
        return list(pool.map(_measures, jobs))


def report(measured: list[dict], targets: tuple[Target, ...]) -> list[dict]:
    """One row per target (mean over seeds, 95% interval, distance, met), then one per
    headline measure no target names (no target, distance NaN)."""
    rows = []
    for t in targets:
        m, lo, hi = mean_interval([float(s.get(t.measure, math.nan)) for s in measured])
        rows.append({
            "name": t.name, "metric": t.measure, "mean": m, "ci_low": lo, "ci_high": hi,
            "target": t.label, "tolerance": t.tolerance, "distance": t.distance(m), "met": t.met(m),
            "source": t.source.citation(),
        })
    named = {t.measure for t in targets}
    for key in HEADLINE:
        if key in named:
            continue
        m, lo, hi = mean_interval([s[key] for s in measured])
        rows.append({"name": "", "metric": key, "mean": m, "ci_low": lo, "ci_high": hi, "target": "",
                     "tolerance": math.nan, "distance": math.nan, "met": None, "source": ""})
    return rows


def format_report(scenario: Scenario, seeds: list[int], rows: list[dict]) -> str:
    targeted = [r for r in rows if r["name"]]
    met = sum(1 for r in targeted if r["met"])
    lines = [
        f"{scenario.name}: {len(seeds)} seeds ({seeds[0]}..{seeds[-1]}), "
        f"{scenario.population.people:,} people, {scenario.run.steps} weeks, burn-in {scenario.run.burn_in}",
        f"targets met: {met} of {len(targeted)}",
        "",
        f"  {'target':<26}{'measure':<34}{'mean':>9}  {'95% interval':<20}{'range':>10}{'tol.':>7}"
        f"{'distance':>10}  met",
    ]
    for r in targeted:
        lines.append(f"  {r['name']:<26}{r['metric']:<34}{number(r['mean']):>9}  {interval(r):<20}"
                     f"{r['target']:>10}{r['tolerance']:>7.3g}{number(r['distance']):>10}  "
                     f"{'yes' if r['met'] else 'NO'}")
    others = [r for r in rows if not r["name"]]
    if others:
        lines += ["", "  other measures", f"  {'measure':<60}{'mean':>9}  {'95% interval':<20}"]
        lines += [f"  {r['metric']:<60}{number(r['mean']):>9}  {interval(r):<20}" for r in others]
    return "\n".join(lines)


def number(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.3g}"


def interval(row: dict) -> str:
    lo, hi = row["ci_low"], row["ci_high"]
    return f"[{lo:.3g}, {hi:.3g}]" if math.isfinite(lo) and math.isfinite(hi) else ""
