"""Justice: homicide investigations, clearance, conviction, sentences and prison.

Every homicide opens a case. Each week a worked case is cleared with a chance that
rises with its evidence and falls with caseload and with corruption where the
perpetrator's gang is organised enough to buy protection. A case's evidence is a share
``other_evidence`` that does not depend on the block's witnesses (an arrest at the
scene, physical evidence, family, informants) and, for the rest, the witness
cooperation of the block's residents (their reporting propensity); it fades with the
case's age over ``evidence_weeks`` (most homicides that are cleared are cleared soon),
and detectives work the fresh cases: the caseload is the open cases weighted by what
is left of their evidence, against ``investigators_per_100k`` cases at once per
100,000 people. A policy may add investigators and evidence that does not come from
witnesses (``model.investigation_support``, see :mod:`abm.policies.investigations`);
without one, nothing changes. A cleared case leads to a
conviction with a fixed chance; a case uncleared after ``case_life_weeks`` goes cold
and its impunity erodes trust around it. About 20 in 100 homicides end in a
conviction in Latin America (the chapter; UNODC 24 in the Americas).

Prison has a capacity; overcrowding feeds prison recruitment of non-members and the
organisation of gangs with members inside ("finishing schools"). Released prisoners
carry stigma (see :mod:`abm.behaviour`: fewer jobs, higher propensity).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from abm import streams
from abm.population import WEEKS_PER_YEAR

if TYPE_CHECKING:
    from abm.model import CityModel


class CaseStatus(IntEnum):
    """Where a homicide case stands."""

    COLD = -1
    OPEN = 0
    CLEARED = 1
    CONVICTED = 2


class Cases:
    """Homicide cases: the open investigations as parallel lists (few at a time), and
    the log of every case of the run (step opened and status), in order of opening.

    The log is the justice system's own record: behaviour reads the recent clearance
    rate from it (:func:`recent_clearance`), and the measures read it too.
    """

    def __init__(self):
        self.perp_slot: list[int] = []
        self.perp_id: list[int] = []
        self.block: list[int] = []
        self.gang: list[int] = []
        self.opened: list[int] = []
        self.record: list[int] = []  # index of the case in the log
        self.log_step: list[int] = []  # step each case was opened, non-decreasing
        self.log_status: list[int] = []  # its CaseStatus

    def __len__(self) -> int:
        return len(self.opened)

    def drop(self, keep: np.ndarray) -> None:
        for name in ("perp_slot", "perp_id", "block", "gang", "opened", "record"):
            values = getattr(self, name)
            setattr(self, name, [v for v, k in zip(values, keep.tolist(), strict=True) if k])

    def close(self, records: np.ndarray, status: CaseStatus) -> None:
        for r in records.tolist():
            self.log_status[r] = int(status)

    def outcomes(self, first: int, last: int | None = None) -> tuple[float, float]:
        """Shares of the homicides of steps ``first``..``last`` cleared, and convicted, so far.

        Cases still open count as not (yet) cleared: near the end of a run this
        understates clearance (right-censoring). NaN without homicides.
        """
        lo = bisect.bisect_left(self.log_step, first)
        hi = len(self.log_step) if last is None else bisect.bisect_right(self.log_step, last)
        status = self.log_status[lo:hi]
        if not status:
            return float("nan"), float("nan")
        cleared = sum(1 for s in status if s > CaseStatus.OPEN)
        convicted = sum(1 for s in status if s == CaseStatus.CONVICTED)
        return cleared / len(status), convicted / len(status)


@dataclass(frozen=True)
class CustodyRules:
    """How arrests from stops and crackdowns turn into custody, and who meets whom
    inside; set each week by policies (prison reform), the ordinary rules otherwise.

    Attributes:
        alternative: chance an eligible held arrestee gets a sentence in the community
            (probation, electronic monitoring) instead of prison.
        term_factor: multiplier of the prison terms of eligible held arrestees.
        members_eligible: gang members are eligible too (otherwise non-members only);
            eligible arrestees have no homicide on record (non-violent).
        separation: chance a gang member in prison is held apart from non-members.
    """

    alternative: float = 0.0
    term_factor: float = 1.0
    members_eligible: bool = False
    separation: float = 0.0

    @property
    def ordinary(self) -> bool:
        return self.alternative == 0.0 and self.term_factor == 1.0 and self.separation == 0.0


ORDINARY = CustodyRules()


def open_case(model: CityModel, perp: int, block: int) -> None:
    c = model.cases
    c.perp_slot.append(perp)
    c.perp_id.append(int(model.youths.person_id[perp]))
    c.block.append(block)
    c.gang.append(int(model.youths.gang[perp]))
    c.opened.append(model.week)
    c.record.append(len(c.log_step))
    c.log_step.append(model.week)
    c.log_status.append(int(CaseStatus.OPEN))


def recent_clearance(model: CityModel, prior: float) -> float:
    """Share of the homicides of the last year (the 52 steps before this one) whose
    cases were cleared so far; ``prior`` before any homicide."""
    cleared, _ = model.cases.outcomes(model.week - WEEKS_PER_YEAR)
    return prior if math.isnan(cleared) else cleared


def capacity(model: CityModel) -> float:
    return model.p.prison.capacity_per_100k * model.people_start / 1e5


def occupancy(model: CityModel) -> float:
    """Inmates per prison place (1 = full)."""
    cap = capacity(model)
    return float(model.youths.incarcerated.sum() / cap) if cap > 0 else 0.0


def investigators(model: CityModel) -> float:
    """Homicide cases the city's unit can work at once (it scales with the city)."""
    return model.p.justice.investigators_per_100k * model.people_start / 1e5


