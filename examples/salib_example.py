"""Global sensitivity analysis of the city with SALib: which parameters move homicide?

SALib draws a design over the parameters' ranges, the model is run at every point of
it, and SALib turns the outputs into sensitivity indices:

- **Morris** (elementary effects; the default, cheap): ``mu_star`` ranks the
  parameters by how much changing one alone moves the output, ``sigma`` shows how
  much that effect depends on the other parameters (interactions, non-linearity).
  It needs ``samples x (parameters + 1)`` points.
- **Sobol** (variance-based): ``S1`` is the share of the output's variance due to a
  parameter alone, ``ST`` the share including its interactions. It needs
  ``samples x (parameters + 2)`` points, with ``samples`` a power of 2, and many
  more of them before the indices settle.

The model is stochastic, so every design point is run with the same few seeds and
the outputs are their means (common random numbers: differences between points are
not differences of chance). The model is called through
:class:`abm.workbench.CityModelFunction`, a plain function of dotted parameter
paths. (``abm experiment sensitivity`` does the same from an experiment file, on
many processes or a Dask cluster; this script shows the steps.)

    python examples/salib_example.py                          # Morris, 8 trajectories, 3 seeds, 5 years
    python examples/salib_example.py --method sobol --samples 64
    python examples/salib_example.py --samples 2 --seeds 1 --weeks 104   # seconds
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from abm.workbench import CityModelFunction

# The parameters (dotted paths in a scenario) and the ranges explored.
PROBLEM = {
    "num_vars": 4,
    "names": ["violence.lethality", "youth.join_peer", "police.officers", "violence.grievance_effect"],
    "bounds": [[0.12, 0.30], [1.5, 4.5], [10, 40], [0.10, 0.25]],
}
OUTPUTS = ("homicide_rate_per_100k", "recruitment_per_1000_youth")
MORRIS_LEVELS = 4


def run_design(x: np.ndarray, seeds: list[int], weeks: int) -> np.ndarray:
    """The outputs (rows: design points, columns: OUTPUTS), each the mean over seeds."""
    model = CityModelFunction("classroom", outputs=OUTPUTS)
    run = {"run.steps": weeks, "run.burn_in": max(1, weeks // 5)}
    y = np.empty((len(x), len(OUTPUTS)))
    for i, row in enumerate(x):
        params = {**run, **dict(zip(PROBLEM["names"], row.tolist()))}
        params["police.officers"] = round(params["police.officers"])  # a whole number of officers
        results = [model(**params, seed=seed) for seed in seeds]
        y[i] = [np.mean([r[name] for r in results]) for name in OUTPUTS]
    return y


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=("morris", "sobol"), default="morris")
    parser.add_argument("--samples", type=int, default=8,
                        help="Morris trajectories, or Sobol base samples (a power of 2)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per design point")
    parser.add_argument("--weeks", type=int, default=260, help="weeks per run (default 5 years)")
    parser.add_argument("--root-seed", type=int, default=2026, help="seeds the design, the runs and the bootstrap")
    args = parser.parse_args(argv)

    seeds = [int(s) for s in np.random.SeedSequence(args.root_seed).generate_state(args.seeds)]
    if args.method == "morris":
        x = morris_sample.sample(PROBLEM, args.samples, num_levels=MORRIS_LEVELS, seed=args.root_seed)
    else:
        x = sobol_sample.sample(PROBLEM, args.samples, calc_second_order=False, seed=args.root_seed)
    print(f"{args.method}: {len(x)} design points x {len(seeds)} seeds, {args.weeks} weeks per run")
    y = run_design(x, seeds, args.weeks)

    for j, output in enumerate(OUTPUTS):
        if np.ptp(y[:, j]) == 0:
            print(f"\n{output}: the same at every design point (runs too short?): no indices")
            continue
        if args.method == "morris":
            s = morris_analyze.analyze(PROBLEM, x, y[:, j], num_levels=MORRIS_LEVELS, seed=args.root_seed)
            table = pd.DataFrame({k: s[k] for k in ("mu_star", "mu_star_conf", "sigma")}, index=PROBLEM["names"])
            table = table.sort_values("mu_star", ascending=False)
        else:
            s = sobol_analyze.analyze(PROBLEM, y[:, j], calc_second_order=False, seed=args.root_seed)
            table = pd.DataFrame({k: s[k] for k in ("S1", "S1_conf", "ST", "ST_conf")}, index=PROBLEM["names"])
            table = table.sort_values("ST", ascending=False)
        print(f"\n{output} (most influential first):")
        with pd.option_context("display.width", 120, "display.precision", 3):
            print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
