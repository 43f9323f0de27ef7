"""The posterior of the uncertain parameters: calibration to all targets at once by
approximate Bayesian computation (ABC-SMC, with pyabc).

    abm calibrate configs/district.toml --abc --population 100 --generations 6 --out configs/posterior/district

fits the parameters of ``configs/priors.toml`` (:mod:`abm.priors`) to the targets of
``configs/targets.toml`` (:mod:`abm.targets`). Each particle is one run of the scenario
with the particle's values, ``simulate(scenario, seed)``; its distance from the targets
is the root mean square over the targets of each target's distance divided by its
tolerance (0 inside the target's range, 1 at the edge of its tolerance; a measure with
no value, such as a retaliation delay in a run without retaliations, counts as
:data:`MISSING` tolerances). Each generation accepts the particles within the weighted
median distance of the generation before (the first: of a sample from the prior), and
proposes new ones around the accepted (a multivariate normal kernel).

Every random number derives from the root seed (``--seed``): particle slot ``i`` of
generation ``t`` seeds numpy's global generator (which pyabc draws from) from
``SeedSequence(seed, spawn_key=(t + 2, i))``, and keeps proposing until it has one
accepted particle; the seed of each run is drawn from that generator. So the posterior
does not depend on the number of workers, nor on where the slots run (local processes
or Dask). Each generation is started afresh from the history, so a calibration resumed
after an interruption is the one that would have run without it.

The folder (``--out``) holds, once complete (:mod:`abm.folders`: written beside it in
``NAME.partial`` and moved into place whole):

- ``posterior.csv``: the last generation's particles drawn in proportion to their weights
  (systematic resampling; a particle may appear more than once), one parameter set a row
  with dotted names as header: an experiment's ``ensemble`` file;
- ``particles.csv``: each particle of the last generation once, with its weight, distance,
  run seed, each target's measure and scaled distance;
- ``manifest.json``: targets, priors, method, seeds, each generation's epsilon,
  acceptance rate and simulations, how the posterior meets each target and which targets
  pull against each other, total time and simulations per hour, software versions;
- ``history.db``: pyabc's history (SQLite), from which a calibration resumes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import random
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cloudpickle
import numpy as np
import pyabc
from pyabc.sampler import Sampler
from pydantic import ValidationError

from abm.calibration import _measures
from abm.config import Scenario
from abm.folders import MANIFEST, ResultsFolder, check_replaceable, is_empty, read_manifest
from abm.io import provenance, source_hash, write_csv, write_json
from abm.priors import Prior
from abm.schema import ConfigError
from abm.targets import Target

# Scaled distance of a target whose measure has no value in a run.
MISSING = 10.0
# Two targets pull against each other when, over the posterior's particles, the
# (weighted) correlation of their scaled distances is at most this, and at most
# -2 / sqrt(effective sample size): more negative than chance alone would make it.
PULL = -0.3
SHOWN_PULLS = 10
# The posterior's weights are degenerate (one or a few particles carry them) when their
# effective sample size is below this share of the population (and below 10).
MIN_ESS_SHARE = 0.25
# A target is reproduced when at least this share of the posterior (by weight) meets it.
REPRODUCED = 0.5
HISTORY, POSTERIOR, PARTICLES = "history.db", "posterior.csv", "particles.csv"
SEED_KEY = "_seed"  # the run seed among a particle's measures (not a target name: those start with a letter)
METHOD = {
    "algorithm": "ABC-SMC (pyabc)",
    "distance": f"root mean square over targets of distance / tolerance; a missing measure counts as {MISSING:g}",
    "epsilon": "weighted median of the previous generation's distances (the first: of a prior sample)",
    "transition": "multivariate normal kernel, covariance twice the weighted covariance of the previous generation",
    "seeds": "slot i of generation t: SeedSequence(seed, spawn_key=(t + 2, i)); one accepted particle per slot",
    "posterior": "the last generation, resampled by weight (systematic)",
}


# -- the distance --------------------------------------------------------------------


def scaled_distances(targets: tuple[Target, ...], measured: dict) -> dict[str, float]:
    """Each target's distance in tolerances: 0 inside its range, 1 at the edge of its
    tolerance, :data:`MISSING` when its measure has no value."""
    out = {}
    for t in targets:
        value = measured.get(t.name)
        d = t.distance(None if value is None else float(value)) / t.tolerance
        out[t.name] = d if math.isfinite(d) else MISSING
    return out


class TargetDistance:
    """pyabc's distance: root mean square of the scaled distances of all targets."""

    def __init__(self, targets: tuple[Target, ...]):
        self.targets = targets

    def __call__(self, x: dict, x_0: dict | None = None) -> float:
        d = scaled_distances(self.targets, x)
        return math.sqrt(sum(v * v for v in d.values()) / len(d))


