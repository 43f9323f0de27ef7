"""The base of every parameter table: strict, immutable, with shared field types.

Every table of a scenario (and of a policy) is a :class:`Section`: unknown keys are
refused, values are validated for type and range, and a built table never changes.
A number is a number: infinity and NaN are refused everywhere, and so are ``true``,
``false`` and text (``"3"``) given for a numeric field (a value from the command
line, ``--set police.officers=300``, is read as TOML first, so it arrives as a
number).
"""

from __future__ import annotations

import functools
import re
import types
import typing
from enum import StrEnum
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

# The longest run, in weeks (a hundred years): the bound of run.steps and of every step.
MAX_STEPS = 5200

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]

# Names of scenarios, experiments and arms become folder and file names (results/<name>):
# letters, digits and _ - . + only, never a leading dot, never a path separator.
NAME_PATTERN = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]*")


def safe_name(value: str) -> str:
    """``value`` if it may name a file or folder, else a validation error saying why."""
    if not NAME_PATTERN.fullmatch(value):
        raise PydanticCustomError(
            "unsafe_name",
            "must be letters, digits and _ - . + only, not starting with a dot (it names files and folders)",
        )
    return value


SafeName = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(safe_name)]


class Grade(StrEnum):
    """How well a parameter's value is grounded in evidence.

    - ``strong``: measured directly in several studies or official statistics;
    - ``moderate``: one good study, or several of a related quantity;
    - ``weak``: indirect evidence, or calibrated against a pattern;
    - ``assumption``: a modelling choice with no direct measurement.
    """

    STRONG = "strong"
    MODERATE = "moderate"
    WEAK = "weak"
    ASSUMPTION = "assumption"


def param(
    default: Any,
    description: str,
    *,
    unit: str,
    source: str,
    grade: Grade | str,
    **bounds: Any,
) -> Any:
    """A documented model parameter: a pydantic ``Field`` that also carries its unit,
    source and evidence grade (read by ``abm params`` and docs/ODD.md's tables).

    ``bounds`` are pydantic's range keywords (``ge``, ``le``, ``gt``, ``lt``); a field
    typed :data:`Share` or :data:`NonNeg` takes its range from the type.
    """
    return Field(
        default,
        description=description,
        json_schema_extra={"unit": unit, "source": source, "grade": str(Grade(grade))},
        **bounds,
    )


class ConfigError(Exception):
    """A scenario or experiment file that cannot be used, with a message for people."""


class Section(BaseModel):
    """Base of every table: strict about unknown keys and about numbers (finite, and
    never a boolean or text), immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None or value is None:
            return value
        kind = field_kind(cls, info.field_name)
        is_bool = isinstance(value, (bool, np.bool_))
        if kind == "number" and (is_bool or isinstance(value, (str, bytes))):
            got = "text" if isinstance(value, (str, bytes)) else "true/false"
            raise PydanticCustomError("number_type", "must be a number, not {got}", {"got": got})
        if kind == "bool" and not is_bool:
            raise PydanticCustomError("bool_type", "must be true or false")
        return value


@functools.cache
def field_kind(model: type[BaseModel], name: str) -> str | None:
    """``"number"`` for a field holding ``int`` or ``float`` (or either or none),
    ``"bool"`` for a boolean one, None for anything else."""
    annotation = model.model_fields[name].annotation
    if scalar_types(annotation) == {bool}:
        return "bool"
    types_ = scalar_types(annotation)
    return "number" if types_ and types_ <= {int, float} else None


def scalar_types(annotation: Any) -> set:
    """The types a field's annotation allows, ``Annotated`` and ``None`` left out."""
    if typing.get_origin(annotation) is Annotated:
        return scalar_types(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        out: set = set()
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                out |= scalar_types(arg)
        return out
    return {annotation}
