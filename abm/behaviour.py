"""Youths' lives: entering and leaving the youth pool, school and work, violence
propensity, and the weekly choice to join or leave a gang.

The joining choice is a logistic hazard (Becker's weighing of gang income and
protection against legal opportunity and sanction, plus peers, exposure and the local
gang's demand). :func:`join_logit` is the pure function behind it, so tests can state
its directions without running a city.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from abm import justice
from abm.city import NEIGHBOURHOOD_BLOCKS, group_order
from abm.population import WEEKS_PER_YEAR, YOUTH_ENTRY_AGE, YOUTH_EXIT_AGE

if TYPE_CHECKING:
    from abm.config import PopulationParams, YouthParams
    from abm.model import CityModel

SCHOOL_LEAVING_AGE = 18


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def new_youth_traits(
    model: CityModel, slots: np.ndarray, stream: Callable[[str], np.random.Generator]
) -> None:
    """Draw household SES, schooling, work and traits for youths entering ``slots``.

    Each trait has its own stream (``stream(name)``). School and work draws are laid
    out by slot (one number per youth slot, entering or not), so who else enters this
    week does not change them; SES and the continuous traits are drawn for the
    entering youths only (cheaper for large cities).
    """
    yth, p = model.youths, model.p
    n = len(slots)
    blocks = yth.block[slots]
    yth.ses[slots] = model.city.household_ses(blocks, stream("ses"))
    ses = yth.ses[slots]
    age = yth.age_weeks[slots] / WEEKS_PER_YEAR
    # Dropout is about three times as common in the poorest quartile (CEPAL).
    pop, yp = p.population, p.youth
    school_p = np.clip(pop.school_enrolment * (pop.school_ses_base + pop.school_ses_slope * ses), 0, pop.school_max)
    yth.in_school[slots] = (stream("school").random(yth.n)[slots] < school_p) & (age < SCHOOL_LEAVING_AGE)
    work_p = employment_equilibrium(pop, ses)
    yth.employed[slots] = ~yth.in_school[slots] & (stream("work").random(yth.n)[slots] < work_p)
    yth.self_control[slots] = stream("self_control").beta(yp.self_control_shape, yp.self_control_shape, n)
    noise = stream("propensity").normal(0, yp.propensity_initial_sd, n)
    yth.propensity[slots] = np.clip(yp.propensity_self_control * (1 - yth.self_control[slots]) + noise, 0, 1)
    yth.gang[slots] = -1
    yth.joined_step[slots] = -1
    yth.arrests[slots] = 0
    yth.incarcerated[slots] = False
    yth.release_step[slots] = -1
    yth.ever_prison[slots] = False
    yth.kills[slots] = 0
    yth.perceived_certainty[slots] = 0.0
    yth.abusive_stops[slots] = 0.0
    yth.recent_arrests[slots] = 0.0
    yth.jailed_by[slots] = 0
    yth.reset_policy_state(slots)
    yth.alive[slots] = True


def employment_equilibrium(params: PopulationParams, ses: np.ndarray) -> np.ndarray:
    """Share employed among out-of-school youths, by SES, around the city's rate."""
    return np.clip(
        (1 - params.youth_unemployment) * (params.employment_ses_base + params.employment_ses_slope * ses),
        0,
        params.employment_max,
    )


def build_peer_network(
    model: CityModel, slots: np.ndarray, rng: np.random.Generator, per_youth: int | None = None
) -> None:
    """Give youths in ``slots`` friends: mostly in their block, then their school
    (district), then anywhere; barriers cut ties to the rest of the city."""
    yth, p, city = model.youths, model.p.population, model.city
    n_new = len(slots)
    if n_new == 0 or yth.n < 2:
        return
    k = per_youth or max(1, int(round(p.peer_degree / 2)))  # each edge has two ends
    ego = np.repeat(slots, k)
    u = rng.random(len(ego))
    alive = np.flatnonzero(yth.alive)
    blocks = yth.block[alive]
    districts = city.district[blocks]
    same_block = u < p.peer_same_block
    same_district = ~same_block & (u < p.peer_same_block + p.peer_same_district)
    # Ties leave a barrier district less often: they stay in the district instead.
    behind = city.barrier[yth.block[ego]]
    anywhere = ~same_block & ~same_district
    stay = anywhere & behind & (rng.random(len(ego)) > model.p.city.barrier_access)
    same_district |= stay
    anywhere &= ~stay
    alter = np.full(len(ego), -1, dtype=np.int64)
    alter[same_block] = pick_in_group(rng, alive, blocks, yth.block[ego[same_block]])
    alter[same_district] = pick_in_group(rng, alive, districts, city.district[yth.block[ego[same_district]]])
    alter[anywhere] = alive[rng.integers(0, len(alive), anywhere.sum())]
    ok = alter >= 0
    model.peers.add_edges(ego[ok], alter[ok])


