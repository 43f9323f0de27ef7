"""Calibration by ABC-SMC (abm.posterior, ``abm calibrate --abc``): the posterior is an
ensemble file within the priors, with its manifest; it depends on the root seed only
(not on the workers, local or Dask); an interrupted calibration resumes where it
stopped and ends as if it had not been interrupted; a folder of another calibration is
refused. Tiny budgets: a 10x10 city of 800 people for 40 weeks, 6 particles."""

import json
import math

import numpy as np
import pytest

pytest.importorskip("pyabc")

from abm import cli, priors, targets  # noqa: E402
from abm.config import load_scenario  # noqa: E402
from abm.folders import MANIFEST  # noqa: E402
from abm.posterior import (  # noqa: E402
    HISTORY, MISSING, PARTICLES, POSTERIOR, TargetDistance, TargetModel, assess, calibrate, generations_done,
    degenerate, effective_size, format_report, last_particles, pull_threshold, scaled_distances,
    twice_the_covariance,
)
from abm.schema import ConfigError  # noqa: E402
from abm.sweep.ensemble import read_ensemble  # noqa: E402

TINY = {"run.steps": 40, "run.burn_in": 8, "population.people": 800, "city.width": 10, "city.height": 10}
TINY_ARGS = [f"--set={k}={v}" for k, v in TINY.items()]
POPULATION, GENERATIONS, SEED = 6, 2, 7


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("classroom", TINY)


def fit(scenario, out, generations=GENERATIONS, **kwargs):
    options = {"population": POPULATION, "generations": generations, "seed": SEED, "workers": 1, "say": lambda _: None}
    return calibrate(scenario, priors.bundled(), targets.bundled(), out, **{**options, **kwargs})


def fit_interrupted(monkeypatch, stop_at: int, scenario, out, **kwargs):
    """Fit, stopped as by Ctrl-C when the run after the first ``stop_at`` starts."""
    run = TargetModel.__call__
    calls = []

    def stopping(self, values):
        calls.append(1)
        if len(calls) > stop_at:
            raise KeyboardInterrupt
        return run(self, values)

    monkeypatch.setattr(TargetModel, "__call__", stopping)
    with pytest.raises(KeyboardInterrupt):
        fit(scenario, out, **kwargs)
    monkeypatch.setattr(TargetModel, "__call__", run)


@pytest.fixture(scope="module")
def reference(scenario, tmp_path_factory):
    """Two generations on one worker, in this process."""
    out = tmp_path_factory.mktemp("reference") / "posterior"
    return out, fit(scenario, out)


# -- the distance and the report --------------------------------------------------------


def test_the_distance_is_the_root_mean_square_of_distances_in_tolerances():
    chosen = targets.bundled()[:2]  # homicide_level 40-140 (tolerance 10); conviction_rate 0.20-0.24 (0.04)
    measured = {chosen[0].name: 160.0, chosen[1].name: 0.22}
    assert scaled_distances(chosen, measured) == {chosen[0].name: 2.0, chosen[1].name: 0.0}
    assert TargetDistance(chosen)(measured, {}) == pytest.approx(math.sqrt((4 + 0) / 2))
    missing = {chosen[0].name: math.nan, chosen[1].name: 0.22}
    assert scaled_distances(chosen, missing)[chosen[0].name] == MISSING


def test_values_the_scenario_refuses_together_miss_every_target_without_a_run(scenario):
    model = TargetModel(scenario, targets.bundled())
    out = model({"city.poor_ses_min": 0.3, "city.poor_ses_max": 0.2})
    assert all(math.isnan(out[t.name]) for t in targets.bundled())
    assert TargetDistance(targets.bundled())(out, {}) == pytest.approx(MISSING)


