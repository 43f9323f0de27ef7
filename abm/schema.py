"""The base of every parameter table: strict, immutable, with shared field types.

Every table of a scenario (and of a policy) is a :class:`Section`: unknown keys are
refused, values are validated for type and range, and a built table never changes.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]


class ConfigError(Exception):
    """A scenario or experiment file that cannot be used, with a message for people."""


class Section(BaseModel):
    """Base of every table: strict about unknown keys, immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