class TargetModel:
    """pyabc's model: one run of the scenario at a particle's values, its seed drawn from
    numpy's global generator (seeded per slot); its output, each target's measure."""

    def __init__(self, scenario: Scenario, targets: tuple[Target, ...]):
        self.scenario, self.targets = scenario, targets

    def __call__(self, values) -> dict:
        seed = int(np.random.randint(1, 2**53))
        try:
            scenario = self.scenario.replaced(**{k: float(v) for k, v in dict(values).items()})
        except ValidationError:
            # Values the scenario refuses together (a lowest above a highest, each within
            # its own prior): no run, every target missed.
            return {**{t.name: math.nan for t in self.targets}, SEED_KEY: seed}
        measured = _measures((scenario, seed))
        out = {t.name: float(measured.get(t.measure, math.nan)) for t in self.targets}
        out[SEED_KEY] = seed
        return out


# -- sampling: one accepted particle per slot, each slot seeded from the root --------


def twice_the_covariance(effective_size: float, dimension: int) -> float:
    """pyabc's bandwidth selector for a kernel whose covariance is twice the weighted
    covariance of the previous generation (Beaumont et al. 2009), whatever the size of the
    population. Silverman's rule shrinks the kernel as the dimension and the population
    grow; a kernel narrower than the population it moves makes the importance weights
    uneven (particles proposed where few came from carry most of the weight)."""
    return math.sqrt(2.0)


def slot_seed(root: int, t: int, slot: int) -> int:
    """The seed of numpy's global generator for slot ``slot`` of generation ``t``
    (``t = -1``: the sample from the prior that sets the first epsilon; ``t = -2``: the
    main process, which pyabc may draw from between generations)."""
    return int(np.random.SeedSequence(root, spawn_key=(t + 2, slot)).generate_state(1)[0])


def run_slot(job: tuple[bytes, int]):
    """Propose particles until one is accepted: (pyabc sample, simulations)."""
    payload, seed = job
    simulate_one, factory = cloudpickle.loads(payload)
    np.random.seed(seed)
    random.seed(seed)
    sample = factory()
    count = 0
    while True:
        particle = simulate_one()
        count += 1
        sample.append(particle)
        if particle.accepted:
            return sample, count


class SeededSampler(Sampler):
    """pyabc's sampler: ``n`` slots, mapped over workers by ``map_`` (which keeps their
    order), slot ``i`` seeded by :func:`slot_seed`."""

    def __init__(self, map_: Callable, root: int):
        super().__init__()
        self.map_, self.root = map_, root

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):
        payload = cloudpickle.dumps((simulate_one, self.sample_factory))
        sample = self._create_empty_sample()
        self.nr_evaluations_ = 0
        for part, count in self.map_(run_slot, [(payload, slot_seed(self.root, t, i)) for i in range(n)]):
            sample += part
            self.nr_evaluations_ += count
        return sample


def in_process_map(fn, jobs):
    """Map in this process, leaving numpy's and Python's global generators as they were."""
    state, py_state = np.random.get_state(), random.getstate()
    try:
        return [fn(j) for j in jobs]
    finally:
        np.random.set_state(state)
        random.setstate(py_state)


