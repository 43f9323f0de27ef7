"""The priors of a calibration (configs/priors.toml, abm.priors): which parameters are
fitted, over what range; a bad file is one line naming the file and the field."""

import pytest

from abm import cli, parameters, priors
from abm.schema import ConfigError

from .conftest import CONFIGS, ROOT

GOOD = (CONFIGS / "priors.toml").read_text(encoding="utf-8")


def test_the_bundled_priors_are_weak_or_assumed_mechanisms_inside_their_schema_ranges():
    found = priors.load(CONFIGS / "priors.toml")
    assert 6 <= len(found) <= 12
    for p in found:
        assert p.grade in ("weak", "assumption"), p.name
        assert not p.name.startswith(("policies.", "run.")), p.name
        low, high, _, _ = parameters.bounds(parameters.field(p.name))
        assert low <= p.low < p.high <= high, p.name
        assert p.why


def test_a_prior_without_low_and_high_spans_the_schema_range(tmp_path):
    path = tmp_path / "priors.toml"
    path.write_text('[[fit]]\nparameter = "youth.exit_organisation"\nwhy = "gang_exit"\n', encoding="utf-8")
    (p,) = priors.load(path)
    assert (p.low, p.high, p.schema_range, p.grade) == (0.0, 1.0, "[0, 1]", "assumption")
    assert priors.inside((p,), {"youth.exit_organisation": 0.3})
    assert not priors.inside((p,), {"youth.exit_organisation": 1.5})


FIT = '[[fit]]\nparameter = "{name}"\n{extra}why = "a reason"\n'
BAD = {
    "unknown parameter": (FIT.format(name="youth.nonesuch", extra=""), "fit.0.parameter", "no such parameter"),
    "policy parameter": (FIT.format(name="policies.cbt.start_week", extra=""), "fit.0.parameter",
                         "never fitted"),
    "run parameter": (FIT.format(name="run.steps", extra=""), "fit.0.parameter", "never fitted"),
    "whole number": (FIT.format(name="violence.reach", extra=""), "fit.0.parameter", "only decimal"),
    "below the schema": (FIT.format(name="residents.trust_abuse", extra="low = -0.5\n"), "fit.0.low",
                         "below the range of residents.trust_abuse, [0, 1]"),
    "above the schema": (FIT.format(name="residents.trust_abuse", extra="high = 2.0\n"), "fit.0.high",
                         "above the range"),
    "empty range": (FIT.format(name="residents.trust_abuse", extra="low = 0.5\nhigh = 0.2\n"), "fit.0.low",
                    "must be below high"),
    "twice": (FIT.format(name="residents.trust_abuse", extra="") * 2, "fit", "fitted twice"),
    "no reason": ('[[fit]]\nparameter = "residents.trust_abuse"\n', "fit.0.why", "required"),
    "unknown key": (FIT.format(name="residents.trust_abuse", extra="prior = \"normal\"\n"), "fit.0", "prior"),
    "no fit": ("", "fit", "required"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_priors_file_is_one_line_naming_the_file_and_the_field(case, tmp_path):
    text, field, expected = BAD[case]
    path = tmp_path / "priors.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        priors.load(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    assert field in message and expected in message, message


def test_a_parameter_with_an_open_range_needs_low_and_high(tmp_path, monkeypatch):
    path = tmp_path / "priors.toml"
    path.write_text(FIT.format(name="residents.victim_memory_weeks", extra="low = 10.0\n"), encoding="utf-8")
    assert priors.load(path)[0].high == 520  # (0, 520]: closed above, so low alone is enough
    # No parameter of the schema has an open range today; one that had would need both ends.
    monkeypatch.setattr(parameters, "bounds", lambda info: (0.0, None, False, False))
    with pytest.raises(ConfigError, match="fit.0.parameter.*is open; give low and high"):
        priors.load(path)


def test_calibrate_abc_refuses_a_bad_priors_file_before_running(tmp_path, capsys):
    path = tmp_path / "priors.toml"
    path.write_text(FIT.format(name="residents.trust_abuse", extra="low = -1.0\n"), encoding="utf-8")
    status = cli.main(["calibrate", "classroom", "--abc", "--priors", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1, err
    assert str(path) in err and "fit.0.low" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, expected", [
    (["--population", "8"], "--population: only with --abc"),
    (["--out", "x"], "--out: only with --abc"),
    (["--abc", "--seeds", "3"], "--seeds: not with --abc"),
])
def test_calibrate_options_of_the_fit_need_abc(argv, expected, capsys):
    status = cli.main(["calibrate", "classroom", *argv])
    err = capsys.readouterr().err.strip()
    assert status == 2 and expected in err and len(err.splitlines()) == 1, err


def test_docs_calibration_lists_the_bundled_priors():
    text = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    for p in priors.load(CONFIGS / "priors.toml"):
        row = next((line for line in text.splitlines() if line.startswith(f"| `{p.name}` |")), None)
        assert row is not None, f"docs/calibration.md: no row for {p.name}"
        assert f"| {p.low:g} to {p.high:g} | {p.grade} |" in row, f"docs/calibration.md: {row}"


def test_calibrate_abc_refuses_a_prior_end_the_scenario_does_not_accept(tmp_path, capsys):
    path = tmp_path / "priors.toml"
    path.write_text(FIT.format(name="city.poor_ses_min", extra="low = 0.0\nhigh = 0.9\n"), encoding="utf-8")
    status = cli.main(["calibrate", "classroom", "--abc", "--priors", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1, err
    assert f"{path}: city.poor_ses_min = 0.9" in err and "must not exceed city.poor_ses_max" in err