def witness_evidence(other: float, cooperation: np.ndarray) -> np.ndarray:
    """Evidence on a fresh case, 0-1: the share ``other`` that does not depend on the
    block's witnesses, and their ``cooperation`` for the rest."""
    return other + (1 - other) * cooperation


def freshness(age: np.ndarray, evidence_weeks: float) -> np.ndarray:
    """What is left of a case's evidence ``age`` weeks after the killing, 0-1."""
    return np.exp(-age / evidence_weeks)


def clearance_probability(
    base: float, evidence: np.ndarray, workload: float, corruption: np.ndarray
) -> np.ndarray:
    """Weekly chance of clearing a case: evidence and capacity help, corruption hurts.

    Args:
        base: chance with full, fresh evidence, no backlog and no corruption.
        evidence: evidence on the case, 0-1 (:func:`witness_evidence` times
            :func:`freshness`).
        workload: caseload per investigator (<= 1 means every case is worked).
        corruption: share of the case protected by collusion, 0-1.
    """
    return base * evidence * min(1.0, 1.0 / max(workload, 1e-9)) * (1 - corruption)


def investigations(model: CityModel) -> None:
    c, yth, p = model.cases, model.youths, model.p.justice
    if len(c) == 0:
        return
    slots = np.array(c.perp_slot)
    gangs = np.array(c.gang)
    blocks = np.array(c.block)
    age = model.week - np.array(c.opened)
    org = model.gangs.of(model.gangs.organisation, gangs)
    evidence = witness_evidence(p.other_evidence, model.city.reporting[blocks])
    fresh = freshness(age, p.evidence_weeks)
    caseload = float(fresh.sum())  # detectives work the cases whose evidence is fresh
    unit = investigators(model)
    support = model.investigation_support
    if support is not None:  # a policy's detectives and forensic work (abm.policies.investigations)
        unit = unit + support.extra_investigators
        evidence = support.evidence(evidence, caseload, unit)
    corruption = model.p.police.corruption * org * (gangs >= 0)
    prob = clearance_probability(p.clearance_base, evidence * fresh, caseload / max(unit, 1e-9), corruption)
    # The perpetrator must still be in the simulated population and be the same person.
    present = yth.alive[slots] & (yth.person_id[slots] == np.array(c.perp_id))
    # One number per case of the run's case log, so other cases do not shift a case's draws.
    records = np.array(c.record)
    n_cases = len(c.log_step)
    cleared = present & (model.stream("clearance").random(n_cases)[records] < prob)
    convicted = cleared & (model.stream("conviction").random(n_cases)[records] < p.conviction)
    cold = ~cleared & (age >= p.case_life_weeks)
    model.ledger.count("cleared", int(cleared.sum()))
    model.ledger.count("convicted", int(convicted.sum()))
    c.close(records[cleared & ~convicted], CaseStatus.CLEARED)
    c.close(records[convicted], CaseStatus.CONVICTED)
    c.close(records[cold], CaseStatus.COLD)
    for slot in slots[cleared].tolist():
        yth.arrests[slot] += 1
        yth.recent_arrests[slot] += 1.0
    model.ledger.count("arrests", int(cleared.sum()))
    non_member = cleared & (yth.gang[slots] < 0)
    model.ledger.count("arrests_non_member", int(non_member.sum()))
    incarcerate(model, slots[convicted], p.homicide_sentence_weeks)
    yth.jailed_by[slots[convicted]] = 0
    if cold.any():
        model.city.impunity += np.bincount(blocks[cold], minlength=model.city.n_blocks)
    c.drop(~(cleared | cold))


