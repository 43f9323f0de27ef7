"""Priors of a calibration: which parameters are fitted to the targets, and over what range.

The bundled file is ``configs/priors.toml`` (``abm calibrate --abc --priors FILE`` reads
another). Each ``[[fit]]`` table names one parameter by its dotted path, says why the
targets can inform it, and may narrow its range::

    [[fit]]
    parameter = "youth.join_peer"
    low = 0.5
    high = 6.0
    why = "youths_in_gangs: peers are the main route into a gang"

The prior of a parameter is uniform over its range: the schema's declared range
(``abm params NAME``) unless the file narrows it; a narrowed range must lie inside the
schema's. Only decimal parameters of the city can be fitted: never a policy's (policy
outcomes are never calibration targets), never the run's length, never a whole number
(a count or a number of weeks). A file that cannot be used is a
:class:`~abm.schema.ConfigError` of one line naming the file, the field and the problem.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, ValidationError, model_validator

from abm import parameters
from abm.config import describe_errors, parse_toml, read_config_file
from abm.schema import ConfigError, Section
from abm.targets import located

# Sections whose parameters are never fitted: the run (its length and burn-in are how
# the model is measured) and the policies (their effects are what the model is for).
NOT_FITTED = ("run.", "policies.")


@dataclass(frozen=True)
class Prior:
    """A fitted parameter: uniform between ``low`` and ``high``."""

    name: str
    low: float
    high: float
    grade: str
    schema_range: str
    why: str

    def record(self) -> dict:
        return {"parameter": self.name, "distribution": "uniform", "low": self.low, "high": self.high,
                "schema_range": self.schema_range, "grade": self.grade, "why": self.why}


class Fit(Section):
    """One ``[[fit]]`` table: a parameter, why it is fitted, and optionally a narrower range."""

    parameter: str = Field(min_length=1)
    low: float | None = None
    high: float | None = None
    why: str = Field(min_length=1)

    @model_validator(mode="after")
    def _fittable(self) -> Fit:
        name = self.parameter
        if name.startswith(NOT_FITTED):
            raise ValueError(f"parameter: {name}: run and policy parameters are never fitted")
        info = parameters.field(name)
        if info is None:
            raise ValueError(f"parameter: {name}: no such parameter (abm params lists them)")
        if info.annotation is not float:
            raise ValueError(f"parameter: {name}: only decimal parameters can be fitted, not a whole number "
                             "or a switch")
        lo, hi, _, _ = parameters.bounds(info)
        low = self.low if self.low is not None else lo
        high = self.high if self.high is not None else hi
        shown = parameters.range_text(info)
        if low is None or high is None:
            raise ValueError(f"parameter: {name}: its range {shown} is open; give low and high")
        if self.low is not None and lo is not None and self.low < lo:
            raise ValueError(f"low: {self.low:g} is below the range of {name}, {shown}")
        if self.high is not None and hi is not None and self.high > hi:
            raise ValueError(f"high: {self.high:g} is above the range of {name}, {shown}")
        if not low < high:
            raise ValueError(f"low: {low:g} must be below high ({high:g})")
        return self

    def prior(self) -> Prior:
        info = parameters.field(self.parameter)
        lo, hi, _, _ = parameters.bounds(info)
        return Prior(
            name=self.parameter,
            low=float(self.low if self.low is not None else lo),
            high=float(self.high if self.high is not None else hi),
            grade=str(info.json_schema_extra["grade"]),
            schema_range=parameters.range_text(info),
            why=self.why,
        )


class PriorsFile(Section):
    """A priors file: a list of ``[[fit]]`` tables, each parameter once."""

    fit: list[Fit] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _distinct(self) -> PriorsFile:
        seen: set[str] = set()
        for f in self.fit:
            if f.parameter in seen:
                raise ValueError(f"fit: {f.parameter} is fitted twice")
            seen.add(f.parameter)
        return self


def default_path() -> Path:
    """The bundled priors file, ``configs/priors.toml``."""
    from abm import presets

    return presets.root() / "configs" / presets.PRIORS_FILE


def load(path: str | Path | None = None) -> tuple[Prior, ...]:
    """The priors of ``path`` (default: the bundled file).

    Raises:
        ConfigError: one line naming the file, the field (``fit.2.low``) and the problem.
    """
    path = Path(path) if path is not None else default_path()
    data = parse_toml(path, read_config_file(path))
    try:
        return tuple(f.prior() for f in PriorsFile.model_validate(data).fit)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_errors(located(exc.errors()), PriorsFile)}") from None


@functools.cache
def bundled() -> tuple[Prior, ...]:
    """The bundled priors (read once)."""
    return load()


def check_ends(priors: tuple[Prior, ...], scenario, source: str | Path) -> None:
    """Refuse (ConfigError, one line) priors whose low or high the scenario does not
    accept, each with the other parameters at the scenario's values (a bound between two
    fields, such as a lowest below a highest)."""
    for p in priors:
        for value in (p.low, p.high):
            try:
                scenario.replaced(**{p.name: value})
            except ValidationError as exc:
                raise ConfigError(f"{source}: {p.name} = {value:g}: {describe_errors(exc.errors())}") from None


def inside(priors: tuple[Prior, ...], point: dict) -> bool:
    """Whether every fitted value of ``point`` lies within its prior."""
    return all(math.isfinite(point[p.name]) and p.low <= point[p.name] <= p.high for p in priors)
