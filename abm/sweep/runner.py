"""Running an experiment's runs on local processes, writing results as they finish.

``run_batch`` is the one function a worker runs: ``simulate(scenario, seed)`` and the
measures of each window, for one run or for the runs of a design point and seed that
differ only in their policies (the arms), which share the weeks before the first
policy acts: those are run once and each arm goes on from a copy (:mod:`abm.warmup`),
with the rows it would have had on its own. Rows of a run are written only after the run has finished;
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
import hashlib
import json
import os
import shutil
import socket
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np

from abm import footprint, policies
from abm.folders import COMPLETE, RUNNING, ResultsFolder, is_empty, kind_of, read_manifest
from abm.io import provenance, write_json
from abm.metrics import window_columns
from abm.model import without_policies
from abm.simulate import simulate
from abm.sweep.experiment import Experiment
from abm.sweep.store import PartLog, RowLog, arrow_schema, require_pyarrow
from abm.violence import HomicideKind
from abm.warmup import WarmUp, shared_weeks

ID_COLUMNS = ["run_id", "arm", "point", "replicate", "seed", "policies", "overrides", "scenario_hash", "status",
              "error"]
RUN_INFO = ["people", "youths", "segregation_index"]
SERIES = [
    "homicide_rate_per_100k", "recruitment_per_1000_youth", "gang_members", "incarceration_per_100k",
    "arrests_non_member_share", "trust_mean", "reporting_rate", "collective_efficacy_mean", "policy_cost",
]
WINDOWS = ("all", "short", "long")
KEYS = {"run_id": "string", "arm": "string", "point": "int64", "replicate": "int64"}
SERIES_TYPES = {**KEYS, "step": "int64", **{name: "float64" for name in SERIES}}
BLOCK_TYPES = {**KEYS, "block": "int64", "x": "int64", "y": "int64", "homicides": "int64"}
FORMATS = ("csv", "parquet")
# What a resumed folder keeps; everything else (tables, figures, reports) is made again.
ROW_FILES = ("runs.csv", "timeseries.csv", "blocks.csv", "timeseries", "blocks", "manifest.json")


def units(columns) -> dict[str, str]:
    """The unit of each column that is a measure (window columns share their measure's)."""
    from abm import measures

    found = {}
    for column in columns:
        name = column.split("__")[0]
        for step in (True, False):
            try:
                found[column] = measures.get(name, step=step).unit
                break
            except KeyError:
                continue
    return found


def used_policies(exp: Experiment, jobs: list[dict] | None = None) -> list[str]:
    """The policies some run of the experiment switches on (its arms' scenarios, or the
    scenarios of ``jobs``, which include the design points' changes)."""
    scenarios = [job["scenario"] for job in jobs] if jobs is not None else list(exp.scenarios.values())
    return [name for name in policies.names()
            if any(getattr(s.policies, name, None) is not None for s in scenarios)]


def run_columns(parameters: list[str], switched_on: list[str] | None = None) -> list[str]:
    """Columns of ``runs.csv``: ids, parameters, run information, then the window
    measures (the model's own and those of the policies ``switched_on``, or all) for
    each window."""
    measures = list(window_columns(switched_on))
    cols = ID_COLUMNS + list(parameters) + RUN_INFO + measures
    for w in ("short", "long"):
        cols += [f"{m}__{w}" for m in measures]
    return cols


def run_job(job: dict, warm: WarmUp | None = None) -> dict:
    """Run one simulation (from ``warm``, when given) and return its rows. Never
    raises: failures are rows too."""
    info = job_info(job)
    try:
        result = simulate(job["scenario"], job["seed"], windows=job["windows"], warm=warm)
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
        return failed(info, exc)


def job_info(job: dict) -> dict:
    """The id and parameter columns of a job's row."""
    info = {k: job[k] for k in ("run_id", "arm", "point", "replicate", "seed")}
    info.update(job["params"])
    info["policies"] = "+".join(job["policies"])
    info["overrides"] = json.dumps(job["overrides"], sort_keys=True)
    info["scenario_hash"] = job["scenario"].digest()
    return info


def failed(info: dict, exc: Exception) -> dict:
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return {"row": dict(info, status="failed", error=detail), "series": [], "blocks": []}


def run_batch(jobs: list[dict]) -> list[dict]:
    """The results of ``jobs``: one run, or runs on one seed whose scenarios differ only
    in their policies (:func:`batches`). Those share the weeks before the first of their
    policies acts, run once (:class:`abm.warmup.WarmUp`); each result is the one
    :func:`run_job` gives the job on its own. Never raises: failures are rows too."""
    if len(jobs) == 1:
        return [run_job(jobs[0])]
    scenarios = [job["scenario"] for job in jobs]
    try:
        footprint.check(footprint.estimate(scenarios[0]), scenarios[0].name)  # before anything is built
        warm = WarmUp(scenarios[0], jobs[0]["seed"], shared_weeks(scenarios))
    except Exception as exc:  # as each run would have failed on its own
        return [failed(job_info(job), exc) for job in jobs]
    return [run_job(job, warm) for job in jobs]


def batches(pending: list[dict], workers: int) -> list[list[dict]]:
    """The pending jobs as tasks for :func:`run_batch`: the runs of one seed whose
    scenarios differ only in their policies together, so that they share their weeks
    before any policy acts. When there are fewer such groups than workers, each run is
    a task of its own instead, so that no worker waits (the rows are the same)."""
    groups: dict[tuple[str, int], list[dict]] = {}
    plain: dict[int, str] = {}
    for job in pending:
        scenario = job["scenario"]
        if id(scenario) not in plain:
            plain[id(scenario)] = without_policies(scenario).digest()
        groups.setdefault((plain[id(scenario)], job["seed"]), []).append(job)
    if len(groups) < workers:
        return [[job] for job in pending]
    return list(groups.values())


def run_key(row: dict) -> tuple[str, int, int, int]:
    """What identifies a run's rows: arm, design point, replicate and seed (its content,
    not its position in the experiment)."""
    return (str(row["arm"]), int(row["point"]), int(row["replicate"]), int(row["seed"]))


class Results:
    """The three row files of an experiment folder: ``runs.csv`` always, and the time
    series and block counts as CSV files or (``fmt="parquet"``) Parquet datasets."""

    def __init__(self, out: Path, parameters: list[str], fmt: str = "csv", switched_on: list[str] | None = None):
        self.runs = RowLog(out / "runs.csv", run_columns(parameters, switched_on))
        if fmt == "parquet":
            self.series = PartLog(out / "timeseries", arrow_schema(SERIES_TYPES, units(SERIES_TYPES)))
            self.blocks = PartLog(out / "blocks", arrow_schema(BLOCK_TYPES, units(BLOCK_TYPES)))
        else:
            self.series = RowLog(out / "timeseries.csv", list(SERIES_TYPES))
            self.blocks = RowLog(out / "blocks.csv", list(BLOCK_TYPES))
        self.done: set[tuple] = set()

    def open(self, resume: bool, retry_failed: bool = False) -> set[tuple]:
        """Prepare the files; resuming, return the keys (:func:`run_key`) of runs done.

        With ``retry_failed`` the rows of failed runs are dropped, so they run again."""
        rows = self.runs.open(resume)
        if retry_failed and any(r["status"] != "ok" for r in rows):
            self.runs.keep_only(lambda r: r["status"] == "ok")
            rows = [r for r in rows if r["status"] == "ok"]
        keys = [run_key(r) for r in rows]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.runs.path}: holds the same run twice; start again with --force")
        self.done = set(keys)
        ids = {r["run_id"] for r in rows}
        self.series.open(resume)
        self.blocks.open(resume)
        if resume:
            # Rows of runs that were cut off before their runs.csv row are redone.
            self.series.keep_only(lambda r: r["run_id"] in ids)
            self.blocks.keep_only(lambda r: r["run_id"] in ids)
        return set(self.done)

    def add(self, result: dict) -> bool:
        """Append a finished run's rows, unless that run is already there. True if added."""
        key = run_key(result["row"])
        if key in self.done:
            return False
        self.series.append(result["series"])
        self.blocks.append(result["blocks"])
        self.runs.append([result["row"]])  # last: the run counts as done once this is written
        self.done.add(key)
        return True

    def count(self) -> int:
        return len(self.done)

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
                         policies=exp.policies[run["arm"]],
                         overrides={**exp.spec.set, **arms[run["arm"]].set, **exp.overrides}))
    return jobs


