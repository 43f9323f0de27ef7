"""The settled starting stocks of a parameter set, read from a long baseline run.

A run starts with its slow stocks (prisons, records, gang members) where the baseline
settles, so that the baseline holds steady after burn-in (docs/ODD.md, section 5). The
scenario's ``prison.initial_*`` and ``gangs.initial_member_control`` say where that
is; they were read at the default parameters. A parameter set far from the default
settles elsewhere, and started from the default's stocks it spends its first
measured years drifting there. :func:`read_stocks` reads a set's own stocks from a
long run of its baseline; ``abm settle`` does it for every set of an ensemble and
writes the ensemble again with the stocks as columns, so that an experiment over it
starts each set where it settles.

What is read, as means over the weeks of the reading window:

- ``prison.initial_occupancy``: inmates per prison place;
- ``prison.initial_member_share``: gang members among inmates;
- ``prison.initial_homicide_share``: inmates with a killing on record (at start they
  serve a homicide term; in the run a few serve a shorter term for another arrest);
- ``prison.initial_record_share``: youths of ``prison.initial_min_age`` or more, out of
  prison, with a prison record;
- ``gangs.initial_member_control``: the set's value times the free members over the
  window over the free members at the start, so that a run started again begins with
  about the members the set sustains;
- ``residents.trust_start``: residents' mean trust in police (trust moves slowly, pulled
  toward ``residents.trust_initial`` at ``residents.trust_reversion`` a week, and a set
  whose contacts hold it elsewhere takes a decade to get there).

A set is read twice (``passes``): the first run starts from the scenario's stocks and
reads where the set goes; the second starts there and reads again, nearer the fixed
point. Every set is read with the same seed (common random numbers), in a process of its own;
the file written does not depend on the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from abm import justice
from abm.config import Scenario
from abm.model import CityModel
from abm.population import WEEKS_PER_YEAR

STOCKS = (
    "residents.trust_start",
    "prison.initial_occupancy",
    "prison.initial_member_share",
    "prison.initial_homicide_share",
    "prison.initial_record_share",
    "gangs.initial_member_control",
)
YEARS = 16  # a run's length: the slow stocks settle within about eight years
READ_FROM_YEAR = 8  # the reading window: from this year to the end of the run
PASSES = 2  # runs a set, each starting from the stocks the one before read


def free_members(model: CityModel) -> int:
    yth = model.youths
    return int((yth.free & (yth.gang >= 0)).sum())


def week_stocks(model: CityModel) -> dict[str, float]:
    """This week's stocks (see the module's docstring), members as a count."""
    yth, p = model.youths, model.p.prison
    inside = yth.incarcerated & yth.alive
    n_inside = int(inside.sum())
    old_enough = yth.free & (yth.age_weeks >= p.initial_min_age * WEEKS_PER_YEAR)
    return {
        "prison.initial_occupancy": justice.occupancy(model),
        "prison.initial_member_share": float((yth.gang[inside] >= 0).mean()) if n_inside else 0.0,
        "prison.initial_homicide_share": float((yth.kills[inside] > 0).mean()) if n_inside else 0.0,
        "prison.initial_record_share": float(yth.ever_prison[old_enough].mean()) if old_enough.any() else 0.0,
        "residents.trust_start": float(model.residents.trust[model.residents.alive].mean()),
        "members": float(free_members(model)),
    }


def read_stocks(scenario: Scenario, seed: int, years: int = YEARS, read_from: int = READ_FROM_YEAR) -> dict[str, float]:
    """The settled stocks of ``scenario``'s baseline (its policies switched off), read
    from one run of ``years`` with ``seed``, as means over the weeks after year
    ``read_from``. Values are rounded to 4 decimals, like the shipped defaults' precision."""
    if not 0 <= read_from < years:
        raise ValueError(f"the reading window must start within the run: year {read_from} of {years}")
    data = scenario.replace(**{"run.steps": years * WEEKS_PER_YEAR, "run.burn_in": 0}).model_dump()
    data["policies"] = {}
    base = Scenario.model_validate(data)
    model = CityModel(base, seed)
    at_start = free_members(model)
    rows = []
    for week in range(1, years * WEEKS_PER_YEAR + 1):
        model.step()
        if week > read_from * WEEKS_PER_YEAR:
            rows.append(week_stocks(model))
    means = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    control = base.gangs.initial_member_control * (means.pop("members") / at_start if at_start else 1.0)
    stocks = {**means, "gangs.initial_member_control": control}
    return {k: round(stocks[k], 4) for k in STOCKS}


def settled_stocks(scenario: Scenario, seed: int, years: int = YEARS, read_from: int = READ_FROM_YEAR,
                   passes: int = PASSES) -> dict[str, float]:
    """:func:`read_stocks` ``passes`` times, each run starting from the stocks the one
    before read: a fixed-point iteration, since the first run starts from the
    scenario's stocks, which may lie far from the set's."""
    stocks: dict[str, float] = {}
    for _ in range(passes):
        stocks = read_stocks(scenario.replace(**stocks), seed, years, read_from)
    return stocks


def set_key(values: dict) -> tuple:
    """A parameter set as a hashable key: equal sets, equal keys."""
    return tuple(sorted(values.items()))


def _read(job: tuple[Scenario, int, int, int, int]) -> dict[str, float]:
    return settled_stocks(*job)


def settle_sets(scenario: Scenario, sets: list[dict], seed: int, years: int = YEARS,
                read_from: int = READ_FROM_YEAR, passes: int = PASSES, workers: int = 1,
                progress: Callable[[int], object] | None = None) -> list[dict]:
    """Each of ``sets`` (parameter values over ``scenario``) with its settled stocks
    (:data:`STOCKS`) in place of any it gave. A set given twice is read once."""
    from abm.sweep.runner import stop_pool, worker_context

    keys = [set_key(s) for s in sets]
    distinct = list(dict.fromkeys(keys))
    jobs = [(scenario.replace(**dict(k)), seed, years, read_from, passes) for k in distinct]
    read: list[dict] = []
    if workers <= 1:
        for job in jobs:
            read.append(_read(job))
            if progress:
                progress(1)
    else:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=worker_context())
        try:
            for stocks in pool.map(_read, jobs):
                read.append(stocks)
                if progress:
                    progress(1)
        except BaseException:  # an interrupt, a termination, an error: end the workers now
            stop_pool(pool)
            raise
        pool.shutdown(wait=True)
    by_key = dict(zip(distinct, read, strict=True))
    return [{**s, **by_key[k]} for s, k in zip(sets, keys, strict=True)]
