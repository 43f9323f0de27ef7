"""Experiments: the files they write, fair seeds, same rows on any worker count,
resume after a kill, and bad experiment files refused clearly."""

import csv
import math
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from abm.config import ConfigError
from abm.sweep.experiment import load_experiment
from abm.sweep.runner import run_experiment

from .conftest import ROOT, fail_replicate

SMOKE = ROOT / "experiments" / "smoke.toml"
COMPARISON_COLUMNS = ["arm", "metric", "window", "mean", "ci_low", "ci_high", "change", "change_ci_low",
                      "change_ci_high", "change_pct", "change_pct_ci_low", "change_pct_ci_high"]


def abm(*args, **kw):
    return subprocess.run([sys.executable, "-m", "abm", *args], capture_output=True, text=True, cwd=ROOT, **kw)


def rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke")
    proc = abm("experiment", str(SMOKE), "--out", str(out), "--workers", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_experiment_writes_runs_comparison_and_figures(smoke_run):
    out, proc = smoke_run
    for name in ("runs.csv", "comparison.csv", "timeseries.csv", "blocks.csv", "manifest.json",
                 "trajectories.png", "effects.png", "side_effects.png", "maps.png"):
        assert (out / name).stat().st_size > 0, name
    runs = rows(out / "runs.csv")
    assert len(runs) == 3 * 2 * 2  # arms x design points x replicates
    assert {"run_id", "arm", "replicate", "seed", "status", "homicide_rate_per_100k",
            "homicide_rate_per_100k__short", "recruitment_per_1000_youth__long"} <= set(runs[0])
    comparison = rows(out / "comparison.csv")
    assert COMPARISON_COLUMNS == [c for c in rows(out / "comparison.csv")[0] if c in COMPARISON_COLUMNS]
    assert {r["window"] for r in comparison} >= {"short", "long"}
    assert any(r["metric"] == "cost_per_homicide_averted" for r in comparison)
    assert "homicide_rate_per_100k" in proc.stdout


def test_each_replicate_uses_the_same_seed_in_every_arm(smoke_run):
    out, _ = smoke_run
    seeds = {}
    for r in rows(out / "runs.csv"):
        seeds.setdefault(r["replicate"], set()).add(r["seed"])
    assert all(len(s) == 1 for s in seeds.values())
    assert len({next(iter(s)) for s in seeds.values()}) == len(seeds)


def test_baseline_change_is_zero_and_changes_are_paired(smoke_run):
    out, _ = smoke_run
    for r in rows(out / "comparison.csv"):
        if r["arm"] == "baseline" and r["metric"] == "homicides":
            assert float(r["change"]) == 0.0


def test_replicated_grid_sweep_gives_the_same_rows_on_one_worker_two_workers_and_dask(smoke_run, tmp_path):
    out, _ = smoke_run  # two local workers
    exp = load_experiment(SMOKE)
    run_experiment(exp, tmp_path / "one", workers=1, progress=False)
    run_experiment(exp, tmp_path / "dask", workers=2, progress=False, dask=True)
    for folder in ("one", "dask"):
        assert (tmp_path / folder / "runs.csv").read_bytes() == (out / "runs.csv").read_bytes(), folder
        assert (tmp_path / folder / "timeseries.csv").read_bytes() == (out / "timeseries.csv").read_bytes(), folder


def test_the_arms_of_a_point_and_seed_share_their_burn_in_and_get_the_rows_each_gets_alone():
    from abm.sweep.runner import batches, jobs_for, run_batch, run_job

    exp = load_experiment(SMOKE, overrides={"run.steps": 156})
    jobs = jobs_for(exp, 2)
    tasks = batches(jobs, workers=2)
    # Two design points x two replicates: four tasks, each of the three arms on one seed.
    assert sorted(len(t) for t in tasks) == [3] * 4 == [len({j["arm"] for j in t}) for t in tasks]
    assert all(len({(j["point"], j["seed"]) for j in t}) == 1 for t in tasks)
    assert len(batches(jobs, workers=5)) == len(jobs)  # fewer groups than workers: one run a task
    shared = run_batch(tasks[0])
    assert [r["row"]["status"] for r in shared] == ["ok"] * 3
    assert repr(shared) == repr([run_job(job) for job in tasks[0]])  # as text: NaN == NaN


def test_a_killed_sweep_resumes_to_the_same_results(smoke_run, tmp_path):
    out, _ = smoke_run
    target = tmp_path / "out"
    cmd = [sys.executable, "-m", "abm", "experiment", str(SMOKE), "--out", str(target), "--workers", "1", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = tmp_path / "out.partial" / "runs.csv"  # rows are written beside the target until the sweep completes
    deadline = time.time() + 120
    while time.time() < deadline:
        if runs.exists() and len(runs.read_text().splitlines()) >= 3:  # header + 2 runs
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(runs.read_text().splitlines()) - 1
    assert 2 <= done < 12, f"kill came too late to test anything ({done} runs done)"
    assert not target.exists()
    again = abm("experiment", str(SMOKE), "--out", str(target), "--workers", "2", "--quiet", "--resume")
    assert again.returncode == 0, again.stderr
    assert not runs.exists()
    assert (target / "runs.csv").read_bytes() == (out / "runs.csv").read_bytes()
    assert (target / "timeseries.csv").read_bytes() == (out / "timeseries.csv").read_bytes()


def test_an_existing_result_folder_is_not_overwritten_by_accident(smoke_run):
    out, _ = smoke_run
    proc = abm("experiment", str(SMOKE), "--out", str(out), "--quiet")
    assert proc.returncode == 2 and "--resume" in proc.stderr and "Traceback" not in proc.stderr


def write(tmp_path, text):
    (tmp_path / "policies").mkdir(exist_ok=True)
    (tmp_path / "policies" / "cbt.toml").write_text("[policies.cbt]\ncapacity_per_100k = 10\n")
    path = tmp_path / "exp.toml"
    path.write_text(f'name = "x"\nscenario = "{ROOT / "configs" / "classroom.toml"}"\npolicy_dir = "policies"\n' + text)
    return path


@pytest.mark.parametrize("text, needle", [
    ('[[arms]]\nname = "baseline"\n[[arms]]\nname = "magic"\n', "no policy file"),
    ('[[arms]]\nname = "baseline"\nreplicas = 3\n', "arms.0.replicas: unknown key"),
    ('replications = 0\n[[arms]]\nname = "baseline"\n', "replications: must be >= 1"),
    ('[[arms]]\nname = "cbt"\n', "no arm is named 'baseline'"),
    ('[[arms]]\nname = "baseline"\n[[arms]]\nname = "baseline"\n', "repeated: baseline"),
    ('[[arms]]\nname = "baseline"\n[[arms]]\nname = "cbt"\nset = { "policies.cbt.completion" = 2 }\n',
     "policies.cbt.completion: must be <= 1"),
    ('[[arms]]\nname = "baseline"\nsurprise = true\n', "unknown key"),
    ('[design]\nmethod = "morris"\n[design.parameters]\n"youth.join_peer" = { low = 1.0, high = 5.0, group = "a" }\n'
     '"violence.lethality" = { low = 0.1, high = 0.3 }\n', "design.parameters.violence.lethality: give every "
                                                          "parameter a group, or none"),
    ('[design]\nmethod = "lhs"\n[design.parameters]\n"youth.join_peer" = { low = 1.0, high = 5.0, group = "a" }\n',
     "groups are for sobol and morris designs only"),
    ('[design]\nmethod = "sobol"\n[design.parameters]\n"youth.join_peer" = { low = 1.0, high = 5.0, group = "a" }\n'
     '"violence.lethality" = { low = 0.1, high = 0.3, group = "a" }\n', "needs two groups or more"),
    ('[design]\nmethod = "morris"\nemulator = true\n[design.parameters]\n"youth.join_peer" = { low = 1.0, high = 5.0 }\n',
     "design.emulator: for sobol designs only, not morris"),
    ('outputs = ["trust_mean"]\n[design]\nmethod = "sobol"\nemulator = ["gang_members"]\n[design.parameters]\n'
     '"youth.join_peer" = { low = 1.0, high = 5.0 }\n', "design.emulator: gang_members is not among the outputs"),
])
def test_bad_experiment_files_are_refused_clearly(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert needle in str(info.value) and "exp.toml" in str(info.value)


def test_bad_experiment_file_on_the_command_line_exits_2(tmp_path):
    path = write(tmp_path, "[[arms]]\nname = 'cbt'\n")
    proc = abm("experiment", str(path), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "exp.toml" in proc.stderr


SOBOL = """
name = "tiny_sobol"
scenario = "{scenario}"
replications = 1
root_seed = 3
set = {{ "run.steps" = 60, "run.burn_in" = 20 }}
windows = {{ short_years = 0.25, long_years = 0.25 }}
outputs = ["homicide_rate_per_100k", "recruitment_per_1000_youth"]
[design]
method = "{method}"
samples = 4
[design.parameters]
"youth.join_peer" = {{ low = 1.0, high = 5.0 }}
"violence.lethality" = {{ low = 0.1, high = 0.3 }}
"""


def sweep_file(tmp_path, method="sobol"):
    path = tmp_path / f"{method}.toml"
    path.write_text(SOBOL.format(scenario=ROOT / "configs" / "classroom.toml", method=method))
    return path


def test_sobol_sweep_gives_the_same_rows_on_local_processes_and_dask(tmp_path):
    exp = load_experiment(sweep_file(tmp_path))
    assert len(exp.points) == 4 * (2 + 2)
    run_experiment(exp, tmp_path / "one", workers=1, progress=False)
    run_experiment(exp, tmp_path / "two", workers=2, progress=False)
    run_experiment(exp, tmp_path / "dask", workers=2, progress=False, dask=True)
    one = (tmp_path / "one" / "runs.csv").read_bytes()
    assert one == (tmp_path / "two" / "runs.csv").read_bytes()
    assert one == (tmp_path / "dask" / "runs.csv").read_bytes()
    runs = rows(tmp_path / "one" / "runs.csv")
    assert len(runs) == 16 and all(r["status"] == "ok" for r in runs)
    assert {"point", "youth.join_peer", "violence.lethality"} <= set(runs[0])


def test_sobol_and_morris_give_sensitivity_indices(tmp_path):
    from abm.analysis.sensitivity import run_sensitivity

    for method, keys in (("sobol", ("S1", "S1_conf", "ST", "ST_conf", "ST_above", "ST_leading")),
                         ("morris", ("mu_star", "sigma"))):
        exp = load_experiment(sweep_file(tmp_path, method))
        out = tmp_path / method
        run_experiment(exp, out, workers=2, progress=False)
        result = run_sensitivity(exp, out)
        assert {r["parameter"] for r in result} == {"youth.join_peer", "violence.lethality"}
        assert {r["output"] for r in result} == {"homicide_rate_per_100k", "recruitment_per_1000_youth"}
        assert all(all(k in r for k in keys) for r in result)
        assert (out / "sensitivity.csv").exists() and (out / "sensitivity.png").exists()
        if method == "sobol":
            from abm.analysis.report import build_report

            assert "<th>ST_above</th>" in build_report(out).read_text()
            ranking = ranking_rows(build_report(out, "markdown").read_text(), "sobol")
            for (arm, output), leaders in ranking.items():  # bold in the ranking: the clear leaders
                assert leaders == {r["parameter"] for r in result if (r["arm"], r["output"]) == (arm, output)
                                   and r["ST_leading"]}
            assert set(ranking) == {(r["arm"], r["output"]) for r in result}
            for key in {(r["arm"], r["output"]) for r in result}:
                lead = {r["parameter"] for r in result if (r["arm"], r["output"]) == key and r["ST_leading"]}
                rest = {r["parameter"] for r in result if (r["arm"], r["output"]) == key} - lead
                for r in result:  # every leader ranks clearly above every factor outside the top
                    if (r["arm"], r["output"]) == key and r["parameter"] in lead:
                        assert rest <= set(filter(None, r["ST_above"].split("; ")))


def test_an_emulator_added_to_a_finished_sobol_folder_analyses_its_runs_again_without_running_any(tmp_path):
    pytest.importorskip("sklearn")
    plain = sweep_file(tmp_path)
    out = tmp_path / "out"
    assert abm("experiment", str(plain), "--out", str(out), "--workers", "2", "--quiet").returncode == 0
    before = (out / "runs.csv").read_bytes()
    assert not (out / "sensitivity_emulator.csv").exists()
    emulated = tmp_path / "emulated.toml"
    emulated.write_text(plain.read_text().replace('samples = 4\n', 'samples = 4\nemulator = true\n'))
    proc = abm("experiment", str(emulated), "--out", str(out), "--resume", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert (out / "runs.csv").read_bytes() == before  # how runs are analysed is not part of what they are
    assert "Sensitivity (Gaussian-process emulator, ST)" in proc.stdout and "(Q2)" in proc.stdout
    result = rows(out / "sensitivity_emulator.csv")
    assert {(r["output"], r["parameter"]) for r in result} == {
        (o, p) for o in ("homicide_rate_per_100k", "recruitment_per_1000_youth")
        for p in ("youth.join_peer", "violence.lethality")}
    for r in result:
        assert float(r["Q2"]) <= 1 and 0 <= float(r["noise_share"]) <= 1 and float(r["ST_conf"]) >= 0
    assert (out / "sensitivity_emulator.png").exists()
    from abm.analysis.report import build_report

    page = build_report(out).read_text()
    assert "<h2>Sensitivity (sobol emulator)</h2>" in page and "<th>noise_share</th>" in page


@pytest.mark.parametrize("method", ["random", "sobol", "morris"])
def test_a_larger_sample_begins_with_the_smaller_one(tmp_path, method):
    from abm.sweep.design import GROWING

    assert method in GROWING
    small = load_experiment(sweep_file(tmp_path, method)).points
    large = load_experiment(sweep_file(tmp_path, method), samples=16).points
    assert len(large) == 4 * len(small)
    assert large[:len(small)] == small


def test_a_latin_hypercube_or_grid_cannot_grow_its_sample(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_experiment(sweep_file(tmp_path, "lhs"), samples=8)
    assert "lhs.toml: design.method: --samples needs a random, sobol or morris design" in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_experiment(SMOKE, samples=8)
    assert "smoke.toml: design.method" in str(info.value) and "(this design is grid)" in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_experiment(write(tmp_path, '[[arms]]\nname = "baseline"\n'), samples=8)
    assert "exp.toml: --samples 8: the experiment has no design" in str(info.value)


def test_a_sobol_sweep_extended_to_a_larger_sample_equals_one_run_at_that_size(tmp_path):
    path = sweep_file(tmp_path)
    grown, whole = tmp_path / "grown", tmp_path / "whole"
    run_experiment(load_experiment(path, samples=2), grown, workers=2, progress=False)
    assert len(rows(grown / "runs.csv")) == 2 * (2 + 2)
    run_experiment(load_experiment(path), grown, workers=2, progress=False, resume=True)  # the file's 4
    run_experiment(load_experiment(path), whole, workers=2, progress=False)
    for name in ("runs.csv", "timeseries.csv", "blocks.csv"):
        assert (grown / name).read_bytes() == (whole / name).read_bytes(), name
    history = __import__("json").loads((grown / "manifest.json").read_text())["history"]
    assert [h["runs_before"] for h in history] == [0, 8] and [h["runs_to_do"] for h in history] == [8, 8]


def test_resuming_keeps_the_folders_sample_and_refuses_to_shrink_it(tmp_path):
    path = sweep_file(tmp_path)
    out = tmp_path / "out"
    first = abm("experiment", str(path), "--out", str(out), "--samples", "8", "--workers", "2", "--quiet")
    assert first.returncode == 0, first.stderr
    assert len(rows(out / "runs.csv")) == 8 * 4
    again = abm("experiment", str(path), "--out", str(out), "--resume", "--quiet")  # the file says 4
    assert again.returncode == 0, again.stderr
    assert "holds a sample of 8" in again.stderr and "0 now" in again.stdout
    shrink = abm("experiment", str(path), "--out", str(out), "--resume", "--samples", "2", "--quiet")
    assert shrink.returncode == 2 and "Traceback" not in shrink.stderr
    assert "holds a larger sample (8 samples) than 2" in shrink.stderr
    assert len(rows(out / "runs.csv")) == 8 * 4


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    from abm import cli

    fail_replicate(monkeypatch, load_experiment(SMOKE))
    status = cli.main(["experiment", str(SMOKE), "--out", str(tmp_path), "--workers", "1", "--quiet"])
    assert status == 1
    runs = rows(tmp_path / "runs.csv")
    failed = [r for r in runs if r["status"] == "failed"]
    assert failed and all(r["replicate"] == "1" for r in failed)
    assert all("simulated failure" in r["error"] for r in failed)
    assert sum(r["status"] == "ok" for r in runs) == len(runs) - len(failed) > 0


def ranking_rows(markdown: str, method: str) -> dict[tuple[str, str], set[str]]:
    """The rows of a Markdown report's ranking table: (arm, output) -> its factors in bold."""
    section = markdown.split(f"## Ranking ({method})\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ") and "---" not in line]

    def name(item: str) -> str:  # "joining 0.54 (±0.26)" -> "joining"
        return re.sub(r" [0-9.]+ \(.*", "", item)

    return {(cells[0][2:], cells[1]): {name(bold) for bold in re.findall(r"\*\*(.+?)\*\*", cells[2])}
            for cells in rows[1:]}


def test_report_turns_a_results_folder_into_one_page(smoke_run):
    out, _ = smoke_run
    proc = abm("report", str(out))
    assert proc.returncode == 0, proc.stderr
    page = (out / "report.html").read_text()
    assert "<table" in page and "data:image/png;base64," in page and "smoke" in page
    assert "src=\"http" not in page  # self-contained


def test_a_markdown_report_holds_the_same_tables_and_links_the_folders_figures(smoke_run):
    out, _ = smoke_run
    proc = abm("report", str(out), "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    text = (out / "report.md").read_text()
    assert text.startswith("# smoke\n") and "base64" not in text
    figures = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert figures and all((out / name).is_file() for name in figures)
    blocks = re.findall(r"(?:^\|.*\n)+", text, flags=re.M)  # each table: its lines, one after another
    assert blocks
    for block in blocks:  # every row has as many cells as its table's header (pipes in cells are escaped)
        widths = {len(re.split(r"(?<!\\)\|", line)) for line in block.splitlines()}
        assert len(widths) == 1, block
    comparison = [r for r in rows(out / "comparison.csv")
                  if r["metric"] == "homicide_rate_per_100k" and r["window"] == "short" and r["change_pct"]]
    assert comparison
    for r in comparison:  # each change against baseline, with its interval
        low, high = float(r["change_pct_ci_low"]), float(r["change_pct_ci_high"])
        shown = f"{float(r['change_pct']):+.0f}% [{low:+.0f}, {high:+.0f}]"
        assert (f"**{shown}**" if high < 0 or low > 0 else f"({shown})") in text


def test_model_function_for_exploratory_modelling_is_a_plain_picklable_function():
    import pickle

    from abm.workbench import CityModelFunction

    f = CityModelFunction(ROOT / "configs" / "classroom.toml", outputs=("homicides", "recruits"))
    f = pickle.loads(pickle.dumps(f))
    out = f(**{"run.steps": 30, "run.burn_in": 5, "youth.join_peer": 4.0, "seed": 2})
    assert set(out) == {"homicides", "recruits"} and out["recruits"] >= 0


def test_cost_per_homicide_averted_is_extra_cost_over_homicides_averted():
    from abm.analysis.comparison import cost_per_homicide_averted

    def run(homicides, cost):
        return {"homicides": str(homicides), "total_cost": str(cost)}

    base = {(0, r): run(100, 1000.0) for r in range(5)}
    arm = {(0, r): run(90 - r, 11000.0 + r) for r in range(5)}
    row = cost_per_homicide_averted("x", "all", arm, base, sorted(arm), seed=1)
    assert row["mean"] == pytest.approx((10002.0) / 12.0)
    assert row["ci_low"] <= row["mean"] <= row["ci_high"]
    worse = {(0, r): run(110, 2000.0) for r in range(5)}
    assert math.isnan(cost_per_homicide_averted("x", "all", worse, base, sorted(worse), seed=1)["mean"])


def test_an_experiment_folder_loads_as_dataframes(smoke_run):
    from abm import load_results

    out, _ = smoke_run
    results = load_results(out)
    assert results.kind == "experiment"
    assert len(results.runs) == len(rows(out / "runs.csv"))
    assert {"arm", "replicate", "seed", "homicide_rate_per_100k"} <= set(results.runs.columns)
    assert results.comparison is not None and results.manifest


def test_a_parquet_sweep_holds_the_same_rows_as_csv_with_units_and_manifest(smoke_run, tmp_path):
    pytest.importorskip("pyarrow")
    import json

    import pandas as pd
    import pyarrow.parquet as pq

    from abm import load_results

    out, _ = smoke_run
    proc = abm("experiment", str(SMOKE), "--out", str(tmp_path / "pq"), "--workers", "2", "--quiet",
               "--format", "parquet")
    assert proc.returncode == 0, proc.stderr
    pq_dir = tmp_path / "pq"
    assert (pq_dir / "timeseries").is_dir() and not (pq_dir / "timeseries.csv").exists()
    csv_series = pd.read_csv(out / "timeseries.csv")
    pq_series = pd.read_parquet(pq_dir / "timeseries").sort_values(["run_id", "step"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(csv_series, pq_series, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_csv(out / "blocks.csv"),
                                  pd.read_parquet(pq_dir / "blocks").sort_values(["run_id", "block"])
                                  .reset_index(drop=True), check_dtype=False)
    runs = pd.read_parquet(pq_dir / "runs.parquet")
    assert runs["seed"].dtype.kind == "i" and runs["homicide_rate_per_100k__long"].dtype.kind == "f"
    assert (runs["homicide_rate_per_100k"].to_numpy() == pd.read_csv(out / "runs.csv")["homicide_rate_per_100k"]
            .to_numpy()).all()
    schema = pq.read_schema(pq_dir / "runs.parquet")
    assert json.loads(schema.metadata[b"abm.manifest"])["experiment"] == "smoke"
    assert schema.field("homicide_rate_per_100k__long").metadata[b"unit"] == b"homicides/100k/year"
    assert pq.read_schema(next((pq_dir / "timeseries").glob("*.parquet"))).field("trust_mean").metadata
    loaded = load_results(pq_dir)
    assert len(loaded.timeseries) == len(csv_series) and len(loaded.runs) == 12
    assert (pq_dir / "maps.png").exists() and (pq_dir / "trajectories.png").exists()


def test_grouped_morris_screening_gives_indices_per_group_and_none_to_an_inert_group(tmp_path):
    """Parameters in a group move together and are screened as one factor: the runs
    cost (groups + 1) points a trajectory, whatever the number of parameters. A group
    of parameters the run never reads (the cost of a policy no arm switches on) moves
    nothing: with common seeds its elementary effects are exactly zero."""
    from abm.analysis.sensitivity import run_sensitivity

    path = sweep_file(tmp_path, "morris")
    text = path.read_text().replace("samples = 4", "samples = 3")
    text = text.replace('{ low = 1.0, high = 5.0 }', '{ low = 1.0, high = 5.0, group = "joining" }')
    text = text.replace('{ low = 0.1, high = 0.3 }', '{ low = 0.1, high = 0.3, group = "violence" }')
    text += ('"youth.join_base" = { low = -7.5, high = -5.5, group = "joining" }\n'
             '"policies.truce.unit_cost" = { low = 1000, high = 3000, group = "inert" }\n')
    path.write_text(text)
    exp = load_experiment(path)
    assert exp.spec.design.factors == ["joining", "violence", "inert"]
    assert len(exp.points) == 3 * (3 + 1)
    joining = [(p["youth.join_peer"], p["youth.join_base"]) for p in exp.points]
    steps = [(joining[k], joining[k + 1]) for k in range(len(joining) - 1) if k % 4 != 3]  # within trajectories
    moved = [(a, b) for a, b in steps if a != b]
    assert len(moved) == 3 and all(a[0] != b[0] and a[1] != b[1] for a, b in moved)  # the group moves together
    out = tmp_path / "out"
    run_experiment(exp, out, workers=2, progress=False)
    result = run_sensitivity(exp, out)
    assert {r["parameter"] for r in result} == {"joining", "violence", "inert"}
    inert = [r for r in result if r["parameter"] == "inert"]
    assert inert and all(r["mu_star"] == 0 and r["sigma"] == 0 for r in inert)
    assert any(r["mu_star"] > 0 for r in result if r["parameter"] == "joining")


def test_morris_screening_says_what_decides_each_policys_effect(tmp_path):
    """A policy's effect is analysed as the change against the baseline at each design
    point: an arm that does nothing has no effect for any parameter to decide."""
    from abm.analysis.sensitivity import EFFECT, RELATIVE, run_sensitivity

    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "mano_dura.toml").write_text("[policies.mano_dura]\ncoverage = 0.5\n")
    (tmp_path / "policies" / "idle.toml").write_text("[policies.mano_dura]\ncoverage = 0\n")
    path = sweep_file(tmp_path, "morris")
    path.write_text(path.read_text().replace('root_seed = 3', 'root_seed = 3\npolicy_dir = "policies"')
                    + '\n[[arms]]\nname = "baseline"\n\n[[arms]]\nname = "mano_dura"\n\n'
                      '[[arms]]\nname = "idle"\npolicies = ["idle"]\n')
    exp = load_experiment(path)
    out = tmp_path / "out"
    run_experiment(exp, out, workers=2, progress=False)
    rows = run_sensitivity(exp, out)
    effects = {(r["arm"], r["output"], r["parameter"]): r for r in rows if r["output"].endswith(EFFECT)}
    assert {arm for arm, _, _ in effects} == {"mano_dura", "idle"}
    assert all(r["mu_star"] == 0 for (arm, _, _), r in effects.items() if arm == "idle")
    assert any(r["mu_star"] > 0 for (arm, _, _), r in effects.items() if arm == "mano_dura")
    relative = {(r["arm"], r["output"], r["parameter"]): r for r in rows if r["output"].endswith(RELATIVE)}
    assert {(arm, output[: -len(RELATIVE)], name) for arm, output, name in relative} == \
        {(arm, output[: -len(EFFECT)], name) for arm, output, name in effects}
    assert all(r["mu_star"] == 0 for (arm, _, _), r in relative.items() if arm == "idle")
    assert any(r["mu_star"] > 0 for (arm, _, _), r in relative.items() if arm == "mano_dura")


def test_a_policys_parameter_given_for_every_arm_changes_it_where_it_runs_and_switches_it_on_nowhere():
    # --set, the file's set and a design point apply to every arm; a policy's
    # parameter among them must not run the policy in the baseline (or in any arm
    # that does not name it).
    exp = load_experiment(ROOT / "experiments" / "community_policing_paths.toml",
                          {"policies.community_policing.stops_per_officer": 4.0})
    assert exp.scenarios["baseline"].policies.community_policing is None
    assert exp.scenarios["community_policing"].policies.community_policing.stops_per_officer == 4.0
    screening = load_experiment(ROOT / "experiments" / "screening.toml")
    assert any(k.startswith("policies.truce.") for k in screening.points[0])  # the inert check
    for arm in screening.spec.arms:
        assert screening.scenario(arm.name, 0).policies.truce is None, arm.name


def test_a_value_for_every_arm_of_a_policy_no_arm_runs_is_refused_in_one_line(tmp_path):
    # It would change nothing: a mistake to say, not to ignore.
    proc = abm("experiment", "trust_channels", "--set", "policies.truce.unit_cost=5", "--dry-run")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--set policies.truce.unit_cost: no arm of trust_channels.toml runs truce" in proc.stderr
    text = (ROOT / "experiments" / "smoke.toml").read_text()
    assert 'set = { "run.steps"' in text
    bad = tmp_path / "smoke.toml"
    bad.write_text(text.replace('set = { "run.steps"', 'set = { "policies.truce.unit_cost" = 5, "run.steps"')
                   .replace("../configs", str(ROOT / "configs")))
    proc = abm("experiment", str(bad), "--dry-run")
    assert proc.returncode == 2 and "set: policies.truce.unit_cost: no arm" in proc.stderr, proc.stderr