def worker_context():
    """Start worker processes from a clean server process, not by forking this one
    (which may hold threads, e.g. after a Dask client ran here)."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def local_results(tasks: list[list[dict]], workers: int):
    """Results of the jobs of ``tasks`` (:func:`batches`) as they finish, on ``workers``
    local processes.

    When the consumer stops early (an interrupt, a termination, an error), the
    workers are stopped at once, not left to finish their runs: nothing outlives the
    sweep, and finished runs are already written."""
    if workers == 1:
        for task in tasks:
            yield from run_batch(task)
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=worker_context())
    running = {pool.submit(run_batch, task) for task in tasks}
    completed = False
    try:
        while running:
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                yield from future.result()
        completed = True
    finally:
        if completed:
            pool.shutdown(wait=True)
        else:
            stop_pool(pool)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now."""
    processes = list((pool._processes or {}).values())  # the executor offers no public way to end them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()


def dask_results(tasks: list[list[dict]], workers: int, scheduler: str | None):
    """Results of the jobs of ``tasks`` as they finish on Dask: an existing cluster at
    ``scheduler``, or a local cluster of ``workers`` single-threaded processes. A task
    lost with its worker is retried (twice) by Dask."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="10s")
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    futures = []
    try:
        futures = [client.submit(run_batch, task, key=f"runs-{task[0]['run_id']}-{len(task)}", pure=False, retries=2)
                   for task in tasks]
        for future in as_completed(futures):
            yield from future.result()
    finally:
        if scheduler:
            client.cancel([f for f in futures if not f.done()])
        client.close()
        if cluster is not None:
            cluster.close()


def identity(exp: Experiment, columns: list[str], fmt: str = "csv") -> dict:
    """Everything that defines an experiment's rows, but how many replicates it has
    and, for a design whose sample grows by adding points, its size: rows with equal
    identities belong to one experiment, and more replicates or a larger sample
    extend it. A resumed folder must hold the same identity."""
    from abm.io import source_hash

    design = exp.spec.design
    grows = design is not None and design.grows
    # A growing design is known by its first points: every larger sample starts with them.
    points = json.dumps(design.resized(1).points(exp.spec.root_seed) if grows else exp.points, sort_keys=True)
    return {
        "experiment": exp.name,
        "root_seed": exp.spec.root_seed,
        "seeds": exp.spec.seeds,
        "baseline": exp.spec.baseline,
        "arms": [{"name": arm, "policies": exp.policies[arm], "scenario_hash": exp.scenarios[arm].digest()}
                 for arm in exp.arms],
        # How the runs are analysed (the emulator) makes no rows.
        "design": design.model_dump(mode="json", exclude={"samples", "emulator"} if grows else {"emulator"})
        if design else None,
        "design_points": hashlib.sha256(points.encode()).hexdigest()[:16],
        "windows": {k: list(v) for k, v in exp.windows().items()},
        "keep": exp.spec.keep.model_dump(mode="json"),
        "format": fmt,
        "columns": hashlib.sha256("\n".join(columns).encode()).hexdigest()[:16],
        "code": source_hash(),  # the version is a label; the source is what makes the rows
    }


def fingerprint(ident: dict) -> str:
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


IDENTITY_WORDS = {
    "experiment": "the experiment's name",
    "root_seed": "root_seed",
    "seeds": "seeds (common or independent)",
    "baseline": "the baseline arm",
    "arms": "the arms (names, order, policies, or their scenarios' parameters)",
    "design": "the design",
    "design_points": "the design's points",
    "windows": "the windows",
    "keep": "what is kept (keep.timeseries, keep.blocks)",
    "format": "the file format",
    "columns": "the result columns",
    "code": "the model's code",
}


def identity_changes(old: dict, new: dict) -> list[str]:
    """What differs between two identities, in words."""
    changes = []
    for key, words in IDENTITY_WORDS.items():
        if old.get(key) == new.get(key):
            continue
        if key == "arms" and isinstance(old.get(key), list):
            before = {a.get("name"): a for a in old[key] if isinstance(a, dict)}
            after = {a["name"]: a for a in new[key]}
            if list(before) == list(after):
                changed = [n for n in after if before[n] != after[n]]
                changes.append(f"the parameters or policies of arm {', '.join(changed)}")
                continue
        if key in ("root_seed", "seeds", "baseline", "experiment", "format"):
            changes.append(f"{words} ({old.get(key)} -> {new.get(key)})")
        else:
            changes.append(words)
    return changes


def preflight(exp: Experiment, jobs: list[dict], out: Path, dask: bool, scheduler: str | None,
              fmt: str = "csv") -> None:
    """What can be checked before any folder is made: every run's scenario (built by
    :func:`jobs_for`), the file format, the executor, and room on the disk."""
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt}: unknown; choose {' or '.join(FORMATS)}")
    if fmt == "parquet":
        require_pyarrow()
    if dask or scheduler:
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise RuntimeError("Dask is not installed: pip install 'citizen-security-abm[dask]' "
                               "(from a checkout, pip install '.[dask]')") from None
    if scheduler:
        reach_scheduler(scheduler)
    need = estimated_bytes(exp, len(jobs))
    parent = out.parent if out.parent.exists() else Path(".")
    free = shutil.disk_usage(parent.resolve()).free
    if need > free:
        raise RuntimeError(f"--out {out}: the results need about {need / 2**20:,.0f} MiB and the disk has "
                           f"{free / 2**20:,.0f} MiB free")


def reach_scheduler(address: str, timeout: float = 5.0) -> None:
    """Raise unless something listens at a Dask scheduler's address."""
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise RuntimeError(f"--scheduler {address}: not an address like tcp://host:8786")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise RuntimeError(f"--scheduler {address}: cannot reach it ({exc.strerror or exc})") from None


