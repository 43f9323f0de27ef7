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