def test_targets_pull_against_each_other_when_their_distances_are_negatively_correlated():
    chosen = targets.bundled()[:3]
    a, b, c = (t.name for t in chosen)
    rng = np.random.default_rng(1)
    rows = []
    for x in rng.random(50):
        rows.append({"weight": 1.0, a: 0.0, f"{a}_distance": 2 * x, b: 0.0, f"{b}_distance": 2 * (1 - x),
                     c: 0.0, f"{c}_distance": 0.0})
    found, pulls = assess(rows, chosen)
    assert [p["targets"] for p in pulls] == [[a, b]] and pulls[0]["correlation"] == pytest.approx(-1)
    assert found[2]["share_met"] == 1 and found[2]["reproduced"]
    assert 0.3 < found[0]["share_met"] < 0.7
    # With few particles chance alone makes strong correlations: the threshold is stricter.
    assert pull_threshold(np.ones(50)) == pytest.approx(-0.3)
    assert pull_threshold(np.ones(8)) == pytest.approx(-2 / math.sqrt(8))


def test_weights_that_one_particle_carries_are_reported_as_a_degenerate_posterior(reference):
    assert effective_size(np.ones(48)) == pytest.approx(48)
    assert effective_size(np.array([1.0] + [1e-6] * 47)) == pytest.approx(1, abs=1e-3)
    assert degenerate(1.04, 48) and degenerate(9.9, 48) and not degenerate(10.0, 48)
    assert degenerate(4.9, 20) and not degenerate(5.0, 20)
    assert not degenerate(2.0, 3)  # a tiny population: a quarter of it is less than 1
    out, _ = reference
    manifest = json.loads((out / MANIFEST).read_text())
    fit = manifest["fit"]
    assert 1 <= fit["effective_size"] <= POPULATION and 1 <= fit["distinct_sets"] <= POPULATION
    shown = format_report({**manifest, "fit": {**fit, "effective_size": 1.04, "distinct_sets": 1,
                                               "degenerate": True}}, out)
    assert "worth 1.04 of 6 particles" in shown and "warning: a few particles carry the weights" in shown
    assert "warning" not in format_report({**manifest, "fit": {**fit, "degenerate": False}}, out)


def test_the_proposal_kernel_has_twice_the_weighted_covariance_of_the_generation_before():
    import pandas as pd
    import pyabc

    rng = np.random.default_rng(3)
    # Two correlated parameters in ten particles of uneven weights: a population whose
    # kernel Silverman's rule would shrink.
    x = rng.normal(size=10)
    population = pd.DataFrame({"a": x, "b": 0.5 * x + rng.normal(scale=0.2, size=10)})
    weights = rng.uniform(0.2, 1.0, size=10)
    weights /= weights.sum()
    kernel = pyabc.MultivariateNormalTransition(bandwidth_selector=twice_the_covariance)
    kernel.fit(population, weights)
    values = population.to_numpy()
    mean = weights @ values
    weighted_cov = (weights[:, None] * (values - mean)).T @ (values - mean) / (1 - np.sum(weights**2))
    assert kernel.cov == pytest.approx(2 * weighted_cov, rel=1e-9)


def test_each_generation_records_the_effective_size_of_its_weights(reference):
    out, _ = reference
    generations = json.loads((out / MANIFEST).read_text())["generations"]
    assert all(1 <= g["effective_size"] <= POPULATION for g in generations)
    assert generations[0]["effective_size"] == pytest.approx(POPULATION)  # the first: equal weights


# -- the posterior ----------------------------------------------------------------------


def test_the_posterior_is_an_ensemble_file_within_the_priors(reference):
    out, _ = reference
    names, sets = read_ensemble(out / POSTERIOR)
    assert names == [p.name for p in priors.bundled()]
    assert len(sets) == POPULATION
    for point in sets:
        assert priors.inside(priors.bundled(), point)
    particles = (out / PARTICLES).read_text().splitlines()
    assert len(particles) == POPULATION + 1 and particles[0].startswith("particle,weight,distance,seed,")


def test_an_experiment_takes_the_posterior_as_its_ensemble(reference, tmp_path):
    from abm.sweep.experiment import load_experiment

    from .conftest import CONFIGS

    out, _ = reference
    path = tmp_path / "fitted.toml"
    path.write_text(f'name = "fitted"\nscenario = "{(CONFIGS / "classroom.toml").as_posix()}"\nreplications = 1\n'
                    f'ensemble = "{(out / POSTERIOR).as_posix()}"\n[[arms]]\nname = "baseline"\n')
    exp = load_experiment(path)
    assert exp.ensemble_names == [p.name for p in priors.bundled()] and len(exp.points) == POPULATION


