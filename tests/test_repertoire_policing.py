"""Policing and justice policies of the citizen-security repertoire: investigations
(detectives and forensic capacity). Each: zero capacity reproduces the baseline byte
for byte; its mechanism moves in its direction; switching the mechanism off removes
its effect."""

import numpy as np
import pytest

from abm import justice
from abm.model import CityModel
from abm.simulate import simulate, write_run

from .test_policies import with_policy

OUTCOMES = ("homicides", "confrontations", "recruits", "arrests", "cleared", "convicted", "trust_mean")


@pytest.fixture(scope="module")
def short(classroom):
    """Classroom city, 3 years, policies from week 52."""
    return classroom.replace(**{"run.steps": 156, "run.burn_in": 52})


def same_files(a, b, tmp_path):
    write_run(a, tmp_path / "a")
    write_run(b, tmp_path / "b")
    for f in ("timeseries.csv", "blocks.csv", "events.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    row_a = (tmp_path / "a" / "summary.csv").read_text().splitlines()[1].split(",")
    row_b = (tmp_path / "b" / "summary.csv").read_text().splitlines()[1].split(",")
    assert row_a[2:] == row_b[2:]  # all but the scenario's name and hash


def outcomes(result, first=53):
    return {k: [r[k] for r in result.timeseries[first - 1:]] for k in OUTCOMES}


def total(result, key, first=53):
    return float(np.sum([r[key] for r in result.timeseries[first - 1:]]))


# -- investigations -------------------------------------------------------------------

def test_investigations_with_no_detectives_and_no_forensics_reproduce_the_baseline(short, tmp_path):
    zero = with_policy(short, "investigations", detectives_per_100k=0, forensic_per_100k=0)
    same_files(simulate(short, 3), simulate(zero, 3), tmp_path)


def test_evidence_from_detectives_and_forensics_only_adds_to_witnesses(short):
    model = CityModel(with_policy(short, "investigations", detectives_per_100k=40, forensic_per_100k=50), seed=1)
    inv = model.policies[0]
    coop = np.linspace(0, 1, 11)
    for open_cases in (1, 5, 50, 500):
        more = inv.evidence(coop, open_cases, 60 + inv.extra_investigators)
        assert (more >= coop).all() and (more <= 1).all()
        assert (more[:-1] > coop[:-1]).all()
    # Clearance falls with workload and rises with evidence.
    loads = np.array([0.5, 1, 2, 4])
    probs = [justice.clearance_probability(0.16, coop, w, np.zeros(11))[5] for w in loads]
    assert probs[0] == probs[1] > probs[2] > probs[3]


def test_forensic_capacity_raises_clearance_and_perceived_certainty(short):
    cleared = {"base": 0.0, "inv": 0.0}
    certainty = {"base": 0.0, "inv": 0.0}
    for seed in (1, 2, 3):
        for arm, scenario in (("base", short),
                              ("inv", with_policy(short, "investigations", detectives_per_100k=0, forensic_per_100k=100))):
            model = CityModel(scenario, seed=seed)
            model.run()
            cleared[arm] += sum(r["cleared"] for r in model.ledger.rows[52:])
            certainty[arm] += float(model.youths.perceived_certainty[model.youths.free].mean())
    assert cleared["inv"] > cleared["base"]
    assert certainty["inv"] > certainty["base"]  # deterrence through certainty: the city's clearance


def test_more_detectives_clear_more_cases_in_an_overloaded_unit(short):
    """With few investigators for the city's cases, added detectives let more cases be
    worked (capacity), and their spare time gives cases a second detective."""
    overloaded = short.replace(**{"justice.investigators": 2})
    cleared = []
    for n in (0, 20, 60):
        s = with_policy(overloaded, "investigations", detectives_per_100k=n, forensic_per_100k=0)
        cleared.append(sum(total(simulate(s, seed), "cleared") for seed in (1, 2, 3)))
    assert cleared[0] < cleared[1] <= cleared[2]
    assert cleared[0] < cleared[2]


def test_investigations_without_yield_or_capacity_change_nothing(short):
    """Forensic places that find nothing, and detectives where no case waits and
    canvassing finds nothing, leave every outcome as in the baseline."""
    off = with_policy(short, "investigations", detectives_per_100k=40, forensic_per_100k=100, forensic_yield=0.0,
                      canvass_yield=0.0)
    base, inv = simulate(short, 1), simulate(off, 1)
    assert outcomes(inv) == outcomes(base)
    assert total(inv, "inv_forensic_cases") > 0 and total(inv, "policy_cost") > 0
