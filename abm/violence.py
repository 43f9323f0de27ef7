"""Confrontations and homicides.

Violence happens where rival gangs meet: a block held by one gang next to a block
held by a rival is contested, and its weekly confrontation rate grows with the
members of both gangs living around it, their violence propensity and their
grievance against each other, and falls with police presence, collective efficacy
and the gangs' organisation (organised groups avoid visible violence). Non-members
also fight, at a lower rate. A lethality parameter (firearm availability) turns some
confrontations into homicides. A killing raises the victim's gang's grievance
against the killer's, which decays with a mean life of about 18 weeks (Green et al.
2017): retaliation makes homicide cluster in time and space.

:func:`gang_confrontation_rate` and :func:`youth_confrontation_rate` are pure
functions, so tests can state their directions without a city.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from abm import justice, streams
from abm.behaviour import perceived_risk, perceived_severity
from abm.gangs import member_counts

if TYPE_CHECKING:
    from abm.config import ViolenceParams
    from abm.model import CityModel


class HomicideKind(StrEnum):
    """Who killed: a gang member in a confrontation between gangs, a non-member, or police."""

    GANG = "gang"
    YOUTH = "youth"
    POLICE = "police"


class VictimType(StrEnum):
    """Who was killed (``victim_type`` in events.csv)."""

    RIVAL_MEMBER = "rival_member"
    NON_MEMBER_YOUTH = "non_member_youth"
    BYSTANDER_RESIDENT = "bystander_resident"
    MEMBER = "member"  # a gang member killed by police


def gang_confrontation_rate(
    params: ViolenceParams,
    *,
    own: np.ndarray,
    rival: np.ndarray,
    propensity: np.ndarray,
    grievance: np.ndarray,
    police: np.ndarray,
    efficacy: np.ndarray,
    organisation: np.ndarray,
    sanction: np.ndarray,
    restraint: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Expected confrontations per week in contested blocks.

    Two sources add up: everyday friction where members of rival gangs live close
    (``gang_rate`` x sqrt(own x rival) x propensity), and retaliation, the block's
    part of the grievance between the two gangs (``grievance_effect`` confrontations
    per week per unit of grievance). Police presence, collective efficacy,
    organisation (organised groups avoid visible violence), the members' perceived
    risk of sanction and the restraint the two leaderships impose (a truce) damp both.

    Args:
        own, rival: members of the holding gang and of its rival living around the block.
        propensity: mean violence propensity of the two gangs' members, 0-1.
        grievance: the block's share of the grievance between the two gangs, >= 0.
        police: officers present (with spill-over), >= 0.
        efficacy: block collective efficacy, 0-1.
        organisation: mean organisation of the two gangs, 0-1.
        sanction: mean perceived risk of sanction of the two gangs' members, 0-1.
        restraint: mean share of confrontations the two gangs' leaderships hold back,
            0-1 (``model.gang_restraint``, set by a truce; 0 leaves the rate unchanged).
    """
    friction = params.gang_rate * np.sqrt(own * rival) * (params.propensity_friction * propensity)
    retaliation = params.grievance_effect * grievance * (rival > 0)
    return (
        (friction + retaliation)
        * np.exp(-params.police_deterrence * police)
        * (1 - params.efficacy_damping * efficacy)
        * (1 - params.organisation_restraint * organisation)
        * (1 - params.sanction_deterrence * sanction)
        * (1 - restraint)
    )


def youth_confrontation_rate(
    params: ViolenceParams, *, propensity_sum: np.ndarray, police: np.ndarray, efficacy: np.ndarray
) -> np.ndarray:
    """Expected confrontations per week among non-members of a block.

    ``propensity_sum`` is the sum of squared propensities of its free non-member youths.
    """
    return (
        params.youth_rate
        * propensity_sum
        * np.exp(-params.police_deterrence * police)
        * (1 - params.efficacy_damping * efficacy)
    )


