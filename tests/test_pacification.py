"""Pacification: an occupation, then proximity police and state services in the most
gang-held districts. Zero districts reproduce the baseline byte for byte; the state
retakes territory where honest officers are, and only there; bought officers arrest
no members and retake nothing; switching the force off removes the effect. (Zero
districts reproduce the baseline byte for byte: tests/test_policies.py.)"""

import numpy as np
import pytest

from abm import gangs
from abm.model import CityModel
from abm.policies.pacification import Pacification
from abm.policing import DutyMode
from abm.simulate import simulate

from .test_policies import with_policy

START = 52


@pytest.fixture(scope="module")
def short(classroom):
    """Classroom city, 3 years, policies from week 53."""
    return classroom.replace(**{"run.steps": 156, "run.burn_in": START})


def after_start(result, key):
    return np.array([r[key] for r in result.timeseries[START:]], dtype=float)


def test_the_state_retaking_a_block_never_raises_control_and_drops_weak_holds(classroom):
    model = CityModel(classroom, seed=1)
    model.run(20)
    city = model.city
    held = np.flatnonzero(city.gang_owner >= 0)
    assert len(held) > 10
    before = city.gang_control.copy()
    owners = city.gang_owner.copy()
    loss = np.linspace(0, 1, len(held))
    gangs.yield_control(model, held, loss)
    assert np.all(city.gang_control <= before)
    assert np.all(city.gang_owner[held[loss == 1]] == -1)
    kept = city.gang_owner[held] >= 0
    assert np.all(city.gang_owner[held][kept] == owners[held][kept])
    assert np.all(city.gang_control[held][kept] >= model.p.gangs.control_lost)
    assert np.all(city.gang_control[held][~kept] == 0)
    untouched = np.setdiff1d(np.arange(city.n_blocks), held)
    assert np.array_equal(city.gang_control[untouched], before[untouched])


def test_the_occupation_then_proximity_police_take_the_district_from_the_gangs(short):
    held = {"on": 0.0, "off": 0.0}
    for seed in (1, 2, 3):
        on = simulate(with_policy(short, "pacification"), seed)
        off = simulate(with_policy(short, "pacification", occupation_share=0, proximity_share=0), seed)
        phase = after_start(on, "pac_phase")
        weeks = Pacification.Params().occupation_weeks
        assert np.all(phase[:weeks] == 1) and np.all(phase[weeks:] == 2)
        assert np.all(after_start(on, "pac_blocks") == 25)  # one district of 5 x 5 blocks
        assert after_start(on, "pac_officers")[0] == round(0.3 * 17)
        assert after_start(on, "pac_officers")[-1] == round(0.2 * 17)
        held["on"] += after_start(on, "pac_blocks_held")[26:].sum()
        held["off"] += after_start(off, "pac_blocks_held")[26:].sum()
    assert held["on"] < 0.8 * held["off"], held


def test_a_force_of_no_officers_and_no_services_changes_nothing_but_the_measures(short):
    base = simulate(short, 2)
    off = simulate(with_policy(short, "pacification", occupation_share=0, proximity_share=0, services=False,
                               state_presence=0), 2)
    assert off.events == base.events
    for key in ("homicides", "confrontations", "recruits", "arrests", "gang_members", "trust_mean"):
        assert [r[key] for r in off.timeseries] == [r[key] for r in base.timeseries], key
    assert after_start(off, "pac_blocks_held").min() > 0


def test_bought_officers_arrest_no_members_and_retake_nothing(short):
    scenario = with_policy(short, "pacification", occupation_weeks=0, reclaim=0, corruption_risk=1, oversight=0)
    model = CityModel(scenario, seed=1)
    model.run(START + 30)
    pac = next(p for p in model.policies if isinstance(p, Pacification))
    officers = pac.taken
    assert len(officers) == round(0.2 * 17)
    assert np.all(model.duty.mode[officers] == DutyMode.PROXIMITY)
    bought = ~pac.honest
    posted = pac.posts[: len(officers)]
    org = model.gangs.of(model.gangs.organisation, model.city.gang_owner[posted])
    # With certain corruption every officer posted where an organised gang holds the block is bought.
    assert np.all(bought[(model.city.gang_owner[posted] >= 0) & (org > 0)])
    assert bought.any()
    assert np.all(model.duty.detection[officers[bought]] == 0)
    assert np.all(model.duty.detection[officers[~bought]] == 1)
    assert model.ledger.rows[-1]["pac_bought"] == bought.sum()


def test_corruption_keeps_more_of_the_district_in_gang_hands(short):
    held = {}
    for risk in (0.0, 1.0):
        total = 0.0
        for seed in (1, 2, 3):
            r = simulate(with_policy(short, "pacification", corruption_risk=risk, oversight=0, reclaim=0.05), seed)
            total += after_start(r, "pac_blocks_held")[26:].sum()
        held[risk] = total
    assert held[1.0] > held[0.0], held
