"""Ensembles: every arm at every parameter set, compared over the sets, with the share
of each change's variance that comes from the parameters."""

import csv
import math

import numpy as np
import pytest

from abm.analysis.comparison import compare, parameter_share
from abm.config import ConfigError
from abm.sweep.ensemble import evenly_spaced, read_ensemble
from abm.sweep.experiment import load_experiment
from abm.sweep.runner import plan

from .conftest import ROOT
from .test_experiment import abm, rows

EXPERIMENT = """name = "ens"
scenario = "{scenario}"
policy_dir = "{policies}"
replications = 2
root_seed = 5
ensemble = "sets.csv"
set = {{ "run.steps" = 104, "run.burn_in" = 52 }}

[windows]
short_years = 0.5
long_years = 0.5

[[arms]]
name = "baseline"

[[arms]]
name = "mano_dura"
"""


def experiment(tmp_path, sets: str):
    (tmp_path / "sets.csv").write_text(sets)
    path = tmp_path / "ens.toml"
    path.write_text(EXPERIMENT.format(scenario=ROOT / "configs" / "classroom.toml",
                                      policies=ROOT / "configs" / "policies"))
    return path


def test_an_ensemble_file_is_read_as_typed_parameter_sets(tmp_path):
    path = tmp_path / "sets.csv"
    path.write_text("youth.join_peer, police.officers,residents.trust_abuse\n2.5,17,0.02\n3,20,0.04\n\n")
    names, sets = read_ensemble(path)
    assert names == ["youth.join_peer", "police.officers", "residents.trust_abuse"]
    assert sets == [{"youth.join_peer": 2.5, "police.officers": 17, "residents.trust_abuse": 0.02},
                    {"youth.join_peer": 3, "police.officers": 20, "residents.trust_abuse": 0.04}]


