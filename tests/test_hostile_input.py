"""Hostile input: values that would hang or crash a run, wrong types, nonsense timing,
names that are paths, files that are not files, and runs that go wrong.

Each case goes through the command line in this process (``abm.cli.main``) and must
end in exit status 2 with one short line on stderr and no traceback, or, for a run
that goes wrong, exit status 1 and one line. The property-based test at the end throws
random values at every numeric field of the schema.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abm import footprint, parameters
from abm.cli import main
from abm.config import MAX_FILE_BYTES, load_scenario, parse_overrides
from abm.metrics import NonFiniteMeasure, undefined_window_measures
from abm.schema import ConfigError
from abm.streams import MAX_RATE, binomial, poisson
from abm.sweep.experiment import load_experiment

from .conftest import CONFIGS

SHORT = ["--steps", "8", "--seed", "1", "--quiet", "--set", "run.burn_in=0"]


def refused(capsys, *argv: str, status: int = 2) -> str:
    """Run ``abm argv``; assert the exit status and one short line on stderr; the line."""
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code == status, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err and len(err) < 1000, err
    assert lines[0].startswith("abm: error: ")
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- every numeric field finite, in a range a run can honour ----------------------------

@pytest.mark.parametrize("setting, needle", [
    ("violence.gang_rate=inf", "violence.gang_rate: must be a finite number"),
    ("violence.gang_rate=nan", "violence.gang_rate: must be a finite number"),
    ("violence.gang_rate=-inf", "violence.gang_rate: must be a finite number"),
    ("violence.gang_rate=1e12", "violence.gang_rate: must be <= 10"),
    ("violence.gang_rate=1e20", "violence.gang_rate: must be <= 10"),
    ("police.contacts_per_officer=1e15", "police.contacts_per_officer: must be <= 100"),
    ("gangs.market_income=inf", "gangs.market_income: must be a finite number"),
    ("population.youth_share=1.0", "population.youth_share: must be <= 0.9"),
    ("city.width=1e30", "city.width: a whole number far too large"),
    ("policies.cbt.start=1e400", "policies.cbt.start: must be a finite number"),
])
def test_values_a_run_cannot_honour_are_refused(capsys, tmp_path, setting, needle):
    line = refused(capsys, "run", "classroom", *SHORT, "--out", str(tmp_path / "out"), "--set", setting)
    assert needle in line
    assert not (tmp_path / "out").exists()


def test_infinity_in_a_file_and_in_an_experiment_is_refused(capsys, tmp_path):
    scenario = write(tmp_path / "s.toml", f'base = "{CONFIGS / "classroom.toml"}"\n[violence]\ngang_rate = inf\n')
    assert "s.toml: violence.gang_rate: must be a finite number" in refused(capsys, "validate", str(scenario))
    exp = write(tmp_path / "e.toml", f'name = "e"\nscenario = "{CONFIGS / "classroom.toml"}"\n'
                '[design]\nmethod = "lhs"\n[design.parameters]\n"youth.join_peer" = { low = 1.0, high = inf }\n'
                '[[arms]]\nname = "baseline"\n')
    line = refused(capsys, "experiment", str(exp), "--out", str(tmp_path / "o"))
    assert "e.toml" in line and "high: must be a finite number" in line
    exp = write(tmp_path / "f.toml", f'name = "f"\nscenario = "{CONFIGS / "classroom.toml"}"\n'
                'set = { "violence.lethality" = nan }\n[[arms]]\nname = "baseline"\n')
    assert "violence.lethality: must be a finite number" in refused(capsys, "experiment", str(exp))
    assert not (tmp_path / "o").exists()


def test_every_numeric_field_has_a_finite_range():
    for p in parameters.parameters():
        if p.range != "true/false":
            assert "inf" not in p.range, p.name


def test_the_count_samplers_refuse_rates_they_cannot_draw_at():
    u = np.full(3, 0.5)
    for bad in (np.inf, np.nan, -1.0, MAX_RATE * 10):
        with pytest.raises(ValueError, match="poisson: cannot draw a count at rate"):
            poisson(u, np.array([1.0, bad, 2.0]))
    with pytest.raises(ValueError, match="binomial: cannot draw a count at chance"):
        binomial(u, np.array([3, 3, 3]), np.nan)
    with pytest.raises(ValueError, match="binomial: cannot draw a count at trials"):
        binomial(u, np.array([3, -1, 3]), 0.5)
    # Large rates are still drawn, in blocks, the same as all at once.
    rates = np.linspace(31, 20_000, 500)
    u = np.random.default_rng(1).random(500)
    assert np.array_equal(poisson(u, rates)[::7], poisson(u[::7], rates[::7]))


# -- booleans are not numbers ----------------------------------------------------------

def test_booleans_and_text_are_not_numbers(capsys, tmp_path):
    for text, needle in (("officers = true", "must be a number, not true/false"),
                         ('officers = "300"', "must be a number, not text")):
        path = write(tmp_path / "s.toml", f'base = "{CONFIGS / "classroom.toml"}"\n[police]\n{text}\n')
        assert f"police.officers: {needle}" in refused(capsys, "validate", str(path))
    assert "must be a number, not true/false" in refused(capsys, "validate", "classroom", "--set",
                                                         "police.officers=false")
    assert "must be true or false" in refused(capsys, "validate", "classroom", "--set",
                                              "policies.cbt.include_members=1")
    # From the command line a number arrives as text and is read as TOML: it works.
    assert load_scenario("classroom", parse_overrides(["police.officers=300"])).police.officers == 300
    # numpy's numbers are numbers (a workbench passes them), numpy's booleans are not.
    base = load_scenario("classroom")
    assert base.replace(**{"police.officers": np.int64(30), "policies.cbt.include_members": np.bool_(False)})
    with pytest.raises(ConfigError, match="police.officers: must be a number, not true/false"):
        base.replace(**{"police.officers": np.bool_(True)})


# -- memory --------------------------------------------------------------------------

def test_a_scenario_too_large_for_the_machine_is_refused_with_the_estimate(capsys, tmp_path):
    out = tmp_path / "out"
    line = refused(capsys, "run", "classroom", *SHORT, "--out", str(out), "--set", "city.width=1000",
                   "--set", "city.height=1000")
    assert "needs about" in line and "GiB of memory" in line and "available" in line
    assert not out.exists()
    assert "GiB" in refused(capsys, "validate", "classroom", "--set", "city.width=1000", "--set", "city.height=1000")


def test_validate_prints_the_estimate(capsys):
    assert main(["validate", "classroom"]) == 0
    assert "a run needs about 0.19 GiB of memory" in capsys.readouterr().out


def test_the_estimate_follows_the_measured_presets():
    # Peak RSS measured with `abm bench` (see abm.footprint): within 15%.
    for name, measured_mib in (("classroom", 188), ("district", 240), ("city", 722)):
        estimated = footprint.estimate(load_scenario(name)).memory / 2**20
        assert abs(estimated - measured_mib) < 0.15 * measured_mib, name


def test_an_experiment_checks_memory_for_all_its_workers(capsys, monkeypatch, tmp_path):
    need = load_experiment(CONFIGS.parent / "experiments" / "smoke.toml").footprint().memory
    monkeypatch.setattr(footprint, "available_memory", lambda: int(need * 1.5))
    line = refused(capsys, "experiment", "smoke", "--workers", "2", "--out", str(tmp_path / "o"))
    assert "the largest run: needs about" in line and "x 2 runs at once" in line and "--workers 1 or fewer" in line
    assert not (tmp_path / "o").exists()


# -- no NaN or infinity in an output ----------------------------------------------------

def test_a_run_that_produces_nan_stops_naming_the_step_and_the_measure(capsys, tmp_path, monkeypatch):
    from abm import residents

    real = residents.report_probability
    monkeypatch.setattr(residents, "report_probability", lambda *a: real(*a) * np.nan)
    out = tmp_path / "out"
    line = refused(capsys, "run", "classroom", *SHORT, "--out", str(out), status=1)
    assert "step 1: reporting_rate is nan" in line
    assert not (out / "summary.csv").exists()


def test_undefined_measures_may_be_nan_others_may_not(classroom):
    from abm.model import CityModel

    model = CityModel(classroom.replace(**{"run.steps": 5, "run.burn_in": 0}), 1)
    model.step()
    assert math.isnan(model.ledger.rows[-1]["clearance_rate"])  # no homicide yet: no value, allowed
    model.residents.trust[:] = np.nan
    with pytest.raises(NonFiniteMeasure, match="step 2: trust_mean is nan"):
        model.step()


# -- policies' timing, windows, names ----------------------------------------------------

@pytest.mark.parametrize("text, needle", [
    ("[policies.cbt]\nstart = 200\nend = 150\n", "policies.cbt.end: the policy would end at step 150, before it starts"),
    ("[policies.cbt]\nend = 50\n", "policies.cbt.end: the policy would end at step 50, before it starts"),
    ("[policies.cbt]\nstart = 624\n", "policies.cbt.start: the policy would act from the step after 624, but the run "
                                      "ends at step 624"),
])
def test_a_policy_outside_the_run_is_refused_naming_its_file(capsys, tmp_path, text, needle):
    policy = write(tmp_path / "late.toml", text)
    line = refused(capsys, "validate", "classroom", "--policy", str(policy))
    assert line.startswith(f"abm: error: {policy}: ") and needle in line


def test_a_policy_may_start_late_in_a_longer_run(capsys, tmp_path):
    policy = write(tmp_path / "late.toml", "[policies.cbt]\nstart = 700\n")
    assert main(["validate", "classroom", "--policy", str(policy), "--set", "run.steps=800"]) == 0
    assert "abm: error" in refused(capsys, "validate", "classroom", "--policy", str(policy))


def experiment(tmp_path: Path, text: str, name: str = "e.toml") -> Path:
    return write(tmp_path / name, f'scenario = "{CONFIGS / "classroom.toml"}"\n'
                                  f'policy_dir = "{CONFIGS / "policies"}"\n' + text)


def test_windows_longer_than_the_measured_run_are_refused(capsys, tmp_path):
    path = experiment(tmp_path, 'name = "w"\nset = { "run.steps" = 156, "run.burn_in" = 52 }\n'
                                "[windows]\nshort_years = 1\nlong_years = 3\n[[arms]]\nname = \"baseline\"\n")
    line = refused(capsys, "experiment", str(path), "--out", str(tmp_path / "o"))
    assert "windows.long_years: 3 years (156 weeks) is longer than the 104 weeks after the policies start" in line
    assert "at most 2 years" in line
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command, text, needle", [
    ("validate", 'name = "../../x"\n', "name: must be letters, digits and _ - . + only"),
    ("validate", 'name = ".hidden"\n', "not starting with a dot"),
    ("validate", 'name = "a/b"\n', "name: must be letters"),
])
def test_a_scenario_name_that_is_a_path_is_refused(capsys, tmp_path, command, text, needle):
    path = write(tmp_path / "s.toml", f'base = "{CONFIGS / "classroom.toml"}"\n' + text)
    assert needle in refused(capsys, command, str(path))


def test_a_name_that_is_a_path_never_writes_outside_results(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / "s.toml", f'base = "{CONFIGS / "classroom.toml"}"\nname = "../../x"\n')
    refused(capsys, "run", str(path), *SHORT)
    exp = experiment(tmp_path, 'name = "../x"\n[[arms]]\nname = "baseline"\n')
    assert "name: must be letters" in refused(capsys, "experiment", str(exp))
    exp = experiment(tmp_path, 'name = "x"\n[[arms]]\nname = "baseline"\n[[arms]]\nname = "../cbt"\n', "f.toml")
    assert "arms.1.name: must be letters" in refused(capsys, "experiment", str(exp))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.toml", "f.toml", "s.toml"]


# -- files as input ------------------------------------------------------------------------

def refused_in_time(capsys, *argv: str, seconds: float = 30) -> str:
    """:func:`refused`, failing rather than hanging if the command blocks."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("code", main(list(argv))), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"abm {' '.join(argv)} blocked"
    err = capsys.readouterr().err
    assert result["code"] == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


