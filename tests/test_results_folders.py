"""A results folder holds one experiment (or one run), complete, from one writer:
resuming refuses rows of another experiment, nothing is overwritten without --force,
a failed or killed write leaves the previous results intact, and errors found before
the first run leave no folder behind."""

import csv
import errno
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from abm import cli
from abm.folders import ResultsFolder
from abm.schema import ConfigError
from abm.sweep.experiment import load_experiment
from abm.sweep.runner import run_experiment

from .conftest import ROOT, fail_replicate

TINY = """
name = "tiny"
scenario = "{scenario}"
policy_dir = "{policies}"
replications = 2
root_seed = {seed}
set = {{ "run.steps" = 60, "run.burn_in" = 20 }}
[windows]
short_years = 0.5
long_years = 0.5
{design}
{arms}
"""
ARMS = '[[arms]]\nname = "baseline"\n[[arms]]\nname = "cbt"\n'


def experiment_file(folder, name="exp.toml", seed=5, arms=ARMS, design=""):
    path = folder / name
    path.write_text(TINY.format(scenario=ROOT / "configs" / "classroom.toml", policies=ROOT / "configs" / "policies",
                                seed=seed, arms=arms, design=design))
    return path


def rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def main(*args):
    quiet = ["--quiet"] if args[0] in ("run", "experiment") else []
    return cli.main([*map(str, args), *quiet])


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """A complete tiny experiment, and its file."""
    folder = tmp_path_factory.mktemp("done")
    path = experiment_file(folder)
    assert main("experiment", path, "--out", folder / "out", "--workers", "1") == 0
    return path, folder / "out"


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("change", [
    {"seed": 6},
    {"arms": '[[arms]]\nname = "cbt"\n[[arms]]\nname = "baseline"\n'},
    {"arms": ARMS + 'set = { "policies.cbt.capacity_per_100k" = 5 }\n'},
    {"design": '[design]\nmethod = "grid"\n[design.parameters]\n"police.officers" = { values = [12, 24] }\n'},
])
def test_resume_refuses_rows_of_another_experiment_naming_what_changed(done, tmp_path, capsys, change):
    path, out = done
    before = snapshot(out)
    other = experiment_file(tmp_path, **change)
    assert main("experiment", other, "--out", out, "--resume") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "another experiment" in err and "changed:" in err
    assert snapshot(out) == before


def test_the_identity_names_the_change(done, tmp_path):
    from abm.sweep.runner import identity, identity_changes, run_columns

    path, _ = done
    a = load_experiment(path)
    b = load_experiment(experiment_file(tmp_path, seed=9))
    changes = identity_changes(identity(a, run_columns(a.parameters)), identity(b, run_columns(b.parameters)))
    assert changes == ["root_seed (5 -> 9)"]


def test_more_replicates_extend_a_folder_and_fewer_are_refused(done, tmp_path, capsys):
    path, out = done
    copy = tmp_path / "copy"
    os.system(f"cp -r '{out}' '{copy}'")
    assert main("experiment", path, "--out", copy, "--resume", "--reps", "3") == 0
    runs = rows(copy / "runs.csv")
    keys = [(r["arm"], r["replicate"]) for r in runs]
    assert len(keys) == len(set(keys)) == 2 * 3
    manifest = json.loads((copy / "manifest.json").read_text())
    assert manifest["replications"] == 3
    assert [(h["replications"], h["runs_before"], h["runs_to_do"]) for h in manifest["history"]] == [(2, 0, 4), (3, 4, 2)]
    assert all(h["finished"] for h in manifest["history"])
    # the first two replicates are the rows that were there
    old = {(r["arm"], r["replicate"]): r for r in rows(out / "runs.csv")}
    assert all(old[(r["arm"], r["replicate"])] == r for r in runs if r["replicate"] != "2")
    assert main("experiment", path, "--out", copy, "--resume", "--reps", "1") == 2
    assert "--reps" in capsys.readouterr().err


def test_a_folder_with_results_is_replaced_only_with_force_and_only_if_it_holds_results(done, tmp_path, capsys):
    path, out = done
    before = snapshot(out)
    assert main("experiment", path, "--out", out) == 2
    assert "--force" in capsys.readouterr().err
    assert main("run", "classroom", "--steps", "30", "--out", out) == 2  # a run onto an experiment folder
    assert snapshot(out) == before
    run_folder = tmp_path / "run"
    assert main("run", "classroom", "--steps", "30", "--out", run_folder) == 0
    kept = snapshot(run_folder)
    for extra in ([], ["--resume"]):  # an experiment onto a run folder
        assert main("experiment", path, "--out", run_folder, *extra) == 2
        assert "a run's results" in capsys.readouterr().err
    assert snapshot(run_folder) == kept
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    assert main("experiment", path, "--out", project, "--force") == 2
    assert "not abm results" in capsys.readouterr().err
    assert (project / "notes.txt").read_text() == "mine"


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(done, tmp_path):
    path, _ = done
    out = tmp_path / "busy"
    with ResultsFolder(out, "experiment"):
        with pytest.raises(ConfigError, match="another abm process is writing it"):
            run_experiment(load_experiment(path), out, workers=1, progress=False)
    assert not out.exists() and not out.with_name("busy.partial").exists()


def test_two_concurrent_resumes_never_duplicate_rows(tmp_path):
    path = experiment_file(tmp_path, arms=ARMS + '[[arms]]\nname = "mano_dura"\n')
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "abm", "experiment", str(path), "--out", str(out), "--workers", "1", "--quiet",
           "--resume"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes[0] == 0, results
    if codes[1] != 0:  # the second started while the first held the folder
        assert codes[1] == 2 and any("another abm process" in err for _, err in results), results
    runs = rows(out / "runs.csv")
    keys = [(r["arm"], r["replicate"]) for r in runs]
    assert len(keys) == len(set(keys)) == 3 * 2


