"""Collective efficacy and homicide across neighbourhoods, measured as Sampson et al. did.

In 343 Chicago neighbourhoods, expected homicide was about 40% lower (39.7%) where
collective efficacy stood two standard deviations higher, with concentrated
disadvantage and prior homicide held constant (Sampson, Raudenbush & Earls 1997;
docs/evidence.md, A22). The model's collective efficacy damps confrontations and
deters joining (``violence.efficacy_damping``, ``youth.join_efficacy``), and violence
lowers it through fear: both run through the association a survey would see. This
script measures that association in the model's cities, district by district (a
district of the district scenario holds about 4,000 people, Sampson's neighbourhood
clusters about 8,000), the same way: for each seed it runs the scenario and records,
for each district, its homicides over the measured years, the mean collective
efficacy of its blocks (weighted by their residents) over the same years, its poverty
(1 - SES) and its homicides over the last ``--prior-years`` of burn-in. A Poisson
regression of the homicides on collective efficacy, poverty and prior homicide (each
in standard deviations across the districts of a city, with a level per seed and
the district's population-years as exposure) gives the change in expected homicide
for two standard deviations more collective efficacy, with a 95% interval from
resampling the seeds (each city whole). Without prior homicide, and with nothing held
constant, for comparison.

    python examples/efficacy_and_homicide.py                          # district, 10 seeds: about a minute on two cores
    python examples/efficacy_and_homicide.py --set violence.efficacy_damping=0.3
    python examples/efficacy_and_homicide.py --scenario classroom --seeds 2 --steps 120 --burn-in 60   # seconds

Needs scikit-learn (the ``sensitivity`` extra) for the regression.
"""

from __future__ import annotations

import argparse
import importlib.util
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from abm.config import load_scenario, parse_overrides
from abm.model import CityModel
from abm.population import WEEKS_PER_YEAR
from abm.schema import ConfigError

SAMPSON_TWO_SD = -39.7  # % change in expected homicide, two SD more collective efficacy


def run(scenario: str, overrides: dict, seed: int, prior_years: int) -> dict[str, np.ndarray]:
    """One city: each district's homicides in the measured years and before them, its
    mean collective efficacy over the measured years, poverty and population-years."""
    model = CityModel(load_scenario(scenario, overrides), seed)
    city, steps, burn_in = model.city, model.p.run.steps, model.p.run.burn_in
    n_d = city.n_districts
    prior = np.zeros(n_d)
    homicides = np.zeros(n_d)
    efficacy_weighted = np.zeros(n_d)
    residents_weeks = np.zeros(n_d)
    population_weeks = np.zeros(n_d)
    prior_population_weeks = np.zeros(n_d)
    prior_start = max(0, burn_in - prior_years * WEEKS_PER_YEAR)
    for _ in range(steps):
        before = city.homicides.copy()
        model.step()
        new = np.bincount(city.district, weights=city.homicides - before, minlength=n_d)
        if model.week <= burn_in:
            if model.week > prior_start:
                prior += new
                prior_population_weeks += np.bincount(city.district, weights=city.population, minlength=n_d)
            continue
        homicides += new
        res = model.residents
        on_block = np.bincount(res.block[res.alive], minlength=city.n_blocks)
        efficacy_weighted += np.bincount(city.district, weights=city.collective_efficacy * on_block, minlength=n_d)
        residents_weeks += np.bincount(city.district, weights=on_block, minlength=n_d)
        population_weeks += np.bincount(city.district, weights=city.population, minlength=n_d)
    return {
        "homicides": homicides,
        "prior": prior,
        "efficacy": efficacy_weighted / np.maximum(residents_weeks, 1),
        "poverty": 1 - city.district_ses,
        "population_years": population_weeks / WEEKS_PER_YEAR,
        # Prior homicide as Sampson's control: the log of (1 + the rate per 100,000 a year).
        "log_prior": np.log1p(1e5 * prior / np.maximum(prior_population_weeks / WEEKS_PER_YEAR, 1)),
    }


def within_city_deviation(values: np.ndarray, city: np.ndarray) -> np.ndarray:
    """Each district's value less its city's mean."""
    return values - (np.bincount(city, weights=values) / np.bincount(city))[city]


