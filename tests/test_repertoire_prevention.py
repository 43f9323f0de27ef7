"""Social prevention and prison reform: off they change nothing, on they move their
mechanism in its direction, and without their mechanism they move nothing."""

import numpy as np
import pytest

from abm import behaviour, justice
from abm.model import CityModel
from abm.policies.social_prevention import PreventionStatus
from abm.simulate import simulate

from .test_policies import with_policy

OWN_COLUMNS = {
    "social_prevention": ("prevention_enrolled", "prevention_enrolled_new", "prevention_jobs", "prevention_paid",
                          "policy_cost"),
}


@pytest.fixture(scope="module")
def short(classroom):
    """Classroom city, 3 years, policies from week 52."""
    return classroom.replace(**{"run.steps": 156, "run.burn_in": 52})


def window_sum(result, key, first=53):
    return float(np.sum([r[key] for r in result.timeseries[first - 1:]]))


def same_run_but(base, other, own):
    """The two runs' weekly rows agree on every column but ``own``."""
    for b, o in zip(base.timeseries, other.timeseries, strict=True):
        assert repr({k: v for k, v in b.items() if k not in own}) == repr({k: v for k, v in o.items() if k not in own})
    assert len(base.events) == len(other.events)


# Zero coverage reproduces the baseline byte for byte: tests/test_policies.py, with
# every policy.


# -- social prevention -------------------------------------------------------------

def test_wages_and_transfers_lower_participants_value_of_joining(short):
    model = CityModel(with_policy(short, "social_prevention", capacity_per_100k=2000, transfer_per_week=30,
                                  school_condition=False), seed=2)
    model.run(60)
    yth = model.youths
    enrolled = yth.prevention_status == PreventionStatus.ENROLLED
    at_risk = np.flatnonzero(enrolled & yth.free & (yth.gang < 0) & (model.city.gang_owner[yth.block] >= 0))
    assert len(at_risk) > 10
    assert (yth.legal_income_gain[at_risk] == (50 + 30) / 60).all()
    # Every out-of-school participant holds the subsidised job: legal opportunity.
    assert (yth.employed | yth.in_school)[at_risk].all()
    certainty = yth.perceived_certainty
    with_income = behaviour.join_logit(model.p.youth, **behaviour.join_inputs(model, at_risk, certainty))
    gain = yth.legal_income_gain.copy()
    yth.legal_income_gain[:] = 0.0
    without = behaviour.join_logit(model.p.youth, **behaviour.join_inputs(model, at_risk, certainty))
    yth.legal_income_gain[:] = gain
    assert (with_income <= without).all() and (with_income < without).mean() > 0.5


def test_social_prevention_lowers_recruitment_on_the_same_seeds(short):
    recruits = {"baseline": 0.0, "prevention": 0.0}
    for seed in (1, 2, 3, 4):  # a few dozen recruits a city: one seed's difference is mostly chance
        base = simulate(short, seed)
        sp = simulate(with_policy(short, "social_prevention", capacity_per_100k=3000, transfer_per_week=30), seed)
        assert window_sum(sp, "prevention_enrolled_new") > 100
        assert window_sum(sp, "policy_cost") > window_sum(sp, "prevention_paid") > 0
        recruits["baseline"] += window_sum(base, "recruits")
        recruits["prevention"] += window_sum(sp, "recruits")
    assert recruits["prevention"] < recruits["baseline"]


def test_a_school_conditional_transfer_keeps_participants_in_school(short):
    """Same seeds, same dropout draws: with the condition fewer participants drop out."""
    def dropouts(seed, **changes):
        model = CityModel(with_policy(short, "social_prevention", capacity_per_100k=10_000, job=False,
                                      transfer_per_week=20, **changes), seed=seed)
        model.run(52)
        yth = model.youths
        start = yth.in_school & yth.alive
        who = yth.person_id.copy()
        model.run(52)
        took_part = start & (yth.prevention_status != PreventionStatus.NEVER) & (yth.person_id == who)
        assert took_part.sum() > 40
        # Left school before 18, and not because they went to prison or died.
        return int((took_part & yth.alive & ~yth.incarcerated & ~yth.in_school & (yth.age_weeks < 18 * 52)).sum())

    for seed in (1, 2):
        assert dropouts(seed, dropout_response=0.8) < dropouts(seed, dropout_response=0.0)


def test_social_prevention_without_wages_transfers_or_jobs_changes_nothing(short):
    """Places that pay nothing and offer no job: participants are enrolled and counted,
    and nothing else in the city moves."""
    base = simulate(short, 2)
    empty = simulate(with_policy(short, "social_prevention", capacity_per_100k=3000, job=False,
                                 transfer_per_week=0), 2)
    assert window_sum(empty, "prevention_enrolled_new") > 100
    same_run_but(base, empty, OWN_COLUMNS["social_prevention"])


