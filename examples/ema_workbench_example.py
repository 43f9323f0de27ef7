"""Exploratory modelling of the city with the EMA Workbench: uncertainties, levers, seeds.

The question: how much CBT and how much community policing keep homicide low across
what we do not know about the city? The EMA Workbench separates the three kinds of
inputs this needs:

- **uncertainties**, what the modeller does not know and the policy maker cannot set:
  how lethal confrontations are, how strongly friends pull youths into gangs, how
  large CBT's effect on its participants is;
- **levers**, what the policy maker sets: CBT places per 100,000 people and the share
  of officers on community beats (0 of both is the baseline without either policy);
- **replications**, the model's own chance: each experiment (one scenario of the
  uncertainties under one policy) is run with every seed, and the outcomes are the
  means over the seeds. The seeds are the same in every experiment (common random
  numbers), so two policies are compared on the same draws of chance.

Run it (needs the ema extra: ``pip install "citizen-security-abm[ema]"``)::

    python examples/ema_workbench_example.py                 # 16 scenarios x 4 policies x 3 seeds, 5 years
    python examples/ema_workbench_example.py --workers 4     # the same on 4 processes
    python examples/ema_workbench_example.py --scenarios 2 --policies 2 --seeds 2 --weeks 60   # seconds

It prints, for each policy, the mean and the worst homicide rate over the scenarios
(a policy that is good on average can still fail badly in some plausible city), and
with ``--out FILE.tar.gz`` saves the experiments and outcomes with the workbench's
``save_results`` (read them back with ``ema_workbench.load_results``).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

# The workbench warns on import that its optional ipyparallel evaluator is missing.
warnings.filterwarnings("ignore", message="ipyparallel not installed")
try:
    from ema_workbench import (
        Constant,
        MultiprocessingEvaluator,
        RealParameter,
        ReplicatorModel,
        Samplers,
        ScalarOutcome,
        SequentialEvaluator,
        save_results,
    )
except ImportError:
    raise SystemExit('this example needs the EMA Workbench: pip install "citizen-security-abm[ema]"') from None

from abm.workbench import CityModelFunction  # noqa: E402

OUTCOMES = ("homicide_rate_per_100k", "recruitment_per_1000_youth", "incarceration_per_100k", "total_cost")


def build_model(weeks: int, seeds: list[int]) -> ReplicatorModel:
    """The classroom city with both policies switched on, as an EMA model."""
    # The function takes dotted field paths as keyword arguments, plus a seed. Both
    # policies are merged over the scenario; the levers set how much of each there is.
    function = CityModelFunction("classroom", policies=("cbt", "community_policing"), outputs=OUTCOMES)
    model = ReplicatorModel("city", function=function)
    model.uncertainties = [
        RealParameter("violence.lethality", 0.12, 0.30),          # share of confrontations that kill
        RealParameter("youth.join_peer", 1.5, 4.5),               # pull of gang friends (log-odds)
        RealParameter("policies.cbt.effect", 0.20, 0.50),         # CBT's effect while enrolled
    ]
    model.levers = [
        RealParameter("policies.cbt.capacity_per_100k", 0.0, 600.0),       # CBT places
        RealParameter("policies.community_policing.coverage", 0.0, 0.6),   # officers on beats
    ]
    # The run's length is the same in every experiment. Policies start after burn-in.
    model.constants = [Constant("run.steps", weeks), Constant("run.burn_in", max(1, weeks // 5))]
    # One replication per seed: the function receives seed=... with the other inputs.
    model.replications = [{"seed": seed} for seed in seeds]
    # Each outcome is the mean over the replications (one value per seed).
    # Lower is better for all four (what optimize() would use; perform_experiments
    # only records them).
    model.outcomes = [ScalarOutcome(name, kind=ScalarOutcome.MINIMIZE, function=np.mean) for name in OUTCOMES]
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=16, help="scenarios of the uncertainties (Latin hypercube)")
    parser.add_argument("--policies", type=int, default=4, help="policies: combinations of the levers (Latin hypercube)")
    parser.add_argument("--seeds", type=int, default=3, help="replications of every experiment")
    parser.add_argument("--weeks", type=int, default=260, help="weeks per run (default 5 years)")
    parser.add_argument("--workers", type=int, default=1, help="processes (1: run in this process)")
    parser.add_argument("--root-seed", type=int, default=2026, help="seeds the samples and the replications' seeds")
    parser.add_argument("--out", help="save the experiments and outcomes to this .tar.gz file")
    args = parser.parse_args(argv)

    seeds = [int(s) for s in np.random.SeedSequence(args.root_seed).generate_state(args.seeds)]
    model = build_model(args.weeks, seeds)
    evaluator = (MultiprocessingEvaluator(model, n_processes=args.workers) if args.workers > 1
                 else SequentialEvaluator(model))
    with evaluator:
        experiments, outcomes = evaluator.perform_experiments(
            scenarios=args.scenarios,
            policies=args.policies,
            uncertainty_sampling=Samplers.LHS,
            lever_sampling=Samplers.LHS,
            uncertainty_sampling_kwargs={"rng": args.root_seed},
            lever_sampling_kwargs={"rng": args.root_seed + 1},
        )
    if args.out:
        save_results((experiments, outcomes), args.out)

    table = experiments[["policy", "policies.cbt.capacity_per_100k", "policies.community_policing.coverage"]].copy()
    for name in OUTCOMES:
        table[name] = outcomes[name]
    by_policy = table.groupby("policy").agg(
        cbt_places=("policies.cbt.capacity_per_100k", "first"),
        beat_share=("policies.community_policing.coverage", "first"),
        homicide_mean=("homicide_rate_per_100k", "mean"),
        homicide_worst=("homicide_rate_per_100k", "max"),
        recruitment_mean=("recruitment_per_1000_youth", "mean"),
        cost_mean=("total_cost", "mean"),
    )
    print(f"{len(experiments)} experiments ({args.scenarios} scenarios x {args.policies} policies), "
          f"{args.seeds} seeds each, {args.weeks} weeks per run")
    with pd.option_context("display.width", 120, "display.max_columns", None, "display.precision", 3):
        print(by_policy.sort_values("homicide_worst"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
