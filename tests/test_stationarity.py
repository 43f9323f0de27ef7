"""The baseline holds steady after burn-in, so that a policy's long-run effect is
measured against a flat baseline (docs/ODD.md, section 5): the slow stocks start where
they settle, and territory has an equilibrium.
"""

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from abm import gangs, justice
from abm.model import CityModel, as_scenario
from abm.simulate import simulate
from abm.sweep.runner import worker_context

MEASURES = ("homicide_rate_per_100k", "recruitment_per_1000_youth", "gang_members")


def windows(seed: int) -> dict[str, tuple[float, float]]:
    """Mean of each measure over the two years after burn-in and over the last three."""
    result = simulate(as_scenario("district"), seed)
    ts, burn, steps = result.timeseries, result.scenario.run.burn_in, result.scenario.run.steps
    short = ts[burn: burn + 104]
    long = ts[steps - 156: steps]
    return {k: (float(np.mean([r[k] for r in short])), float(np.mean([r[k] for r in long]))) for k in MEASURES}


@pytest.mark.slow
def test_ten_seeds_of_the_district_baseline_hold_within_ten_percent():
    with ProcessPoolExecutor(max_workers=2, mp_context=worker_context()) as pool:
        runs = list(pool.map(windows, range(1, 11)))
    for k in MEASURES:
        short = np.mean([r[k][0] for r in runs])
        long = np.mean([r[k][1] for r in runs])
        assert abs(long / short - 1) <= 0.10, f"{k}: short {short:.2f}, long {long:.2f}"


def test_prison_starts_settled_not_empty(classroom):
    model = CityModel(classroom, seed=3)
    yth, p = model.youths, model.p.prison
    inside = yth.incarcerated & yth.alive
    assert justice.occupancy(model) == pytest.approx(p.initial_occupancy, abs=1 / justice.capacity(model))
    assert (yth.gang[inside] >= 0).mean() == pytest.approx(p.initial_member_share, abs=0.05)
    assert np.all(yth.age_weeks[inside] >= p.initial_min_age * 52)
    assert np.all(yth.release_step[inside] >= 1)
    # Homicide terms are the members' first; every one of them counts a killing.
    assert np.all(yth.kills[inside & (yth.release_step > 2 * model.p.justice.sentence_weeks + 40)] >= 1)
    outside = yth.alive & ~yth.incarcerated & (yth.age_weeks >= p.initial_min_age * 52)
    assert yth.ever_prison[outside].mean() == pytest.approx(p.initial_record_share, abs=0.01)
    assert not yth.ever_prison[yth.alive & (yth.age_weeks < p.initial_min_age * 52)].any()


def test_an_empty_start_is_still_possible(classroom):
    model = CityModel(classroom.replace(**{"prison.initial_occupancy": 0.0, "prison.initial_record_share": 0.0}), 3)
    assert not model.youths.incarcerated.any() and not model.youths.ever_prison.any()
    model.run(4)


def test_organisation_starts_at_its_fixed_point(classroom):
    model = CityModel(classroom, seed=3)
    start = model.gangs.organisation.copy()
    assert start.max() > 0.05  # something sustains it: resources and members inside
    gangs.update_economy(model)  # one more week of the update, nothing else moving
    assert np.allclose(model.gangs.organisation, start, atol=1e-6)


def test_a_gang_without_spare_members_takes_no_block():
    members, blocks = np.array([10, 10, 10, 0]), np.array([5, 20, 10, 3])
    assert gangs.expansion_capacity(members, blocks, 0.0).tolist() == [1, 1, 1, 1]
    spare = gangs.expansion_capacity(members, blocks, 1.0)
    assert spare.tolist() == [0.5, 0.0, 0.0, 0.0]


def test_territory_does_not_grow_when_no_gang_has_the_members_to_hold_more(classroom):
    thin = CityModel(classroom.replace(**{"gangs.members_per_block": 1000.0}), seed=2)
    held = [int((thin.city.gang_owner >= 0).sum())]
    owners = thin.city.gang_owner.copy()
    for _ in range(52):
        thin.step()
        held.append(int((thin.city.gang_owner >= 0).sum()))
        now = thin.city.gang_owner
        # No block changes to a gang: held blocks are only kept or lost.
        assert np.all((now == owners) | (now == -1))
    assert held[-1] <= held[0]
    free = CityModel(classroom.replace(**{"gangs.members_per_block": 0.0}), seed=2)
    free.run(52)
    assert int((free.city.gang_owner >= 0).sum()) > held[-1]


def baseline_runs(ratios: list[float], reps: int = 2) -> list[dict]:
    """A baseline and a policy arm at sets whose baseline's long window is ``ratios``
    times its short window, for every measure the report reads."""
    from abm.analysis.stationarity import MEASURES as REPORTED

    runs = []
    for point, ratio in enumerate(ratios):
        for rep in range(reps):
            for arm, scale in (("baseline", 1.0), ("policy", 0.5)):
                row = {"arm": arm, "point": point, "replicate": rep, "status": "ok"}
                for m in REPORTED:
                    row[f"{m}__short"] = str(100.0 * scale)
                    row[f"{m}__long"] = str(100.0 * scale * ratio)
                runs.append(row)
    return runs


def test_an_experiment_reports_where_its_baseline_drifts_between_the_windows(tmp_path):
    from abm.analysis.comparison import POOLED
    from abm.analysis.stationarity import stationarity, summary, write_stationarity

    rows = stationarity(baseline_runs([0.7, 1.0, 1.05, 1.2]), "baseline")
    homicide = {r["point"]: r for r in rows if r["metric"] == "homicide_rate_per_100k"}
    # Each set's ratio is the baseline arm's, not the policy's (which is half as high).
    assert [homicide[k]["ratio"] for k in range(4)] == pytest.approx([0.7, 1.0, 1.05, 1.2])
    assert [homicide[k]["steady"] for k in range(4)] == [False, True, True, False]
    assert homicide[POOLED]["ratio"] == pytest.approx(0.9875) and homicide[POOLED]["steady"] is True
    lines = summary(rows, "parameter sets")
    # The pooled interval is over the sets, each counting once.
    low, high = homicide[POOLED]["ratio_ci_low"], homicide[POOLED]["ratio_ci_high"]
    assert low < 0.9 and high > 1.1 and homicide[0]["ratio_ci_low"] == pytest.approx(0.7)
    assert (f"homicide_rate_per_100k 0.99 [{low:.2f}, {high:.2f}] (2 of 4 parameter sets steady); "
            "recruitment_per_1000_youth 0.99 [") in lines[0]
    assert len(lines) == 1  # pooled, it holds: no warning
    falling = summary(stationarity(baseline_runs([0.7, 0.8, 0.85]), "baseline"), "parameter sets")
    assert falling[1].startswith("warning: the baseline drifts between the windows (homicide_rate_per_100k 0.78 [")
    # Two sets far apart: a pooled ratio outside the band, but chance cannot be ruled out.
    unsure = summary(stationarity(baseline_runs([0.6, 1.0]), "baseline"), "parameter sets")
    assert "homicide_rate_per_100k 0.80 [" in unsure[0] and len(unsure) == 1
    write_stationarity(tmp_path / "stationarity.csv", rows)
    lines = (tmp_path / "stationarity.csv").read_text().splitlines()
    assert lines[0] == "point,metric,n,short,long,ratio,ratio_ci_low,ratio_ci_high,steady"
    assert len(lines) == 1 + 5 * 3
    assert stationarity(baseline_runs([1.0]), "no such arm") == []