@contextlib.contextmanager
def executor(workers: int, dask: bool = False, scheduler: str | None = None) -> Iterator[tuple[Callable, str]]:
    """A map over ``workers`` (in order): this process, local processes, a local Dask
    cluster, or the Dask cluster at ``scheduler``; and its name."""
    if scheduler or dask:
        from dask.distributed import Client, LocalCluster

        cluster = None
        if scheduler:
            from abm.sweep.runner import reach_scheduler

            try:
                reach_scheduler(scheduler)
            except RuntimeError as exc:
                raise ConfigError(str(exc)) from None
            client = Client(scheduler, timeout="10s")
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        try:
            yield (lambda fn, jobs: client.gather(client.map(fn, jobs, pure=False, retries=2))), "dask"
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return
    if workers == 1:
        yield in_process_map, "local"
        return
    from abm.sweep.runner import stop_pool, worker_context

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=worker_context())
    completed = False
    try:
        yield (lambda fn, jobs: list(pool.map(fn, jobs))), "local"
        completed = True
    finally:
        if completed:
            pool.shutdown(wait=True)
        else:
            stop_pool(pool)


# -- the calibration ------------------------------------------------------------------


def identity(scenario: Scenario, priors: tuple[Prior, ...], targets: tuple[Target, ...], population: int,
             seed: int) -> dict:
    """Everything that decides a calibration's generations but how many there are, the
    model's code among them: a folder is resumed only by a calibration of the same
    identity, so a posterior never mixes generations of two versions of the model."""
    return {
        "code": source_hash(),
        "scenario": {"name": scenario.name, "digest": scenario.digest()},
        "priors": [{"parameter": p.name, "low": p.low, "high": p.high} for p in priors],
        "targets": [{"name": t.name, "measure": t.measure, "low": t.span[0], "high": t.span[1],
                     "tolerance": t.tolerance} for t in targets],
        "population": population,
        "seed": seed,
        "method": METHOD,
    }


def differences(old: dict, new: dict) -> list[str]:
    """What differs between two identities, in words."""
    out = []
    for key in new:
        if old.get(key) != new[key]:
            if key in ("population", "seed"):
                out.append(f"{key} {old.get(key)} -> {new[key]}")
            elif key == "scenario":
                out.append("the scenario")
            elif key == "code":
                out.append("the model's code")
            else:
                out.append(f"the {key}")
    return out


def generations_done(db: Path) -> int:
    """Generations in the history at ``db`` (0 when there is none)."""
    if not db.is_file():
        return 0
    history = pyabc.History(f"sqlite:///{db.resolve()}", _id=1)
    return int(history.max_t) + 1 if history.n_populations else 0