def within_city_z(values: np.ndarray, city: np.ndarray) -> np.ndarray:
    """Standard deviations from the city's own mean, in units of the pooled within-city SD."""
    centred = within_city_deviation(values, city)
    sd = centred.std()
    return centred / sd if sd > 0 else centred


def two_sd_change(data: dict[str, np.ndarray], covariates: tuple[str, ...]) -> float:
    """% change in expected homicide for two SD more collective efficacy, from a Poisson
    regression with a level per city and population-years as exposure."""
    from sklearn.linear_model import PoissonRegressor

    city = data["city"]
    columns = [within_city_z(data["efficacy"], city)]
    for name in covariates:
        columns.append(within_city_z(data[name], city))
    levels = np.eye(city.max() + 1)[city][:, 1:]  # a level per city beyond the first
    x = np.column_stack([*columns, levels]) if levels.size else np.column_stack(columns)
    exposure = data["population_years"]
    fit = PoissonRegressor(alpha=0.0, solver="newton-cholesky", max_iter=100, tol=1e-10).fit(
        x, data["homicides"] / exposure, sample_weight=exposure
    )
    return 100 * (np.exp(2 * fit.coef_[0]) - 1)


def pooled(cities: list[dict[str, np.ndarray]], picks) -> dict[str, np.ndarray]:
    """The districts of the picked cities (a city picked twice counts as two cities)."""
    out = {key: np.concatenate([cities[i][key] for i in picks]) for key in cities[0]}
    out["city"] = np.repeat(np.arange(len(picks)), [len(cities[i]["homicides"]) for i in picks])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="district", help="a bundled scenario or a file (default district)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 1..N (default 10)")
    parser.add_argument("--steps", type=int, default=None, help="weeks a run (default: the scenario's)")
    parser.add_argument("--burn-in", type=int, default=None, help="weeks before measurement (default: the "
                        "scenario's)")
    parser.add_argument("--prior-years", type=int, default=3, help="years of burn-in whose homicides are the "
                        "prior-homicide control (default 3)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a parameter, as for abm run (repeatable)")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples of the seeds (default 2000)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args()
    if importlib.util.find_spec("sklearn") is None:
        raise SystemExit('efficacy_and_homicide.py needs scikit-learn for its regression: '
                         'pip install "citizen-security-abm[sensitivity]" (from a checkout: pip install ".[sensitivity]")')

    try:
        overrides = parse_overrides(args.set)
        overrides.update({key: value for key, value in (("run.steps", args.steps), ("run.burn_in", args.burn_in))
                          if value})
        load_scenario(args.scenario, overrides)  # bad input stops here, in one line
    except ConfigError as exc:
        raise SystemExit(f"efficacy_and_homicide.py: {exc}") from None
    seeds = range(1, args.seeds + 1)
    with ProcessPoolExecutor(args.workers) as pool:
        cities = list(pool.map(run, [args.scenario] * len(seeds), [overrides] * len(seeds), seeds,
                               [args.prior_years] * len(seeds)))
    data = pooled(cities, range(len(cities)))
    rate = 1e5 * data["homicides"].sum() / data["population_years"].sum()
    print(f"{len(cities)} cities x {len(cities[0]['homicides'])} districts; homicide {rate:.1f} per 100,000 a year; "
          f"districts with no homicide: {np.mean(data['homicides'] == 0):.0%}")
    sd = within_city_deviation(data["efficacy"], data["city"]).std()
    print(f"collective efficacy across districts: mean {data['efficacy'].mean():.3f}, within-city SD {sd:.3f}")
    rng = np.random.default_rng(0)
    print("homicide, two SD more collective efficacy (Sampson et al. 1997: "
          f"{SAMPSON_TWO_SD:+.1f}%, poverty and prior homicide held constant):")
    for label, covariates in (("poverty and prior homicide held constant", ("poverty", "log_prior")),
                              ("poverty held constant", ("poverty",)),
                              ("nothing held constant", ())):
        change = two_sd_change(data, covariates)
        draws = [two_sd_change(pooled(cities, rng.integers(0, len(cities), len(cities))), covariates)
                 for _ in range(args.resamples)] if len(cities) > 1 else []
        interval = f" [{np.percentile(draws, 2.5):+.0f}, {np.percentile(draws, 97.5):+.0f}]" if draws else ""
        print(f"  {label}: {change:+.0f}%{interval}")


if __name__ == "__main__":
    main()
