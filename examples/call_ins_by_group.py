"""Focused deterrence group by group: what a call-in does to the groups called in, and to their rivals.

Evaluations of the group violence intervention compare the factions called in with
factions that were not: in Chicago, factions that attended a call-in had about 23%
fewer shootings and 32% less victimisation in the following year (Papachristos &
Kirk 2015; docs/evidence.md, B1). A model can compare each called-in group with
itself: the same city, seed and group without the policy, where common random numbers
make the two runs differ only by what the policy changed. For each seed, the script
runs the scenario twice, without and with focused deterrence, notes the week each gang
is first notified, and counts, over the following year, the killings by the gang's
members and of them, in both runs. It prints each seed's counts and the change with the
policy, in %, with its 95% interval over the seeds as paired replicates (as
``comparison.csv`` gives a policy's change).

Evaluations also follow the groups tied to those called in: in Boston, gangs whose
rivals or allies were called in ("vicariously treated") had significantly fewer
shootings than matched gangs (Braga, Apel & Welsh 2013). The model's gangs are tied
as rivals, and its call-ins have no vicarious deterrence: a rival hears nothing and
fears no crackdown. The script counts, the same way, the killings by and of each
rival of a called-in group that is never called in itself, over the year after its
first rival's first notice: whatever changes there comes from what the called-in
groups stop doing (fewer killings to avenge, fewer attacks to suffer).

Last, it prints how much of the city's homicide the call-ins can reach: of the
homicides of the measured years with the policy, the share in gangs' attacks and the
share in attacks by a group under notice at the time. A call-in that cuts its groups'
killings by a fifth cannot cut the city's by more than a fifth of the second share.

    python examples/call_ins_by_group.py                    # district, 8 seeds: about 1 1/2 minutes on two cores
    python examples/call_ins_by_group.py --seeds 16         # 16 seeds, about 3 minutes: more rivals to follow
    python examples/call_ins_by_group.py --scenario classroom --seeds 2 --steps 120 --burn-in 40   # seconds
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from abm.analysis.statistics import percent_change_interval
from abm.config import load_scenario
from abm.model import CityModel
from abm.population import WEEKS_PER_YEAR
from abm.presets import resolve_policy
from abm.schema import ConfigError
from abm.violence import HomicideKind


def run(scenario: str, steps: int | None, burn_in: int | None, seed: int,
        with_policy: bool) -> tuple[dict[int, int], dict[int, int], list[tuple], tuple[int, int, int]]:
    """One run: each gang's first week under notice and each rival's first week with a
    rival under notice (with the policy; rivals called in themselves left out), the
    homicides as (step, perpetrator's gang, victim's gang), and the number of homicides
    of the measured years (not by police): all, in gangs' attacks, in attacks by a group
    under notice that week."""
    layers = [resolve_policy("focused_deterrence")] if with_policy else []
    overrides = {key: value for key, value in (("run.steps", steps), ("run.burn_in", burn_in)) if value}
    model = CityModel(load_scenario(scenario, overrides, layers), seed)
    policy = next((p for p in model.policies if p.name == "focused_deterrence"), None)
    first: dict[int, int] = {}
    tied: dict[int, int] = {}
    notified: dict[int, np.ndarray] = {}
    for _ in range(model.p.run.steps):
        model.step()
        if policy is not None:
            notified[model.week] = policy.notified(model.week)
            for g in np.flatnonzero(notified[model.week]):
                if int(g) not in first:
                    first[int(g)] = model.week
                    for h in model.rivalry.neighbors(int(g)):
                        tied.setdefault(int(h), model.week)
    vicarious = {h: week for h, week in tied.items() if h not in first}
    measured = [e for e in model.events if e["step"] > model.p.run.burn_in and e["kind"] != HomicideKind.POLICE]
    by_members = [e for e in measured if e["perpetrator_gang"] >= 0]  # a gang's attack (not a youths' fight)
    under_notice = [e for e in by_members if e["step"] in notified and e["perpetrator_gang"] < len(notified[e["step"]])
                    and notified[e["step"]][e["perpetrator_gang"]]]
    return (first, vicarious, [(e["step"], e["perpetrator_gang"], e["victim_gang"]) for e in model.events],
            (len(measured), len(by_members), len(under_notice)))


def counts(first: dict[int, int], events: list[tuple]) -> tuple[int, int]:
    """Killings by and of each gang's members in the year after its first notice, summed."""
    by = of = 0
    for g, week in first.items():
        after = [e for e in events if week < e[0] <= week + WEEKS_PER_YEAR]
        by += sum(1 for e in after if e[1] == g)
        of += sum(1 for e in after if e[2] == g)
    return by, of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="district", help="a bundled scenario or a file (default district)")
    parser.add_argument("--seeds", type=int, default=8, help="seeds 1..N (default 8)")
    parser.add_argument("--steps", type=int, default=None, help="weeks a run (default: the scenario's)")
    parser.add_argument("--burn-in", type=int, default=None, help="weeks before the policy starts (default: the "
                        "scenario's)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args()
    overrides = {key: value for key, value in (("run.steps", args.steps), ("run.burn_in", args.burn_in)) if value}
    try:
        load_scenario(args.scenario, overrides, [resolve_policy("focused_deterrence")])  # bad input stops here
    except ConfigError as exc:
        raise SystemExit(f"call_ins_by_group.py: {exc}") from None

    jobs = [(args.scenario, args.steps, args.burn_in, seed, with_policy) for seed in range(1, args.seeds + 1)
            for with_policy in (False, True)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run, *zip(*jobs, strict=True)))
    for label, which in (("the groups called in", 0), ("their rivals, never called in", 1)):
        counted = np.zeros((args.seeds, 2, 2), dtype=int)  # seed x [without, with] x [by, of]
        print(f"{label}:")
        print("seed  groups  killings by them      killings of them")
        print("              without ->  with      without ->  with")
        for seed in range(1, args.seeds + 1):
            (_, _, events_without, _), with_policy = results[2 * (seed - 1)], results[2 * seed - 1]
            groups, events_with = with_policy[which], with_policy[2]
            counted[seed - 1] = counts(groups, events_without), counts(groups, events_with)
            (by_without, of_without), (by_with, of_with) = counted[seed - 1]
            print(f"{seed:4d}  {len(groups):6d}  {by_without:7d} -> {by_with:5d}      {of_without:7d} -> {of_with:5d}")
        for i, what in enumerate(("by", "of")):
            change, low, high = percent_change_interval(counted[:, 1, i], counted[:, 0, i])
            if np.isnan(change):
                print(f"killings {what} {label}: none without the policy")
            else:
                interval = "" if np.isnan(low) else f" [{low:+.0f}, {high:+.0f}]"
                print(f"killings {what} {label}, change with the policy: {change:+.0f}%{interval}")
    shares = np.array([results[2 * seed - 1][3] for seed in range(1, args.seeds + 1)]).sum(axis=0)
    if shares[0]:
        print(f"homicides of the measured years with the policy: {shares[0]}; in gangs' attacks "
              f"{shares[1] / shares[0]:.0%}, in attacks by a group under notice at the time {shares[2] / shares[0]:.0%}")


if __name__ == "__main__":
    main()