def arrest(
    model: CityModel,
    slots: np.ndarray,
    charge: np.ndarray,
    sentence_factor: np.ndarray,
    mode: np.ndarray,
    stream: str = "charges",
) -> None:
    """Arrests from stops: some are charged and held for a sentence, the rest released.

    Args:
        slots: youths arrested.
        charge: chance each is charged and held.
        sentence_factor: multiplier of the usual sentence (mano dura laws).
        mode: duty of the arresting officer (see :mod:`abm.policing`), kept on the inmate.
        stream: name of the random stream (each arresting mechanism has its own).
    """
    if len(slots) == 0:
        return
    yth, p, rules = model.youths, model.p.justice, model.custody
    yth.arrests[slots] += 1
    yth.recent_arrests[slots] += 1.0
    rng = model.stream(stream)
    held = rng.random(yth.n)[slots] < charge  # one number per youth slot
    if rules.ordinary:
        terms = streams.poisson(rng.random(yth.n)[slots[held]], p.sentence_weeks * sentence_factor[held])
        incarcerate(model, slots[held], np.maximum(terms, 1))
        yth.jailed_by[slots[held]] = mode[held]
        return
    slots, mode = slots[held], mode[held]
    # Non-violent (no homicide on record), and non-members unless members are eligible.
    eligible = (yth.kills[slots] == 0) & (rules.members_eligible | (yth.gang[slots] < 0))
    mean = p.sentence_weeks * sentence_factor[held] * np.where(eligible, rules.term_factor, 1.0)
    terms = np.maximum(streams.poisson(rng.random(yth.n)[slots], mean), 1)
    community = eligible & (model.stream("custody_alternative_" + stream).random(yth.n)[slots] < rules.alternative)
    yth.community_until[slots[community]] = model.week + terms[community]
    model.ledger.count("reform_diverted", int(community.sum()))
    incarcerate(model, slots[~community], terms[~community])
    yth.jailed_by[slots[~community]] = mode[~community]


def incarcerate(model: CityModel, slots: np.ndarray, weeks) -> None:
    """Send youths to prison for ``weeks`` (a sentence already running is extended)."""
    if len(slots) == 0:
        return
    yth = model.youths
    start = np.where(yth.incarcerated[slots], yth.release_step[slots], model.week)
    yth.release_step[slots] = start + weeks
    yth.incarcerated[slots] = True
    yth.employed[slots] = False
    yth.in_school[slots] = False
    model.ledger.count("imprisoned", len(slots))


