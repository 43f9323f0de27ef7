"""Calibration targets as data: the bundled file validates, a bad file is refused in
one line naming the file and the field, the pattern measures count what they say, and
``abm calibrate`` reports every target."""

from __future__ import annotations

import math

import pytest

from abm import cli, measures, targets
from abm.calibration import format_report, report, run_seeds
from abm.metrics import calibration, pattern_measures, retaliations
from abm.schema import ConfigError
from abm.violence import HomicideKind, VictimType

from .conftest import CONFIGS

GOOD = (CONFIGS / "targets.toml").read_text(encoding="utf-8")


def test_the_bundled_targets_load_and_cover_the_patterns_of_the_baseline():
    found = targets.load(CONFIGS / "targets.toml")
    assert found == targets.bundled()
    assert len(found) >= 10
    assert len({t.name for t in found}) == len(found)
    assert {t.measure for t in found} >= {
        "homicide_rate_per_100k", "conviction_rate", "homicide_share_top5pct_blocks", "youth_gang_share",
        "gang_exit_per_member_year", "membership_years", "incarceration_per_100k", "reporting_rate", "trust_mean",
        "retaliation_share", "retaliation_delay_weeks", "victims_bystander_resident_share",
        "police_killings_per_homicide", "arrests_non_member_share",
    }
    for t in found:
        assert t.tolerance > 0 and t.source.author and t.source.place and t.source.year


def test_distance_is_zero_inside_and_met_within_the_tolerance():
    t = next(t for t in targets.bundled() if t.name == "homicide_level")  # 40-140, tolerance 10
    assert t.distance(90) == 0 and t.met(90)
    assert t.distance(145) == pytest.approx(5) and t.met(145)
    assert t.distance(30) == pytest.approx(10) and t.met(30)
    assert not t.met(151) and not t.met(float("nan")) and math.isinf(t.distance(None))
    point = next(t for t in targets.bundled() if t.value is not None)
    assert point.label == f"{point.value:g}" and point.distance(point.value) == 0


BAD = {
    "negative tolerance": (("tolerance = 10.0", "tolerance = -1.0", 1), "target.0.tolerance: must be > 0"),
    "unknown measure": (('measure = "homicide_rate_per_100k"', 'measure = "homicide_rate"', 1),
                        "target.0.measure: no measure 'homicide_rate'"),
    "value and range": (("low = 40.0", "value = 90.0\nlow = 40.0", 1), "target.0.value: give value, or low and high"),
    "range reversed": (("high = 140.0", "high = 20.0", 1), "target.0.low: 40 must not exceed high"),
    "no source": (('[target.source]\nauthor = "Muggah"\n', '[target.other]\nauthor = "Muggah"\n', 1),
                  "target.0.other"),
    "text for a number": (("tolerance = 10.0", 'tolerance = "ten"', 1), "target.0.tolerance: must be a number"),
    "two of a name": (('name = "convictions_per_homicide"', 'name = "homicide_level"', 1),
                      "target: two targets are named 'homicide_level'"),
    "unknown solidity": (('solidity = "moderate"', 'solidity = "solid"', 1), "target.0.solidity"),
    "not TOML": (("[[target]]", "[[target", 1), "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_targets_file_is_one_line_naming_the_file_and_the_field(case, tmp_path):
    (old, new, count), expected = BAD[case]
    path = tmp_path / "targets.toml"
    path.write_text(GOOD.replace(old, new, count), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        targets.load(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert expected in message, message


def test_calibrate_refuses_a_bad_targets_file_before_running(tmp_path, capsys):
    path = tmp_path / "targets.toml"
    path.write_text(GOOD.replace("tolerance = 10.0", "tolerance = 0", 1), encoding="utf-8")
    status = cli.main(["calibrate", "classroom", "--seeds", "1", "--targets", str(path)])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1
    assert str(path) in err and "target.0.tolerance" in err


def event(step, perp_gang, victim_gang, kind=HomicideKind.GANG):
    victim = VictimType.RIVAL_MEMBER if victim_gang >= 0 else VictimType.NON_MEMBER_YOUTH
    return {"step": step, "kind": kind, "perpetrator_gang": perp_gang, "victim_gang": victim_gang,
            "victim_type": victim}


def test_a_retaliation_answers_the_oldest_unanswered_killing_of_its_gang_within_a_year():
    window = measures.RETALIATION_WINDOW_WEEKS
    events = [
        event(1, 0, 1),               # 0 kills a member of 1: 1 owes 0 one
        event(1, 1, 0),               # same week: not an answer, but 0 now owes 1 one
        event(5, 1, 0),               # answers week 1 (delay 4)
        event(8, 2, -1, HomicideKind.YOUTH),  # not between gangs
        event(9, 0, 1),               # answers the killing of week 1 by 1 (delay 8)
        event(9, 0, -1, HomicideKind.POLICE),  # killings by police are not homicides here
        event(12 + window, 0, 1),     # what 1 owes 0 (week 5) is older than the window: no answer
    ]
    found = retaliations(events, 1, 12 + window)
    assert found["retaliation_share"] == pytest.approx(2 / 6)
    assert found["retaliation_delay_weeks"] == pytest.approx(6)
    # Only answers inside the window count; killings before it still count as provocations.
    later = retaliations(events, 6, 12 + window)
    assert later["retaliation_share"] == pytest.approx(1 / 3) and later["retaliation_delay_weeks"] == 8
    assert math.isnan(retaliations([], 1, 10)["retaliation_share"])


def test_pattern_measures_from_the_time_series():
    rows = [{"step": s, "gang_members": 100, "youths": 2000, "desisted": 1, "recruits": 1, "police_killings": 0,
             "homicides": 2} for s in range(1, 105)]
    rows[-1]["police_killings"] = 1
    found = pattern_measures(rows, [], 53, 104)  # the second year
    assert found["youth_gang_share"] == pytest.approx(0.05)
    assert found["gang_exit_per_member_year"] == pytest.approx(52 / 100)
    assert found["membership_years"] == pytest.approx(100 / 52)
    assert found["police_killings_per_homicide"] == pytest.approx(1 / 104)
    assert set(found) == {m.name for m in measures.PATTERNS}


def test_calibrate_reports_every_target_with_mean_interval_distance_and_whether_met(tiny):
    short = tiny.replace(**{"run.steps": 60, "run.burn_in": 10})
    measured = run_seeds(short, [1, 2], workers=1)
    chosen = targets.bundled()
    rows = report(measured, chosen)
    by_name = {r["name"]: r for r in rows if r["name"]}
    assert list(by_name) == [t.name for t in chosen]
    for t in chosen:
        r = by_name[t.name]
        assert r["metric"] == t.measure and {"mean", "ci_low", "ci_high", "distance", "met"} <= set(r)
        assert r["met"] == t.met(r["mean"])
    text = format_report(short, [1, 2], rows)
    for t in chosen:
        assert t.name in text and t.measure in text
    assert f"of {len(chosen)}" in text
    # The per-run comparison (a run's manifest) has every target too.
    assert [r["name"] for r in calibration(measured[0])] == [t.name for t in chosen]


def test_abm_calibrate_prints_every_target(capsys):
    argv = ["calibrate", "classroom", "--seeds", "1", "--workers", "1", "--steps", "60", "--set", "run.burn_in=10"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "targets met: " in out and f"of {len(targets.bundled())}" in out
    for t in targets.bundled():
        assert t.name in out