def test_devices_and_pipes_are_refused_without_reading_them(capsys, tmp_path):
    assert "/dev/zero: not a regular file" in refused_in_time(capsys, "validate", "/dev/zero")
    base = write(tmp_path / "s.toml", 'base = "/dev/zero"\n')
    assert "base: /dev/zero is not a regular file" in refused_in_time(capsys, "validate", str(base))
    assert "/dev/zero: not a regular file" in refused_in_time(capsys, "experiment", "/dev/zero")
    assert "not a regular file" in refused_in_time(capsys, "validate", "classroom", "--policy", "/dev/zero")
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.toml"
        os.mkfifo(fifo)
        assert "fifo.toml: not a regular file" in refused_in_time(capsys, "validate", str(fifo))
        base = write(tmp_path / "t.toml", f'base = "{fifo.name}"\n')
        assert "not a regular file" in refused_in_time(capsys, "validate", str(base))


def test_files_over_a_megabyte_are_refused(capsys, tmp_path):
    big = write(tmp_path / "big.toml", "# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    assert "big.toml: larger than 1 MB" in refused(capsys, "validate", str(big))
    assert "big.toml: larger than 1 MB" in refused(capsys, "experiment", str(big))
    base = write(tmp_path / "s.toml", 'base = "big.toml"\n')
    assert "big.toml: larger than 1 MB" in refused(capsys, "validate", str(base))


def test_a_hundred_thousand_unknown_keys_give_one_short_line(capsys, tmp_path):
    keys = "\n".join(f"k{i}=1" for i in range(100_000))
    path = write(tmp_path / "many.toml", f"[police]\n{keys}\n")
    line = refused(capsys, "validate", str(path))
    assert "police.k0, police.k1, police.k2, police.k3, police.k4 and 99,995 more: unknown keys" in line
    assert "valid keys: officers" in line and len(line) < 600
    path = write(tmp_path / "top.toml", keys + "\n")
    assert "and 99,995 more: unknown keys" in refused(capsys, "validate", str(path))


def test_many_problems_are_counted_not_listed(tmp_path):
    path = write(tmp_path / "s.toml", "[police]\n" + "".join(f"{k} = -1\n" for k in (
        "officers", "hotspot_share", "presence_on_block", "presence_spillover", "professionalism",
        "contacts_per_officer", "member_detection")))
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    assert str(info.value).endswith("... and 2 more problems")


# -- every numeric field, random values --------------------------------------------------

NUMERIC = [p for p in parameters.parameters() if p.range != "true/false"]


def bounds(p: parameters.Parameter) -> list[float]:
    """The ends of a field's range, and just beyond them."""
    low, high = (part.strip("[]() ") for part in p.range.split(","))
    out = []
    for end in (low, high):
        value = float(end)
        out += [value, value - 1, value + 1, value * 1.0001 + 1e-9]
    return out


def toml(value) -> str:
    """A value as typed after --set KEY=."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value) if value.isidentifier() else value  # quoted text, or raw text
    return str(value)


def values_for(p: parameters.Parameter):
    low, high = bounds(p)[0], bounds(p)[4]
    return st.one_of(
        st.floats(low, high),  # in range (whole numbers for a whole-number field)
        st.integers(math.ceil(low), max(math.ceil(low), math.floor(high))),
        st.sampled_from(bounds(p)),
        st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -1e308, 2**70, -(2**70), 0, -1, 1, 0.5]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(2**64), 2**64),
        st.booleans(),
        st.sampled_from(["3", "many", "1e3", "[1, 2]", "{a = 1}"]),
    )


@st.composite
def field_and_value(draw):
    p = draw(st.sampled_from(NUMERIC))
    return p, draw(values_for(p))


def check_summary(path: Path) -> None:
    undefined = undefined_window_measures()
    with path.open(newline="") as handle:
        row = next(csv.DictReader(handle))
    for key, text in row.items():
        if key in ("scenario", "scenario_hash"):  # text (a hash may read as a number)
            continue
        try:
            value = float(text)
        except ValueError:
            continue
        assert not math.isinf(value), (key, text)
        assert not math.isnan(value) or key in undefined, (key, text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=field_and_value())
def test_random_values_for_every_numeric_field_are_refused_in_one_line_or_run_cleanly(case, capsys, tmp_path):
    p, value = case
    setting = f"{p.name}={toml(value)}"
    # A fresh folder for every example (tmp_path is shared by them): each one runs.
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "run"
    try:
        scenario = load_scenario("classroom", parse_overrides(["run.burn_in=0", setting]))
        big = footprint.estimate(scenario.replace(**{"run.steps": 8})).seconds > 5
    except ConfigError:
        big = False
    # Scenarios too large to run in a test (millions of people) are validated only.
    argv = ["validate", "classroom", "--set", "run.burn_in=0"] if big else \
        ["run", "classroom", *SHORT, "--out", str(out)]
    code = main([*argv, "--set", setting])
    err = capsys.readouterr().err
    assert code in (0, 2), (setting, err)
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and len(err) < 1000, (setting, err)
    elif not big:
        check_summary(out / "summary.csv")
