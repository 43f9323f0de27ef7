"""Policing and justice policies of the citizen-security repertoire: investigations
(detectives and forensic capacity) and hot spots (patrol time and municipal services
on the blocks with most violence). Each: zero capacity reproduces the baseline byte
for byte; its mechanism moves in its direction; switching the mechanism off removes
its effect."""

import numpy as np
import pytest

from abm import justice
from abm.behaviour import perceived_risk
from abm.model import CityModel
from abm.violence import confrontation_probability, gang_confrontation_rate, youth_confrontation_rate
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


def test_the_homicide_unit_scales_with_the_city(short):
    """Cases worked at once are set per 100,000 people: a city of 6,400 has about a
    sixteenth of a district's unit, not the same unit."""
    small = CityModel(short, seed=1)
    assert justice.investigators(small) == short.justice.investigators_per_100k * small.people_start / 1e5
    assert justice.investigators(small) < short.justice.investigators_per_100k


def test_more_detectives_clear_more_cases_in_an_overloaded_unit(short):
    """With few investigators for the city's cases, added detectives let more cases be
    worked (capacity), and their spare time gives cases a second detective."""
    overloaded = short.replace(**{"justice.investigators_per_100k": 2})
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


# -- hot spots -----------------------------------------------------------------------

def test_hot_spots_with_no_spots_reproduce_the_baseline(short, tmp_path):
    zero = with_policy(short, "hot_spots", spots_share=0.0, services=True)
    same_files(simulate(short, 3), simulate(zero, 3), tmp_path)


def test_hot_spots_without_officers_or_services_only_measure(short):
    """The reference arm for displacement: the same hot spots and ring are chosen and
    measured, and every outcome is the baseline's."""
    base = simulate(short, 1)
    ref = simulate(with_policy(short, "hot_spots", officers_share=0.0), 1)
    hs = simulate(with_policy(short, "hot_spots"), 1)
    assert outcomes(ref) == outcomes(base)
    assert total(ref, "hs_officers") == 0 and total(ref, "policy_cost") == 0
    assert total(ref, "hs_spots") > 0 and total(ref, "hs_ring") > 0
    # The same blocks are targeted in both arms (chosen when the policy starts).
    assert total(ref, "hs_spots") == total(hs, "hs_spots") and total(ref, "hs_ring") == total(hs, "hs_ring")


def test_hot_spots_raise_presence_on_the_targeted_blocks(short):
    for seed in (1, 2):
        presence = []
        for share in (0.0, 0.2, 0.5):
            model = CityModel(with_policy(short, "hot_spots", officers_share=share), seed=seed)
            model.run(52)
            weeks = []
            for _ in range(8):  # the policy's first eight weeks: ordinary patrols follow violence too
                model.step()
                weeks.append(float(model.city.police_presence[model.policies[0].spots].mean()))
            presence.append(np.mean(weeks))
        assert presence[0] < presence[1] < presence[2]


def test_more_police_presence_never_raises_a_blocks_confrontation_probability(classroom):
    """A world property: presence damps both kinds of confrontation, directly and
    through the perceived certainty of sanction it raises."""
    v, youth = classroom.violence, classroom.youth
    rng = np.random.default_rng(0)
    n = 2000
    kw = dict(own=rng.uniform(0, 30, n), rival=rng.uniform(0, 30, n), propensity=rng.uniform(0, 1, n),
              grievance=rng.uniform(0, 5, n), efficacy=rng.uniform(0, 1, n), organisation=rng.uniform(0, 1, n))
    police = rng.uniform(0, 5, n)
    more = police + rng.uniform(0, 3, n)

    def certainty(p):  # the police part of perceived certainty (behaviour.perceive_sanction)
        return youth.certainty_police * (1 - np.exp(-youth.certainty_police_slope * p))

    def risk(p):
        return perceived_risk(youth, certainty(p), 1.0)

    low = confrontation_probability(gang_confrontation_rate(v, police=police, sanction=risk(police), **kw))
    high = confrontation_probability(gang_confrontation_rate(v, police=more, sanction=risk(more), **kw))
    assert (high <= low).all()
    psum, eff = rng.uniform(0, 10, n), kw["efficacy"]
    low = confrontation_probability(youth_confrontation_rate(v, propensity_sum=psum, police=police, efficacy=eff))
    high = confrontation_probability(youth_confrontation_rate(v, propensity_sum=psum, police=more, efficacy=eff))
    assert (high <= low).all()


