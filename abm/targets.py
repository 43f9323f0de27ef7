"""Calibration targets as data: the patterns the baseline must reproduce.

The targets live in ``configs/targets.toml`` (bundled; ``abm calibrate --targets FILE``
reads another). Each names the measure it is compared with, the value or range, a
tolerance and its source::

    [[target]]
    name = "convictions_per_homicide"
    pattern = "about 20 in 100 homicides end in a conviction"
    measure = "conviction_rate"
    low = 0.20
    high = 0.24
    tolerance = 0.04
    solidity = "moderate"
    evidence = "a11-homicide-convictions-and-clearance"
    [target.source]
    author = "Muggah; UNODC"
    year = 2017
    place = "Latin America; the Americas"
    figure = "20 convictions per 100 homicides ..."

A measure is a window measure of ``summary.csv`` (:mod:`abm.measures`) or one of the
pattern measures (:data:`abm.measures.PATTERNS`), which the run files do not carry and
:func:`abm.metrics.pattern_measures` computes from the time series and the homicide
events. The distance of a value from a target is 0 inside the range and otherwise how
far outside, in the measure's units; a target is met when the distance is at most its
tolerance. A file that cannot be used is a :class:`~abm.schema.ConfigError` of one line
naming the file, the field and the problem.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from abm import measures
from abm.config import describe_errors, parse_toml, read_config_file
from abm.schema import ConfigError, Section

Solidity = Literal["strong", "moderate", "weak", "unverified"]


def known_measures() -> frozenset[str]:
    """The measures a target may name: the model's window measures and the pattern measures."""
    return frozenset(m.name for m in measures.WINDOW) | frozenset(m.name for m in measures.PATTERNS)


class Source(Section):
    """Where a target's figure comes from."""

    author: str = Field(min_length=1)
    year: int = Field(ge=1900, le=2100)
    place: str = Field(min_length=1)
    figure: str = Field(min_length=1)

    def citation(self) -> str:
        return f"{self.author} ({self.year}), {self.place}"


class Target(Section):
    """One pattern the baseline must reproduce: a measure, its value or range, a
    tolerance, and the evidence behind it."""

    name: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    pattern: str = Field(min_length=1)
    measure: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    tolerance: float = Field(gt=0)
    solidity: Solidity
    evidence: str = Field(pattern=r"^a[0-9]+-[a-z0-9-]+$")
    source: Source

    @model_validator(mode="after")
    def _one_target(self) -> Target:
        if self.measure not in known_measures():
            raise ValueError(f"measure: no measure {self.measure!r} (known: {', '.join(sorted(known_measures()))})")
        if self.value is not None and (self.low is not None or self.high is not None):
            raise ValueError("value: give value, or low and high, not both")
        if self.value is None and (self.low is None or self.high is None):
            raise ValueError("value: give value, or both low and high")
        if self.value is None and self.low > self.high:
            raise ValueError(f"low: {self.low:g} must not exceed high ({self.high:g})")
        return self

    @property
    def span(self) -> tuple[float, float]:
        return (self.value, self.value) if self.value is not None else (self.low, self.high)

    @property
    def label(self) -> str:
        """The target as text: ``0.52`` or ``40-140``."""
        low, high = self.span
        return f"{low:g}" if low == high else f"{low:g}-{high:g}"

    def distance(self, value: float | None) -> float:
        """0 inside the range, else how far outside (in the measure's units); infinite
        when there is no value."""
        if value is None or not math.isfinite(value):
            return math.inf
        low, high = self.span
        return max(low - value, 0.0, value - high)

    def met(self, value: float | None) -> bool:
        return self.distance(value) <= self.tolerance


class TargetsFile(Section):
    """A targets file: a list of ``[[target]]`` tables with distinct names."""

    target: list[Target] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> TargetsFile:
        seen: set[str] = set()
        for t in self.target:
            if t.name in seen:
                raise ValueError(f"target: two targets are named {t.name!r}")
            seen.add(t.name)
        return self


def default_path() -> Path:
    """The bundled targets file, ``configs/targets.toml``."""
    from abm import presets

    return presets.root() / "configs" / presets.TARGETS_FILE


def load(path: str | Path | None = None) -> tuple[Target, ...]:
    """The targets of ``path`` (default: the bundled file).

    Raises:
        ConfigError: one line naming the file, the field (``target.3.tolerance``) and
            the problem.
    """
    path = Path(path) if path is not None else default_path()
    data = parse_toml(path, read_config_file(path))
    try:
        return tuple(TargetsFile.model_validate(data).target)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_errors(located(exc.errors()), TargetsFile)}") from None


def located(errors: list[dict]) -> list[dict]:
    """Pydantic's errors, with the place of each error of a validator of a whole table
    (``target.3``) put before its message (``target.3.measure: ...``)."""
    out = []
    for error in errors:
        if error["type"] == "value_error" and error["loc"]:
            where = ".".join(str(p) for p in error["loc"])
            message = str((error.get("ctx") or {}).get("error", error["msg"]))
            error = {**error, "ctx": {"error": f"{where}.{message}"}}
        out.append(error)
    return out


@functools.cache
def bundled() -> tuple[Target, ...]:
    """The bundled targets (read once)."""
    return load()


def markdown(targets: tuple[Target, ...]) -> str:
    """The targets as the Markdown table of docs/evidence.md ("Calibration targets")."""
    lines = [
        "| Target | Pattern | Measure | Value | Tolerance | Source | Solidity |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in targets:
        lines.append(
            f"| `{t.name}` | {t.pattern} | `{t.measure}` | {t.label} | {t.tolerance:g} | "
            f"[{t.source.citation()}](#{t.evidence}): {t.source.figure} | {t.solidity} |"
        )
    return "\n".join(lines)