def settle_prison(model: CityModel) -> None:
    """Fill the prison at start as the baseline's settles, rather than empty: about
    ``initial_occupancy`` inmates per place, ``initial_member_share`` of them gang
    members (youths of gang territory, members of the local gang) and
    ``initial_homicide_share`` serving a homicide sentence (members first). Each has
    served a uniform share of a term drawn by the sentence rules: the homicide term, or
    a Poisson term of ``sentence_weeks``. Inmates are at least ``initial_min_age``; a
    share ``initial_record_share`` of the youths of that age out of prison have a record."""
    p, yth = model.p, model.youths
    rng = model.streams.get("prison_initial")
    n = int(round(p.prison.initial_occupancy * capacity(model)))
    old_enough = yth.alive & (yth.age_weeks >= p.prison.initial_min_age * WEEKS_PER_YEAR)
    adult = old_enough & (yth.gang < 0)
    if n > 0 and adult.any():
        _fill_prison(model, rng, n, adult)
    # Some youths out of prison were released before: their record carries stigma.
    free = np.flatnonzero(old_enough & ~yth.incarcerated)
    n_record = min(int(round(p.prison.initial_record_share * len(free))), len(free))
    yth.ever_prison[rng.choice(free, size=n_record, replace=False)] = True


def _fill_prison(model: CityModel, rng: np.random.Generator, n: int, adult: np.ndarray) -> None:
    """Put ``n`` of the ``adult`` non-members in prison (see :func:`settle_prison`)."""
    p, yth, city = model.p, model.youths, model.city
    local = city.gang_owner[yth.block]
    in_territory = np.flatnonzero(adult & (local >= 0)) if model.gangs else np.array([], dtype=np.int64)
    n_members = min(int(round(p.prison.initial_member_share * n)), len(in_territory))
    members = rng.choice(in_territory, size=n_members, replace=False)
    rest = np.setdiff1d(np.flatnonzero(adult & city.poor[yth.block]), members)
    others = rng.choice(rest, size=min(n - n_members, len(rest)), replace=False)
    yth.gang[members] = local[members]
    yth.joined_step[members] = -1
    inmates = np.concatenate([members, others])
    n_homicide = min(int(round(p.prison.initial_homicide_share * n)), len(inmates))
    term = streams.poisson(rng.random(len(inmates)), float(p.justice.sentence_weeks)).astype(np.float64)
    term[:n_homicide] = p.justice.homicide_sentence_weeks
    yth.kills[inmates[:n_homicide]] = 1
    left = np.maximum(1, np.ceil(rng.random(len(inmates)) * np.maximum(term, 1))).astype(np.int64)
    yth.incarcerated[inmates] = True
    yth.release_step[inmates] = left
    yth.employed[inmates] = False
    yth.in_school[inmates] = False


def prison(model: CityModel) -> None:
    """Releases; recruitment of non-members inside; stigma on release."""
    yth, p = model.youths, model.p.prison
    released = np.flatnonzero(yth.incarcerated & (yth.release_step <= model.week))
    yth.incarcerated[released] = False
    yth.release_step[released] = -1
    yth.jailed_by[released] = 0
    yth.ever_prison[released] = True
    model.ledger.count("released", len(released))

    inside = np.flatnonzero(yth.incarcerated)
    if len(inside) == 0 or not model.gangs:
        return
    gangs_inside = yth.gang[inside]
    members = gangs_inside[gangs_inside >= 0]
    mixed = len(inside)  # inmates who meet non-members
    separation = model.custody.separation
    if separation > 0:
        # Members held apart (prison reform) meet no non-member: they neither raise the
        # member share non-members see nor recruit.
        member_slots = inside[gangs_inside >= 0]
        apart = model.stream("prison_separation").random(yth.n)[member_slots] < separation
        model.ledger.set("reform_members_apart", int(apart.sum()))
        members = members[~apart]
        mixed -= int(apart.sum())
    if len(members) == 0:
        return
    member_share = len(members) / mixed
    crowding = 1 + p.overcrowding_effect * max(0.0, occupancy(model) - 1)
    chance = min(1.0, p.recruitment * (member_share / p.recruitment_member_share) * crowding)
    candidates = inside[gangs_inside < 0]
    joined = candidates[model.stream("prison_recruitment").random(yth.n)[candidates] < chance]
    # They join the gang of a random member inside: large prison gangs recruit more.
    yth.gang[joined] = members[model.stream("prison_gang").integers(0, len(members), len(joined))]
    yth.joined_step[joined] = model.week
    model.ledger.count("recruits", len(joined))
    model.ledger.count("prison_recruits", len(joined))
