"""Result folders as pandas DataFrames: what ``abm run`` and ``abm experiment`` wrote.

Reads files only (it never imports the model), so it works on results made yesterday
or on another machine::

    from abm import load_results
    results = load_results("results/policy_comparison")
    results.runs.groupby("arm")["homicide_rate_per_100k__long"].mean()
    results.manifest["root_seed"]
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from abm.folders import read_manifest
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
        setattr(results, name, read_table(path, name))
    results.manifest = read_manifest(path) or {}
    if not results.tables():
        raise ConfigError(f"{path}: holds no result file ({', '.join(n + '.csv' for n in TABLES)})")
    return results


def table_path(folder: Path, name: str) -> Path | None:
    """Where a folder keeps a table: ``NAME.parquet``, a Parquet dataset ``NAME/``, or
    ``NAME.csv`` (None if nowhere)."""
    for path in (folder / f"{name}.parquet", folder / name, folder / f"{name}.csv"):
        if path.is_file() or (path.is_dir() and any(path.glob("*.parquet"))):
            return path
    return None


def read_table(folder: str | Path, name: str) -> pd.DataFrame | None:
    """A table of a result folder as a DataFrame, from Parquet or CSV; None if absent."""
    path = table_path(Path(folder), name)
    if path is None:
        return None
    if path.suffix == ".csv":
        return pd.read_csv(path)
    try:
        return pd.read_parquet(path)
    except ImportError:
        raise ConfigError(f"{path}: reading Parquet needs pyarrow, which this installation lacks: "
                          "pip install pyarrow") from None


def table_rows(folder: str | Path, name: str) -> list[dict]:
    """A table's rows as CSV reads them, every value a string (missing ones empty),
    whether the folder holds it as CSV or as Parquet."""
    path = table_path(Path(folder), name)
    if path is None:
        return []
    if path.suffix == ".csv":
        with path.open(newline="") as handle:
            return list(csv.DictReader(handle))
    frame = read_table(folder, name)
    return [{k: "" if v is None or v != v else str(v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]