def wait_for_rows(path, n, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if path.exists() and len(path.read_text().splitlines()) >= n + 1:
            return True
        time.sleep(0.05)
    return False


def test_a_killed_force_run_leaves_the_old_results_and_resumes_to_the_same_rows(done, tmp_path):
    path, out = done
    copy = tmp_path / "copy"
    os.system(f"cp -r '{out}' '{copy}'")
    before = snapshot(copy)
    more = experiment_file(tmp_path, name="more.toml", arms=ARMS + '[[arms]]\nname = "mano_dura"\n')
    cmd = [sys.executable, "-m", "abm", "experiment", str(more), "--out", str(copy), "--workers", "1", "--quiet",
           "--force"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = tmp_path / "copy.partial"
    reached = wait_for_rows(partial / "runs.csv", 2, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert reached, "the sweep ended before it could be killed"
    assert snapshot(copy) == before  # the old results, untouched
    assert main("report", copy) == 0
    assert main("experiment", more, "--out", copy, "--workers", "2") == 2  # neither --resume nor --force
    assert main("experiment", more, "--out", copy, "--workers", "2", "--resume") == 0
    assert not partial.exists()
    fresh = tmp_path / "fresh"
    assert main("experiment", more, "--out", fresh, "--workers", "1") == 0
    assert (copy / "runs.csv").read_bytes() == (fresh / "runs.csv").read_bytes()


def test_errors_found_before_the_first_run_leave_no_folder(tmp_path, capsys):
    integer_lhs = '[design]\nmethod = "lhs"\nsamples = 3\n[design.parameters]\n"police.officers" = { low = 10, high = 20 }\n'
    path = experiment_file(tmp_path, design=integer_lhs)
    out = tmp_path / "out"
    assert main("experiment", path, "--out", out) == 2
    assert "police.officers" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "out.partial").exists()
    assert main("experiment", experiment_file(tmp_path), "--out", out, "--scheduler", "tcp://127.0.0.1:9") == 2
    assert "cannot reach" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "out.partial").exists()
    assert main("experiment", experiment_file(tmp_path), "--out", out, "--workers", "1") == 0


def test_failed_runs_are_run_again_with_retry_failed(tmp_path, monkeypatch):
    from abm.sweep import runner

    path = experiment_file(tmp_path)
    real = fail_replicate(monkeypatch, load_experiment(path))
    out = tmp_path / "out"
    assert main("experiment", path, "--out", out, "--workers", "1") == 1
    assert sum(r["status"] == "failed" for r in rows(out / "runs.csv")) == 2
    monkeypatch.setattr(runner, "simulate", real)
    assert main("experiment", path, "--out", out, "--workers", "1", "--resume") == 1  # kept without the flag
    assert main("experiment", path, "--out", out, "--workers", "1", "--resume", "--retry-failed") == 0
    runs = rows(out / "runs.csv")
    assert len(runs) == 4 and all(r["status"] == "ok" for r in runs)


def test_a_run_folder_is_replaced_only_with_force_and_a_failed_write_keeps_the_old_one(tmp_path, capsys,
                                                                                        monkeypatch):
    from abm import io

    out = tmp_path / "run"
    assert main("run", "classroom", "--steps", "30", "--out", out) == 0
    before = snapshot(out)
    assert main("run", "classroom", "--steps", "30", "--seed", "2", "--out", out) == 2
    assert "--force" in capsys.readouterr().err
    real = io.write_rows

    def full_disk(handle, columns, rows, header=True):
        if "perpetrator_id" in columns:  # the events file, the last CSV written
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(handle, columns, rows, header)

    monkeypatch.setattr(io, "write_rows", full_disk)
    assert main("run", "classroom", "--steps", "30", "--seed", "2", "--out", out, "--force") == 1
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("note:")]
    assert len(err) == 1 and "events.csv" in err[0] and "No space left on device" in err[0]
    assert snapshot(out) == before
    assert not (tmp_path / "run.partial").exists()
    monkeypatch.setattr(io, "write_rows", real)
    assert main("run", "classroom", "--steps", "30", "--seed", "2", "--out", out, "--force") == 0
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def left_behind(pids: set[int], seconds: float = 3.0) -> list[int]:
    """Those of ``pids`` still alive after ``seconds`` (far less than a run takes)."""
    deadline = time.time() + seconds
    while time.time() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def terminate_at_work(proc: subprocess.Popen) -> tuple[set[int], float, str]:
    """SIGTERM to ``proc`` once it has a process server and two workers (or after a
    minute): the processes below it then, the seconds it took to end, its stderr."""
    deadline = time.time() + 60
    below: set[int] = set()
    while time.time() < deadline and len(below) < 3:
        time.sleep(0.2)
        below = descendants(proc.pid)
    time.sleep(1.0)
    below = descendants(proc.pid)
    signalled = time.time()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    return below, time.time() - signalled, err


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process table from /proc")
def test_a_terminated_sweep_stops_its_workers_at_once(tmp_path):
    path = experiment_file(tmp_path)
    out = tmp_path / "out"
    # Runs of 30 simulated years: the workers are mid-run when the signal comes.
    cmd = [sys.executable, "-m", "abm", "experiment", str(path), "--out", str(out), "--workers", "2", "--quiet",
           "--set", "run.steps=1560"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    below, seconds, err = terminate_at_work(proc)
    assert seconds < 5, "the sweep waited for its runs to finish"
    assert len(below) >= 3, f"workers not seen: {below}"
    assert proc.returncode == 143, err
    assert "terminated" in err and "Traceback" not in err
    assert not left_behind(below), "processes left behind"
    assert not out.exists()