def confrontation_probability(rate: np.ndarray) -> np.ndarray:
    """Chance of at least one confrontation in a week at a Poisson rate."""
    return 1.0 - np.exp(-rate)


def rival_of_block(model: CityModel) -> np.ndarray:
    """For each block, a rival gang (an edge of ``model.rivalry``) holding a
    neighbouring block, -1 if none. A block bordering two rivals takes the first found
    (west, east, north, south)."""
    city = model.city
    owner = city.gang_owner
    nb = city.von_neumann
    rival = np.full(city.n_blocks, -1, dtype=np.int64)
    if len(model.gangs) < 2:
        return rival
    is_rival = model.gangs.rival
    safe_owner = np.maximum(owner, 0)
    for k in range(4):
        other = np.where(nb[:, k] >= 0, owner[np.maximum(nb[:, k], 0)], -1)
        take = (rival < 0) & (owner >= 0) & (other >= 0) & (other != owner)
        take &= is_rival[safe_owner, np.maximum(other, 0)]
        rival[take] = other[take]
    return rival


def confrontations(model: CityModel) -> None:
    """This week's violence (ODD 7.7): grievance fades; confrontations between rival
    gangs and among non-members; violence exposure; homicides and their consequences.

    Each block has one number for each count (confrontations between gangs, among
    non-members, and killings of each), so a block's count changes only when its own
    rate crosses its number (common random numbers across policies).
    """
    n_b = model.city.n_blocks
    rng = model.stream("confrontations")
    u_gang, u_youth = rng.random(n_b), rng.random(n_b)
    rng = model.stream("lethality")
    u_gang_kill, u_youth_kill = rng.random(n_b), rng.random(n_b)
    model.grievance *= np.exp(-1.0 / model.p.violence.grievance_memory_weeks)
    gang_conf, rival = gang_confrontations(model, u_gang)
    youth_conf = youth_confrontations(model, u_youth)
    conf = gang_conf + youth_conf
    model.ledger.count("confrontations", int(conf.sum()))
    model.city.confrontations[:] = conf
    update_exposure(model, conf)
    homicides(model, gang_conf, youth_conf, rival, u_gang_kill, u_youth_kill)