def estimated_bytes(exp: Experiment, runs: int) -> int:
    """A generous estimate of the bytes an experiment's result files take."""
    base = exp.scenarios[exp.spec.baseline]
    per_run = 16 * len(run_columns(exp.parameters, used_policies(exp)))
    if exp.spec.keep.timeseries:
        per_run += base.run.steps * 16 * (5 + len(SERIES))
    if exp.spec.keep.blocks:
        per_run += base.city.width * base.city.height * 60
    return 2 * per_run * runs  # twice: the files are rewritten sorted when the sweep ends


def plan(exp: Experiment, replications: int | None = None, workers: int | None = None,
         timing: bool = True) -> str:
    """What an experiment would run, as text: arms x design points (an ensemble's
    parameter sets) x replicates, the number of runs, steps and windows, the columns of
    ``runs.csv``, and (with ``timing``) a time estimate from a short timed run of the
    baseline."""
    reps = replications or exp.spec.replications
    jobs = jobs_for(exp, reps)  # builds every run's scenario: a bad design point fails here
    base = exp.scenarios[exp.spec.baseline]
    workers = max(1, workers or os.cpu_count() or 1)
    lines = [
        f"{exp.name}: {len(exp.arms)} arms x {len(exp.points)} "
        f"{'parameter sets' if exp.spec.ensemble else 'design points'} x {reps} replicates = "
        f"{len(jobs)} runs of {base.run.steps} weeks ({base.run.burn_in} of burn-in) on a "
        f"{base.city.width}x{base.city.height} city",
        "arms: " + ", ".join(f"{arm} ({'+'.join(exp.policies[arm]) or 'no policy'})" for arm in exp.arms),
    ]
    if exp.spec.design:
        design = exp.spec.design
        if design.groups:
            lines.append(f"design: {design.method} over {len(design.groups)} groups of {len(design.names)} parameters: "
                         + ", ".join(f"{g} ({sum(p.group == g for p in design.parameters.values())})"
                                     for g in design.groups))
        else:
            lines.append(f"design: {design.method} over " + ", ".join(exp.parameters))
    if exp.spec.ensemble is not None:
        lines.append(f"ensemble: {len(exp.points)} parameter sets of {exp.spec.ensemble}"
                     + (" (evenly spaced through the file)" if exp.spec.ensemble_sets else "") + " over "
                     + ", ".join(exp.parameters) + "; arms compared over the sets")
        distinct = len({tuple(sorted(point.items())) for point in exp.points})
        if distinct < len(exp.points):
            lines.append(f"note: only {distinct} of the {len(exp.points)} sets are distinct; a repeated set adds "
                         "chance, not parameter uncertainty")
    if exp.overrides:
        lines.append("overrides (--set): " + ", ".join(f"{k}={v}" for k, v in exp.overrides.items()))
    lines.append("windows: " + ", ".join(f"{name} steps {a}-{b}" for name, (a, b) in exp.windows().items())
                 + f"; policies start after step {exp.policy_start()}")
    measures = list(window_columns(used_policies(exp, jobs)))
    lines.append(f"runs.csv columns: {len(run_columns(exp.parameters, used_policies(exp, jobs)))} (ids, parameters, and {len(measures)} "
                 "measures for each window: " + ", ".join(measures[:6]) + ", ...)")
    if timing:
        # Two timed runs of the baseline separate building the city from running a week.
        short, long = min(8, base.run.steps), min(40, base.run.steps)
        seconds = []
        for weeks in (short, long):
            t0 = time.perf_counter()
            simulate(base, exp.seed(0), steps=weeks, burn_in=0)
            seconds.append(time.perf_counter() - t0)
        per_week = max(0.0, seconds[1] - seconds[0]) / max(1, long - short)
        setup = max(0.0, seconds[0] - short * per_week)
        per_run = setup + per_week * base.run.steps
        # Runs that share their weeks before the policies (batches) run those weeks once.
        tasks = batches(jobs, workers)
        weeks = sum(shared_weeks(s := [j["scenario"] for j in task]) * (1 - len(task))
                    + sum(sc.run.steps for sc in s) for task in tasks)
        total = (setup * len(tasks) + per_week * weeks) / min(workers, len(tasks))
        shared = f", {len(jobs) - len(tasks)} burn-ins shared" if len(tasks) < len(jobs) else ""
        lines.append(f"estimated time: about {duration(total)} on {workers} workers ({per_run:.1f} s a run{shared}, "
                     f"from timed runs of {short} and {long} weeks of the baseline)")
    return "\n".join(lines)


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def run_experiment(
    exp: Experiment,
    out: Path,
    replications: int | None = None,
    workers: int | None = None,
    resume: bool = False,
    progress: bool = True,
    dask: bool = False,
    scheduler: str | None = None,
    force: bool = False,
    retry_failed: bool = False,
    analyse: Callable[[Path], None] | None = None,
    fmt: str | None = None,
) -> dict:
    """Run every run not yet done, writing rows as runs finish. Returns counts and times.

    Runs go to local processes (``workers``, default the number of cores), or to Dask
    (``dask=True`` for a local Dask cluster of ``workers`` processes, ``scheduler`` for
    an existing cluster). Rows are the same whatever the executor, worker count or
    completion order.

    The folder ``out`` (:class:`abm.folders.ResultsFolder`) only ever holds one
    experiment, complete: rows are written into ``out.partial`` beside it, which
    replaces ``out`` when every run is done and ``analyse(folder)`` (tables and
    figures) has run. An interrupted sweep (Ctrl-C, a termination, a kill) keeps its
    finished runs there; ``resume=True`` finishes it, and also adds replicates to a
    complete folder. Resuming refuses, naming the difference, rows of another
    experiment: another root seed, arms, design, windows or model code. A folder
    holding results is replaced only with ``force=True``. ``retry_failed`` runs failed
    runs again.

    ``fmt`` is ``csv`` (the default) or ``parquet``: then the time series and block
    counts are Parquet datasets (folders ``timeseries/`` and ``blocks/``) and the runs
    table is also written as ``runs.parquet``, with units and the manifest in its
    metadata. A resumed folder keeps its format.
    """
    out = Path(out)
    if fmt is None:  # a resumed folder keeps its format
        held = resume and not force and (read_manifest(out.with_name(out.name + ".partial")) or read_manifest(out))
        fmt = ((held or {}).get("identity") or {}).get("format", "csv")
    all_jobs = jobs_for(exp, replications)  # builds every run's scenario: bad design points fail here
    preflight(exp, all_jobs, out, dask, scheduler, fmt)
    used = used_policies(exp, all_jobs)
    columns = run_columns(exp.parameters, used)
    ident = identity(exp, columns, fmt)
    with ResultsFolder(out, "experiment") as folder:
        stage, fresh, manifest = prepare(folder, ident, resume, force)
        reps = replications or (manifest or {}).get("replications") or exp.spec.replications
        if reps != (replications or exp.spec.replications):
            all_jobs = jobs_for(exp, reps)
        results = Results(stage, exp.parameters, fmt, used)
        try:
            done = results.open(not fresh, retry_failed)
            beyond = sorted({k[2] for k in done} - set(range(reps)))
            if beyond:
                raise ValueError(f"--out {out}: holds replicates up to {max(beyond) + 1}; --reps {reps} "
                                 "would leave them out: give --reps of at least that, or --force to start again")
            if any(k[1] >= len(exp.points) for k in done):
                held = ((manifest or {}).get("design") or {}).get("samples")
                raise ValueError(f"--out {out}: holds a larger sample ({held} samples) than "
                                 f"{exp.spec.design.samples}: give --samples {held} or more to keep its runs, "
                                 "or --force to start again")
            pending = [j for j in all_jobs if run_key(j) not in done]
            workers = max(1, workers or os.cpu_count() or 1)
            started = (manifest or {}).get("started") or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            executor = {"kind": "dask" if (dask or scheduler) else "local", "workers": workers,
                        "scheduler": scheduler}
            # What each command did to this folder: the manifest describes the whole folder.
            session = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "finished": None,
                       "replications": reps, "runs_before": len(done), "runs_to_do": len(pending),
                       "retry_failed": retry_failed, "experiment_hash": exp.file_hash, "overrides": exp.overrides,
                       "executor": executor}
            history = [*(manifest or {}).get("history", []), session]
            write_manifest(exp, stage, ident, reps, started, RUNNING, executor, history=history)
            summary = execute(exp, results, all_jobs, pending, workers, progress, dask, scheduler)
            results.finalize()
        except BaseException:
            if fresh and results.count() == 0:
                folder.discard()  # nothing was done: leave nothing behind
            raise
        rows = results.runs.read()
        summary.update(runs=len(all_jobs), done=len(rows), failed=sum(1 for r in rows if r["status"] != "ok"),
                       workers=workers, executor=executor["kind"], scheduler=scheduler)
        session["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        manifest = write_manifest(exp, stage, ident, reps, started, COMPLETE, executor, summary, history)
        if fmt == "parquet":
            write_runs_parquet(stage, manifest)
        if analyse is not None:
            analyse(stage)
        folder.commit()
    return summary


def held_samples(out: Path) -> int | None:
    """The design's sample size in a results folder, or in its unfinished sweep (None
    when there is neither, or no design)."""
    out = Path(out)
    for folder in (out.with_name(out.name + ".partial"), out):
        manifest = read_manifest(folder)
        if manifest:
            samples = (manifest.get("design") or {}).get("samples")
            return int(samples) if isinstance(samples, int) else None
    return None


def prepare(folder: ResultsFolder, ident: dict, resume: bool, force: bool) -> tuple[Path, bool, dict | None]:
    """The staging folder to write into, whether it starts empty, and the manifest of
    the rows it already holds (None when fresh)."""
    out = folder.target
    hint = "or --resume to add to them"
    if folder.staging.exists() and not force:
        if not resume:
            raise ValueError(f"--out {out}: an interrupted sweep left its finished runs in {folder.staging}; "
                             "add --resume to finish it, or --force to start again")
        manifest = read_manifest(folder.staging)
        check_identity(f"--out {out} (its unfinished sweep in {folder.staging})", manifest, ident)
        for path in folder.staging.iterdir():  # tables and figures of a cut-off analysis are made again
            if path.name not in ROW_FILES:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        return folder.staging, False, manifest
    if resume and not is_empty(out) and not force:
        manifest = read_manifest(out)
        if kind_of(out) != "experiment":
            folder.check_replaceable(False)  # not results at all, or a run's: refused with the reason
        check_identity(f"--out {out}", manifest, ident)
        stage = folder.start()
        stage.rmdir()
        shutil.copytree(out, stage, ignore=lambda folder, names: [n for n in names if n not in ROW_FILES]
                        if Path(folder) == out else [])
        return stage, False, manifest
    folder.check_replaceable(force, hint)
    return folder.start(), True, None


def check_identity(where: str, manifest: dict | None, ident: dict) -> None:
    """Refuse to add rows to a folder that holds another experiment's."""
    old = (manifest or {}).get("identity")
    if not isinstance(old, dict):
        raise ValueError(f"{where}: its manifest does not say which experiment its rows belong to; "
                         "use --force to start again, or another --out")
    if fingerprint(old) != fingerprint(ident):
        changes = identity_changes(old, ident) or ["its identity"]
        raise ValueError(f"{where}: holds rows of another experiment (changed: {'; '.join(changes)}); "
                         "use --force to start again, or another --out")


def execute(exp, results: Results, all_jobs, pending, workers, progress, dask, scheduler) -> dict:
    """Run the pending jobs, appending each finished run's rows."""
    from tqdm import tqdm

    failed = 0
    t0 = time.perf_counter()
    bar = tqdm(total=len(all_jobs), initial=len(all_jobs) - len(pending), unit="run", desc=exp.name,
               disable=not progress, dynamic_ncols=True)
    tasks = batches(pending, workers)
    source = dask_results(tasks, workers, scheduler) if (dask or scheduler) else local_results(tasks, workers)
    try:
        for result in source:
            results.add(result)
            failed += result["row"]["status"] != "ok"
            bar.update(1)
            bar.set_postfix(failed=failed)
    finally:
        source.close()
        bar.close()
    return {"ran_now": len(pending), "seconds": time.perf_counter() - t0}


def write_manifest(exp: Experiment, out: Path, ident: dict, replications: int, started: str, status: str,
                   executor: dict, summary: dict | None = None, history: list | None = None) -> dict:
    """The folder's manifest: what it holds (identity, replications, windows, ...) and,
    in ``history``, what each command that wrote to it did (replications asked for,
    runs before and to do, when)."""
    summary = summary or {}
    manifest = {
        "kind": "experiment",
        "status": status,
        "fingerprint": fingerprint(ident),
        **provenance(),
        "experiment": exp.name,
        "experiment_file": str(exp.path),
        "experiment_hash": exp.file_hash,
        "overrides": exp.overrides,
        "root_seed": exp.spec.root_seed,
        "replications": replications,
        "design": exp.spec.design.model_dump(mode="json") if exp.spec.design else None,
        "design_points": len(exp.points),
        "ensemble": exp.spec.ensemble,
        "outputs": exp.spec.outputs,
        "arms": {arm: {"policies": exp.policies[arm], "scenario_hash": exp.scenarios[arm].digest()}
                 for arm in exp.arms},
        "baseline": exp.spec.baseline,
        "policy_start_step": exp.policy_start(),
        "grid": [exp.scenarios[exp.spec.baseline].city.width, exp.scenarios[exp.spec.baseline].city.height],
        "windows": {k: list(v) for k, v in exp.windows().items()},
        "started": started,
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds") if status == COMPLETE else None,
        "runs": summary.get("runs", len(exp.arms) * len(exp.points) * replications),
        "failed": summary.get("failed"),
        "executor": executor,
        "history": history or [],
        "calibration": baseline_calibration(exp, out) if status == COMPLETE else None,
        "identity": ident,
    }
    write_json(out / "manifest.json", manifest)
    return manifest


def baseline_calibration(exp: Experiment, out: Path) -> dict:
    """The baseline arm's means over its runs (whole measured period) at each design
    point, each against its calibration target, and the overrides of the city (not of
    policies or the run) and design parameters that may have moved them (``moved_by``)."""
    import csv

    from abm.metrics import calibration, drifting

    with (out / "runs.csv").open(newline="") as handle:
        base = [r for r in csv.DictReader(handle) if r["arm"] == exp.spec.baseline and r["status"] == "ok"]
    points = []
    for k, values in enumerate(exp.points):
        here = [r for r in base if int(r["point"]) == k]
        means = {}
        for target in calibration({}):
            found = [float(r[target["metric"]]) for r in here if r.get(target["metric"]) not in ("", None)]
            means[target["metric"]] = float(np.mean(found)) if found else float("nan")
        rows = [{key: (None if isinstance(v, float) and not np.isfinite(v) else v) for key, v in r.items()}
                for r in calibration(means)]
        points.append({"point": k, "parameters": values, "baseline_means": rows})
    baseline_arm = next(a for a in exp.spec.arms if a.name == exp.spec.baseline)
    moved = drifting({**exp.spec.set, **baseline_arm.set, **exp.overrides, **{p: None for p in exp.parameters}})
    return {"moved_by": moved, "points": points}


def write_runs_parquet(out: Path, manifest: dict) -> None:
    """``runs.csv`` as ``runs.parquet``: typed columns, units and the manifest in its metadata."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = ["run_id", "arm", "policies", "overrides", "scenario_hash", "status", "error"]
    frame = pd.read_csv(out / "runs.csv", dtype={c: str for c in text}, keep_default_na=False,
                        na_values={c: [""] for c in set(pd.read_csv(out / "runs.csv", nrows=0).columns) - set(text)})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    found = units(frame.columns)
    fields = [f.with_metadata({"unit": found[f.name]}) if f.name in found else f for f in table.schema]
    schema = pa.schema(fields, metadata={"abm.units": json.dumps(found), "abm.manifest": json.dumps(manifest)})
    tmp = out / "runs.parquet.tmp"
    pq.write_table(table.cast(schema), tmp)
    os.replace(tmp, out / "runs.parquet")
