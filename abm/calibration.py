"""How far a scenario is from the calibration targets, over many seeds.

    abm calibrate configs/baseline.toml --seeds 10 --workers 2

runs seeds 1..N, and prints, for each target and headline measure, the mean over
seeds, a 95% interval for that mean (Student t) and the distance of the mean from the
target. Each run is the pure ``simulate(scenario, seed)``, so the numbers do not
depend on the number of workers.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor

from abm.analysis.statistics import mean_interval
from abm.config import Scenario
from abm.metrics import TARGETS
from abm.simulate import simulate

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


def _summary(args: tuple[Scenario, int]) -> dict:
    scenario, seed = args
    return simulate(scenario, seed).summary


def run_seeds(scenario: Scenario, seeds: list[int], workers: int | None = None) -> list[dict]:
    workers = workers or os.cpu_count() or 1
    jobs = [(scenario, s) for s in seeds]
    if workers == 1:
        return [_summary(j) for j in jobs]
    from abm.sweep.runner import worker_context

    with ProcessPoolExecutor(max_workers=workers, mp_context=worker_context()) as pool:
        return list(pool.map(_summary, jobs))


def report(summaries: list[dict]) -> list[dict]:
    targets = {t.metric: t for t in TARGETS}
    rows = []
    for key in HEADLINE:
        m, lo, hi = mean_interval([s[key] for s in summaries])
        t = targets.get(key)
        rows.append({
            "metric": key, "mean": m, "ci_low": lo, "ci_high": hi,
            "target": t.label if t else "", "distance": t.distance(m) if t else math.nan,
        })
    return rows


def format_report(scenario: Scenario, seeds: list[int], rows: list[dict]) -> str:
    lines = [
        f"{scenario.name}: {len(seeds)} seeds ({seeds[0]}..{seeds[-1]}), "
        f"{scenario.population.people:,} people, {scenario.run.steps} weeks, burn-in {scenario.run.burn_in}",
        "",
        f"  {'measure':<34}{'mean':>10}  {'95% interval':<22}{'target':<26}{'off by':>8}",
    ]
    for r in rows:
        interval = f"[{r['ci_low']:.3g}, {r['ci_high']:.3g}]" if not math.isnan(r["ci_low"]) else ""
        off = "" if not r["target"] else ("ok" if r["distance"] == 0 else f"{r['distance']:.3g}")
        lines.append(f"  {r['metric']:<34}{r['mean']:>10.3g}  {interval:<22}{r['target']:<26}{off:>8}")
    return "\n".join(lines)
