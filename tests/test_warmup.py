"""Warm-ups (abm.warmup): cities on one seed whose scenarios differ only in their
policies share the weeks before the first policy starts, which are run once and copied.
A copy must be the city built with its policies from the start."""

import threading

import pytest

from abm import policies
from abm.config import load_scenario
from abm.model import CityModel
from abm.presets import resolve_scenario
from abm.viz.classroom import policy_overrides
from abm.warmup import WarmUp, WarmUps, shared_weeks


def test_a_shared_warm_up_gives_the_city_the_policies_would_have_had_on_their_own():
    """Every registered policy is on, so none may act, draw or change the city before
    it starts; the weeks after it starts are compared too."""
    burn, after = 8, 16
    every = {cls.name: True for cls in policies.registered()}
    scenario = load_scenario(resolve_scenario("classroom"), {
        "population.people": 1500, "run.burn_in": burn, **policy_overrides(every, None, burn + 2)})
    alone = CityModel(scenario, 7)
    shared = WarmUp(scenario, 7, burn).city(scenario)
    assert shared.week == burn and [type(p) for p in shared.policies] == [type(p) for p in alone.policies]
    assert len(alone.policies) == len(every)
    for _ in range(burn):
        alone.step()
    for _ in range(after):
        alone.step()
        shared.step()
    assert all(p.active(alone.week) for p in alone.policies)
    assert repr(shared.ledger.rows) == repr(alone.ledger.rows)  # as text: NaN == NaN
    assert repr(shared.events) == repr(alone.events)
    for field in ("block", "gang", "incarcerated", "propensity", "perceived_certainty"):
        assert (getattr(shared.youths, field) == getattr(alone.youths, field)).all(), field
    assert (shared.residents.trust == alone.residents.trust).all()


def test_a_warm_up_takes_only_policies_that_have_not_started():
    scenario = load_scenario(resolve_scenario("classroom"), {"population.people": 1500, "run.burn_in": 6})
    warm = WarmUp(scenario, 1, 6)
    with pytest.raises(ValueError, match="more than its policies"):
        warm.city(scenario.replace(**{"police.officers": scenario.police.officers + 1}))
    started = load_scenario(resolve_scenario("classroom"), {
        "population.people": 1500, "run.burn_in": 6, **policy_overrides({"mano_dura": True}, None, 4)})
    with pytest.raises(ValueError, match="mano_dura would have acted before week 6"):
        warm.city(started)
    assert shared_weeks([scenario, started]) == 4 and shared_weeks([scenario]) == scenario.run.steps


def test_warmed_up_cities_are_run_once_and_handed_out_as_independent_copies(monkeypatch):
    import abm.warmup

    runs = []

    class Counted(WarmUp):
        def __init__(self, *args):
            runs.append(args)
            super().__init__(*args)

    monkeypatch.setattr(abm.warmup, "WarmUp", Counted)
    warm = WarmUps()
    scenario = load_scenario(resolve_scenario("classroom"), {"population.people": 1500})
    a, b = warm.city(scenario, 3, 4), warm.city(scenario, 3, 4)
    assert len(runs) == 1 and a is not b and a.week == b.week == 4
    before = b.youths.gang.copy(), repr(b.ledger.rows)
    for _ in range(10):
        a.step()
    assert b.week == 4 and (b.youths.gang == before[0]).all() and repr(b.ledger.rows) == before[1]
    warm.city(scenario, 4, 4)  # another seed is another city
    assert len(runs) == 2
    # Students loading the same lesson at once: one burn-in, which the others wait for.
    weeks = []
    students = [threading.Thread(target=lambda: weeks.append(warm.city(scenario, 5, 4).week)) for _ in range(4)]
    for student in students:
        student.start()
    for student in students:
        student.join()
    assert weeks == [4] * 4 and len(runs) == 3