@pytest.mark.parametrize("text, needle", [
    ("", "empty"),
    ("officers\n17\n", "'officers' is not a dotted parameter name"),
    ("police.officers,police.officers\n1,2\n", "named twice"),
    ("police.officers\n", "no parameter sets"),
    ("police.officers,youth.join_peer\n17\n", "line 2: 1 values for 2 parameters"),
    ("youth.join_peer\nnan\n", "line 2: youth.join_peer: 'nan' is not a finite number"),
    ("run.steps\n100\n", "run.steps"),
])
def test_a_bad_ensemble_file_is_refused_in_one_line(tmp_path, text, needle):
    path = tmp_path / "sets.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match="sets.csv") as info:
        read_ensemble(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_set_outside_a_parameters_range_is_refused_before_any_run(tmp_path):
    path = experiment(tmp_path, "police.officers,youth.join_peer\n17,2.0\n-3,2.0\n")
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    msg = str(info.value)
    assert "ens.toml" in msg and "sets.csv, set 1 (line 3)" in msg and "police.officers" in msg


def test_an_experiment_has_a_design_or_an_ensemble_not_both(tmp_path):
    path = experiment(tmp_path, "police.officers\n17\n")
    path.write_text(path.read_text() + '\n[design]\nmethod = "grid"\n[design.parameters]\n'
                    '"police.officers" = { values = [12, 24] }\n')
    with pytest.raises(ConfigError, match="a design or an ensemble, not both"):
        load_experiment(path)


def test_ensemble_sets_takes_sets_evenly_spaced_through_the_file(tmp_path):
    path = experiment(tmp_path, "police.officers\n" + "".join(f"{10 + i}\n" for i in range(10)))
    path.write_text(path.read_text().replace('ensemble = "sets.csv"', 'ensemble = "sets.csv"\nensemble_sets = 4'))
    exp = load_experiment(path)
    assert [p["police.officers"] for p in exp.points] == [11, 13, 16, 18]
    assert "2 arms x 4 parameter sets x 2 replicates = 16 runs" in plan(exp, timing=False)
    # of a sample drawn by weight (sets repeated in proportion), the same proportions
    weighted = [{"x": "a"}] * 6 + [{"x": "b"}] * 3 + [{"x": "c"}]
    assert [s["x"] for s in evenly_spaced(weighted, 5)].count("a") == 3


@pytest.mark.parametrize("line, needle", [
    ("ensemble_sets = 11", "ensemble_sets: 11 asked, but sets.csv holds 10 sets"),
    ("ensemble_sets = 0", "ensemble_sets"),
])
def test_ensemble_sets_beyond_the_file_is_refused(tmp_path, line, needle):
    path = experiment(tmp_path, "police.officers\n" + "".join(f"{10 + i}\n" for i in range(10)))
    path.write_text(path.read_text().replace('ensemble = "sets.csv"', f'ensemble = "sets.csv"\n{line}'))
    with pytest.raises(ConfigError, match=needle) as info:
        load_experiment(path)
    assert "ens.toml" in str(info.value)


def test_ensemble_sets_needs_an_ensemble(tmp_path):
    path = experiment(tmp_path, "police.officers\n17\n")
    path.write_text(path.read_text().replace('ensemble = "sets.csv"', "ensemble_sets = 2"))
    with pytest.raises(ConfigError, match="no ensemble to take sets from"):
        load_experiment(path)


def test_parameter_share_is_the_between_set_part_of_the_variance():
    rng = np.random.default_rng(1)
    # The change depends on the set only: all of its variance is the parameters'.
    assert parameter_share({0: [1.0, 1.0, 1.0], 1: [3.0, 3.0, 3.0]}) == pytest.approx(1.0)
    # Every set has the same expected change: (close to) none of it.
    noise = {k: list(rng.normal(0, 1, 200)) for k in range(5)}
    assert parameter_share(noise) < 0.05
    # Set effects of sd 2 against noise of sd 1: about 4 / 5 of the variance.
    mixed = {k: list(rng.normal(0, 2) + rng.normal(0, 1, 400)) for k in range(400)}
    assert parameter_share(mixed) == pytest.approx(0.8, abs=0.06)
    assert math.isnan(parameter_share({0: [1.0, 2.0]}))  # one set
    assert math.isnan(parameter_share({0: [1.0], 1: [2.0]}))  # no replicate to measure chance


def synthetic_runs(effects, reps=3, noise=0.5, seed=2, effect_noise=0.0):
    """Runs of a baseline and a policy arm at sets whose true effects are ``effects``,
    the policy's effect on one run varying by ``effect_noise`` (its standard deviation)
    around its set's."""
    rng = np.random.default_rng(seed)
    runs = []
    for k, effect in enumerate(effects):
        for r in range(reps):
            base = 100 + rng.normal(0, noise)
            for arm, value in (("baseline", base), ("policy", base + effect + rng.normal(0, effect_noise))):
                row = {"arm": arm, "point": k, "replicate": r, "status": "ok"}
                for w in ("", "__short", "__long"):
                    row[f"homicide_rate_per_100k{w}"] = value
                    row[f"homicides{w}"] = value
                    row[f"total_cost{w}"] = 1000.0 if arm == "policy" else 0.0
                runs.append(row)
    return runs


def test_an_effect_that_depends_on_the_parameters_gets_an_interval_over_the_sets():
    runs = synthetic_runs([-30, -10, 10, -20])
    pooled = {(r["arm"], r["metric"], r["window"]): r for r in compare(runs, "baseline", pool=True)}
    over_sets = {(r["arm"], r["metric"], r["window"]): r for r in compare(runs, "baseline", sets=True)}
    a, b = pooled[("policy", "homicide_rate_per_100k", "long")], over_sets[("policy", "homicide_rate_per_100k", "long")]
    assert b["point"] == "pooled" and b["n"] == 4 and a["n"] == 12
    assert b["change"] == pytest.approx(-12.5) and a["change"] == pytest.approx(-12.5)
    # Twelve runs treated as independent claim more than four parameter sets can show.
    assert b["change_ci_high"] - b["change_ci_low"] > 2 * (a["change_ci_high"] - a["change_ci_low"])
    assert b["parameter_share"] > 0.95
    same = {(r["arm"], r["metric"], r["window"]): r for r in compare(synthetic_runs([-10] * 4), "baseline", sets=True)}
    assert same[("policy", "homicide_rate_per_100k", "long")]["parameter_share"] < 0.2


def test_a_designs_pooled_rows_say_how_much_of_an_effect_is_the_parameters():
    def share(runs):
        rows = compare(runs, "baseline", pool=True)
        assert all(math.isnan(r.get("parameter_share", math.nan)) for r in rows if r["arm"] == "baseline")
        return next(r["parameter_share"] for r in rows
                    if (r["arm"], r["metric"], r["window"]) == ("policy", "homicide_rate_per_100k", "all"))

    effects = list(np.linspace(-30, 10, 12))  # sd about 12 between the design's points
    assert share(synthetic_runs(effects, effect_noise=1.0)) > 0.95
    assert share(synthetic_runs([-10] * 12, effect_noise=5.0)) < 0.1  # the same effect everywhere: chance alone
    half = share(synthetic_runs(effects, reps=6, effect_noise=12.0, seed=4))
    assert 0.2 < half < 0.8
    # One run per point cannot tell the parameters from chance.
    assert math.isnan(share(synthetic_runs(effects, reps=1, effect_noise=1.0)))


def test_an_ensemble_experiment_runs_every_arm_at_every_set(tmp_path):
    path = experiment(tmp_path, "police.officers,residents.trust_abuse\n12,0.01\n24,0.05\n")
    out = tmp_path / "out"
    proc = abm("experiment", str(path), "--out", str(out), "--workers", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr
    runs = rows(out / "runs.csv")
    assert len(runs) == 2 * 2 * 2
    assert {(r["police.officers"], r["residents.trust_abuse"]) for r in runs} == {("12", "0.01"), ("24", "0.05")}
    for k in ("0", "1"):  # common random numbers within a set: the same seeds in both arms
        seeds = {arm: sorted(r["seed"] for r in runs if r["point"] == k and r["arm"] == arm)
                 for arm in ("baseline", "mano_dura")}
        assert seeds["baseline"] == seeds["mano_dura"]
    comparison = rows(out / "comparison.csv")
    homicide = [r for r in comparison if r["metric"] == "homicide_rate_per_100k" and r["window"] == "long"]
    assert {r["point"] for r in homicide} == {"pooled"} and all(r["n"] == "2" for r in homicide)
    share = next(r for r in homicide if r["arm"] == "mano_dura")["parameter_share"]
    assert share == "" or 0 <= float(share) <= 1
    assert "over the 2 parameter sets of sets.csv" in proc.stdout
    # Whether the baseline holds steady between the windows, set by set.
    steady = rows(out / "stationarity.csv")
    assert {(r["point"], r["metric"]) for r in steady} >= {("0", "gang_members"), ("pooled", "homicide_rate_per_100k")}
    assert "Baseline, long window over short" in proc.stdout and "of 2 parameter sets steady" in proc.stdout
    dry = abm("experiment", str(path), "--dry-run")
    assert "ensemble: 2 parameter sets of sets.csv over police.officers, residents.trust_abuse" in dry.stdout
    assert "distinct" not in dry.stdout
    # A posterior whose weights collapsed repeats one set: the plan says so.
    (tmp_path / "sets.csv").write_text("police.officers,residents.trust_abuse\n12,0.01\n12,0.01\n")
    repeated = abm("experiment", str(path), "--dry-run")
    assert "note: only 1 of the 2 sets are distinct" in repeated.stdout
