"""Running an experiment's runs on local processes, writing results as they finish.

``run_job`` is the one function a worker runs: ``simulate(scenario, seed)`` and the
measures of each window. Rows of a run are written only after the run has finished;
the ``runs.csv`` row is written last, so a run counts as done exactly when its row is
there. ``--resume`` skips those runs and redoes the rest.

Files in the output folder:

- ``runs.csv``: one row per run: run_id, arm, replicate, seed, policies, overrides,
  status (``ok`` or ``failed``) and error, and every summary measure for the whole
  measured period (after burn-in) and, suffixed ``__short`` and ``__long``, for the
  two windows;
- ``timeseries.csv``: per run and step, the main measures (long form), for plots;
- ``blocks.csv``: per run, homicides per block after the policies start (blocks with
  none are left out);
- ``manifest.json``: the experiment file and its hash, package version, git commit,
  replications, windows, start and end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np

from abm.io import provenance, write_json
from abm.metrics import window_columns
from abm.simulate import simulate
from abm.sweep.experiment import Experiment
from abm.sweep.store import RowLog
from abm.violence import HomicideKind

ID_COLUMNS = ["run_id", "arm", "point", "replicate", "seed", "policies", "overrides", "scenario_hash", "status",
              "error"]
RUN_INFO = ["people", "youths", "segregation_index"]
SERIES = [
    "homicide_rate_per_100k", "recruitment_per_1000_youth", "gang_members", "incarceration_per_100k",
    "arrests_non_member_share", "trust_mean", "reporting_rate", "collective_efficacy_mean", "policy_cost",
]
WINDOWS = ("all", "short", "long")


def run_columns(parameters: list[str]) -> list[str]:
    measures = list(window_columns())
    cols = ID_COLUMNS + list(parameters) + RUN_INFO + measures
    for w in ("short", "long"):
        cols += [f"{m}__{w}" for m in measures]
    return cols


def run_job(job: dict) -> dict:
    """Run one simulation and return its rows. Never raises: failures are rows too."""
    info = {k: job[k] for k in ("run_id", "arm", "point", "replicate", "seed")}
    info.update(job["params"])
    info["policies"] = "+".join(job["policies"])
    info["overrides"] = json.dumps(job["overrides"], sort_keys=True)
    try:
        info["scenario_hash"] = job["scenario"].digest()
        result = simulate(job["scenario"], job["seed"], windows=job["windows"])
        row = dict(info, status="ok", error="")
        for key in RUN_INFO:
            row[key] = result.summary[key]
        for name, measures in result.windows.items():
            suffix = "" if name == "all" else f"__{name}"
            row.update({f"{k}{suffix}": v for k, v in measures.items()})
        series, blocks = [], []
        if job["keep"].timeseries:
            series = [
                {"run_id": info["run_id"], "arm": info["arm"], "point": info["point"], "replicate": info["replicate"],
                 "step": r["step"], **{k: r[k] for k in SERIES}}
                for r in result.timeseries
            ]
        if job["keep"].blocks:
            start = job["policy_start"]
            kills = [e["block"] for e in result.events if e["step"] > start and e["kind"] != HomicideKind.POLICE]
            counts = np.bincount(np.array(kills, dtype=np.int64), minlength=len(result.blocks))
            blocks = [
                {"run_id": info["run_id"], "arm": info["arm"], "point": info["point"], "replicate": info["replicate"],
                 "block": int(b),
                 "x": result.blocks[b]["x"], "y": result.blocks[b]["y"], "homicides": int(counts[b])}
                for b in np.flatnonzero(counts)
            ]
        return {"row": row, "series": series, "blocks": blocks}
    except Exception as exc:  # a failed run is recorded and the sweep goes on
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return {"row": dict(info, status="failed", error=detail), "series": [], "blocks": []}


class Results:
    """The three row files of an experiment folder."""

    def __init__(self, out: Path, parameters: list[str]):
        self.runs = RowLog(out / "runs.csv", run_columns(parameters))
        self.series = RowLog(out / "timeseries.csv", ["run_id", "arm", "point", "replicate", "step", *SERIES])
        self.blocks = RowLog(out / "blocks.csv", ["run_id", "arm", "point", "replicate", "block", "x", "y",
                                                  "homicides"])

    def open(self, resume: bool) -> set[str]:
        """Prepare the files; resuming, return the ids of runs already done."""
        done = {r["run_id"] for r in self.runs.open(resume)}
        self.series.open(resume)
        self.blocks.open(resume)
        if resume:
            # Rows of runs that were cut off before their runs.csv row are redone.
            self.series.keep_only(lambda r: r["run_id"] in done)
            self.blocks.keep_only(lambda r: r["run_id"] in done)
        return done

    def add(self, result: dict) -> None:
        self.series.append(result["series"])
        self.blocks.append(result["blocks"])
        self.runs.append([result["row"]])  # last: the run counts as done once this is written

    def finalize(self) -> None:
        self.runs.finalize(lambda r: r["run_id"])
        self.series.finalize(lambda r: (r["run_id"], int(r["step"])))
        self.blocks.finalize(lambda r: (r["run_id"], int(r["block"])))


def jobs_for(exp: Experiment, replications: int | None) -> list[dict]:
    windows = exp.windows()
    start = exp.policy_start()
    arms = {a.name: a for a in exp.spec.arms}
    scenarios = {}
    jobs = []
    for run in exp.runs(replications):
        key = (run["arm"], run["point"])
        if key not in scenarios:
            scenarios[key] = exp.scenario(*key)
        jobs.append(dict(run, scenario=scenarios[key], windows=windows, policy_start=start, keep=exp.spec.keep,
                         policies=exp.policies[run["arm"]], overrides={**exp.spec.set, **arms[run["arm"]].set}))
    return jobs


def worker_context():
    """Start worker processes from a clean server process, not by forking this one
    (which may hold threads, e.g. after a Dask client ran here)."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def local_results(pending: list[dict], workers: int):
    """Results of ``pending`` jobs as they finish, on ``workers`` local processes."""
    if workers == 1:
        for job in pending:
            yield run_job(job)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=worker_context()) as pool:
        running = {pool.submit(run_job, j) for j in pending}
        try:
            while running:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        finally:
            for future in running:
                future.cancel()