@pytest.mark.parametrize("weights", [(0.5, 0.5), (0.75, 0.75), (1.0, 1.0)])
def test_perceived_risk_stays_a_share_and_no_confrontation_rate_is_negative(classroom, weights):
    # Each weight of perceived risk is a share of its own, so the two may add up to more
    # than 1 (a Morris screening moves them apart); the risk must still stay within 0-1,
    # or a gang certain of a severe sanction would forgo more than all its fights.
    youth = classroom.youth.model_copy(update={"risk_certainty": weights[0], "risk_severity": weights[1]})
    v = classroom.violence.model_copy(update={"sanction_deterrence": 1.0})
    certainty = np.linspace(0, 1, 101)
    risk = perceived_risk(youth, certainty, 1.0)
    assert ((risk >= 0) & (risk <= 1)).all()
    n = len(certainty)
    rate = gang_confrontation_rate(v, own=np.full(n, 10.0), rival=np.full(n, 10.0), propensity=np.full(n, 0.5),
                                   grievance=np.full(n, 1.0), police=np.zeros(n), efficacy=np.zeros(n),
                                   organisation=np.zeros(n), sanction=risk)
    assert (rate >= 0).all()


def test_hot_spot_patrols_lower_violence_on_the_hot_spots(short):
    on_spots = {"ref": 0, "hs": 0}
    for seed in (1, 2, 3):
        for arm, share in (("ref", 0.0), ("hs", 0.5)):
            r = simulate(with_policy(short, "hot_spots", officers_share=share), seed)
            on_spots[arm] += total(r, "hs_confrontations_spots")
    assert on_spots["hs"] < on_spots["ref"]


def test_hot_spot_officers_keep_patrols_conduct_unless_trained(short, tmp_path):
    """No professionalism of their own: the hot-spot officers are ordinary patrol, so
    setting it to patrol's value changes nothing, byte for byte."""
    same_files(simulate(with_policy(short, "hot_spots"), 2),
               simulate(with_policy(short, "hot_spots", professionalism=short.police.professionalism), 2), tmp_path)


def test_officers_trained_in_procedural_justice_abuse_less_on_the_spots_and_their_residents_trust_more(short):
    """Weisburd et al.'s trial in the model: the same officers on the same spots, with
    their stops just nineteen times in twenty. Stops on the spots are counted whole,
    abusive ones among them; the spots' residents see fewer abusive stops and trust
    the police more."""
    measured = {}
    for arm, changes in (("standard", {}), ("trained", {"professionalism": 0.95})):
        runs = [simulate(with_policy(short, "hot_spots", **changes), seed) for seed in (1, 2)]
        measured[arm] = {k: sum(total(r, k) for r in runs) for k in ("hs_stops_spots", "hs_abusive_spots")}
        measured[arm]["trust"] = np.mean([r.timeseries[-1]["hs_trust_spots"] for r in runs])
        for r in runs:
            assert total(r, "hs_abusive_spots") <= total(r, "hs_stops_spots") <= total(r, "contacts_just") + total(
                r, "contacts_abusive")
            assert 0 < r.timeseries[-1]["hs_trust_spots"] <= 1
    assert measured["standard"]["hs_stops_spots"] > 0
    # Patrol's stops are abusive four times in ten; ordinary patrols that follow
    # violence stop on the spots too, so the trained arm's share is a mix.
    share = {arm: m["hs_abusive_spots"] / m["hs_stops_spots"] for arm, m in measured.items()}
    assert 0.3 < share["standard"] < 0.5
    assert share["trained"] < share["standard"] / 2
    assert measured["trained"]["trust"] > measured["standard"]["trust"]


def test_municipal_services_raise_collective_efficacy_on_the_hot_spots_and_switch_off(short):
    efficacy = {}
    results = {}
    for arm, changes in (("none", {}), ("services", {"services": True}),
                         ("off", {"services": True, "services_efficacy": 0.0})):
        model = CityModel(with_policy(short, "hot_spots", officers_share=0.0, **changes), seed=1)
        model.run()
        efficacy[arm] = float(model.city.collective_efficacy[model.policies[0].spots].mean())
        results[arm] = [r["homicides"] for r in model.ledger.rows]
    assert efficacy["services"] > efficacy["none"]
    assert efficacy["off"] == efficacy["none"] and results["off"] == results["none"]
