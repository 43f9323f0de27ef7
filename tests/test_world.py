"""What must be true of the simulated world after every step."""

import numpy as np
import pytest

from abm.model import CityModel
from abm.population import WEEKS_PER_YEAR, YOUTH_ENTRY_AGE, YOUTH_EXIT_AGE, Resident, Youth
from abm.gangs import Gang
from abm.policing import Officer


@pytest.fixture(scope="module")
def stepped_model(classroom):
    """A classroom city stepped 150 weeks, with invariants checked at each step."""
    model = CityModel(classroom, seed=7)
    checks = []
    for _ in range(150):
        model.step()
        checks.append(invariants(model))
    return model, checks


def invariants(model) -> list[str]:
    """Every broken invariant of the current state, in words."""
    broken = []
    yth, res, city = model.youths, model.residents, model.city
    alive = model.people_alive
    if alive != model.people_start + model.entered - model.aged_out - model.killed:
        broken.append("people are not accounted for: start + entered - aged out - killed != alive")
    if (yth.free.sum() + yth.incarcerated.sum()) != yth.alive.sum():
        broken.append("free + incarcerated != alive youths")
    if (yth.incarcerated & ~yth.alive).any():
        broken.append("a dead or departed youth is in prison")
    if ((yth.gang >= 0) & ~yth.alive).any():
        broken.append("a dead or departed youth is a gang member")
    if (yth.incarcerated & (yth.release_step <= model.week)).any():
        broken.append("a prisoner is past release")
    if len(model.agents_by_type[Youth]) != yth.alive.sum():
        broken.append("Youth agents != alive youths")
    if len(model.agents_by_type[Resident]) != res.alive.sum():
        broken.append("Resident agents != alive residents")
    if city.population.sum() != alive:
        broken.append("block populations do not add up to the people alive")
    ages = yth.age_weeks[yth.alive] / WEEKS_PER_YEAR
    if ages.size and (ages.min() < YOUTH_ENTRY_AGE or ages.max() >= YOUTH_EXIT_AGE):
        broken.append("a youth outside 15-24")
    for name, values in {
        "trust": res.trust[res.alive], "fear": res.fear[res.alive], "report_prob": res.report_prob[res.alive],
        "propensity": yth.propensity[yth.alive], "self_control": yth.self_control[yth.alive],
        "gang_control": city.gang_control, "collective_efficacy": city.collective_efficacy,
        "organisation": model.gangs.organisation.copy(),
    }.items():
        if values.size and (values.min() < 0 or values.max() > 1):
            broken.append(f"{name} outside 0-1")
    if (city.violence_exposure < 0).any() or (city.police_presence < 0).any() or (model.grievance < 0).any():
        broken.append("a negative field")
    graph = model.peers.graph
    edges = np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2)
    if edges.size and not yth.alive[edges].all():
        broken.append("a friendship with someone who left")
    degrees = np.array([graph.degree(n) for n in range(yth.n)])
    if not np.array_equal(degrees, model.peers.degree):
        broken.append("the friends array and the network disagree")
    return broken


def test_every_person_is_accounted_for_after_each_step(stepped_model):
    _, checks = stepped_model
    for week, broken in enumerate(checks, start=1):
        assert broken == [], f"week {week}: {broken}"


def test_counts_are_never_negative_and_rates_within_bounds(stepped_model):
    model, _ = stepped_model
    for row in model.ledger.timeseries():
        for key, value in row.items():
            if isinstance(value, (int, float)) and not np.isnan(value):
                assert value >= 0, (row["step"], key, value)
        for key in ("arrests_non_member_share", "clearance_rate", "conviction_rate", "trust_mean",
                    "reporting_rate", "collective_efficacy_mean"):
            if not np.isnan(row[key]):
                assert 0 <= row[key] <= 1, (row["step"], key, row[key])


def test_people_leave_only_by_ageing_and_homicide(stepped_model):
    model, _ = stepped_model
    # Residents are never replaced: the only residents gone are homicide victims.
    killed_residents = sum(1 for e in model.events if e["victim_type"] == "bystander_resident")
    assert model.residents.n - model.residents.alive.sum() == killed_residents
    killed = len(model.events)
    assert model.killed == killed


def test_mesa_agents_are_views_of_the_arrays(stepped_model):
    model, _ = stepped_model
    youth = next(iter(model.agents_by_type[Youth]))
    slot = youth.slot
    assert youth.gang == model.youths.gang[slot]
    youth.propensity = 0.42
    assert model.youths.propensity[slot] == 0.42
    assert youth.unique_id == model.youths.person_id[slot]
    assert 0 <= youth.xy[0] < model.city.width
    assert len(model.agents_by_type[Gang]) == len(model.gangs)
    assert len(model.agents_by_type[Officer]) == model.p.police.officers


def test_prison_holds_people_and_releases_them(stepped_model):
    model, _ = stepped_model
    rows = model.ledger.timeseries()
    assert sum(r["arrests"] for r in rows) > 0
    assert max(r["incarcerated"] for r in rows) > 0
    assert model.youths.ever_prison.any(), "nobody was ever released in 150 weeks"


def test_segregation_index_rises_with_segregation(classroom):
    low = CityModel(classroom.replace(**{"city.segregation": 0.0}), seed=3).city.segregation_index
    high = CityModel(classroom.replace(**{"city.segregation": 1.0}), seed=3).city.segregation_index
    assert 0 <= low < high <= 1