def test_a_job_place_with_no_wage_acts_only_through_employment(short):
    """Without wage and transfer the legal income term is untouched: the job's effect is
    legal opportunity and desistance only."""
    model = CityModel(with_policy(short, "social_prevention", capacity_per_100k=3000, wage_per_week=0), seed=1)
    model.run(60)
    assert (model.youths.legal_income_gain == 0).all()
    assert (model.youths.prevention_status == PreventionStatus.ENROLLED).sum() > 100



def test_social_prevention_after_its_end_enrols_no_one_and_winds_down(short):
    model = CityModel(with_policy(short, "social_prevention", capacity_per_100k=2000, transfer_per_week=10, end=60),
                      seed=1)
    model.run(60)
    assert (model.youths.prevention_status == PreventionStatus.ENROLLED).sum() > 50
    model.run(1)
    assert model.ledger.rows[-1]["prevention_enrolled_new"] == 0
    model.run(26)
    yth = model.youths
    assert (yth.prevention_status != PreventionStatus.ENROLLED).all()
    assert (yth.legal_income_gain == 0).all() and (yth.dropout_reduction == 0).all()
    assert model.ledger.rows[-1]["policy_cost"] == 0


def test_social_prevention_mixes_with_cbt(short):
    both = with_policy(with_policy(short, "cbt", capacity_per_100k=2000), "social_prevention",
                       capacity_per_100k=2000, transfer_per_week=10)
    model = CityModel(both, seed=1)
    model.run(70)
    yth = model.youths
    assert ((yth.prevention_status == PreventionStatus.ENROLLED) & (yth.cbt_effect > 0)).any()


# -- prison reform -----------------------------------------------------------------

def test_prison_reform_lowers_prison_population_and_prison_recruits(short):
    for seed in (1, 2):
        base = simulate(short, seed)
        reform = simulate(with_policy(short, "prison_reform"), seed)
        assert window_sum(reform, "reform_diverted") > 0
        assert window_sum(reform, "incarcerated") < window_sum(base, "incarcerated")
        assert window_sum(reform, "prison_recruits") < window_sum(base, "prison_recruits")
        assert window_sum(reform, "policy_cost") > 0


def test_members_held_apart_recruit_no_one_inside(short):
    """With every member held apart no non-member meets a recruiter: prison recruitment
    stops while the policy acts; without separation it goes on as in the baseline."""
    base = simulate(short, 1)
    assert window_sum(base, "prison_recruits") > 0
    apart = simulate(with_policy(short, "prison_reform", alternative=0, term_factor=1, separation=1), 1)
    assert window_sum(apart, "prison_recruits") == 0
    assert window_sum(apart, "prison_recruits", first=1) == window_sum(base, "prison_recruits", first=1) - \
        window_sum(base, "prison_recruits")  # before the policy, the same
    mixed = simulate(with_policy(short, "prison_reform", alternative=0, term_factor=1, separation=0), 1)
    assert window_sum(mixed, "prison_recruits") == window_sum(base, "prison_recruits")


def test_alternatives_to_custody_keep_non_violent_non_members_out_of_prison(short, monkeypatch):
    def sent_to_prison(alternative):
        model = CityModel(with_policy(short, "prison_reform", alternative=alternative, term_factor=1, separation=0),
                          seed=2)
        model.run(52)
        sent = []
        real = justice.incarcerate

        def recording(model, slots, weeks):
            sent.extend(zip(model.youths.gang[slots].tolist(), model.youths.kills[slots].tolist(), strict=True))
            real(model, slots, weeks)

        monkeypatch.setattr(justice, "incarcerate", recording)
        model.run(68)
        monkeypatch.setattr(justice, "incarcerate", real)
        return sent, model

    sent, model = sent_to_prison(1)
    assert (model.youths.community_until > 0).sum() > 0
    # Everyone sent to prison since the policy started was a member or had killed.
    assert sent and all(gang >= 0 or kills > 0 for gang, kills in sent)
    # Without alternatives non-violent non-members go to prison.
    sent, model = sent_to_prison(0)
    assert any(gang < 0 and kills == 0 for gang, kills in sent)
    assert (model.youths.community_until < 0).all()


def test_custody_rules_are_ordinary_unless_the_policy_acts(short):
    model = CityModel(with_policy(short, "prison_reform", start=60), seed=1)
    model.run(60)
    assert model.custody is justice.ORDINARY
    model.run(1)
    assert model.custody.separation == 0.5 and not model.custody.ordinary
