"""Directions each mechanism must respect, stated on its pure function."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from abm.behaviour import join_logit
from abm.config import ResidentParams, Scenario
from abm.justice import clearance_probability, freshness, witness_evidence
from abm.residents import fear_of_retaliation, report_probability
from abm.violence import confrontation_probability, gang_confrontation_rate, youth_confrontation_rate

P = Scenario()
unit = st.floats(0, 1)
count = st.floats(0, 200)


@given(own=count, rival=count, prop=unit, griev=st.floats(0, 50), efficacy=unit, org=unit,
       police=st.floats(0, 20), more=st.floats(0, 20))
def test_more_police_never_raises_a_blocks_confrontation_probability(own, rival, prop, griev, efficacy, org, police, more):
    def prob(pol):
        rate = gang_confrontation_rate(
            P.violence, own=np.array([own]), rival=np.array([rival]), propensity=np.array([prop]),
            grievance=np.array([griev]), police=np.array([pol]), efficacy=np.array([efficacy]),
            organisation=np.array([org]), sanction=np.array([0.3]),
        )
        return confrontation_probability(rate)[0]

    assert prob(police + more) <= prob(police)


@given(psum=st.floats(0, 500), efficacy=unit, police=st.floats(0, 20), more=st.floats(0, 20))
def test_more_police_never_raises_youth_confrontations(psum, efficacy, police, more):
    def rate(pol):
        return youth_confrontation_rate(P.violence, propensity_sum=np.array([psum]), police=np.array([pol]),
                                        efficacy=np.array([efficacy]))[0]

    assert rate(police + more) <= rate(police)


@given(griev=st.floats(0, 50), more=st.floats(0, 50), own=st.floats(0.1, 100), rival=st.floats(0.1, 100))
def test_grievance_never_lowers_confrontations(griev, more, own, rival):
    def rate(g):
        return gang_confrontation_rate(
            P.violence, own=np.array([own]), rival=np.array([rival]), propensity=np.array([0.5]),
            grievance=np.array([g]), police=np.array([1.0]), efficacy=np.array([0.3]), organisation=np.array([0.3]),
            sanction=np.array([0.3]),
        )[0]

    assert rate(griev + more) >= rate(griev)


def test_no_confrontation_without_a_rival():
    rate = gang_confrontation_rate(
        P.violence, own=np.array([10.0]), rival=np.array([0.0]), propensity=np.array([0.9]),
        grievance=np.array([5.0]), police=np.array([0.0]), efficacy=np.array([0.0]), organisation=np.array([0.0]),
        sanction=np.array([0.0]),
    )
    assert rate[0] == 0


def join(params=P.youth, **changes):
    base = dict(peer_share=0.2, exposure=0.3, demand=0.5, income=0.5, legal=0.0, sanction=0.3, efficacy=0.3,
                self_control=0.5, propensity=0.4, cbt_effect=0.0)
    base.update(changes)
    return join_logit(params, **{k: np.array([v]) for k, v in base.items()})[0]


@given(efficacy=unit, more=unit)
def test_more_collective_efficacy_never_raises_joining(efficacy, more):
    assert join(efficacy=min(1, efficacy + more)) <= join(efficacy=efficacy)


@given(efficacy=unit, more=unit, own=count, rival=count, psum=st.floats(0, 500))
def test_with_its_two_weights_at_zero_collective_efficacy_acts_on_nothing(efficacy, more, own, rival, psum):
    """The check of collective efficacy's association with homicide (README) switches
    its effect off with these two weights: then efficacy moves neither confrontations
    nor joining."""
    violence = P.violence.model_copy(update={"efficacy_damping": 0.0})
    youth = P.youth.model_copy(update={"join_efficacy": 0.0})
    higher = min(1, efficacy + more)

    def gang(e):
        return gang_confrontation_rate(
            violence, own=np.array([own]), rival=np.array([rival]), propensity=np.array([0.5]),
            grievance=np.array([2.0]), police=np.array([1.0]), efficacy=np.array([e]), organisation=np.array([0.3]),
            sanction=np.array([0.3]),
        )[0]

    def youths(e):
        return youth_confrontation_rate(violence, propensity_sum=np.array([psum]), police=np.array([1.0]),
                                        efficacy=np.array([e]))[0]

    assert gang(higher) == gang(efficacy) and youths(higher) == youths(efficacy)
    assert join(youth, efficacy=higher) == join(youth, efficacy=efficacy)


@given(x=unit, more=unit)
def test_joining_directions(x, more):
    y = min(1, x + more)
    assert join(peer_share=y) >= join(peer_share=x)
    assert join(demand=y) >= join(demand=x)
    assert join(sanction=y) <= join(sanction=x)
    assert join(legal=y) <= join(legal=x)
    assert join(self_control=y) <= join(self_control=x)
    assert join(cbt_effect=y) <= join(cbt_effect=x)


@given(control=unit, org=unit, more=unit, trust=unit, efficacy=unit, victimised=unit)
def test_higher_organisation_never_raises_reporting(control, org, more, trust, efficacy, victimised):
    def report(o):
        fear = fear_of_retaliation(ResidentParams(), np.array([control]), np.array([o]), np.array([victimised]))
        return report_probability(P.residents, np.array([trust]), np.array([efficacy]), fear)[0]

    assert report(min(1, org + more)) <= report(org)


@given(trust=unit, more=unit, efficacy=unit, fear=unit)
def test_trust_never_lowers_reporting(trust, more, efficacy, fear):
    def report(t):
        return report_probability(P.residents, np.array([t]), np.array([efficacy]), np.array([fear]))[0]

    assert report(min(1, trust + more)) >= report(trust)


@settings(max_examples=200)
@given(coop=unit, more=unit, workload=st.floats(0, 10), corruption=unit)
def test_cooperation_never_lowers_clearance_and_corruption_never_raises_it(coop, more, workload, corruption):
    def clear(c, k):
        return clearance_probability(0.05, np.array([c]), workload, np.array([k]))[0]

    assert clear(min(1, coop + more), corruption) >= clear(coop, corruption)
    assert clear(coop, min(1, corruption + more)) <= clear(coop, corruption)
    assert 0 <= clear(coop, corruption) <= 1


@given(coop=unit, other=unit, more=unit)
def test_witnesses_add_to_the_evidence_but_are_not_its_only_source(coop, other, more):
    def evidence(c, o):
        return witness_evidence(o, np.array([c]))[0]

    assert evidence(min(1, coop + more), other) >= evidence(coop, other)
    assert other <= evidence(coop, other) <= 1  # no witness leaves the other evidence
    assert evidence(coop, min(1, other + more)) >= evidence(coop, other)


@given(age=st.integers(0, 520), later=st.integers(0, 520), weeks=st.floats(0.5, 520))
def test_evidence_only_fades_with_a_cases_age(age, later, weeks):
    left = freshness(np.array([age, age + later]), weeks)
    assert (left[0] == 1.0) if age == 0 else (0 <= left[0] <= 1)
    assert left[1] <= left[0]


def test_an_idle_unit_clears_a_case_with_a_bounded_chance():
    """However long a case stays open, with an idle unit and full witnesses its chance to
    be cleared stays below the sum of its fading weekly chances (P.justice's defaults)."""
    j = P.justice
    weeks = np.arange(j.case_life_weeks)
    weekly = clearance_probability(j.clearance_base, witness_evidence(j.other_evidence, np.array([0.1]))
                                   * freshness(weeks, j.evidence_weeks), 0.0, np.zeros(len(weeks)))
    cleared = 1 - np.prod(1 - weekly)
    assert cleared < weekly.sum() < 1
    assert weekly[0] > weekly[-1] > 0


@settings(max_examples=40, deadline=None)
@given(width=st.integers(4, 12), height=st.integers(4, 12), gangs=st.integers(1, 4), radius=st.integers(0, 3),
       seed=st.integers(0, 2**32 - 1))
def test_members_near_a_block_are_those_of_its_gang_within_the_radius(width, height, gangs, radius, seed):
    from abm.city import City
    from abm.config import CityParams

    rng = np.random.default_rng(seed)
    city = City(CityParams(width=width, height=height, district_size=2), rng)
    counts = rng.integers(0, 5, (gangs, city.n_blocks))
    owner = rng.integers(-1, gangs, city.n_blocks)
    expected = np.zeros(city.n_blocks)
    for b in range(city.n_blocks):
        if owner[b] < 0:
            continue
        near = (np.abs(city.x - city.x[b]) <= radius) & (np.abs(city.y - city.y[b]) <= radius)
        expected[b] = counts[owner[b], near].sum()
    assert np.array_equal(city.near_members(counts, owner, radius), expected)


@settings(max_examples=40, deadline=None)
@given(keys=st.lists(st.integers(0, 70_000), max_size=300), small=st.booleans())
def test_people_grouped_by_place_keep_their_slot_order(keys, small):
    from abm.city import group_order

    keys = np.array(keys, dtype=np.int64) % (300 if small else 70_001)
    order = group_order(keys)
    assert np.array_equal(keys[order], np.sort(keys))
    same = keys[order][1:] == keys[order][:-1]
    assert (order[1:][same] > order[:-1][same]).all()


def test_abusive_stops_are_remembered_by_the_youth_stopped_and_raise_propensity_only_when_switched_on(classroom):
    """A youth remembers the abusive stops he suffered, the memory fading with
    ``abusive_stop_memory_weeks``; with ``propensity_abusive_stop`` above zero they pull
    his propensity up (defiance, labelling), and they touch no one else's."""
    from abm.behaviour import update_propensity
    from abm.model import CityModel

    model = CityModel(classroom, seed=1)
    model.run(40)
    yth = model.youths
    remembered = yth.abusive_stops.copy()
    assert (remembered > 0).any() and (remembered >= 0).all()
    propensity = yth.propensity.copy()
    update_propensity(model)
    off = yth.propensity.copy()
    fade = np.exp(-1.0 / classroom.youth.abusive_stop_memory_weeks)
    assert np.allclose(yth.abusive_stops, remembered * fade)
    yth.propensity[:], yth.abusive_stops[:] = propensity, remembered
    model.p = classroom.replace(**{"youth.propensity_abusive_stop": 0.2})
    update_propensity(model)
    on = yth.propensity
    assert (on[remembered == 0] == off[remembered == 0]).all()
    assert (on >= off).all() and (on[remembered > 0] > off[remembered > 0]).any()


def test_a_youths_own_arrests_raise_his_perceived_certainty_only_when_switched_on(classroom):
    """Each arrest is remembered by the youth arrested, the memory fading with
    ``arrest_memory_weeks``; with ``certainty_own_arrest`` above zero it raises his
    perceived certainty of sanction (Lochner 2007), never above 1, and nobody else's;
    at its default of zero his own experience counts for nothing."""
    from abm.behaviour import perceive_sanction
    from abm.model import CityModel

    model = CityModel(classroom, seed=1)
    model.run(40)
    yth = model.youths
    remembered = yth.recent_arrests.copy()
    arrested = remembered > 0
    assert arrested.any() and (remembered >= 0).all()
    assert (remembered[arrested] <= yth.arrests[arrested]).all()
    off = perceive_sanction(model).copy()
    fade = np.exp(-1.0 / classroom.youth.arrest_memory_weeks)
    assert np.allclose(yth.recent_arrests, remembered * fade)
    yth.recent_arrests[:] = remembered
    yth.recent_arrests[~arrested] = 0.0
    model.p = classroom.replace(**{"youth.certainty_own_arrest": 0.6})
    on = perceive_sanction(model)
    assert (on[~arrested] == off[~arrested]).all()
    below = arrested & (off < 1)
    assert (on >= off).all() and below.any() and (on[below] > off[below]).all()
    assert (on <= 1).all()
    model.p = classroom.replace(**{"youth.certainty_own_arrest": 1.0, "youth.certainty_police": 1.0,
                                   "youth.certainty_clearance": 1.0})
    yth.recent_arrests[arrested] = 50.0
    assert (perceive_sanction(model) <= 1).all()