def pick_in_group(rng: np.random.Generator, members: np.ndarray, keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each value in ``wanted``, a random element of ``members`` whose key equals it
    (-1 where the group is empty)."""
    order = group_order(keys)
    sorted_keys = keys[order]
    lo = np.searchsorted(sorted_keys, wanted, side="left")
    hi = np.searchsorted(sorted_keys, wanted, side="right")
    size = hi - lo
    pick = lo + np.floor(rng.random(len(wanted)) * np.maximum(size, 1)).astype(np.int64)
    out = np.where(size > 0, members[order[np.minimum(pick, len(order) - 1)]], -1)
    return out


def ageing(model: CityModel) -> None:
    """Everyone ages a week; 25-year-olds leave; new 15-year-olds fill freed slots."""
    yth = model.youths
    yth.age_weeks[yth.alive] += 1
    leaving = np.flatnonzero(yth.alive & (yth.age_weeks >= YOUTH_EXIT_AGE * WEEKS_PER_YEAR))
    for slot in leaving.tolist():
        model.remove_youth(slot)
    model.aged_out += len(leaving)
    model.ledger.count("aged_out", len(leaving))
    free_slots = np.flatnonzero(~yth.alive)
    if len(free_slots) == 0:
        return
    # A stationary cohort: as many enter as left, living where youths live.
    city = model.city
    weights = city.density_weights(model.p.city.poor_density)
    # One number per youth slot; a block by inverting the density's distribution
    # (what Generator.choice does, for the entering slots only).
    u = model.stream("entry_homes").random(yth.n)[free_slots]
    cdf = np.cumsum(weights / weights.sum())
    yth.block[free_slots] = np.searchsorted(cdf / cdf[-1], u, side="right")
    yth.age_weeks[free_slots] = YOUTH_ENTRY_AGE * WEEKS_PER_YEAR
    new_youth_traits(model, free_slots, lambda name: model.stream("entry_" + name))
    for slot in free_slots.tolist():
        model.add_youth(slot)
    build_peer_network(model, free_slots, model.stream("entry_peers"))
    # Friends of those who left make a new friend each, so that the network keeps its density.
    orphaned = np.array(sorted(set(model.peers.take_orphaned())), dtype=np.int64)
    orphaned = orphaned[yth.alive[orphaned]] if len(orphaned) else orphaned
    build_peer_network(model, orphaned, model.stream("new_friends"), per_youth=1)
    model.entered += len(free_slots)
    model.ledger.count("entered", len(free_slots))


def labour_market(model: CityModel) -> None:
    """School leaving and dropout; jobs found and lost.

    Job finding is set so that, at each SES, employment settles at the city's youth
    unemployment rate; prison stigma and gang membership lower it.
    """
    rng, yth, p = model.stream("labour_market"), model.youths, model.p
    free = yth.free
    age = yth.age_weeks / WEEKS_PER_YEAR
    u = rng.random(yth.n)
    yp = p.youth
    dropout = yp.dropout * np.clip(
        yp.dropout_ses_base - yp.dropout_ses_slope * yth.ses, yp.dropout_factor_min, yp.dropout_factor_max
    )
    # A cash transfer conditional on staying in school (social prevention) lowers dropout.
    dropout = dropout * (1 - yth.dropout_reduction)
    leave = yth.in_school & free & ((age >= SCHOOL_LEAVING_AGE) | (u < dropout))
    yth.in_school[leave] = False
    out = free & ~yth.in_school
    loss = p.youth.job_loss
    target = employment_equilibrium(p.population, yth.ses)
    finding = loss * target / np.maximum(1 - target, 1e-6)
    finding = finding * np.where(yth.ever_prison, 1 - p.youth.release_stigma, 1.0)
    finding = finding * np.where(yth.gang >= 0, p.youth.member_job_finding, 1.0)
    hired = out & ~yth.employed & (rng.random(yth.n) < finding)
    fired = out & yth.employed & (rng.random(yth.n) < loss)
    yth.employed[hired] = True
    yth.employed[fired] = False
    yth.employed[yth.incarcerated | yth.in_school] = False


def join_logit(
    params: YouthParams,
    *,
    peer_share: np.ndarray,
    exposure: np.ndarray,
    demand: np.ndarray,
    income: np.ndarray,
    legal: np.ndarray,
    sanction: np.ndarray,
    efficacy: np.ndarray,
    self_control: np.ndarray,
    propensity: np.ndarray,
    cbt_effect: np.ndarray,
) -> np.ndarray:
    """Log-odds that a non-member joins the local gang this week.

    Inputs are 0-1 (demand -1 to 1): share of friends in gangs, block violence
    exposure, the gang's unmet demand for recruits (negative when it has more members
    than its income pays), gang income relative to legal income, legal
    opportunity (in school or working), perceived certainty x severity of sanction,
    block collective efficacy, self-control, violence propensity, and the current CBT
    effect (which lowers joining as it lowers propensity).
    """
    return (
        params.join_base
        + params.join_peer * peer_share
        + params.join_exposure * exposure
        + params.join_demand * demand
        + params.join_income * income
        - params.join_legal * legal
        - params.join_sanction * sanction
        - params.join_efficacy * efficacy
        - params.join_self_control * self_control
        + params.join_propensity * propensity * (1 - cbt_effect)
    )


def perceived_severity(model: CityModel) -> float:
    """Perceived severity of sanction, 0-1: the usual sentence (mano dura raises it)
    against ``youth.severity_reference_weeks`` (two years)."""
    return min(1.0, model.p.justice.sentence_weeks * model.severity_factor / model.p.youth.severity_reference_weeks)


def perceived_risk(params: YouthParams, certainty: np.ndarray, severity: float) -> np.ndarray:
    """Perceived risk of sanction, 0-1. Certainty weighs more than severity (Nagin 2013).
    The two weights may add up to more than 1 (each is a share of its own), so the risk
    is capped at 1: a gang forgoes at most ``sanction_deterrence`` of its confrontations."""
    return np.minimum(1.0, certainty * (params.risk_certainty + params.risk_severity * severity))


def youth_choices(model: CityModel) -> None:
    """Youths' weekly choices (ODD 7.5): propensity moves toward its target; the
    perceived certainty of sanction is formed; non-members may join the local gang,
    and those who were members at the start of the week may leave."""
    members_before = model.youths.gang >= 0
    update_propensity(model)
    certainty = perceive_sanction(model)
    joining(model, certainty)
    desistance(model, members_before)


def update_propensity(model: CityModel) -> None:
    """Violence propensity: a state, pulled toward what self-control, membership,
    exposure, a prison record and abusive stops suffered make of a youth; CBT lowers
    it while it lasts."""
    yth, p = model.youths, model.p.youth
    exposure = np.minimum(model.city.violence_exposure[yth.block], 1.0)
    yth.abusive_stops *= np.exp(-1.0 / p.abusive_stop_memory_weeks)
    target = (
        p.propensity_self_control * (1 - yth.self_control)
        + p.propensity_member * (yth.gang >= 0)
        + p.propensity_exposure * exposure
        + p.propensity_released * yth.ever_prison
        + p.propensity_abusive_stop * yth.abusive_stops  # 0 by default: adds exactly nothing
    )
    target = np.clip(target * (1 - yth.cbt_effect), 0, 1)
    yth.propensity += p.propensity_adapt * (target - yth.propensity)


def perceive_sanction(model: CityModel) -> np.ndarray:
    """Each youth's perceived certainty of sanction (kept in ``perceived_certainty``):
    police around home, the city's recent clearance and his own recent arrests (off by
    default: ``certainty_own_arrest`` 0), at most 1; members of a group told it will be
    sanctioned as a whole also weigh how credible that promise has proved (focused
    deterrence)."""
    yth, p, city = model.youths, model.p.youth, model.city
    yth.recent_arrests *= np.exp(-1.0 / p.arrest_memory_weeks)
    police_near = city.neighbourhood_sum(city.police_presence)[yth.block] / NEIGHBOURHOOD_BLOCKS
    certainty = p.certainty_police * (1 - np.exp(-p.certainty_police_slope * police_near)) + (
        p.certainty_clearance * justice.recent_clearance(model, p.prior_clearance)
    )
    if p.certainty_own_arrest > 0:  # 0 by default: adds exactly nothing
        certainty = np.minimum(certainty + p.certainty_own_arrest * (1 - np.exp(-yth.recent_arrests)), 1.0)
    collective = model.gangs.of(model.collective_certainty, yth.gang)  # 0 for non-members
    certainty = np.maximum(certainty, collective)
    yth.perceived_certainty[:] = certainty
    return certainty


def join_inputs(model: CityModel, idx: np.ndarray, certainty: np.ndarray) -> dict[str, np.ndarray]:
    """The inputs of :func:`join_logit` for the non-members ``idx`` living in a gang's
    territory, as the city stands this week.

    Gang income is weighed against the youth's legal income: ``income_half_saturation``
    is the gang income that matches a poor youth's usual legal income, and legal income
    a programme adds (``legal_income_gain``, a share of that usual income: wages, cash
    transfers) raises it in proportion.
    """
    yth, p, city = model.youths, model.p.youth, model.city
    member = yth.gang >= 0
    g = city.gang_owner[yth.block[idx]]
    income = model.gangs.income_per_member[g]
    return dict(
        peer_share=model.peers.share_with(member & yth.alive)[idx],
        exposure=np.minimum(city.violence_exposure[yth.block[idx]], 1.0),
        demand=model.gangs.demand[g],
        income=income / (income + p.income_half_saturation * (1 + yth.legal_income_gain[idx])),
        legal=(yth.in_school[idx] | yth.employed[idx]).astype(float),
        sanction=certainty[idx] * perceived_severity(model),
        efficacy=city.collective_efficacy[yth.block[idx]],
        self_control=yth.self_control[idx],
        propensity=yth.propensity[idx],
        cbt_effect=yth.cbt_effect[idx],
    )


def joining(model: CityModel, certainty: np.ndarray) -> None:
    """Free non-members living in a gang's territory may join it (:func:`join_logit`)."""
    yth, p, city = model.youths, model.p.youth, model.city
    member = yth.gang >= 0
    local = city.gang_owner[yth.block]
    idx = np.flatnonzero(yth.free & ~member & (local >= 0))
    joined = np.empty(0, dtype=np.int64)
    if len(idx):
        logit = join_logit(p, **join_inputs(model, idx, certainty))
        u = model.stream("joining").random(yth.n)  # one number per youth slot
        joined = idx[u[idx] < sigmoid(logit)]
        yth.gang[joined] = local[joined]
        yth.joined_step[joined] = model.week
    model.ledger.count("recruits", len(joined))


def desistance(model: CityModel, members: np.ndarray) -> None:
    """Free members (of ``members``, those at the start of the week) may leave their
    gang: more likely with a job, with age and CBT; less in organised gangs."""
    yth, p = model.youths, model.p.youth
    midx = np.flatnonzero(yth.free & members)
    if len(midx) == 0:
        return
    org = model.gangs.organisation[yth.gang[midx]]
    hazard = (
        p.exit_base
        * (1 + p.exit_job * yth.employed[midx])
        * (1 + p.exit_age * (yth.age_weeks[midx] / WEEKS_PER_YEAR - YOUTH_ENTRY_AGE))
        * (1 + p.exit_cbt * yth.cbt_effect[midx])
        * (1 - p.exit_organisation * org)
    )
    u = model.stream("desistance").random(yth.n)
    left = midx[u[midx] < hazard]
    yth.gang[left] = -1
    model.ledger.count("desisted", len(left))
