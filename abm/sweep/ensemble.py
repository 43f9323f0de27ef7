"""Parameter ensembles: sets of parameter values at which an experiment runs every arm.

An experiment's ``ensemble`` names a CSV file (relative to the experiment file) whose
header holds dotted parameter paths and whose rows are parameter sets, for example a
posterior sample from a calibration, or plausible values of the mechanisms we are
unsure of::

    youth.join_peer,residents.trust_abuse
    2.1,0.031
    3.4,0.012

Every arm runs at every set, K sets x R replicates, with the same seeds in every arm
(common random numbers within each set). Arms are then compared over all sets together,
with intervals over the sets (:mod:`abm.analysis.comparison`), so that they carry the
uncertainty about the parameters as well as chance, and each change says what share of
its variance comes from the parameters.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from abm.config import ConfigError, read_config_file

MAX_SETS = 10_000


def _cell(text: str):
    """A CSV cell as TOML would read it: whole number, number, true/false or text."""
    value = text.strip()
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return value
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def read_ensemble(path: Path) -> tuple[list[str], list[dict]]:
    """The parameter names and the sets of an ensemble file.

    Raises:
        ConfigError: naming the file, the row or column and the problem.
    """
    raw = read_config_file(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise ConfigError(f"{path}: empty; give a header of dotted parameter names and one row per set")
    names = [n.strip() for n in rows[0]]
    bad = [n for n in names if not n or "." not in n]
    if bad:
        raise ConfigError(f"{path}: header: {bad[0]!r} is not a dotted parameter name (e.g. youth.join_peer)")
    if len(set(names)) < len(names):
        raise ConfigError(f"{path}: header: a parameter is named twice")
    if "run.steps" in names:
        raise ConfigError(f"{path}: header: run.steps: the run's length cannot vary within an experiment")
    sets = []
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(names):
            raise ConfigError(f"{path}: line {i}: {len(row)} values for {len(names)} parameters")
        point = {}
        for name, cell in zip(names, row, strict=True):
            try:
                point[name] = _cell(cell)
            except ValueError as exc:
                raise ConfigError(f"{path}: line {i}: {name}: {exc}") from None
        sets.append(point)
    if not sets:
        raise ConfigError(f"{path}: no parameter sets below the header")
    if len(sets) > MAX_SETS:
        raise ConfigError(f"{path}: {len(sets)} sets; at most {MAX_SETS}")
    return names, sets


def evenly_spaced(sets: list[dict], k: int) -> list[dict]:
    """``k`` of ``sets``, evenly spaced through them: set ``floor((i + 1/2) n / k)`` for
    ``i < k``. Of a sample drawn in proportion to weights by systematic resampling (a
    calibration's ``posterior.csv``), this is a systematic sample of ``k`` from the same
    weights."""
    n = len(sets)
    return [sets[(2 * i + 1) * n // (2 * k)] for i in range(k)]
