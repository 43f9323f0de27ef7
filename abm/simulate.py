"""``simulate(scenario, seed) -> RunResult``: the one seam between the model and
everything that runs many models, and the writing of a run's files.

``simulate`` is a pure function of its arguments: the same scenario and seed give the
same result in any process. The files of a run (README, "What the commands write";
docs/ODD.md, section 7.12):

- ``timeseries.csv``: one row per step;
- ``summary.csv``: one row, measures over the weeks after burn-in;
- ``blocks.csv``: one row per block, with its homicides after burn-in;
- ``events.csv``: one row per homicide and killing by police;
- ``manifest.json``: package version, git commit, scenario and its hash, seed, times.

CSV files are written to a temporary file and renamed, so a crash never leaves a
half-written file.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from abm import footprint
from abm.config import Scenario
from abm.io import provenance, write_csv, write_json
from abm.metrics import calibration, outside, pattern_measures, summary_columns, timeseries_columns
from abm.model import CityModel

if TYPE_CHECKING:
    from abm.warmup import WarmUp

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
    """What one run produced: the rows of each output file, its timing, and the
    measures of any windows of steps asked for (``windows[name]``, as in the summary)."""

    scenario: Scenario
    seed: int
    timeseries: list[dict]
    summary: dict
    blocks: list[dict]
    events: list[dict]
    started: str = ""
    finished: str = ""
    seconds: float = 0.0
    windows: dict[str, dict] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def calibration(self) -> list[dict]:
        """Each calibration target with this run's value (over the weeks after burn-in)."""
        s = self.summary
        return calibration({**s, **pattern_measures(self.timeseries, self.events, s["burn_in"] + 1, s["steps"])})

    def frames(self) -> dict[str, pd.DataFrame]:
        """The run's tables as pandas DataFrames, with the columns of its files:
        ``timeseries``, ``summary`` (one row), ``blocks`` and ``events``."""
        return {
            "timeseries": pd.DataFrame(self.timeseries, columns=list(timeseries_columns())),
            "summary": pd.DataFrame([self.summary], columns=list(summary_columns())),
            "blocks": pd.DataFrame(self.blocks, columns=list(BLOCK_COLUMNS)),
            "events": pd.DataFrame(self.events, columns=list(EVENT_COLUMNS)).astype(
                {"kind": str, "victim_type": str}
            ),
        }


def simulate(
    scenario: Scenario,
    seed: int,
    steps: int | None = None,
    progress: Callable[[int], object] | None = None,
    windows: dict[str, tuple[int, int]] | None = None,
    burn_in: int | None = None,
    warm: WarmUp | None = None,
) -> RunResult:
    """Build a city from ``scenario``, run it with ``seed``, return its measures.

    Args:
        scenario: validated parameters.
        seed: the run's seed (every random stream derives from it).
        steps: weeks to run (default ``scenario.run.steps``).
        burn_in: weeks before measuring (default ``scenario.run.burn_in``); it must be
            smaller than ``steps``, as in a scenario file (a ConfigError otherwise).
        progress: called with 1 after each week (for a progress bar).
        windows: name -> (first, last) steps (inclusive, 1-based) whose window
            measures the result should hold (:attr:`RunResult.windows`).
        warm: the city of ``scenario`` without its policies, already run on ``seed``
            up to a week before any of them acts (:class:`abm.warmup.WarmUp`): the run
            goes on from a copy of it, with the same result as without it.

    Raises:
        ConfigError: when the run would need more memory than the machine has
            (:mod:`abm.footprint`), before anything is built.
        NonFiniteMeasure: when a measure comes out NaN or infinite (:mod:`abm.metrics`).
    """
    started = dt.datetime.now(dt.UTC)
    changes = {key: value for key, value in (("run.steps", steps), ("run.burn_in", burn_in)) if value is not None}
    if changes:
        scenario = scenario.replace(**changes)
    footprint.check(footprint.estimate(scenario), scenario.name)  # before anything is built
    if warm is None:
        model = CityModel(scenario, seed)
    elif warm.seed != seed:
        raise ValueError(f"a warm-up on seed {warm.seed} cannot start a run on seed {seed}")
    else:
        model = warm.city(scenario)
    model.run(scenario.run.steps - model.week, progress=progress)
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
        windows={name: model.ledger.window(first, last) for name, (first, last) in (windows or {}).items()},
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


def write_run(result: RunResult, out: Path, config_path: str | None = None, force: bool = False) -> None:
    """Write the five files of a run into the folder ``out``.

    The files are written beside it and moved into place when all are written
    (:class:`abm.folders.ResultsFolder`): a failed write leaves what ``out`` held
    before. A folder that already holds results is replaced only with ``force``.

    Raises:
        ConfigError: ``out`` holds results (without ``force``) or other files, or
            another process is writing it.
        OSError: a file could not be written; its name is the error's filename.
    """
    from abm.folders import ResultsFolder

    with ResultsFolder(Path(out), "run") as folder:
        folder.check_replaceable(force)
        stage = folder.start()
        try:
            write_run_files(result, stage, config_path)
        except BaseException:
            folder.discard()
            raise
        folder.commit()


def write_run_files(result: RunResult, out: Path, config_path: str | None) -> None:
    write_csv(out / "timeseries.csv", timeseries_columns(), result.timeseries)
    write_csv(out / "summary.csv", summary_columns(), [result.summary])
    write_csv(out / "blocks.csv", BLOCK_COLUMNS, result.blocks)
    write_csv(out / "events.csv", EVENT_COLUMNS, result.events)
    manifest = {
        "kind": "run",
        "status": "complete",
        **provenance(),
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
        "outside_calibration": [r["metric"] for r in outside(result.calibration)],
        "parameters": result.scenario.model_dump(mode="json", exclude={"base"}),
    }
    write_json(out / "manifest.json", manifest)
