"""Directions each mechanism must respect, stated on its pure function."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from abm.behaviour import join_logit
from abm.config import ResidentParams, Scenario
from abm.justice import clearance_probability
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


def join(**changes):
    base = dict(peer_share=0.2, exposure=0.3, demand=0.5, income=0.5, legal=0.0, sanction=0.3, efficacy=0.3,
                self_control=0.5, propensity=0.4, cbt_effect=0.0)
    base.update(changes)
    return join_logit(P.youth, **{k: np.array([v]) for k, v in base.items()})[0]


@given(efficacy=unit, more=unit)
def test_more_collective_efficacy_never_raises_joining(efficacy, more):
    assert join(efficacy=min(1, efficacy + more)) <= join(efficacy=efficacy)


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
