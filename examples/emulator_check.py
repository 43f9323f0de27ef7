"""How far to trust Sobol indices from an emulator: a check on functions with known indices.

An experiment's design (by default that of ``experiments/policy_sensitivity.toml``:
48 parameters in six groups) is filled with the values of random functions whose
Sobol indices are known: each parameter a random linear weight, one interaction
between two random parameters, and chance added as one replicate per point adds it
(8% to 33% of the variance). :func:`abm.analysis.emulator.emulate` estimates
the indices from those values as it does from an experiment's runs, and the script
counts how often its 95% intervals hold the true total index and how many of the
orderings it calls clear (``ST_above``) are wrong.

    python examples/emulator_check.py                      # 10 functions at N = 16: under two minutes
    python examples/emulator_check.py --samples 32         # more points per function
    python examples/emulator_check.py --functions 2 --samples 4 --resamples 10   # seconds
"""

from __future__ import annotations

import argparse

import numpy as np

from abm.analysis import emulator
from abm.presets import resolve_experiment
from abm.sweep.experiment import load_experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="policy_sensitivity",
                        help="an experiment with a Sobol design: a bundled name or a file")
    parser.add_argument("--samples", type=int, default=16, help="the design's N (default 16)")
    parser.add_argument("--functions", type=int, default=10, help="random functions to check (default 10)")
    parser.add_argument("--resamples", type=int, default=emulator.RESAMPLES, help="half-samples per function")
    args = parser.parse_args()

    design = load_experiment(resolve_experiment(args.experiment), samples=args.samples).spec.design
    x = emulator.scaled(design, design.points(1))
    cols = emulator.members(design)
    print(f"{len(x)} points, {len(design.names)} parameters in {len(cols)} factors, {args.functions} functions")
    held = total = wrong = claimed = 0
    for r in range(args.functions):
        rng = np.random.default_rng(100 + r)
        weights = np.zeros(x.shape[1])
        for c in cols:
            weights[c] = rng.exponential(1.0) * rng.random(len(c))
        i, j = rng.integers(0, x.shape[1], 2)

        def mean_output(z, weights=weights, i=i, j=j):
            return z @ weights + 2 * np.sin(3 * z[:, i]) * z[:, j]

        chance = np.std(mean_output(x)) * rng.uniform(0.3, 0.7)
        y = mean_output(x) + rng.normal(0, chance, len(x))
        _, truth = emulator.indices(mean_output, design, 100_000, np.random.default_rng(1))
        s = emulator.emulate(design, x, y, seed=r, resamples=args.resamples)
        inside = np.abs(s["ST"] - truth) <= s["ST_conf"]
        held, total = held + int(inside.sum()), total + len(inside)
        for a, above in enumerate(s["ST_above"]):
            for name in above:
                claimed += 1
                wrong += int(truth[a] < truth[design.factors.index(name)])
        print(f"function {r}: true ST {np.round(truth, 2)}, estimated {np.round(s['ST'], 2)} "
              f"+-{np.round(s['ST_conf'], 2)}, clear top {s['ST_leading'] or 'none'}, Q2 {s['Q2']:.2f}")
    print(f"intervals holding the true total index: {held} of {total} ({held / total:.0%}); "
          f"clear orderings that are wrong: {wrong} of {claimed}")


if __name__ == "__main__":
    main()