def test_the_manifest_records_targets_priors_generations_seeds_speed_and_versions(reference):
    out, returned = reference
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["kind"] == "calibration" and manifest["status"] == "complete"
    assert manifest["seed"] == SEED and manifest["population"] == POPULATION
    assert [t["name"] for t in manifest["targets"]] == [t.name for t in targets.bundled()]
    assert [(p["parameter"], p["low"], p["high"]) for p in manifest["priors"]] == \
        [(p.name, p.low, p.high) for p in priors.bundled()]
    gens = manifest["generations"]
    assert [g["t"] for g in gens] == [0, 1]
    assert all(g["accepted"] == POPULATION and g["simulations"] >= POPULATION for g in gens)
    assert all(0 < g["acceptance_rate"] <= 1 and math.isfinite(g["epsilon"]) for g in gens)
    assert gens[1]["epsilon"] <= gens[0]["epsilon"]
    assert manifest["simulations"] == manifest["prior_sample_simulations"] + sum(g["simulations"] for g in gens)
    assert manifest["prior_sample_simulations"] == POPULATION
    assert manifest["seconds"] > 0 and manifest["simulations_per_hour"] > 0
    assert manifest["libraries"]["pyabc"] and manifest["libraries"]["numpy"]
    assert {r["target"] for r in manifest["fit"]["targets"]} == {t.name for t in targets.bundled()}
    assert all(0 <= r["share_met"] <= 1 for r in manifest["fit"]["targets"])
    assert "distance" in manifest["method"] and manifest["identity"]["seed"] == SEED
    assert returned["generations"] == gens


def test_two_workers_give_the_same_posterior_as_one(scenario, reference, tmp_path):
    out, _ = reference
    fit(scenario, tmp_path / "two", workers=2)
    for name in (POSTERIOR, PARTICLES):
        assert (tmp_path / "two" / name).read_bytes() == (out / name).read_bytes()


def test_an_interrupted_calibration_resumes_and_ends_as_if_it_had_not_stopped(scenario, reference, tmp_path,
                                                                               monkeypatch):
    out, manifest = reference
    where = tmp_path / "posterior"
    # Stopped in the middle of the second generation: the first sample, the first
    # generation and two runs of the second are done.
    stop_at = manifest["prior_sample_simulations"] + manifest["generations"][0]["simulations"] + 2
    fit_interrupted(monkeypatch, stop_at, scenario, where)
    stage = where.with_name("posterior.partial")
    assert not where.exists() and generations_done(stage / HISTORY) == 1
    first = last_particles(stage / HISTORY, priors.bundled(), targets.bundled())
    lines = []
    fit(scenario, where, workers=2, say=lines.append)
    assert lines == [lines[0]] and lines[0].startswith("generation 2 of 2")  # the first is not run again
    assert not stage.exists() and generations_done(where / HISTORY) == 2
    import pyabc

    history = pyabc.History(f"sqlite:///{where / HISTORY}", _id=1)
    again = [float(p.distance) for p in history.get_population(t=0).particles]
    assert again == [r["distance"] for r in first]
    for name in (POSTERIOR, PARTICLES):
        assert (where / name).read_bytes() == (out / name).read_bytes()
    # More generations go on from the complete folder; as many as it has run nothing.
    lines.clear()
    fit(scenario, where, say=lines.append)
    assert len(lines) == 1 and "nothing to run" in lines[0]


