"""Parameter designs: which points of parameter space an experiment runs.

An experiment's ``[design]`` table names a method and the parameters it varies, by
dotted path::

    [design]
    method = "sobol"          # grid, random, lhs, sobol, morris
    samples = 64              # random/lhs: points; sobol: base samples N; morris: trajectories
    [design.parameters]
    "youth.join_peer" = { low = 1.0, high = 5.0 }
    "police.officers" = { low = 150, high = 400, integer = true }
    "violence.lethality" = { values = [0.1, 0.2, 0.3] }   # grid: the values to cross

Latin hypercube, Sobol (Saltelli's scheme, first and total order) and Morris
(elementary effects) samples come from SALib. Sobol and Morris designs may put every
parameter in a ``group`` (``{ low = 0.1, high = 0.3, group = "violence" }``): a group's
parameters move together and the indices are computed per group (Campolongo et al.
2007), so that screening a hundred parameters costs as many runs as a few groups.
Every sample is drawn from the design's own seed, so the same file gives the same
points on any machine, and sensitivity analysis can rebuild the sample matrix from
the file alone.

Random, Sobol and Morris samples grow by adding points: the sample of a larger
``samples`` begins with the whole sample of a smaller one (Saltelli's base rows come
from one Sobol sequence, Morris trajectories and random points from one stream). A
sweep's folder can therefore be extended to a larger sample (``abm experiment ...
--resume --samples N``) and keeps every run it holds. A Latin hypercube's points all
move when its size changes.
"""

from __future__ import annotations

import itertools
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from abm.schema import Section

MORRIS_LEVELS = 4
# Methods whose sample of size N is the first part of their sample of any larger size.
GROWING = ("random", "sobol", "morris")


class ParameterRange(Section):
    low: float | None = Field(None, description="lowest value (random, lhs, sobol, morris; grid with levels)")
    high: float | None = Field(None, description="highest value")
    values: list[float | int | bool | str] | None = Field(None, description="grid: the values to cross")
    levels: int | None = Field(None, ge=2, le=1000, description="grid: evenly spaced values from low to high")
    integer: bool = Field(False, description="round sampled values to whole numbers")
    group: str | None = Field(None, min_length=1, max_length=80,
                              description="sobol, morris: the group it moves with; indices are then per group")

    @model_validator(mode="after")
    def _bounds(self) -> ParameterRange:
        if self.values is None and (self.low is None or self.high is None):
            raise ValueError("give low and high, or values")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be smaller than high ({self.high})")
        return self


class Design(Section):
    method: Literal["grid", "random", "lhs", "sobol", "morris"] = "grid"
    samples: int = Field(16, ge=1, le=1_000_000, description="random/lhs points; sobol N; morris trajectories")
    seed: int | None = Field(None, ge=0, le=2**63 - 1,
                             description="seed of the sample (default: the experiment's root seed)")
    parameters: dict[str, ParameterRange] = Field(min_length=1)
    emulator: bool | list[str] = Field(
        False, description="sobol: also estimate the indices from a Gaussian-process emulator fitted to the runs "
                           "(sensitivity_emulator.csv; needs scikit-learn, the sensitivity extra), for every "
                           "output (true) or the outputs listed")

    @model_validator(mode="after")
    def _method_needs(self) -> Design:
        for name, p in self.parameters.items():
            if self.method == "grid" and p.values is None and p.levels is None:
                raise ValueError(f"design.parameters.{name}: a grid needs values, or low, high and levels")
            if self.method != "grid" and (p.low is None or p.high is None):
                raise ValueError(f"design.parameters.{name}: method {self.method} needs low and high")
        if self.emulator and self.method != "sobol":
            raise ValueError(f"design.emulator: for sobol designs only, not {self.method}")
        grouped = [name for name, p in self.parameters.items() if p.group is not None]
        if grouped and self.method not in ("sobol", "morris"):
            raise ValueError(f"design.parameters.{grouped[0]}: groups are for sobol and morris designs only")
        if grouped and len(grouped) != len(self.parameters):
            missing = next(name for name, p in self.parameters.items() if p.group is None)
            raise ValueError(f"design.parameters.{missing}: give every parameter a group, or none")
        if grouped and len(self.groups) < 2:
            raise ValueError("design.parameters: a grouped design needs two groups or more")
        return self

    @property
    def groups(self) -> list[str]:
        """The groups, in order of first appearance (empty when the design has none)."""
        return list(dict.fromkeys(p.group for p in self.parameters.values() if p.group is not None))

    @property
    def factors(self) -> list[str]:
        """What the indices are computed for: the groups, or else the parameters."""
        return self.groups or self.names

    @property
    def names(self) -> list[str]:
        return list(self.parameters)

    def problem(self) -> dict:
        """The SALib problem: names and bounds."""
        problem = {
            "num_vars": len(self.parameters),
            "names": self.names,
            "bounds": [[p.low, p.high] for p in self.parameters.values()],
        }
        if self.groups:
            problem["groups"] = [p.group for p in self.parameters.values()]
        return problem

    def matrix(self, root_seed: int) -> np.ndarray:
        """The raw sample, one row per point (before rounding integers)."""
        seed = root_seed if self.seed is None else self.seed
        problem = self.problem()
        if self.method == "random":
            rng = np.random.default_rng(seed)
            lows = np.array([b[0] for b in problem["bounds"]])
            highs = np.array([b[1] for b in problem["bounds"]])
            return lows + rng.random((self.samples, len(lows))) * (highs - lows)
        if self.method == "lhs":
            from SALib.sample import latin

            return latin.sample(problem, self.samples, seed=seed)
        if self.method == "sobol":
            from SALib.sample import sobol

            return sobol.sample(problem, self.samples, calc_second_order=False, seed=seed)
        if self.method == "morris":
            from SALib.sample import morris

            return morris.sample(problem, self.samples, num_levels=MORRIS_LEVELS, seed=seed)
        raise ValueError(f"no sample matrix for method {self.method}")

    @property
    def grows(self) -> bool:
        """Whether a larger ``samples`` only adds points (:data:`GROWING`)."""
        return self.method in GROWING

    def resized(self, samples: int) -> Design:
        """The same design with another ``samples``."""
        return self.model_copy(update={"samples": samples})

    def points(self, root_seed: int) -> list[dict]:
        """Every design point as ``{dotted path: value}``."""
        if self.method == "grid":
            axes = []
            for p in self.parameters.values():
                if p.values is not None:
                    axes.append(list(p.values))
                else:
                    values = np.linspace(p.low, p.high, p.levels)
                    axes.append([int(round(v)) if p.integer else float(v) for v in values])
            return [dict(zip(self.names, combo, strict=True)) for combo in itertools.product(*axes)]
        out = []
        for row in self.matrix(root_seed):
            point = {}
            for name, value in zip(self.names, row, strict=True):
                p = self.parameters[name]
                point[name] = int(round(value)) if p.integer else float(value)
            out.append(point)
        return out