def dask_results(pending: list[dict], workers: int, scheduler: str | None):
    """Results as they finish on Dask: an existing cluster at ``scheduler``, or a local
    cluster of ``workers`` single-threaded processes. A run lost with its worker is
    retried (twice) by Dask."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise RuntimeError("Dask is not installed: pip install 'citizen-security-abm[dask]' "
                           "(from a checkout, pip install '.[dask]')") from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [client.submit(run_job, j, key=f"run-{j['run_id']}", pure=False, retries=2) for j in pending]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_experiment(
    exp: Experiment,
    out: Path,
    replications: int | None = None,
    workers: int | None = None,
    resume: bool = False,
    progress: bool = True,
    dask: bool = False,
    scheduler: str | None = None,
) -> dict:
    """Run every run not yet done, writing rows as runs finish. Returns counts and times.

    Runs go to local processes (``workers``, default the number of cores), or to Dask
    (``dask=True`` for a local Dask cluster of ``workers`` processes, ``scheduler`` for
    an existing cluster). Rows are the same whatever the executor, worker count or
    completion order. Interrupting (Ctrl-C, or a kill) loses no finished run; run it
    again with ``resume=True`` to finish it.
    """
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    results = Results(out, exp.parameters)
    done = results.open(resume)
    all_jobs = jobs_for(exp, replications)
    pending = [j for j in all_jobs if j["run_id"] not in done]
    workers = max(1, workers or os.cpu_count() or 1)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if resume and (out / "manifest.json").exists():  # a resumed sweep started when it first started
        started = json.loads((out / "manifest.json").read_text()).get("started", started)
    failed = 0
    t0 = time.perf_counter()
    bar = tqdm(total=len(all_jobs), initial=len(all_jobs) - len(pending), unit="run", desc=exp.name,
               disable=not progress, dynamic_ncols=True)
    source = dask_results(pending, workers, scheduler) if (dask or scheduler) else local_results(pending, workers)
    try:
        for result in source:
            results.add(result)
            failed += result["row"]["status"] != "ok"
            bar.update(1)
            bar.set_postfix(failed=failed)
    finally:
        source.close()
        bar.close()
    results.finalize()
    rows = results.runs.read()
    summary = {
        "runs": len(all_jobs),
        "done": len(rows),
        "failed": sum(1 for r in rows if r["status"] != "ok"),
        "ran_now": len(pending),
        "seconds": time.perf_counter() - t0,
        "workers": workers,
        "executor": "dask" if (dask or scheduler) else "local",
        "scheduler": scheduler,
    }
    write_manifest(exp, out, replications or exp.spec.replications, started, summary)
    return summary


def write_manifest(exp: Experiment, out: Path, replications: int, started: str, summary: dict) -> None:
    manifest = {
        **provenance(),
        "experiment": exp.name,
        "experiment_file": str(exp.path),
        "experiment_hash": exp.file_hash,
        "root_seed": exp.spec.root_seed,
        "replications": replications,
        "design": exp.spec.design.model_dump(mode="json") if exp.spec.design else None,
        "design_points": len(exp.points),
        "outputs": exp.spec.outputs,
        "arms": {arm: {"policies": exp.policies[arm], "scenario_hash": exp.scenarios[arm].digest()}
                 for arm in exp.arms},
        "baseline": exp.spec.baseline,
        "policy_start_step": exp.policy_start(),
        "grid": [exp.scenarios[exp.spec.baseline].city.width, exp.scenarios[exp.spec.baseline].city.height],
        "windows": {k: list(v) for k, v in exp.windows().items()},
        "started": started,
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "runs": summary["runs"],
        "failed": summary["failed"],
        "executor": {"kind": summary["executor"], "workers": summary["workers"], "scheduler": summary["scheduler"]},
    }
    write_json(out / "manifest.json", manifest)
