"""A study from question to figure: overrides for experiments, a dry run that shows
the plan, and parameters printed with their evidence."""

import json

import pytest

from abm import cli

from .test_results_folders import experiment_file


def test_a_dry_run_prints_the_plan_and_runs_nothing(tmp_path, capsys):
    path = experiment_file(tmp_path)
    out = tmp_path / "out"
    assert cli.main(["experiment", str(path), "--out", str(out), "--dry-run", "--reps", "3",
                     "--set", "police.officers=30"]) == 0
    text = capsys.readouterr().out
    assert "2 arms x 1 design points x 3 replicates = 6 runs of 60 weeks" in text
    assert "police.officers=30" in text and "estimated time: about" in text and "windows:" in text
    assert not out.exists() and not (tmp_path / "out.partial").exists()


def test_validate_on_an_experiment_prints_its_plan(tmp_path, capsys):
    assert cli.main(["validate", str(experiment_file(tmp_path))]) == 0
    text = capsys.readouterr().out
    assert "valid experiment 'tiny'" in text and "= 4 runs" in text


def test_set_on_an_experiment_reaches_every_arm_and_its_manifest(tmp_path, capsys):
    path = experiment_file(tmp_path)
    out = tmp_path / "out"
    assert cli.main(["experiment", str(path), "--out", str(out), "--quiet", "--workers", "1",
                     "--set", "police.officers=30"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["overrides"] == {"police.officers": 30}
    capsys.readouterr()
    assert cli.main(["experiment", str(path), "--out", str(out), "--quiet", "--resume",
                     "--set", "police.officers=40"]) == 2
    assert "another experiment" in capsys.readouterr().err
    assert cli.main(["experiment", str(path), "--out", str(out), "--quiet", "--resume",
                     "--set", "police.officers=30"]) == 0


def test_validate_prints_every_parameter_with_its_source_marking_changes(capsys):
    assert cli.main(["validate", "classroom", "--set", "police.officers=31"]) == 0
    lines = capsys.readouterr().out.splitlines()
    officers = next(line for line in lines if " police.officers " in line)
    assert officers.startswith("*") and " 31 " in officers
    trust = next(line for line in lines if " residents.trust_abuse " in line)
    assert "Desmond" in trust and not trust.startswith("*")
    assert "differ from the defaults" in lines[-1]


@pytest.mark.parametrize("name, needle, status", [
    ("residents.trust_abuse", "trust lost per abusive contact", 0),
    ("trust_abus", "did you mean", 2),
])
def test_params_name_shows_one_parameter(capsys, name, needle, status):
    assert cli.main(["params", name]) == status
    captured = capsys.readouterr()
    assert needle in captured.out + captured.err


GRID = '[design]\nmethod = "grid"\n[design.parameters]\n"police.officers" = { values = [12, 30] }\n'


@pytest.fixture(scope="module")
def grid_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grid")
    out = folder / "out"
    assert cli.main(["experiment", str(experiment_file(folder, design=GRID)), "--out", str(out), "--quiet",
                     "--workers", "2"]) == 0
    return out


def test_arms_are_compared_within_each_design_point(grid_study):
    import pandas as pd

    runs = pd.read_csv(grid_study / "runs.csv")
    comparison = pd.read_csv(grid_study / "comparison.csv")
    assert {"point", "police.officers"} <= set(comparison.columns)
    assert not comparison.duplicated(["arm", "point", "metric", "window"]).any()
    metric = "homicide_rate_per_100k__long"
    for officers, point_runs in runs.groupby("police.officers"):
        by_arm = point_runs.set_index(["arm", "replicate"])[metric]
        expected = (by_arm["cbt"] - by_arm["baseline"]).mean()
        row = comparison[(comparison["arm"] == "cbt") & (comparison["police.officers"] == officers)
                         & (comparison["metric"] == "homicide_rate_per_100k") & (comparison["window"] == "long")]
        assert len(row) == 1 and int(row["n"].iloc[0]) == 2
        assert row["change"].iloc[0] == pytest.approx(expected)
    assert (grid_study / "effects_by_point.png").stat().st_size > 0


def test_the_report_shows_each_design_point(grid_study):
    assert cli.main(["report", str(grid_study)]) == 0
    page = (grid_study / "report.html").read_text()
    assert "police.officers = 12: 2 runs per arm" in page and "police.officers = 30: 2 runs per arm" in page
    assert "Effects at each design point" in page
    # Whether the baseline holds steady, with how many of the two points do.
    assert "<h2>Is the baseline steady?</h2>" in page and "<td>Gang members</td>" in page
    assert page.count(" of 2</td>") == 3


def test_sampled_designs_are_compared_pooled_and_say_so():
    from abm.analysis.comparison import POOLED, compare

    runs = [{"arm": arm, "point": str(p), "replicate": "0", "seed": "1", "status": "ok", "x": str(p),
             "homicides": str(10 - p * (arm == "a")), "homicide_rate_per_100k": str(10.0 - p * (arm == "a"))}
            for arm in ("baseline", "a") for p in range(4)]
    rows = compare(runs, "baseline", ["baseline", "a"], parameters=["x"], pool=True)
    row = next(r for r in rows if r["arm"] == "a" and r["metric"] == "homicide_rate_per_100k" and r["window"] == "all")
    assert row["point"] == POOLED and row["n"] == 4 and row["change"] == pytest.approx(-1.5)


def test_a_policys_own_measures_are_compared_when_the_baseline_arm_runs_it_too():
    from abm.analysis.comparison import compare

    def runs(baseline_policies):
        return [{"arm": arm, "point": "0", "replicate": str(r), "seed": str(r), "status": "ok",
                 "policies": baseline_policies if arm == "baseline" else "hot_spots",
                 "homicides": "10", "homicide_rate_per_100k": "10",
                 "hs_confrontations_spots": str(20 - 5 * (arm == "staffed") + r)}
                for arm in ("baseline", "staffed") for r in range(3)]

    rows = compare(runs("hot_spots"), "baseline", ["baseline", "staffed"])
    row = next(r for r in rows if (r["arm"], r["metric"], r["window"]) == ("staffed", "hs_confrontations_spots", "all"))
    assert row["change"] == pytest.approx(-5) and row["change_pct"] == pytest.approx(-5 / 21 * 100)
    # Beside a baseline that runs no hot spots, the counts have nothing to be compared with.
    assert not any(r["metric"] == "hs_confrontations_spots" for r in compare(runs(""), "baseline"))


@pytest.mark.parametrize("row, text", [
    ({"mean": 468e3, "ci_low": 52e3, "ci_high": float("inf"), "note": ""}, "$468.0k [52.0k, inf]"),
    ({"mean": -9.3e3, "ci_low": -25.2e3, "ci_high": -4e3, "note": ""}, "saves $9.3k [4.0k, 25.2k]"),
    ({"mean": 1e3, "ci_low": -0.2e3, "ci_high": 2e3, "note": ""}, "$1.0k (from saving 0.2k to costing 2.0k)"),
    ({"mean": 3e3, "ci_low": 0.0, "ci_high": 5e3,
      "note": "the change in homicides may be zero (its interval includes 0)"}, "not known: homicides may not fall"),
    ({"mean": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"),
      "note": "no homicides averted on average"}, "n/a (no homicides averted on average)"),
])
def test_cost_per_homicide_averted_is_stated_in_words(row, text):
    from abm.analysis.comparison import cost_text

    assert cost_text(row) == text
    assert cost_text({k: str(v) for k, v in row.items()}) == text  # as read back from comparison.csv


def test_the_report_refuses_an_unfinished_sweep(grid_study, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(grid_study, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    assert cli.main(["report", str(copy)]) == 2
    assert "unfinished" in capsys.readouterr().err


def test_pooling_over_design_points_is_on_request(tmp_path):
    from abm.sweep.experiment import load_experiment

    grid = load_experiment(experiment_file(tmp_path, design=GRID))
    assert not grid.pools_points
    path = experiment_file(tmp_path, name="pooled.toml", design=GRID)
    path.write_text(path.read_text().replace("root_seed = 5", "root_seed = 5\ncompare_pooled = true"))
    assert load_experiment(path).pools_points
