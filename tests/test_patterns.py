"""Patterns the city as a whole must show (docs/ODD.md, sections 1 and 8; the evidence
in docs/evidence.md), on small paired runs.

Each comparison uses the same seeds on both sides (common random numbers), so the
difference is the parameter's, not chance.
"""

import numpy as np
import pytest

from abm.model import CityModel
from abm.simulate import simulate

SEEDS = (1, 2, 3, 4)


def mean_summary(scenario, key):
    return float(np.mean([simulate(scenario, s).summary[key] for s in SEEDS]))


@pytest.mark.slow
def test_higher_youth_unemployment_gives_more_recruitment(classroom):
    low = mean_summary(classroom.replace(**{"population.youth_unemployment": 0.05}), "recruitment_per_1000_youth")
    high = mean_summary(classroom.replace(**{"population.youth_unemployment": 0.5}), "recruitment_per_1000_youth")
    assert high > low


@pytest.mark.slow
def test_stronger_segregation_gives_more_recruitment(classroom):
    low = mean_summary(classroom.replace(**{"city.segregation": 0.0}), "recruitment_per_1000_youth")
    high = mean_summary(classroom.replace(**{"city.segregation": 1.0}), "recruitment_per_1000_youth")
    assert high > low


def test_no_gangs_no_gang_homicides(classroom):
    s = classroom.replace(**{"gangs.per_poor_district": 0.0, "run.steps": 100, "run.burn_in": 10})
    result = simulate(s, 5)
    assert all(e["kind"] != "gang" for e in result.events)
    assert result.summary["recruits"] == 0


def test_gang_killings_happen_where_rival_territories_meet(classroom):
    from abm.violence import rival_of_block

    model = CityModel(classroom.replace(**{"violence.youth_rate": 0.0}), seed=4)
    seen = 0
    for _ in range(200):
        before = len(model.events)
        model.step()  # territory changes before confrontations, never after, within a step
        contested = rival_of_block(model) >= 0
        for e in model.events[before:]:
            if e["kind"] == "gang":
                seen += 1
                assert contested[e["block"]], e
    assert seen > 0, "no gang homicide in 200 weeks"


def test_rivalry_edges_carry_grievance_after_killings(classroom):
    model = CityModel(classroom, seed=4)
    model.run(150)
    weights = [d["grievance"] for _, _, d in model.rivalry.edges(data=True)]
    assert model.rivalry.number_of_edges() > 0
    assert any(w > 0 for w in weights) == (model.grievance.sum() > 0)


def test_a_killing_raises_the_victims_gangs_grievance(classroom):
    from abm.violence import gang_homicide, rival_of_block

    model = CityModel(classroom, seed=9)
    rival = rival_of_block(model)
    blocks = np.flatnonzero(rival >= 0)
    before = model.grievance.copy()
    for b in blocks.tolist():
        g, h = int(model.city.gang_owner[b]), int(rival[b])
        killed = model.killed
        gang_homicide(model, model.streams.get("test", b), b, g, h)
        if model.killed > killed and model.events[-1]["victim_type"] == "rival_member":
            e = model.events[-1]
            victim_gang, killer_gang = e["victim_gang"], e["perpetrator_gang"]
            assert model.grievance[victim_gang, killer_gang] > before[victim_gang, killer_gang]
            return
    pytest.fail("no rival-member killing could be staged")


def test_benchmark_measures_a_preset():
    from abm.bench import measure_preset

    from .conftest import CONFIGS

    r = measure_preset(str(CONFIGS / "classroom.toml"), 0.2)
    assert r["people"] == 6400 and r["steps"] == 10 and r["agent_steps_per_s"] > 0 and r["peak_mib"] > 0