def calibrate(
    scenario: Scenario,
    priors: tuple[Prior, ...],
    targets: tuple[Target, ...],
    out: Path,
    *,
    population: int,
    generations: int,
    seed: int,
    workers: int = 1,
    dask: bool = False,
    scheduler: str | None = None,
    force: bool = False,
    source: str = "",
    say: Callable[[str], None] = print,
) -> dict:
    """Fit ``priors`` to ``targets`` and write the posterior folder ``out``; its manifest.

    The calibration runs in the staging folder ``NAME.partial``, moved into place when
    complete. A folder holding the same calibration with fewer generations is continued
    (from its staging folder after an interruption); one holding another calibration,
    or other results, is refused unless ``force``. ``source`` is the scenario as the
    user named it (a bundled name or a file), recorded in the manifest.
    """
    ident = identity(scenario, priors, targets, population, seed)
    out = Path(out)
    with ResultsFolder(out, "calibration") as folder:
        work = _working_folder(folder, ident, generations, force)
        if work is None:
            say(f"{out}: already holds this calibration with {generations_done(out / HISTORY)} generations; "
                "nothing to run (ask for more with --generations, or start over with --force)")
            return read_manifest(out)
        started = time.perf_counter()
        previous = read_manifest(work) or {}
        sessions = previous.get("sessions", [])
        session = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "seconds": 0.0,
                   "workers": workers, "executor": None, "generations": 0}
        sessions.append(session)
        db = work / HISTORY
        url = f"sqlite:///{db.resolve()}"
        # Recorded before the first run, so that a stop before the first generation ends
        # leaves a staging folder that says which calibration it holds.
        write_json(work / MANIFEST, _manifest(work, ident, scenario, priors, targets, sessions, generations, "running",
                                              source))
        generators = _global_generators(slot_seed(seed, -2, 0))
        with _quiet(), generators, executor(workers, dask, scheduler) as (map_, kind):
            session["executor"] = kind
            sampler = SeededSampler(map_, seed)
            done = generations_done(db)
            while done < generations:
                abc = pyabc.ABCSMC(
                    TargetModel(scenario, targets),
                    pyabc.Distribution(**{p.name: pyabc.RV("uniform", p.low, p.high - p.low) for p in priors}),
                    TargetDistance(targets),
                    population_size=population,
                    transitions=pyabc.MultivariateNormalTransition(bandwidth_selector=twice_the_covariance),
                    eps=pyabc.QuantileEpsilon(alpha=0.5),
                    sampler=sampler,
                )
                if done == 0 and not db.is_file():
                    abc.new(url, _observed(targets), meta_info={"identity": json.dumps(ident, sort_keys=True)})
                else:
                    abc.load(url, 1)
                abc.run(max_nr_populations=1)
                done = generations_done(db)
                session["generations"] += 1
                session["seconds"] = round(time.perf_counter() - started, 3)
                manifest = _manifest(work, ident, scenario, priors, targets, sessions, generations, "running", source)
                write_json(work / MANIFEST, manifest)
                g = manifest["generations"][-1]
                say(f"generation {g['t'] + 1} of {generations}: epsilon {g['epsilon']:.3g}, {g['accepted']} accepted "
                    f"of {g['simulations']} simulations ({g['acceptance_rate']:.0%}), weights worth "
                    f"{g['effective_size']:.3g} particles, {g['seconds']:.0f} s")
        session["seconds"] = round(time.perf_counter() - started, 3)
        manifest = _finish(work, ident, scenario, priors, targets, sessions, generations, seed, source)
        folder.commit()
        return manifest


def _working_folder(folder: ResultsFolder, ident: dict, generations: int, force: bool) -> Path | None:
    """Where the calibration runs: the staging folder, fresh or resumed (an existing
    complete folder copied into it when more generations are asked for); None when the
    folder already holds all the generations asked for."""
    out, stage = folder.target, folder.staging
    if force:
        folder.check_replaceable(True)
        return folder.start()
    staged = read_manifest(stage) if stage.is_dir() else None
    if staged is not None and staged.get("kind") == "calibration":
        _same(stage, staged, ident)
        return stage
    if staged is not None:
        raise ConfigError(f"--out {out}: {stage} holds an unfinished {staged.get('kind') or 'results folder'}; "
                          "finish it, or start over with --force, or choose another --out")
    if not is_empty(out):
        held = read_manifest(out)
        if held is None or held.get("kind") != "calibration":
            check_replaceable(out, False, "calibration")  # raises: other results, or not abm's
        _same(out, held, ident)
        if generations_done(out / HISTORY) >= generations:
            return None
        work = folder.start()
        shutil.rmtree(work)
        shutil.copytree(out, work)
        return work
    return folder.start()


def _same(where: Path, manifest: dict, ident: dict) -> None:
    old = manifest.get("identity") or {}
    if old != json.loads(json.dumps(ident)):
        changed = ", ".join(differences(old, ident)) or "its identity"
        raise ConfigError(f"--out {where}: holds a calibration that differs in {changed}; start over with --force, "
                          "or choose another --out")


