"""Sobol indices from a Gaussian-process emulator: on functions whose indices are known,
with chance added as one replicate per point adds it, the emulator finds the indices,
ranks the factors that differ and says how much of the output is chance."""

import os
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from abm.analysis import emulator  # noqa: E402
from abm.sweep.design import Design  # noqa: E402


def design(samples=32):
    """Three groups of two parameters, the second parameter of ``c`` a whole number."""
    return Design(method="sobol", samples=samples, emulator=True, parameters={
        "a1": {"low": 0, "high": 1, "group": "a"}, "a2": {"low": 0, "high": 2, "group": "a"},
        "b1": {"low": -1, "high": 1, "group": "b"}, "b2": {"low": 0, "high": 1, "group": "b"},
        "c1": {"low": 0, "high": 1, "group": "c"}, "c2": {"low": 1, "high": 3, "integer": True, "group": "c"}})


def mean_output(x):
    """On [0, 1] per parameter: ``a`` strong, ``b`` weaker and interacting with ``a``,
    ``c`` without effect."""
    return 3 * x[:, 0] + 2 * x[:, 1] + 1.5 * x[:, 2] + np.sin(3 * x[:, 3]) * x[:, 0]


def known(d):
    """The true indices, from a Monte Carlo sample large enough to make its error negligible."""
    return emulator.indices(mean_output, d, 200_000, np.random.default_rng(0))


def test_the_emulator_recovers_known_indices_through_chance_and_ranks_the_factors():
    d = design()
    x = emulator.scaled(d, d.points(5))
    assert x.shape == (32 * 5, 6) and x.min() >= 0 and x.max() <= 1
    assert set(np.round(x[:, 5] * 2, 6)) <= {0, 1, 2}  # the whole-number parameter as run
    rng = np.random.default_rng(1)
    signal = mean_output(x)
    noise = 0.5 * signal.std()  # chance is a fifth of the output's variance
    y = signal + rng.normal(0, noise, len(signal))
    true_first, true_total = known(d)
    assert true_total[2] == 0 and true_total[0] > true_total[1] > 0.1

    s = emulator.emulate(d, x, y, seed=2, resamples=40, sample=512, estimate=8192)
    assert np.all(np.abs(s["ST"] - true_total) < 0.08), (s["ST"], true_total)
    assert np.all(np.abs(s["S1"] - true_first) < 0.08), (s["S1"], true_first)
    assert s["ST"][2] < 0.02  # no effect, no index
    assert s["ST_leading"] == ["a"] and s["ST_above"][0] == ["b", "c"] and s["ST_above"][1] == ["c"]
    assert s["ST_above"][2] == []
    true_chance = noise**2 / (signal.var() + noise**2)
    assert abs(s["noise_share"] - true_chance) < 0.1
    assert 0.6 < s["Q2"] < 1 - s["noise_share"] + 0.05  # chance cannot be predicted


def test_the_likelihood_maximised_is_scikit_learns_with_its_gradient():
    """The fit's own likelihood (cheaper at hundreds of points in tens of dimensions)
    is the one scikit-learn's process defines, value and gradient, anywhere within
    the hyperparameters' bounds, and the fit finds the same hyperparameters."""
    from sklearn.gaussian_process import GaussianProcessRegressor

    d = design(16)
    x = emulator.scaled(d, d.points(5))
    rng = np.random.default_rng(8)
    y = mean_output(x) + rng.normal(0, 0.5, len(x))
    gp = emulator.fit(x, y, seed=0)
    with emulator.at_bounds():
        plain = GaussianProcessRegressor(gp.kernel, normalize_y=True).fit(x, y)  # scikit-learn's own optimiser
    assert np.allclose(gp.kernel_.theta, plain.kernel_.theta, atol=1e-3)
    z = (y - y.mean()) / y.std()
    for _ in range(5):
        theta = rng.uniform(*gp.kernel_.bounds.T)
        value, gradient = plain.log_marginal_likelihood(theta, eval_gradient=True)
        mine, my_gradient = emulator.likelihood(theta, x, z)
        assert np.isclose(-mine, value, rtol=1e-9)
        assert np.allclose(-my_gradient, gradient, rtol=1e-7, atol=1e-9 * np.abs(gradient).max())


def test_chance_alone_is_not_mistaken_for_an_effect():
    d = design(16)
    x = emulator.scaled(d, d.points(5))
    for seed in (3, 7, 11):
        y = np.random.default_rng(seed).normal(10, 2, len(x))
        s = emulator.emulate(d, x, y, seed=4, resamples=40, sample=512, estimate=4096)
        # A process fitted to chance may find length scales that seem to matter; it
        # cannot predict left-out points, so it ranks nothing.
        assert s["Q2"] < emulator.Q2_RANKS
        assert s["ST_leading"] == [] and not any(s["ST_above"])


def test_every_resample_ranks_with_its_own_fit_and_sample_so_rankings_repeat_with_the_seed():
    d = design(16)
    x = emulator.scaled(d, d.points(5))
    y = mean_output(x) + np.random.default_rng(5).normal(0, 0.5, len(x))
    one = emulator.emulate(d, x, y, seed=6, resamples=10, sample=256, estimate=1024)
    two = emulator.emulate(d, x, y, seed=6, resamples=10, sample=256, estimate=1024)
    assert all(np.array_equal(one[k], two[k]) for k in ("S1", "ST", "ST_conf"))


