"""The base of every parameter table: strict, immutable, with shared field types.

Every table of a scenario (and of a policy) is a :class:`Section`: unknown keys are
refused, values are validated for type and range, and a built table never changes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]


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
    """Base of every table: strict about unknown keys, immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
