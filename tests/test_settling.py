"""Settled starting stocks read per parameter set (abm settle; docs/ODD.md, section 5):
a set whose baseline settles far from the default's starts where it settles, and the
command that reads them is a tool a researcher can trust with a posterior."""

import csv
import json

import numpy as np
import pytest

from abm import justice, settling
from abm.model import CityModel

from .test_experiment import abm, rows

# Trust in police climbs when no contact is abusive and a just one counts ten times the
# default: a set whose trust settles far above the default's start (0.45).
TRUSTING = {"residents.trust_abuse": 0.0, "residents.trust_just": 0.02}


def trust_by_year(scenario, seed: int, years: int) -> list[float]:
    model = CityModel(scenario.replace(**{"run.steps": years * 52, "run.burn_in": 0}), seed)
    out = []
    for _ in range(years):
        model.run(52)
        out.append(float(model.residents.trust[model.residents.alive].mean()))
    return out


def test_a_run_starts_with_the_stocks_it_is_given(classroom):
    stocks = {"residents.trust_start": 0.7, "prison.initial_occupancy": 0.6, "prison.initial_member_share": 0.5}
    model = CityModel(classroom.replace(**stocks), seed=4)
    trust = model.residents.trust[model.residents.alive]
    assert trust.mean() == pytest.approx(0.7, abs=0.01)
    assert justice.occupancy(model) == pytest.approx(0.6, abs=1 / justice.capacity(model))
    inside = model.youths.incarcerated
    assert (model.youths.gang[inside] >= 0).mean() == pytest.approx(0.5, abs=0.05)
    # Without trust_start, trust starts at trust_initial, as it always did.
    default = CityModel(classroom, seed=4).residents
    assert default.trust[default.alive].mean() == pytest.approx(classroom.residents.trust_initial, abs=0.01)


def test_a_set_started_from_its_settled_stocks_holds_steady_where_the_default_start_drifts(classroom):
    scenario = classroom.replace(**TRUSTING)
    stocks = settling.settled_stocks(scenario, seed=1, years=6, read_from=3, passes=2)
    assert stocks["residents.trust_start"] > classroom.residents.trust_initial + 0.1  # it settles far away
    drift_default = trust_by_year(scenario, seed=9, years=4)
    drift_settled = trust_by_year(scenario.replace(**stocks), seed=9, years=4)
    moved = abs(drift_default[-1] - drift_default[0])
    assert abs(drift_settled[-1] - drift_settled[0]) < moved / 3
    assert abs(drift_settled[0] - stocks["residents.trust_start"]) < 0.03


def test_every_stock_is_read_within_its_range_and_the_same_seed_reads_the_same(classroom):
    a = settling.read_stocks(classroom, seed=2, years=3, read_from=1)
    assert a == settling.read_stocks(classroom, seed=2, years=3, read_from=1)
    assert set(a) == set(settling.STOCKS)
    for name, value in a.items():
        classroom.replace(**{name: value})  # valid for the schema
        assert np.isfinite(value) and value >= 0
    assert 0 < a["prison.initial_occupancy"] and 0 < a["gangs.initial_member_control"]


def test_the_command_line_defaults_are_the_modules():
    from abm import cli

    assert (cli.SETTLE_YEARS, cli.SETTLE_FROM, cli.SETTLE_PASSES) == (
        settling.YEARS, settling.READ_FROM_YEAR, settling.PASSES)


def test_the_reading_window_must_lie_within_the_run(classroom):
    with pytest.raises(ValueError, match="reading window"):
        settling.read_stocks(classroom, seed=1, years=3, read_from=3)


