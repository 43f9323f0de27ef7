"""Experiment files: a base scenario, arms, replications and a root seed.

An experiment is a TOML file (the same format as scenarios), e.g.::

    name = "policy_comparison"
    scenario = "../configs/district.toml"    # relative to this file
    policy_dir = "../configs/policies"       # where arms find their policy files
    replications = 20
    root_seed = 2026

    [[arms]]
    name = "baseline"

    [[arms]]
    name = "focused_deterrence+cbt"          # policies from the name, split on '+'

    [[arms]]
    name = "mano_dura_harsh"
    policies = ["mano_dura"]
    set = { "policies.mano_dura.coverage" = 0.6 }

Every run's seed is derived from the root seed and the replicate number only, so each
replicate uses the same seed in every arm (common random numbers): arms differ by
their policies, not by chance.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from abm.config import Scenario, describe_errors, load_scenario, parse_toml, read_config_file, read_toml
from abm import footprint, policies
from abm.footprint import Footprint
from abm.metrics import window_columns
from abm.population import WEEKS_PER_YEAR
from abm.schema import ConfigError, SafeName, Section
from abm.sweep.design import Design
from abm.sweep.ensemble import evenly_spaced, read_ensemble


class Arm(Section):
    name: SafeName = Field(description="arm name; '+' joins policies")
    policies: list[SafeName] | None = Field(None, description="policy files (names in policy_dir); default: from the name")
    set: dict[str, Any] = Field(default_factory=dict, description="dotted field overrides for this arm")

    def policy_names(self, baseline: str) -> list[str]:
        if self.policies is not None:
            return list(self.policies)
        if self.name == baseline:
            return []
        return [part.strip() for part in self.name.split("+")]


class Keep(Section):
    timeseries: bool = Field(False, description="keep each run's time series (timeseries.csv, long form)")
    blocks: bool = Field(False, description="keep each run's homicides per block after the policies start")


class Windows(Section):
    short_years: float = Field(2.0, gt=0, le=50, description="the short window: years after the policies start")
    long_years: float = Field(3.0, gt=0, le=50, description="the long window: the last years of the run")


class ExperimentFile(Section):
    name: SafeName
    description: str = ""
    scenario: str = Field(description="scenario file, relative to the experiment file")
    policy_dir: str = Field("../configs/policies", description="folder of policy files, relative to the experiment file")
    replications: int = Field(20, ge=1, le=100_000)
    root_seed: int = Field(1, ge=0, le=2**63 - 1)
    baseline: str = Field("baseline", description="the arm that changes are measured against")
    set: dict[str, Any] = Field(default_factory=dict, description="dotted overrides for every arm")
    windows: Windows = Windows()
    seeds: Literal["common", "independent"] = Field(
        "common", description="common: a replicate has the same seed in every arm and design point"
    )
    design: Design | None = None
    ensemble: str | None = Field(
        None, description="a CSV file of parameter sets (header: dotted parameter names; a row per set), relative "
                          "to the experiment file: every arm runs at every set, compared over all sets with "
                          "intervals that carry the parameters' uncertainty (abm/sweep/ensemble.py)")
    ensemble_sets: int | None = Field(
        None, ge=1, description="run at this many of the ensemble's sets, evenly spaced through the file (all of "
                                "them when absent); of a posterior sample drawn in proportion to the weights, a "
                                "smaller sample of the same posterior")
    compare_pooled: bool | None = Field(
        None, description="compare arms over all design points together (default: yes for random, lhs, sobol and "
                          "morris designs, whose points are draws from ranges; no for a grid, compared point by point)")
    keep: Keep = Keep()
    outputs: list[str] = Field(
        ["homicide_rate_per_100k", "recruitment_per_1000_youth"],
        min_length=1, description="measures analysed for sensitivity",
    )
    arms: list[Arm] = Field(default_factory=lambda: [Arm(name="baseline")], min_length=1)

    @field_validator("outputs")
    @classmethod
    def _known_outputs(cls, outputs: list[str]) -> list[str]:
        known = window_columns()
        unknown = [o for o in outputs if o not in known]
        if unknown:
            raise ValueError(f"outputs: unknown measure {', '.join(unknown)}; known: {', '.join(known)}")
        return outputs

    @field_validator("arms")
    @classmethod
    def _unique_names(cls, arms: list[Arm]) -> list[Arm]:
        names = [a.name for a in arms]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"arms: names must be unique, repeated: {', '.join(dupes)}")
        return arms

    @model_validator(mode="after")
    def _has_baseline(self) -> ExperimentFile:
        if self.baseline not in [a.name for a in self.arms]:
            raise ValueError(f"baseline: no arm is named {self.baseline!r}")
        if self.design is not None and self.ensemble is not None:
            raise ValueError("ensemble: an experiment has a design or an ensemble, not both")
        if self.ensemble_sets is not None and self.ensemble is None:
            raise ValueError("ensemble_sets: there is no ensemble to take sets from")
        if self.design is not None and isinstance(self.design.emulator, list):
            unknown = [o for o in self.design.emulator if o not in self.outputs]
            if unknown:
                raise ValueError(f"design.emulator: {', '.join(unknown)} is not among the outputs "
                                 f"({', '.join(self.outputs)})")
        return self


class Experiment:
    """A validated experiment: its file, and each arm's scenario."""

    def __init__(self, path: Path, spec: ExperimentFile, scenarios: dict[str, Scenario], policies: dict[str, list[str]],
                 raw: bytes | None = None):
        self.path = path
        self.spec = spec
        self.scenarios = scenarios
        self.policies = policies
        raw = read_config_file(path) if raw is None else raw
        self.file_hash = hashlib.sha256(raw).hexdigest()[:16]
        self.points = spec.design.points(spec.root_seed) if spec.design else [{}]
        self.ensemble_names: list[str] = []  # the ensemble file's parameters (load_experiment)
        self.overrides: dict[str, Any] = {}  # given on the command line (--set), for every arm

    @property
    def parameters(self) -> list[str]:
        """Dotted paths the design or the ensemble varies (none without either)."""
        return self.ensemble_names or spec_names(self.spec)

    def scenario(self, arm: str, point: int) -> Scenario:
        """The scenario of an arm at a design point (a policy's parameters only where
        the arm runs the policy: :func:`for_arm`)."""
        values = for_arm(self.points[point], self.policies[arm])
        if not values:
            return self.scenarios[arm]
        try:
            return self.scenarios[arm].replaced(**values)
        except ValidationError as exc:
            raise ConfigError(f"{self.path}: design point {point} ({values}): {describe_errors(exc.errors())}") from None

    @property
    def pools_points(self) -> bool:
        """Whether arms are compared over all design points together: as the file's
        ``compare_pooled`` says, by default for designs whose points are draws from
        ranges (random, lhs, sobol, morris), not for a grid, whose points are distinct
        conditions compared one by one. An ensemble's sets are always compared together."""
        if self.spec.ensemble is not None:
            return True
        if self.spec.compare_pooled is not None:
            return self.spec.compare_pooled and self.spec.design is not None
        return self.spec.design is not None and self.spec.design.method != "grid"

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def arms(self) -> list[str]:
        return [a.name for a in self.spec.arms]

    def seed(self, replicate: int, arm: int = 0, point: int = 0) -> int:
        """The seed of a run. With common seeds (the default) it depends on the
        replicate only: the same in every arm and design point."""
        key = [self.spec.root_seed, replicate]
        if self.spec.seeds == "independent":
            key += [arm, point]
        return int(np.random.SeedSequence(key).generate_state(1)[0])

    def runs(self, replications: int | None = None) -> list[dict]:
        """Every run: id, arm, design point and its values, replicate, seed."""
        reps = replications or self.spec.replications
        return [
            {"run_id": f"{i:03d}-{k:05d}-{r:05d}", "arm": arm, "point": k, "replicate": r,
             "seed": self.seed(r, i, k), "params": self.points[k]}
            for i, arm in enumerate(self.arms)
            for k in range(len(self.points))
            for r in range(reps)
        ]

    def footprint(self) -> Footprint:
        """The largest memory and time one run may take: over the arms, with the
        design's parameters at their ends (:func:`abm.footprint.worst`)."""
        ranges: dict[str, list] = {}
        if self.spec.design:
            for name, p in self.spec.design.parameters.items():
                values = [p.low, p.high] if p.values is None else p.values
                numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
                if numbers:
                    ranges[name] = [int(round(v)) if p.integer else v for v in numbers]
        for name in self.ensemble_names:
            numbers = [p[name] for p in self.points if isinstance(p[name], (int, float)) and not isinstance(p[name], bool)]
            if numbers:
                ranges[name] = [min(numbers), max(numbers)]
        return max((footprint.worst(s, ranges) for s in self.scenarios.values()), key=lambda f: f.memory)

    def check_memory(self, workers: int | None = None, replications: int | None = None) -> Footprint:
        """Refuse the experiment (ConfigError, one line with the estimate) when its
        runs, as many at once as there are ``workers`` (default: the number of cores),
        would need more memory than this machine has available."""
        runs = len(self.arms) * len(self.points) * (replications or self.spec.replications)
        at_once = max(1, min(workers or os.cpu_count() or 1, runs))
        need = self.footprint()
        footprint.check(need, f"{self.path}: the largest run", at_once)
        return need

    def policy_start(self) -> int:
        """The step policies start: the earliest start over arms (default: end of burn-in)."""
        starts = []
        for s in self.scenarios.values():
            for name in policies.names():
                pol = getattr(s.policies, name, None)
                if pol is not None:
                    starts.append(s.run.burn_in if pol.start is None else pol.start)
        base = self.scenarios[self.spec.baseline]
        return min(starts) if starts else base.run.burn_in

    def windows(self) -> dict[str, tuple[int, int]]:
        """Steps (first, last) of each window: all (after burn-in), short, long."""
        base = self.scenarios[self.spec.baseline]
        steps = base.run.steps
        start = self.policy_start()
        short = (start + 1, min(steps, start + round(WEEKS_PER_YEAR * self.spec.windows.short_years)))
        long = (max(1, steps - round(WEEKS_PER_YEAR * self.spec.windows.long_years) + 1), steps)
        return {"all": (base.run.burn_in + 1, steps), "short": short, "long": long}


