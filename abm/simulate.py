"""``simulate(scenario, seed) -> RunResult``: the one seam between the model and
everything that runs many models, and the writing of a run's files.

``simulate`` is a pure function of its arguments: the same scenario and seed give the
same result in any process. The files of a run (ARCHITECTURE.md):

- ``timeseries.csv``: one row per step;
- ``summary.csv``: one row, measures over the weeks after burn-in;
- ``blocks.csv``: one row per block, with its homicides after burn-in;
- ``events.csv``: one row per homicide and killing by police;
- ``manifest.json``: package version, git commit, scenario and its hash, seed, times.

CSV files are written to a temporary file and renamed, so a crash never leaves a
half-written file.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from abm import __version__
from abm.config import Scenario
from abm.metrics import SUMMARY_COLUMNS, TIMESERIES_COLUMNS, calibration
from abm.model import CityModel

EVENT_COLUMNS = (
    "step", "block", "x", "y", "kind", "perpetrator_id", "perpetrator_gang",
    "victim_id", "victim_type", "victim_gang",
)
BLOCK_COLUMNS = (
    "block", "x", "y", "district", "poor", "barrier", "ses", "population", "gang", "gang_control",
    "collective_efficacy", "homicides", "homicides_all",
)


@dataclass
class RunResult:
    """What one run produced: the rows of each output file, and its timing."""

    scenario: Scenario
    seed: int
    timeseries: list[dict]
    summary: dict
    blocks: list[dict]
    events: list[dict]
    started: str = ""
    finished: str = ""
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def calibration(self) -> list[dict]:
        return calibration(self.summary)


def simulate(
    scenario: Scenario,
    seed: int,
    steps: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> RunResult:
    """Build a city from ``scenario``, run it with ``seed``, return its measures.

    Args:
        scenario: validated parameters.
        seed: seed of the model's random generator.
        steps: weeks to run (default ``scenario.run.steps``); burn-in stays as configured.
        progress: called with 1 after each week (for a progress bar).
    """
    started = dt.datetime.now(dt.UTC)
    if steps is not None and steps <= scenario.run.burn_in:
        scenario = scenario.replace(**{"run.steps": steps, "run.burn_in": 0})
    elif steps is not None:
        scenario = scenario.replace(**{"run.steps": steps})
    model = CityModel(scenario, seed)
    model.run(progress=progress)
    finished = dt.datetime.now(dt.UTC)
    return RunResult(
        scenario=scenario,
        seed=seed,
        timeseries=model.ledger.timeseries(),
        summary=model.ledger.summary(),
        blocks=block_rows(model),
        events=list(model.events),
        started=started.isoformat(timespec="seconds"),
        finished=finished.isoformat(timespec="seconds"),
        seconds=(finished - started).total_seconds(),
    )


def block_rows(model: CityModel) -> list[dict]:
    c = model.city
    measured = model.ledger.block_homicides
    return [
        {
            "block": b,
            "x": int(c.x[b]),
            "y": int(c.y[b]),
            "district": int(c.district[b]),
            "poor": int(c.poor[b]),
            "barrier": int(c.barrier[b]),
            "ses": round(float(c.ses[b]), 6),
            "population": int(c.population[b]),
            "gang": int(c.gang_owner[b]),
            "gang_control": round(float(c.gang_control[b]), 6),
            "collective_efficacy": round(float(c.collective_efficacy[b]), 6),
            "homicides": int(measured[b]),
            "homicides_all": int(c.homicides[b]),
        }
        for b in range(c.n_blocks)
    ]


def write_csv(path: Path, columns: tuple[str, ...] | list[str], rows: list[dict]) -> None:
    """Write rows atomically: a temporary file renamed over ``path``."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(row.get(k)) for k in columns})
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def csv_cell(value):
    """A value as written to every CSV file: floats to 10 decimals, text on one line."""
    if isinstance(value, float):
        return repr(round(value, 10))
    if isinstance(value, str):
        return value.replace("\r", " ").replace("\n", " | ")
    return value


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=Path(__file__).resolve().parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit() -> str | None:
    """The package's git commit, when it runs from a checkout."""
    return _git("rev-parse", "HEAD") or None


def git_dirty() -> bool | None:
    """Whether the checkout has uncommitted changes to tracked files (None outside git)."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return None if status is None else bool(status)


def write_run(result: RunResult, out: Path, config_path: str | None = None) -> None:
    """Write the five files of a run into ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "timeseries.csv", TIMESERIES_COLUMNS, result.timeseries)
    write_csv(out / "summary.csv", SUMMARY_COLUMNS, [result.summary])
    write_csv(out / "blocks.csv", BLOCK_COLUMNS, result.blocks)
    write_csv(out / "events.csv", EVENT_COLUMNS, result.events)
    manifest = {
        "package": "abm",
        "version": __version__,
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "config": config_path,
        "scenario": result.scenario.name,
        "scenario_hash": result.scenario.digest(),
        "seed": result.seed,
        "steps": result.scenario.run.steps,
        "burn_in": result.scenario.run.burn_in,
        "started": result.started,
        "finished": result.finished,
        "seconds": round(result.seconds, 3),
        "calibration": [
            {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
            for row in result.calibration
        ],
        "parameters": result.scenario.model_dump(mode="json", exclude={"base"}),
    }
    tmp = out / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, out / "manifest.json")
