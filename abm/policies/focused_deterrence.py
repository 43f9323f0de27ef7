"""Focused deterrence (Ceasefire, group violence intervention).

Every ``interval_weeks`` the ``groups_per_call_in`` most violent groups (killings by
their members in the past year) are chosen, and their highest-risk members are called
in, ranked by violence history (killings, arrests) and network position (friends)
(:func:`risk_score`, which also ranks whom a crackdown arrests).
The groups are notified for ``notice_weeks``: the next killing by any member brings a
collective crackdown. The called-in are offered services; ``service_uptake`` of them take a job
(and, when CBT runs too, they go first in its queue).

When a member of a notified group kills, a crackdown is promised; further killings by
the same group in the next ``episode_weeks`` belong to the same episode (no new
promise), as in the group violence intervention, where the first group to kill after
a call-in gets the attention. Police can mount
``crackdowns_per_100k`` crackdowns a year (a budget that refills weekly, at most
``crackdown_budget_max`` in hand); a kept promise arrests ``crackdown_share`` of the group's free members,
highest risk first, and holds them. The share of promises kept, with a prior of
``prior_credibility`` worth ``prior_weight`` promises, is the policy's credibility; members of a
notified group perceive a certainty of sanction at least that high, and perceived
risk restrains their group's violence (``violence.sanction_deterrence``). A policy
that cannot keep its promises loses its effect.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from abm import justice
from abm.measures import Last, Measure, Total, WindowMeasure
from abm.policies.base import Control, GangState, PersonState, Policy, PolicyParams
from abm.policing import DutyMode
from abm.violence import HomicideKind
from abm.population import WEEKS_PER_YEAR
from abm.schema import NonNeg, Share, param

if TYPE_CHECKING:
    from abm.model import CityModel


class FocusedDeterrenceParams(PolicyParams):
    interval_weeks: int = param(13, "weeks between call-ins", unit="weeks", source="assumption", grade="assumption",
                                ge=1, le=520)
    groups_per_call_in: int = param(2, "groups notified at each call-in (the most violent)", unit="gangs",
                                    source="assumption", grade="assumption", ge=0, le=1000)
    call_in_per_100k: NonNeg = param(20.0, "individuals called in at each call-in, per 100,000 people",
                                     unit="persons per 100,000", source="assumption", grade="assumption", le=100_000)
    risk_kills: NonNeg = param(3.0, "call-in and crackdown priority per homicide committed", unit="priority points",
                               source="assumption; the group violence intervention targets the most violent",
                               grade="assumption", le=1000)
    risk_arrests: NonNeg = param(1.0, "call-in and crackdown priority per arrest", unit="priority points",
                                 source="assumption", grade="assumption", le=1000)
    risk_propensity: NonNeg = param(1.0, "call-in and crackdown priority per unit violence propensity",
                                    unit="priority points", source="assumption", grade="assumption", le=1000)
    call_in_risk_friends: NonNeg = param(0.2, "call-in priority per friend (network position)",
                                         unit="priority points", source="assumption", grade="assumption", le=1000)
    crackdown_risk_friends: NonNeg = param(0.0, "crackdown priority per friend (0: crackdowns go by record alone)",
                                           unit="priority points", source="assumption", grade="assumption", le=1000)
    notice_weeks: int = param(104, "weeks a group stays notified after a call-in", unit="weeks", source="assumption",
                              grade="assumption", ge=1, le=1040)
    service_uptake: Share = param(0.4, "share of the called-in who take the job offered", unit="share",
                                  source="assumption", grade="assumption")
    crackdowns_per_100k: NonNeg = param(6.0, "crackdowns police can mount per year, per 100,000 people",
                                        unit="crackdowns per year per 100,000", source="assumption",
                                        grade="assumption", le=10_000)
    crackdown_budget_max: float = param(2.0, "most crackdowns police can hold in hand (the weekly budget stops "
                                        "filling there)", unit="crackdowns", source="assumption",
                                        grade="assumption", ge=1, le=1000)
    crackdown_share: Share = param(0.25, "share of a group's free members arrested in a crackdown", unit="share",
                                   source="assumption", grade="assumption")
    crackdown_sentence_weeks: int = param(52, "mean time held after a crackdown arrest (warrants, probation)",
                                          unit="weeks", source="assumption", grade="assumption", ge=1, le=1040)
    episode_weeks: int = param(13, "weeks a killing's promised response covers further killings by the group",
                               unit="weeks", source="assumption", grade="assumption", ge=1, le=520)
    prior_credibility: Share = param(0.5, "credibility before any promise is tested", unit="share",
                                     source="assumption", grade="assumption")
    prior_weight: float = param(2.0, "promises the prior credibility is worth", unit="promises",
                                 source="assumption", grade="assumption", gt=0, le=1000)
    unit_cost: NonNeg = param(1500.0, "cost per person called in, services included", unit="US$ per person",
                              source="assumption; no published programme cost found "
                                     "(unverified: docs/evidence.md#a23-costs)",
                              grade="assumption", le=1e7)
    crackdown_cost: NonNeg = param(25000.0, "cost of a crackdown", unit="US$ per crackdown", source="assumption",
                                   grade="assumption", le=1e8)


def risk_score(kills: np.ndarray, arrests: np.ndarray, friends: np.ndarray, propensity: np.ndarray,
               params: FocusedDeterrenceParams, friends_weight: float) -> np.ndarray:
    """Priority for a call-in or a crackdown: violence history, network position, propensity."""
    return (
        params.risk_kills * kills + params.risk_arrests * arrests + friends_weight * friends
        + params.risk_propensity * propensity
    )


class FocusedDeterrence(Policy):
    name = "focused_deterrence"
    label = "Focused deterrence"
    description = "focused deterrence"
    Params = FocusedDeterrenceParams
    order = 10
    state = (PersonState("notice_step", np.int64, -1, "step the youth was called in (-1 never)"),)
    gang_state = (
        GangState("notified_until", np.int64, -1, "step the group's notice ends"),
        GangState("episode_until", np.int64, -1, "step the response promised for its last killing ends"),
    )
    measures = (
        Measure("fd_called_in", "youths/week", "youths called in this week", "count"),
        Measure("fd_crackdowns", "crackdowns/week", "crackdowns this week", "count"),
        Measure("fd_crackdown_arrests", "arrests/week", "arrests in crackdowns this week", "count"),
        Measure("fd_credibility", "share", "share of promised crackdowns kept (with the prior)", "level",
                initial=float("nan"), undefined="before the policy first acts"),
        Measure("fd_notified_gangs", "gangs", "groups under notice", "level"),
    )
    window_measures = (
        WindowMeasure("fd_called_in", Total(), "youths"),
        WindowMeasure("fd_crackdowns", Total(), "crackdowns"),
        WindowMeasure("fd_credibility", Last(), "share"),
    )
    controls = (Control("crackdowns_per_100k", "Focused deterrence: crackdowns a year per 100,000", 0.0, 40.0, 1.0),)
    cost_unit = "person called in (crackdowns cost crackdown_cost each)"
    params: FocusedDeterrenceParams

    def __init__(self, params: FocusedDeterrenceParams, model: CityModel):
        super().__init__(params, model)  # allocates notified_until and episode_until
        scale = model.people_start / 1e5
        self.call_in_size = int(round(params.call_in_per_100k * scale))
        self.refill = params.crackdowns_per_100k * scale / WEEKS_PER_YEAR
        self.budget = 0.0
        self.promises = 0
        self.kept = 0
        self._cost = 0.0

    @property
    def credibility(self) -> float:
        prior = self.params.prior_credibility
        weight = self.params.prior_weight
        return (self.kept + weight * prior) / (self.promises + weight)

    def notified(self, week: int) -> np.ndarray:
        return self.notified_until > week

    def programmes(self, model: CityModel) -> None:
        self._cost = 0.0
        if self.call_in_size == 0:
            return
        self.budget = min(self.params.crackdown_budget_max, self.budget + self.refill)
        if (model.week - self.start - 1) % self.params.interval_weeks == 0:  # from its first step
            self._call_in(model)
        model.collective_certainty[:] = np.where(self.notified(model.week), self.credibility, 0.0)
        model.ledger.set("fd_credibility", self.credibility)
        model.ledger.set("fd_notified_gangs", int(self.notified(model.week).sum()))

    def _call_in(self, model: CityModel) -> None:
        yth = model.youths
        n_g = len(model.gangs)
        if n_g == 0 or self.params.groups_per_call_in == 0:
            return
        recent = [e["perpetrator_gang"] for e in model.events
                  if e["kind"] == HomicideKind.GANG and e["step"] >= model.week - WEEKS_PER_YEAR and e["perpetrator_gang"] >= 0]
        violence = np.bincount(np.array(recent, dtype=np.int64), minlength=n_g)
        groups = np.lexsort((np.arange(n_g), -violence))[: self.params.groups_per_call_in]
        groups = groups[violence[groups] > 0]
        idx = np.flatnonzero(yth.free & np.isin(yth.gang, groups))
        if len(idx) == 0:
            return
        p = self.params
        risk = risk_score(yth.kills[idx], yth.arrests[idx], model.peers.degree[idx], yth.propensity[idx], p,
                          p.call_in_risk_friends)
        called = idx[np.lexsort((idx, -risk))[: self.call_in_size]]
        yth.notice_step[called] = model.week
        self.notified_until[groups] = model.week + self.params.notice_weeks
        uptake = model.stream("fd_services").random(yth.n)[called]  # by slot
        took_job = called[(uptake < self.params.service_uptake) & ~yth.in_school[called]]
        yth.employed[took_job] = True
        self._cost += len(called) * self.params.unit_cost
        model.ledger.count("fd_called_in", len(called))

    def after_violence(self, model: CityModel, events: list[dict]) -> None:
        if self.call_in_size == 0:
            return
        notified = self.notified(model.week)
        for e in events:
            g = e["perpetrator_gang"]
            if e["kind"] != HomicideKind.GANG or g < 0 or not notified[g] or self.episode_until[g] > model.week:
                continue
            self.episode_until[g] = model.week + self.params.episode_weeks
            self.promises += 1
            if self.budget >= 1.0:
                self.budget -= 1.0
                self.kept += 1
                self._crackdown(model, g)

    def _crackdown(self, model: CityModel, g: int) -> None:
        yth = model.youths
        members = np.flatnonzero(yth.free & (yth.gang == g))
        n = math.ceil(self.params.crackdown_share * len(members))
        if n == 0:
            return
        p = self.params
        risk = risk_score(yth.kills[members], yth.arrests[members], model.peers.degree[members],
                          yth.propensity[members], p, p.crackdown_risk_friends)
        hit = members[np.lexsort((members, -risk))[:n]]
        ones = np.ones(len(hit))
        factor = self.params.crackdown_sentence_weeks / model.p.justice.sentence_weeks
        justice.arrest(model, hit, ones, factor * ones, np.full(len(hit), DutyMode.CRACKDOWN), "crackdown_charges")
        self._cost += self.params.crackdown_cost
        model.ledger.count("arrests", len(hit))
        model.ledger.count("fd_crackdowns", 1)
        model.ledger.count("fd_crackdown_arrests", len(hit))

    def cost(self, model: CityModel) -> float:
        return self._cost