def test_abm_settle_writes_the_ensemble_with_its_stocks_the_same_on_any_number_of_workers(tmp_path):
    sets = tmp_path / "sets.csv"
    sets.write_text("residents.trust_abuse,youth.join_peer\n0.0,3.0\n0.03,2.0\n0.0,3.0\n")
    outs = {}
    for workers in (1, 2):
        out = tmp_path / f"settled-{workers}.csv"
        proc = abm("settle", "classroom", str(sets), "--out", str(out), "--years", "3", "--read-from", "1",
                   "--passes", "1", "--workers", str(workers), "--quiet")
        assert proc.returncode == 0, proc.stderr
        outs[workers] = out
    assert outs[1].read_bytes() == outs[2].read_bytes()
    got = rows(outs[1])
    assert list(got[0]) == ["residents.trust_abuse", "youth.join_peer", *settling.STOCKS]
    assert [r["residents.trust_abuse"] for r in got] == ["0.0", "0.03", "0.0"]
    assert got[0] == got[2]  # the same set, read once
    assert float(got[0]["residents.trust_start"]) > float(got[1]["residents.trust_start"])
    manifest = json.loads((tmp_path / "settled-1.csv.json").read_text())
    assert manifest["seed"] == 1 and manifest["distinct_sets"] == 2 and manifest["passes"] == 1
    assert manifest["stocks"] == list(settling.STOCKS)

    # Never overwritten without --force; with it, the same file again.
    again = abm("settle", "classroom", str(sets), "--out", str(outs[1]), "--years", "3", "--read-from", "1",
                "--passes", "1", "--quiet")
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    forced = abm("settle", "classroom", str(sets), "--out", str(outs[1]), "--years", "3", "--read-from", "1",
                 "--passes", "1", "--quiet", "--force")
    assert forced.returncode == 0 and outs[1].read_bytes() == outs[2].read_bytes()


def test_a_settled_ensemble_feeds_an_experiment(tmp_path):
    """The settled file is an ensemble like any other: its stocks are parameters."""
    with (tmp_path / "s.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["residents.trust_abuse", *settling.STOCKS])
        writer.writerow([0.0, 0.7, 0.8, 0.6, 0.3, 0.04, 0.9])
    from abm.sweep.ensemble import read_ensemble

    names, sets = read_ensemble(tmp_path / "s.csv")
    assert names[1:] == list(settling.STOCKS) and sets[0]["residents.trust_start"] == 0.7


@pytest.mark.parametrize(("args", "needle"), [
    (["--years", "3", "--read-from", "3"], "--read-from 3: must be before the run's end"),
    (["--sets", "9"], "holds 2 sets"),
    (["--passes", "0"], "--passes"),
])
def test_abm_settle_refuses_bad_options_in_one_line(tmp_path, args, needle):
    sets = tmp_path / "sets.csv"
    sets.write_text("residents.trust_abuse\n0.0\n0.03\n")
    proc = abm("settle", "classroom", str(sets), "--out", str(tmp_path / "o.csv"), *args)
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o.csv").exists()


def test_abm_settle_names_the_file_and_line_of_a_bad_set(tmp_path):
    sets = tmp_path / "sets.csv"
    sets.write_text("residents.trust_abuse\n0.0\n-1\n")
    proc = abm("settle", "classroom", str(sets), "--out", str(tmp_path / "o.csv"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "sets.csv: set 1 (line 3)" in proc.stderr and "residents.trust_abuse" in proc.stderr


def test_the_shipped_settled_sets_are_those_of_the_shipped_posterior():
    """A posterior fitted again must be settled again: the settled file names the
    posterior it was read from, by hash, and holds its sets unchanged."""
    import hashlib

    from abm.sweep.ensemble import evenly_spaced, read_ensemble

    from .conftest import CONFIGS

    folder = CONFIGS / "posterior" / "district"
    manifest = json.loads((folder / "settled.csv.json").read_text())
    assert manifest["ensemble_sha256"] == hashlib.sha256((folder / "posterior.csv").read_bytes()).hexdigest()
    names, posterior = read_ensemble(folder / "posterior.csv")
    settled_names, settled = read_ensemble(folder / "settled.csv")
    assert settled_names == [*names, *settling.STOCKS]
    chosen = evenly_spaced(posterior, manifest["sets"])
    assert [{k: s[k] for k in names} for s in settled] == chosen


def test_a_stopped_settle_writes_nothing_and_says_so(tmp_path):
    import signal
    import subprocess
    import sys

    from .conftest import ROOT

    sets = tmp_path / "sets.csv"
    sets.write_text("residents.trust_abuse\n0.0\n0.03\n")
    out = tmp_path / "o.csv"
    proc = subprocess.Popen([sys.executable, "-m", "abm", "settle", "classroom", str(sets), "--out", str(out),
                             "--years", "40", "--workers", "2", "--quiet"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert "reading the settled stocks" in proc.stdout.readline()  # the runs have started
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "terminated" in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "o.csv.json").exists()