def _observed(targets: tuple[Target, ...]) -> dict:
    """The targets as pyabc's observed data (a record only: the distance reads the targets)."""
    return {t.name: float(sum(t.span) / 2) for t in targets}


@contextlib.contextmanager
def _global_generators(seed: int):
    """numpy's and Python's global generators seeded from the root seed (anything pyabc
    draws in this process, it draws from the root seed), and put back as they were."""
    state, py_state = np.random.get_state(), random.getstate()
    np.random.seed(seed)
    random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
        random.setstate(py_state)


@contextlib.contextmanager
def _quiet():
    """pyabc's log messages to warnings only (the command prints one line a generation)."""
    import logging

    loggers = [logging.getLogger(n) for n in ("ABC", "ABC.Sampler", "ABC.History", "ABC.Distance",
                                                "ABC.Epsilon", "ABC.Acceptor", "ABC.Adaptation",
                                                "ABC.Population", "ABC.Transition")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


# -- what a calibration found ---------------------------------------------------------


def last_particles(db: Path, priors: tuple[Prior, ...], targets: tuple[Target, ...]) -> list[dict]:
    """The last generation's particles, in the order they were drawn: values, weight,
    distance, run seed, each target's measure and scaled distance."""
    history = pyabc.History(f"sqlite:///{db.resolve()}", _id=1)
    rows = []
    for i, p in enumerate(history.get_population().particles):
        measured = dict(p.sum_stat)
        scaled = scaled_distances(targets, measured)
        row = {"particle": i, "weight": float(p.weight), "distance": float(p.distance),
               "seed": int(measured.get(SEED_KEY, 0))}
        row.update({q.name: float(p.parameter[q.name]) for q in priors})
        for t in targets:
            row[t.name] = float(measured.get(t.name, math.nan))
            row[f"{t.name}_distance"] = scaled[t.name]
        rows.append(row)
    return rows


def resample(rows: list[dict], seed: int) -> list[dict]:
    """``len(rows)`` rows drawn in proportion to their weights (systematic resampling,
    its one uniform number from the root seed)."""
    w = np.array([r["weight"] for r in rows], dtype=float)
    w = w / w.sum()
    u = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**32 - 1,))).random()
    positions = (u + np.arange(len(rows))) / len(rows)
    cumulative = np.cumsum(w)
    cumulative[-1] = 1.0
    return [rows[i] for i in np.searchsorted(cumulative, positions)]


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights: the number of equally weighted
    particles they are worth (the population when all are equal, 1 when one has all)."""
    w = weights / weights.sum()
    return 1.0 / float(np.sum(w * w))


def degenerate(ess: float, population: int) -> bool:
    """Whether the weights are too uneven for the posterior to serve as an ensemble:
    worth fewer than :data:`MIN_ESS_SHARE` of the particles (and fewer than 10)."""
    return ess < min(10.0, MIN_ESS_SHARE * population)


def pull_threshold(weights: np.ndarray) -> float:
    """The correlation at or below which two targets pull against each other: :data:`PULL`,
    or -2 / sqrt(n) when that is lower (n: the effective sample size of the weights)."""
    return min(PULL, -2.0 / math.sqrt(effective_size(weights)))


def weighted_correlation(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    vx, vy = np.average((x - mx) ** 2, weights=w), np.average((y - my) ** 2, weights=w)
    if vx <= 1e-12 or vy <= 1e-12:
        return math.nan
    return float(np.average((x - mx) * (y - my), weights=w) / math.sqrt(vx * vy))


def assess(rows: list[dict], targets: tuple[Target, ...]) -> tuple[list[dict], list[dict]]:
    """How the posterior meets each target (share of it, by weight, within the target's
    tolerance; weighted means of measure and scaled distance), and the pairs of targets
    that pull against each other (correlation of scaled distances at most
    :func:`pull_threshold`), strongest first."""
    w = np.array([r["weight"] for r in rows], dtype=float)
    w = w / w.sum()
    threshold = pull_threshold(w)
    found = []
    for t in targets:
        d = np.array([r[f"{t.name}_distance"] for r in rows])
        values = np.array([r[t.name] for r in rows])
        ok = np.isfinite(values)
        share = float(np.sum(w[d <= 1.0]))
        found.append({
            "target": t.name, "measure": t.measure, "range": t.label, "tolerance": t.tolerance,
            "mean": float(np.average(values[ok], weights=w[ok])) if ok.any() else math.nan,
            "mean_distance": float(np.average(d, weights=w)), "share_met": share,
            "reproduced": share >= REPRODUCED,
        })
    pulls = []
    for i, a in enumerate(targets):
        for b in targets[i + 1:]:
            r = weighted_correlation(np.array([x[f"{a.name}_distance"] for x in rows]),
                                     np.array([x[f"{b.name}_distance"] for x in rows]), w)
            if math.isfinite(r) and r <= threshold:
                pulls.append({"targets": [a.name, b.name], "correlation": round(r, 4)})
    pulls.sort(key=lambda p: p["correlation"])
    return found, pulls


def _generations(db: Path) -> tuple[list[dict], int]:
    """Each generation (epsilon, accepted, simulations, acceptance rate, effective sample
    size of its weights, seconds) and the simulations of the prior sample that set the
    first epsilon (none before the history is created)."""
    if not db.is_file():
        return [], 0
    history = pyabc.History(f"sqlite:///{db.resolve()}", _id=1)
    table = history.get_all_populations()
    out, prior_sample = [], 0
    for row in table.sort_values("t").itertuples():
        if row.t < 0:
            prior_sample += int(row.samples)
            continue
        accepted = int(row.particles)
        _, weights = history.get_distribution(m=0, t=int(row.t))
        out.append({"t": int(row.t), "epsilon": float(row.epsilon), "accepted": accepted,
                    "simulations": int(row.samples), "acceptance_rate": accepted / int(row.samples),
                    "effective_size": round(effective_size(np.asarray(weights, dtype=float)), 2),
                    "seconds": round(float(row.wall_time or 0.0), 3)})
    return out, prior_sample


def _manifest(work: Path, ident: dict, scenario: Scenario, priors, targets, sessions: list[dict], generations: int,
              status: str, source: str) -> dict:
    gens, prior_sample = _generations(work / HISTORY)
    simulations = prior_sample + sum(g["simulations"] for g in gens)
    seconds = sum(s["seconds"] for s in sessions)
    info = provenance()
    info["libraries"]["pyabc"] = pyabc.__version__
    return {
        "kind": "calibration",
        "status": status,
        **info,
        "scenario": {"name": scenario.name, "file": source, "digest": scenario.digest(),
                     "people": scenario.population.people, "steps": scenario.run.steps,
                     "burn_in": scenario.run.burn_in},
        "identity": ident,
        "seed": ident["seed"],
        "population": ident["population"],
        "generations_asked": generations,
        "method": METHOD,
        "priors": [p.record() for p in priors],
        "targets": [{"name": t.name, "measure": t.measure, "range": t.label, "tolerance": t.tolerance,
                     "solidity": t.solidity, "source": t.source.citation()} for t in targets],
        "prior_sample_simulations": prior_sample,
        "generations": gens,
        "simulations": simulations,
        "seconds": round(seconds, 3),
        "simulations_per_hour": round(simulations / seconds * 3600, 1) if seconds > 0 else None,
        "sessions": sessions,
        "files": {"posterior": POSTERIOR, "particles": PARTICLES, "history": HISTORY},
    }


def _finish(work: Path, ident: dict, scenario: Scenario, priors, targets, sessions, generations: int, seed: int,
            source: str) -> dict:
    rows = last_particles(work / HISTORY, priors, targets)
    names = [p.name for p in priors]
    ensemble = resample(rows, seed)
    write_csv(work / POSTERIOR, names, ensemble)
    columns = ["particle", "weight", "distance", "seed", *names]
    for t in targets:
        columns += [t.name, f"{t.name}_distance"]
    write_csv(work / PARTICLES, columns, rows)
    manifest = _manifest(work, ident, scenario, priors, targets, sessions, generations, "complete", source)
    found, pulls = assess(rows, targets)
    weights = np.array([r["weight"] for r in rows], dtype=float)
    ess = effective_size(weights)
    manifest["fit"] = {"reproduced": REPRODUCED, "pull": round(pull_threshold(weights), 4), "targets": found,
                       "pulls": pulls, "effective_size": round(ess, 2),
                       "distinct_sets": len({tuple(r[n] for n in names) for r in ensemble}),
                       "degenerate": degenerate(ess, len(rows))}
    write_json(work / MANIFEST, _finite(manifest))
    return manifest


def _finite(data):
    """NaN and infinity as null (JSON has neither)."""
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_finite(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


# -- the report -----------------------------------------------------------------------


def format_report(manifest: dict, out: Path) -> str:
    """What the command prints: the run, each target (reproduced or not), the pulls."""
    fit = manifest.get("fit") or {}
    gens = manifest["generations"]
    lines = [
        f"{manifest['scenario']['name']}: {len(manifest['priors'])} parameters fitted to "
        f"{len(manifest['targets'])} targets; {len(gens)} generations of {manifest['population']} particles, "
        f"seed {manifest['seed']}",
        f"{manifest['simulations']:,} simulations in {manifest['seconds']:.0f} s "
        f"({manifest['simulations_per_hour'] or 0:,.0f} an hour)"
        + (f"; final epsilon {gens[-1]['epsilon']:.3g}" if gens else ""),
        "",
        f"  {'target':<26}{'range':>10}{'posterior mean':>16}{'distance':>10}{'met by':>8}  reproduced",
    ]
    targets = fit.get("targets", [])
    for r in targets:
        mean = r["mean"]
        shown = "n/a" if mean is None or not math.isfinite(mean) else f"{mean:.3g}"
        lines.append(f"  {r['target']:<26}{r['range']:>10}{shown:>16}{r['mean_distance']:>10.3g}"
                     f"{r['share_met']:>8.0%}  {'yes' if r['reproduced'] else 'NO'}")
    met = sum(1 for r in targets if r["reproduced"])
    lines += ["", f"reproduced: {met} of {len(targets)} targets (met by at least {REPRODUCED:.0%} of the posterior; "
                  "distance in tolerances)"]
    pulls = fit.get("pulls", [])
    threshold = fit.get("pull", PULL)
    if threshold <= -1:
        lines.append("too few particles to tell which targets pull against each other")
    elif pulls:
        lines.append(f"pulling against each other (correlation of their distances over the posterior "
                     f"<= {threshold:.2g}):")
        lines += [f"  {p['targets'][0]} / {p['targets'][1]}: {p['correlation']:.2f}" for p in pulls[:SHOWN_PULLS]]
        if len(pulls) > SHOWN_PULLS:
            lines.append(f"  ... and {len(pulls) - SHOWN_PULLS} more pairs ({MANIFEST})")
    else:
        lines.append(f"no two targets pull against each other (no correlation of their distances <= "
                     f"{threshold:.2g})")
    if "effective_size" in fit:
        lines.append(f"weights: worth {fit['effective_size']:.3g} of {manifest['population']} particles "
                     f"(effective sample size); {fit['distinct_sets']} distinct parameter sets in {POSTERIOR}")
        if fit["degenerate"]:
            lines.append("warning: a few particles carry the weights, so the ensemble carries little parameter "
                         "uncertainty; run more particles (--population) or more generations before using it")
    lines += ["", f"files: {out}/{POSTERIOR} (an experiment's ensemble), {PARTICLES}, {MANIFEST}, {HISTORY}"]
    return "\n".join(lines)