def policy_of(key: str) -> str | None:
    """The policy a dotted parameter belongs to (``policies.cbt.effect``: ``cbt``), or
    None for a parameter of the city."""
    parts = key.split(".")
    return parts[1] if parts[0] == "policies" and len(parts) > 1 and parts[1] in policies.names() else None


def for_arm(values: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Values given for every arm (the file's ``set``, ``--set``, a design point or an
    ensemble's set), less the parameters of policies the arm does not run: they change
    a policy where it runs and do not switch it on in the other arms, the baseline
    included."""
    return {k: v for k, v in values.items() if policy_of(k) in (None, *names)}


def check_policies_run(path: Path, spec: ExperimentFile, arms: dict[str, list[str]], overrides: dict) -> None:
    """Refuse a value given for every arm (the file's ``set``, ``--set``) for a policy
    no arm runs: it would change nothing (:func:`for_arm`), which is never what was
    meant. A design may vary such a parameter on purpose (an inert check)."""
    run = {name for names in arms.values() for name in names}
    for source, values in (("set", spec.set), ("--set", overrides)):
        for key in values:
            policy = policy_of(key)
            if policy is not None and policy not in run:
                where = f"{path}: set: {key}" if source == "set" else f"--set {key}"
                raise ConfigError(f"{where}: no arm of {path.name} runs {policy}, so it would change nothing "
                                  f"(arms: {', '.join(arms)}); add an arm that runs it, or set it in an arm")


def is_experiment_file(path: str | Path) -> bool:
    """Whether a TOML file is an experiment (it names a scenario file, or has arms)
    rather than a scenario."""
    data = read_toml(Path(path))
    return "arms" in data or isinstance(data.get("scenario"), str)


def load_experiment(path: str | Path, overrides: dict[str, Any] | None = None,
                    samples: int | None = None) -> Experiment:
    """Read and validate an experiment file and every arm's scenario.

    ``overrides`` (dotted paths to values, as ``--set`` gives them) apply to every arm,
    after the file's ``set`` and the arm's own. ``samples`` replaces the design's
    ``samples`` (``--samples``), for a design whose sample grows by adding points
    (random, sobol, morris: :data:`abm.sweep.design.GROWING`).

    Raises:
        ConfigError: naming the file, the field and the problem.
    """
    path = Path(path)
    raw = read_config_file(path)
    data = parse_toml(path, raw)
    try:
        spec = ExperimentFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_errors(exc.errors(), root=ExperimentFile)}") from None
    if samples is not None:
        if spec.design is None:
            raise ConfigError(f"{path}: --samples {samples}: the experiment has no design to sample")
        if not spec.design.grows:
            raise ConfigError(f"{path}: design.method: --samples needs a random, sobol or morris design, whose "
                              f"sample grows by adding points (this design is {spec.design.method})")
        spec = spec.model_copy(update={"design": spec.design.resized(samples)})
    here = path.parent
    scenario_path = here / spec.scenario
    if not scenario_path.exists():
        raise ConfigError(f"{path}: scenario: file {scenario_path} not found")
    policy_dir = here / spec.policy_dir
    scenarios, policies = {}, {}
    for i, arm in enumerate(spec.arms):
        names = arm.policy_names(spec.baseline)
        layers = []
        for name in names:
            layer = policy_dir / f"{name}.toml"
            if not layer.exists():
                known = sorted(p.stem for p in policy_dir.glob("*.toml")) if policy_dir.is_dir() else []
                raise ConfigError(
                    f"{path}: arms[{i}] ({arm.name}): no policy file {layer}"
                    + (f"; known policies: {', '.join(known)}" if known else "")
                )
            layers.append(layer)
        merged = {**for_arm(spec.set, names), **arm.set, **for_arm(overrides or {}, names)}
        try:
            scenarios[arm.name] = load_scenario(scenario_path, merged, layers)
        except ConfigError as exc:
            raise ConfigError(f"{path}: arms[{i}] ({arm.name}): {exc}") from None
        policies[arm.name] = names
    check_policies_run(path, spec, policies, overrides or {})
    exp = Experiment(path, spec, scenarios, policies, raw)
    exp.overrides = dict(overrides or {})
    if spec.design:
        # Check each parameter's range once, at its ends, so that bad ranges are
        # refused before any run.
        for name, p in spec.design.parameters.items():
            for value in ([p.low, p.high] if p.values is None else p.values):
                try:
                    scenarios[spec.baseline].replaced(**{name: int(value) if p.integer else value})
                except ValidationError as exc:
                    raise ConfigError(f"{path}: design.parameters.{name}: {describe_errors(exc.errors())}") from None
    if spec.ensemble is not None:
        exp.ensemble_names, exp.points = read_ensemble(here / spec.ensemble)
        for k, point in enumerate(exp.points):  # every set, before any run
            try:
                scenarios[spec.baseline].replaced(**point)
            except ValidationError as exc:
                raise ConfigError(f"{path}: ensemble {spec.ensemble}, set {k} (line {k + 2}): "
                                  f"{describe_errors(exc.errors())}") from None
        if spec.ensemble_sets is not None:
            if spec.ensemble_sets > len(exp.points):
                raise ConfigError(f"{path}: ensemble_sets: {spec.ensemble_sets} asked, but {spec.ensemble} holds "
                                  f"{len(exp.points)} sets")
            exp.points = evenly_spaced(exp.points, spec.ensemble_sets)
    check_windows(exp)
    return exp


def check_windows(exp: Experiment) -> None:
    """Refuse windows that do not fit in the measured part of the runs.

    Every arm runs as long as the baseline (the windows are the same steps in every
    arm), the design does not vary the run's length, and each window lasts at least a
    week and no longer than the steps after the policies start: a longer short window
    would be cut at the run's end, a longer long window would reach back into the
    weeks before the policies (the burn-in).

    Raises:
        ConfigError: naming the file, the field and the weeks there are.
    """
    path, spec = exp.path, exp.spec
    steps = exp.scenarios[spec.baseline].run.steps
    for i, arm in enumerate(spec.arms):
        other = exp.scenarios[arm.name].run.steps
        if other != steps:
            raise ConfigError(f"{path}: arms[{i}] ({arm.name}): run.steps ({other}) differs from the baseline's "
                              f"({steps}); every arm must run as long, as its windows are the same steps")
    if spec.design and "run.steps" in spec.design.parameters:
        raise ConfigError(f"{path}: design.parameters.run.steps: the run's length cannot vary within an experiment "
                          "(its windows are the same steps in every run)")
    start = exp.policy_start()
    measured = steps - start
    for field in ("short_years", "long_years"):
        years = getattr(spec.windows, field)
        weeks = round(WEEKS_PER_YEAR * years)
        if weeks < 1:
            raise ConfigError(f"{path}: windows.{field}: {years:g} years is less than a week")
        if weeks > measured:
            raise ConfigError(
                f"{path}: windows.{field}: {years:g} years ({weeks} weeks) is longer than the {measured} weeks "
                f"after the policies start (steps {start + 1}-{steps}); make it at most "
                f"{math.floor(measured / WEEKS_PER_YEAR * 100) / 100:g} years, or run longer (run.steps)"
            )


def spec_names(spec: ExperimentFile) -> list[str]:
    return spec.design.names if spec.design else []