def gang_confrontations(model: CityModel, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Confrontations between rival gangs in each contested block (drawn at the
    block's number in ``u``), and the rival of each block (-1 where none)."""
    city, p, yth = model.city, model.p.violence, model.youths
    n_b = city.n_blocks
    gang_conf = np.zeros(n_b, dtype=np.int64)
    rival = np.full(n_b, -1, dtype=np.int64)
    if len(model.gangs) < 2:
        return gang_conf, rival
    counts = member_counts(model)
    owner = city.gang_owner
    rival = rival_of_block(model)
    contested = np.flatnonzero(rival >= 0)
    own_near = city.near_members(counts, owner, p.reach)[contested]
    rival_near = city.near_members(counts, rival, p.reach)[contested]
    members = yth.free & (yth.gang >= 0)
    n_g = len(model.gangs)
    prop_g = np.bincount(yth.gang[members], weights=yth.propensity[members], minlength=n_g) / np.maximum(
        np.bincount(yth.gang[members], minlength=n_g), 1
    )
    org_g = model.gangs.organisation
    risk = perceived_risk(model.p.youth, yth.perceived_certainty[members], perceived_severity(model))
    risk_g = np.bincount(yth.gang[members], weights=risk, minlength=n_g) / np.maximum(
        np.bincount(yth.gang[members], minlength=n_g), 1
    )
    g, h = owner[contested], rival[contested]
    # Each pair's grievance is spread over the blocks where the two gangs meet,
    # in proportion to how many of their members live there.
    closeness = np.sqrt(own_near * rival_near)
    pair = np.minimum(g, h) * n_g + np.maximum(g, h)
    pair_total = np.bincount(pair, weights=closeness, minlength=n_g * n_g)[pair]
    block_share = np.divide(closeness, pair_total, out=np.zeros(len(pair)), where=pair_total > 0)
    rate = gang_confrontation_rate(
        p,
        own=own_near,
        rival=rival_near,
        propensity=(prop_g[g] + prop_g[h]) / 2,
        grievance=(model.grievance[g, h] + model.grievance[h, g]) * block_share,
        police=city.police_presence[contested],
        efficacy=city.collective_efficacy[contested],
        organisation=(org_g[g] + org_g[h]) / 2,
        sanction=(risk_g[g] + risk_g[h]) / 2,
        restraint=(model.gang_restraint[g] + model.gang_restraint[h]) / 2,
    )
    gang_conf[contested] = streams.poisson(u[contested], rate)
    return gang_conf, rival


def youth_confrontations(model: CityModel, u: np.ndarray) -> np.ndarray:
    """Confrontations among free non-members in each block (drawn at the block's
    number in ``u``)."""
    city, yth = model.city, model.youths
    nonmember = yth.free & (yth.gang < 0)
    psum = np.bincount(yth.block[nonmember], weights=yth.propensity[nonmember] ** 2, minlength=city.n_blocks)
    rate = youth_confrontation_rate(
        model.p.violence, propensity_sum=psum, police=city.police_presence, efficacy=city.collective_efficacy
    )
    return streams.poisson(u, rate)


def update_exposure(model: CityModel, conf: np.ndarray) -> None:
    """Violence exposure of each block: fades, and grows with confrontations on it and
    around it."""
    city, p = model.city, model.p.violence
    exposure_decay = np.exp(-1.0 / p.exposure_memory_weeks)
    spread = city.neighbourhood_sum(conf)
    city.violence_exposure[:] = city.violence_exposure * exposure_decay + p.exposure_per_confrontation * conf + (
        p.exposure_spillover * spread
    )


def homicides(
    model: CityModel,
    gang_conf: np.ndarray,
    youth_conf: np.ndarray,
    rival: np.ndarray,
    u_gang: np.ndarray,
    u_youth: np.ndarray,
) -> None:
    """Some confrontations kill (``lethality``): who kills whom, grievance, cases."""
    city, p = model.city, model.p.violence
    gang_kills = streams.binomial(u_gang, gang_conf, p.lethality)
    youth_kills = streams.binomial(u_youth, youth_conf, p.lethality)
    # Who kills whom: each killing draws from its own stream (week, block, number).
    for b in np.flatnonzero(gang_kills).tolist():
        for k in range(int(gang_kills[b])):
            rng = model.stream("gang_homicide", b, k)
            gang_homicide(model, rng, b, int(city.gang_owner[b]), int(rival[b]))
    for b in np.flatnonzero(youth_kills).tolist():
        for k in range(int(youth_kills[b])):
            youth_homicide(model, model.stream("youth_homicide", b, k), b)
    for u, v, data in model.rivalry.edges(data=True):
        data["grievance"] = float(model.grievance[u, v] + model.grievance[v, u])


def _pick(rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray | None = None) -> int:
    if len(candidates) == 0:
        return -1
    if weights is None or weights.sum() <= 0:
        return int(candidates[rng.integers(len(candidates))])
    return int(rng.choice(candidates, p=weights / weights.sum()))


def _near(model: CityModel, block: int) -> np.ndarray:
    """Mask of youths living within ``violence.reach`` blocks of ``block``."""
    around = model.city.window(model.p.violence.reach)[block]
    return np.isin(model.youths.block, around[around >= 0])


def gang_homicide(model: CityModel, rng: np.random.Generator, block: int, g: int, h: int) -> None:
    """A killing in a confrontation between gangs g and h at ``block``."""
    yth, p = model.youths, model.p.violence
    # The side with more grievance is more likely to be the attacker.
    w_g = p.attacker_weight + model.grievance[g, h]
    w_h = p.attacker_weight + model.grievance[h, g]
    attacker, defender = (g, h) if rng.random() < w_g / (w_g + w_h) else (h, g)
    near = _near(model, block) & yth.free
    pool = np.flatnonzero(near & (yth.gang == attacker))
    perp = _pick(rng, pool, yth.propensity[pool])
    if perp < 0:
        return
    u = rng.random()
    victim_type, victim = VictimType.RIVAL_MEMBER, -1
    if u < p.bystander_share:
        victim_type = VictimType.BYSTANDER_RESIDENT
        victim = _resident_in(model, rng, block)
    elif u < p.bystander_share + p.nonmember_victim_share:
        victim_type = VictimType.NON_MEMBER_YOUTH
        victim = _pick(rng, np.flatnonzero(near & (yth.gang < 0)))
    if victim < 0:
        victim_type = VictimType.RIVAL_MEMBER
        victim = _pick(rng, np.flatnonzero(near & (yth.gang == defender)))
    if victim < 0:
        return
    victim_gang = int(yth.gang[victim]) if victim_type != VictimType.BYSTANDER_RESIDENT else -1
    if victim_type == VictimType.RIVAL_MEMBER:
        model.grievance[defender, attacker] += p.grievance_member_killed
    else:
        # Killing outsiders in a war still angers the other side, but less.
        model.grievance[defender, attacker] += p.grievance_outsider_killed
    record_homicide(model, HomicideKind.GANG, block, perp, victim, victim_type, attacker, victim_gang)


def youth_homicide(model: CityModel, rng: np.random.Generator, block: int) -> None:
    """A killing in a fight among non-members (or of a resident)."""
    yth, p = model.youths, model.p.violence
    here = yth.free & (yth.gang < 0) & (yth.block == block)
    pool = np.flatnonzero(here)
    perp = _pick(rng, pool, yth.propensity[pool] ** 2)
    if perp < 0:
        return
    if rng.random() < p.bystander_share:
        victim_type, victim = VictimType.BYSTANDER_RESIDENT, _resident_in(model, rng, block)
    else:
        victim_type, victim = VictimType.NON_MEMBER_YOUTH, _pick(rng, pool[pool != perp])
    if victim < 0:
        return
    record_homicide(model, HomicideKind.YOUTH, block, perp, victim, victim_type, -1, -1)


def _resident_in(model: CityModel, rng: np.random.Generator, block: int) -> int:
    res = model.residents
    lo, hi = np.searchsorted(res.block, [block, block + 1])
    slots = np.arange(lo, hi)
    slots = slots[res.alive[slots]]
    return _pick(rng, slots)


def record_homicide(
    model: CityModel,
    kind: HomicideKind,
    block: int,
    perp: int,
    victim: int,
    victim_type: VictimType,
    perp_gang: int,
    victim_gang: int,
) -> None:
    """Log the killing, remove the victim, open an investigation (not for police killings)."""
    city, yth = model.city, model.youths
    if victim_type == VictimType.BYSTANDER_RESIDENT:
        victim_id = int(model.residents.person_id[victim])
        model.residents.victimised[model.residents.block == block] += model.p.residents.victimisation_per_killing
        model.remove_resident(victim)
    else:
        victim_id = int(yth.person_id[victim])
        model.remove_youth(victim)
    model.killed += 1
    perp_id = int(yth.person_id[perp]) if perp >= 0 else -1
    model.events.append(
        {
            "step": model.week,
            "block": block,
            "x": int(city.x[block]),
            "y": int(city.y[block]),
            "kind": kind,
            "perpetrator_id": perp_id,
            "perpetrator_gang": perp_gang,
            "victim_id": victim_id,
            "victim_type": victim_type,
            "victim_gang": victim_gang,
        }
    )
    if kind == HomicideKind.POLICE:
        model.ledger.count("police_killings", 1)
        city.police_killings[block] += 1
        return
    yth.kills[perp] += 1
    city.homicides[block] += 1
    model.ledger.homicide(block)
    justice.open_case(model, perp, block)