def test_an_experiments_emulator_indices_are_the_same_on_one_process_or_two(tmp_path):
    from abm.sweep.experiment import load_experiment
    from abm.sweep.runner import run_experiment
    from abm.analysis.comparison import read_runs

    from .test_experiment import sweep_file

    path = sweep_file(tmp_path)  # a tiny Sobol sweep of the classroom city
    text = path.read_text().replace('"recruitment_per_1000_youth"]', '"recruitment_per_1000_youth", "trust_mean"]')
    path.write_text(text.replace("samples = 4\n", 'samples = 4\nemulator = ["homicide_rate_per_100k", "trust_mean"]\n'))
    exp = load_experiment(path)
    run_experiment(exp, tmp_path / "out", workers=1, progress=False)
    runs = read_runs(tmp_path / "out" / "runs.csv")
    one, two = (emulator.analyse(exp, runs, workers=w, resamples=10) for w in (1, 2))
    assert one == two
    assert [(r["output"], r["parameter"]) for r in one] == [  # the outputs listed, in order
        (o, p) for o in ("homicide_rate_per_100k", "trust_mean") for p in ("youth.join_peer", "violence.lethality")]


def test_a_relative_effect_defined_at_no_point_gets_no_indices(tmp_path):
    """Where the baseline's output is 0 at every point (short runs of a small city), a
    policy's effect in % of it is undefined: no indices, from Saltelli or the emulator,
    and the others still come."""
    from abm import cli
    from abm.analysis import sensitivity
    from abm.sweep.experiment import load_experiment

    from .conftest import ROOT
    from .test_experiment import sweep_file

    path = sweep_file(tmp_path)
    text = path.read_text().replace("samples = 4\n", "samples = 4\nemulator = true\n")
    arms = f'policy_dir = "{ROOT / "configs" / "policies"}"\n[[arms]]\nname = "baseline"\n[[arms]]\nname = "cbt"\n'
    path.write_text(text.replace("[design]", arms + "[design]"))
    exp = load_experiment(path)
    rng = np.random.default_rng(2)
    runs = [{"arm": arm, "point": str(k), "status": "ok",
             "homicide_rate_per_100k": str(0.0 if arm == exp.spec.baseline else rng.random()),
             "recruitment_per_1000_youth": str(1 + rng.random())}
            for arm in exp.arms for k in range(len(exp.points))]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for rows in (sensitivity.analyse(exp, runs), emulator.analyse(exp, runs, workers=1, resamples=5)):
            outputs = {r["output"] for r in rows}
            assert "homicide_rate_per_100k effect %" not in outputs
            assert {"homicide_rate_per_100k effect", "recruitment_per_1000_youth effect %"} <= outputs
            assert all(np.isfinite(r["ST"]) for r in rows if r["output"].endswith("effect"))
            assert "  cbt, homicide_rate_per_100k: undefined (the baseline's output is 0 at every point)" in (
                cli.rankings(exp, rows, "sobol"))


def test_an_output_that_never_varies_has_no_indices_and_no_ranking():
    d = design(4)
    s = emulator.emulate(d, emulator.scaled(d, d.points(5)), np.zeros(4 * 5), seed=1, resamples=5)
    assert np.all(s["ST"] == 0) and s["ST_leading"] == [] and np.isnan(s["Q2"])


def test_a_fit_that_puts_everything_into_chance_has_no_indices():
    d = design(4)
    flat = emulator.indices(lambda x: 1 + 1e-9 * x[:, 0], d, 256, np.random.default_rng(0), flat=1e-6)
    assert all(np.all(v == 0) for v in flat)
    first, total = emulator.indices(lambda x: x[:, 0], d, 256, np.random.default_rng(0), flat=1e-6)
    assert total[0] > 0.9


def test_the_emulator_reads_results_without_importing_the_model():
    import subprocess
    import sys

    code = "import sys, abm.analysis.emulator; print('abm.model' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_an_emulator_without_scikit_learn_is_refused_before_any_run(tmp_path, monkeypatch, capsys):
    import importlib.util

    from abm.cli import main

    from .conftest import ROOT
    from .test_experiment import sweep_file

    path = sweep_file(tmp_path)
    text = path.read_text().replace("samples = 4\n", "samples = 4\nemulator = true\n")
    arms = f'policy_dir = "{ROOT / "configs" / "policies"}"\n[[arms]]\nname = "baseline"\n[[arms]]\nname = "cbt"\n'
    path.write_text(text.replace("[design]", arms + "[design]"))
    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else found(name, *a))
    assert main(["experiment", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "sobol.toml: design.emulator needs scikit-learn" in err and "[sensitivity]" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process table from /proc")
def test_a_terminated_analysis_stops_its_workers_at_once():
    """SIGTERM while outputs are emulated on two processes ends the analysis and its
    workers now, not once every output is analysed."""
    import subprocess
    import sys

    from .conftest import ROOT
    from .test_results_folders import left_behind, terminate_at_work

    code = """
import sys
import numpy as np
from abm.analysis import emulator
from abm.signals import Terminated, sigterm_raises
from abm.sweep.design import Design

d = Design(method="sobol", samples=32, emulator=True, parameters={f"p{i}": {"low": 0, "high": 1} for i in range(6)})
x = emulator.scaled(d, d.points(5))
y = x @ np.arange(6.0) + np.random.default_rng(0).normal(0, 1, len(x))
with sigterm_raises():
    try:
        emulator.emulate_all([(d, x, y, seed, 100_000) for seed in range(4)], workers=2)  # hours of work
    except Terminated:
        sys.exit(143)
"""
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    below, seconds, err = terminate_at_work(proc)
    assert seconds < 5, "the analysis waited for its outputs"
    assert len(below) >= 3, f"workers not seen: {below}"
    assert proc.returncode == 143, err
    assert not left_behind(below), "processes left behind"
