"""The model's numbers, pinned: fixed-seed run summaries stored in tests/baselines/.

Any change to a mechanism, to the order of the weekly step or to a default parameter
moves these numbers and fails here, whatever the direction tests say. When a change of
numbers is meant, rewrite the files with::

    pytest tests/test_baselines.py --update-baselines

and say in the commit why the numbers moved. Floats are compared to 1e-9 relative, so
that the files do not depend on the last bits of a platform's floating point.
"""

from __future__ import annotations

import json
import math

import pytest

from abm import measures
from abm.config import load_scenario
from abm.simulate import simulate

from .conftest import CONFIGS, ROOT

BASELINES = ROOT / "tests" / "baselines"
ALL_POLICIES = ["focused_deterrence", "cbt", "community_policing", "mano_dura"]

# name: (preset, seed, policy files, weeks or None for the preset's own run)
CASES = {
    "classroom_seed1": ("classroom", 1, [], None),
    "classroom_seed2": ("classroom", 2, [], None),
    "classroom_seed3": ("classroom", 3, [], None),
    "classroom_all_policies_seed1": ("classroom", 1, ALL_POLICIES, None),
}
SLOW_CASES = {
    "district_seed1": ("district", 1, [], 312),
    "district_all_policies_seed1": ("district", 1, ALL_POLICIES, 312),
}


def fingerprint(preset: str, seed: int, policies: list[str], steps: int | None) -> dict:
    """What a run is pinned by: its summary row and yearly totals of its time series."""
    scenario = load_scenario(
        CONFIGS / f"{preset}.toml", layers=[CONFIGS / "policies" / f"{p}.toml" for p in policies]
    )
    result = simulate(scenario, seed, steps=steps)
    summary = pinned({k: v for k, v in result.summary.items() if k != "scenario_hash"}, policies)
    yearly: dict[str, list] = {}
    for column in ("homicides", "recruits", "arrests", "confrontations", "police_killings", "desisted"):
        totals: list[int] = []
        for row in result.timeseries:
            year = (row["step"] - 1) // 52
            if year == len(totals):
                totals.append(0)
            totals[year] += int(row[column])
        yearly[column] = totals
    last = result.timeseries[-1]
    final = {k: last[k] for k in ("gang_members", "incarcerated", "trust_mean", "collective_efficacy_mean",
                                  "organisation_mean", "contested_blocks", "killed_total")}
    return {"summary": summary, "yearly": yearly, "final": final, "events": len(result.events)}


def pinned(summary: dict, policies: list[str]) -> dict:
    """The summary without the window measures of policies the case does not switch on:
    a policy added later gives every run new columns, which are not the model's numbers
    moving (each policy's zero-coverage test shows that it leaves the baseline alone)."""
    off = {m.name for m in measures.window_measures() if m.owner and m.owner not in policies}
    return {k: v for k, v in summary.items() if k not in off}


def differences(expected, actual, path: str = "") -> list[str]:
    """Where two fingerprints differ (floats to 1e-9 relative; NaN equals NaN)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            if key not in expected or key not in actual:
                out.append(f"{path}{key}: only in {'expected' if key in expected else 'actual'}")
            else:
                out += differences(expected[key], actual[key], f"{path}{key}.")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path[:-1]}: {expected} != {actual}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for d in differences(e, a, f"{path}{i}.")]
    if isinstance(expected, float) or isinstance(actual, float):
        e, a = float(expected if expected is not None else "nan"), float(actual if actual is not None else "nan")
        if (math.isnan(e) and math.isnan(a)) or math.isclose(e, a, rel_tol=1e-9, abs_tol=1e-12):
            return []
        return [f"{path[:-1]}: expected {e!r}, got {a!r}"]
    return [] if expected == actual else [f"{path[:-1]}: expected {expected!r}, got {actual!r}"]


def check(name: str, case: tuple, update: bool) -> None:
    path = BASELINES / f"{name}.json"
    actual = json.loads(json.dumps(fingerprint(*case), allow_nan=True))
    if update:
        BASELINES.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, indent=1, sort_keys=True, allow_nan=True) + "\n")
        return
    assert path.exists(), f"{path.name} missing: run pytest {__file__} --update-baselines"
    expected = json.loads(path.read_text())
    expected["summary"] = pinned(expected["summary"], case[2])
    diff = differences(expected, actual)
    assert not diff, f"{name} moved ({len(diff)} values), e.g.:\n  " + "\n  ".join(diff[:12])


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixed_seed_runs_match_their_baselines(name, update_baselines):
    check(name, CASES[name], update_baselines)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_CASES))
def test_fixed_seed_district_runs_match_their_baselines(name, update_baselines):
    check(name, SLOW_CASES[name], update_baselines)


def test_the_comparison_catches_a_moved_number():
    base = {"summary": {"homicides": 10, "trust_mean": 0.5, "fd_credibility": float("nan")}, "yearly": {"a": [1, 2]}}
    assert differences(base, base) == []
    assert differences(base, {**base, "summary": {**base["summary"], "trust_mean": 0.5 + 1e-6}})
    assert differences(base, {**base, "yearly": {"a": [1, 3]}})
    assert differences(base, {**base, "summary": {**base["summary"], "homicides": 11}})




SWAPS = {
    "contacts and residents": (("abm.policing", "contacts"), ("abm.residents", "update")),
    "choices and violence": (("abm.behaviour", "youth_choices"), ("abm.violence", "confrontations")),
}


@pytest.mark.parametrize("swap", sorted(SWAPS))
def test_swapping_two_mechanisms_of_the_week_moves_the_pinned_numbers(swap, monkeypatch):
    """The baselines are not a formality: running two mechanisms of the week in the
    other order changes them (each mechanism draws from its own streams, so it is the
    order itself, not a shift of random numbers, that shows)."""
    import importlib

    (mod_a, name_a), (mod_b, name_b) = SWAPS[swap]
    a, b = importlib.import_module(mod_a), importlib.import_module(mod_b)
    first, second = getattr(a, name_a), getattr(b, name_b)
    monkeypatch.setattr(a, name_a, second)
    monkeypatch.setattr(b, name_b, first)
    expected = json.loads((BASELINES / "classroom_seed1.json").read_text())
    swapped = json.loads(json.dumps(fingerprint(*CASES["classroom_seed1"])))
    assert differences(expected, swapped)
