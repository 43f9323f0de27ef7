"""The run command end to end, and reproducibility."""

import csv
import json
import subprocess
import sys


from abm.simulate import simulate, write_run

from .conftest import CONFIGS

REQUIRED = {
    "timeseries.csv": ["step", "homicides", "homicide_rate_per_100k", "recruits", "recruitment_per_1000_youth",
                       "gang_members", "incarcerated", "incarceration_per_100k", "arrests",
                       "arrests_non_member_share", "clearance_rate", "conviction_rate", "trust_mean",
                       "reporting_rate", "collective_efficacy_mean", "police_killings"],
    "summary.csv": ["people", "youths", "homicides", "homicide_rate_per_100k", "recruits",
                    "recruitment_per_1000_youth", "gang_members", "incarcerated", "incarceration_per_100k",
                    "arrests", "arrests_non_member_share", "clearance_rate", "conviction_rate", "trust_mean",
                    "reporting_rate", "collective_efficacy_mean", "homicide_share_top5pct_blocks",
                    "police_killings"],
    "blocks.csv": ["block", "x", "y", "homicides"],
    "events.csv": ["step", "block", "perpetrator_id", "victim_id", "victim_type"],
}


def header(path):
    with path.open() as handle:
        return next(csv.reader(handle))


def test_run_command_writes_the_five_files(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "abm", "run", str(CONFIGS / "classroom.toml"), "--seed", "3", "--steps", "80",
         "--out", str(out), "--set", "police.officers=20"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "homicide_rate_per_100k" in proc.stdout and "40-140" in proc.stdout
    for name, columns in REQUIRED.items():
        assert set(columns) <= set(header(out / name)), name
    rows = list(csv.DictReader((out / "timeseries.csv").open()))
    assert [int(r["step"]) for r in rows] == list(range(1, 81))
    summary = list(csv.DictReader((out / "summary.csv").open()))
    assert len(summary) == 1 and int(summary[0]["people"]) == 6400
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["parameters"]["police"]["officers"] == 20
    assert manifest["scenario_hash"] and manifest["version"] and manifest["started"] and manifest["finished"]


def run_files(scenario, seed, out):
    write_run(simulate(scenario, seed), out)
    return {name: (out / name).read_bytes() for name in REQUIRED}


def test_same_seed_gives_byte_identical_files_and_other_seeds_differ(tiny, tmp_path):
    first = run_files(tiny, 11, tmp_path / "a")
    again = run_files(tiny, 11, tmp_path / "b")
    other = run_files(tiny, 12, tmp_path / "c")
    assert first == again
    assert first["timeseries.csv"] != other["timeseries.csv"]


def test_api_simulate_is_usable_from_python(tiny):
    from abm import load_scenario, simulate as api_simulate

    assert load_scenario(CONFIGS / "classroom.toml").name == "classroom"
    result = api_simulate(tiny, seed=2)
    assert result.summary["people"] == 6400
    assert len(result.timeseries) == tiny.run.steps
    assert {t["metric"] for t in result.calibration} >= {"homicide_rate_per_100k", "conviction_rate"}


def test_results_come_back_as_dataframes_in_memory_and_from_the_folder(tiny, tmp_path):
    from abm import load_results

    result = simulate(tiny, 5)
    frames = result.frames()
    assert len(frames["timeseries"]) == tiny.run.steps and len(frames["summary"]) == 1
    assert frames["timeseries"]["homicides"].sum() == sum(r["homicides"] for r in result.timeseries)
    write_run(result, tmp_path / "run")
    loaded = load_results(tmp_path / "run")
    assert loaded.kind == "run" and loaded.manifest["seed"] == 5
    assert list(loaded.timeseries.columns) == list(frames["timeseries"].columns)
    assert loaded.timeseries["homicides"].tolist() == frames["timeseries"]["homicides"].tolist()
    assert len(loaded.events) == len(frames["events"])


def test_loading_a_folder_without_results_is_one_clear_error(tmp_path):
    import pytest

    from abm import ConfigError, load_results

    with pytest.raises(ConfigError, match="no such result folder"):
        load_results(tmp_path / "missing")
    with pytest.raises(ConfigError, match="holds no result file"):
        load_results(tmp_path)


def test_a_copy_of_the_package_inside_another_repository_records_no_commit(tmp_path):
    import shutil

    from .conftest import ROOT

    other = tmp_path / "other_project"
    shutil.copytree(ROOT / "abm", other / "abm", ignore=shutil.ignore_patterns("__pycache__"))
    (other / "pyproject.toml").write_text('[project]\nname = "something-else"\n')
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    subprocess.run(["git", "-C", str(other), "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q",
                    "--allow-empty", "-m", "x"], check=True)
    probe = "import json; from abm.io import provenance; print(json.dumps(provenance()))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=other, capture_output=True, text=True, check=True)
    found = json.loads(out.stdout)
    assert found["git_commit"] is None and found["git_dirty"] is None
    assert found["python"] and found["libraries"]["numpy"] and found["libraries"]["mesa"]


def test_a_run_shorter_than_its_burn_in_is_refused_unless_burn_in_is_given(tiny):
    import pytest

    from abm import ConfigError

    with pytest.raises(ConfigError, match=r"run.burn_in \(20\) must be smaller than run.steps \(10\)"):
        simulate(tiny, 1, steps=10)
    result = simulate(tiny, 1, steps=10, burn_in=0)
    assert result.scenario.run.burn_in == 0 and len(result.timeseries) == 10
    with pytest.raises(ConfigError, match="police.officers: must be >= 0"):
        tiny.replace(**{"police.officers": -1})
