"""Result folders as pandas DataFrames: what ``abm run`` and ``abm experiment`` wrote.

Reads files only (it never imports the model), so it works on results made yesterday
or on another machine::

    from abm import load_results
    results = load_results("results/policy_comparison")
    results.runs.groupby("arm")["homicide_rate_per_100k__long"].mean()
    results.manifest["root_seed"]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from abm.schema import ConfigError

# The tables a run folder or an experiment folder may hold, by file stem.
TABLES = ("timeseries", "summary", "blocks", "events", "runs", "comparison", "sensitivity")


@dataclass
class Results:
    """The tables of one result folder (None where the folder has no such file)."""

    path: Path
    manifest: dict = field(default_factory=dict)
    timeseries: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    blocks: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    runs: pd.DataFrame | None = None
    comparison: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None

    @property
    def kind(self) -> str:
        """``"experiment"`` for a sweep's folder (it has ``runs.csv``), else ``"run"``."""
        return "experiment" if self.runs is not None else "run"

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES if getattr(self, name) is not None}


def load_results(folder: str | Path) -> Results:
    """Load a run or experiment folder: each CSV file as a DataFrame, the manifest as a dict.

    Raises:
        ConfigError: the folder does not exist or holds no result file.
    """
    path = Path(folder)
    if not path.is_dir():
        raise ConfigError(f"{path}: no such result folder")
    results = Results(path)
    for name in TABLES:
        csv = path / f"{name}.csv"
        if csv.exists():
            setattr(results, name, pd.read_csv(csv))
    manifest = path / "manifest.json"
    if manifest.exists():
        try:
            results.manifest = json.loads(manifest.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{manifest}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not results.tables():
        raise ConfigError(f"{path}: holds no result file ({', '.join(n + '.csv' for n in TABLES)})")
    return results