def test_a_folder_of_another_calibration_is_refused_unless_forced(scenario, reference, tmp_path, monkeypatch):
    out, _ = reference
    copy = tmp_path / "posterior"
    import shutil

    shutil.copytree(out, copy)
    with pytest.raises(ConfigError, match=r"differs in seed 7 -> 8; start over with --force"):
        fit(scenario, copy, seed=8, generations=1)
    with pytest.raises(ConfigError, match="differs in population 6 -> 5"):
        fit(scenario, copy, population=5, generations=1)
    # Nor does a calibration go on over a changed model: its generations would mix two.
    from abm import posterior

    with monkeypatch.context() as m:
        m.setattr(posterior, "source_hash", lambda: "0" * 16)
        with pytest.raises(ConfigError, match="differs in the model's code"):
            fit(scenario, copy, generations=2)
    assert (copy / POSTERIOR).read_bytes() == (out / POSTERIOR).read_bytes()
    manifest = fit(scenario, copy, population=4, generations=1, force=True)
    assert manifest["population"] == 4 and len(manifest["generations"]) == 1
    assert len(read_ensemble(copy / POSTERIOR)[1]) == 4


@pytest.mark.parametrize("stage_of_stop", ["prior sample", "first generation"])
def test_a_forced_calibration_stopped_before_its_first_generation_ends_resumes_without_force(
        scenario, reference, tmp_path, monkeypatch, stage_of_stop):
    out, _ = reference
    import shutil

    fresh = fit(scenario, tmp_path / "fresh", population=4, generations=1)
    where = tmp_path / "posterior"
    shutil.copytree(out, where)  # another calibration (population 6) is in the folder
    stop_at = 1 if stage_of_stop == "prior sample" else fresh["prior_sample_simulations"] + 1
    fit_interrupted(monkeypatch, stop_at, scenario, where, population=4, generations=1, force=True)
    stage = where.with_name("posterior.partial")
    assert generations_done(stage / HISTORY) == 0
    manifest = fit(scenario, where, population=4, generations=1)
    assert manifest["population"] == 4 and not stage.exists()
    for name in (POSTERIOR, PARTICLES):
        assert (where / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes()


def test_a_folder_of_other_results_is_refused(scenario, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="holds files that are not abm results"):
        fit(scenario, tmp_path / "mine", force=True)


def test_the_dask_path_gives_the_same_posterior(scenario, reference, tmp_path):
    pytest.importorskip("dask.distributed", reason="dask.distributed is not installed (the calibration extra)")
    out, _ = reference
    fit(scenario, tmp_path / "dask", workers=2, dask=True)
    assert (tmp_path / "dask" / POSTERIOR).read_bytes() == (out / POSTERIOR).read_bytes()


def test_abm_calibrate_abc_prints_what_the_posterior_reproduces(tmp_path, capsys):
    out = tmp_path / "posterior"
    argv = ["calibrate", "classroom", "--abc", *TINY_ARGS, "--population", "3", "--generations", "1",
            "--workers", "1", "--out", str(out)]
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert "fitting 10 parameters to 16 targets" in text and "generation 1 of 1" in text
    assert "reproduced:" in text and f"{out}/{POSTERIOR}" in text
    for t in targets.bundled():
        assert t.name in text
    assert len(read_ensemble(out / POSTERIOR)[1]) == 3
    # The scenario as it was named, not where this machine keeps the bundled file.
    assert json.loads((out / MANIFEST).read_text())["scenario"]["file"] == "classroom"
    # Again, with another seed: refused in one line, the folder untouched.
    assert cli.main([*argv, "--seed", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "differs in seed 1 -> 2" in err


def test_an_unfinished_experiment_beside_the_folder_is_not_discarded(scenario, tmp_path):
    stage = tmp_path / "posterior.partial"
    stage.mkdir()
    (stage / MANIFEST).write_text(json.dumps({"kind": "experiment", "status": "running"}))
    with pytest.raises(ConfigError, match="holds an unfinished experiment"):
        fit(scenario, tmp_path / "posterior")
    assert (stage / MANIFEST).exists()


def test_an_unreachable_scheduler_is_one_line_before_anything_is_written(tmp_path, capsys):
    pytest.importorskip("dask.distributed", reason="dask.distributed is not installed (the calibration extra)")
    out = tmp_path / "posterior"
    status = cli.main(["calibrate", "classroom", "--abc", "--scheduler", "tcp://127.0.0.1:1", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1 and "--scheduler tcp://127.0.0.1:1" in err, err
    assert not out.exists() and not out.with_name("posterior.partial").exists()
