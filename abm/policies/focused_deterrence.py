"""Focused deterrence (Ceasefire, group violence intervention).

Every ``interval_weeks`` the ``groups_per_call_in`` most violent groups (killings by
their members in the past year) are chosen, and their highest-risk members are called
in, ranked by violence history (killings, arrests) and network position (friends).
The groups are notified for ``notice_weeks``: the next killing by any member brings a
collective crackdown. The called-in are offered services; ``service_uptake`` of them take a job
(and, when CBT runs too, they go first in its queue).

When a member of a notified group kills, a crackdown is promised; further killings by
the same group in the next ``episode_weeks`` belong to the same episode (no new
promise), as in the group violence intervention, where the first group to kill after
a call-in gets the attention. Police can mount
``crackdowns_per_100k`` crackdowns a year (a budget that refills weekly, at most two
in hand); a kept promise arrests ``crackdown_share`` of the group's free members,
highest risk first, and holds them. The share of promises kept, with a prior of
``prior_credibility`` worth two promises, is the policy's credibility; members of a
notified group perceive a certainty of sanction at least that high, and perceived
risk restrains their group's violence (``violence.sanction_deterrence``). A policy
that cannot keep its promises loses its effect.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from abm import justice
from abm.measures import Last, Measure, Total, WindowMeasure
from abm.policies.base import Control, GangState, PersonState, Policy, PolicyParams
from abm.policing import CRACKDOWN
from abm.schema import NonNeg, Share

if TYPE_CHECKING:
    from abm.model import CityModel


class FocusedDeterrenceParams(PolicyParams):
    interval_weeks: int = Field(13, ge=1, le=520, description="weeks between call-ins")
    groups_per_call_in: int = Field(2, ge=0, le=1000, description="groups notified at each call-in (the most violent)")
    call_in_per_100k: NonNeg = Field(20.0, description="individuals called in at each call-in, per 100,000 people")
    notice_weeks: int = Field(104, ge=1, le=1040, description="weeks a group stays notified after a call-in")
    service_uptake: Share = Field(0.4, description="share of the called-in who take the job offered")
    crackdowns_per_100k: NonNeg = Field(6.0, description="crackdowns police can mount per year, per 100,000 people")
    crackdown_share: Share = Field(0.25, description="share of a group's free members arrested in a crackdown")
    crackdown_sentence_weeks: int = Field(52, ge=1, le=1040, description="mean time held after a crackdown arrest (warrants, probation)")
    episode_weeks: int = Field(13, ge=1, le=520, description="weeks a killing's promised response covers further killings by the group")
    prior_credibility: Share = Field(0.5, description="credibility before any promise is tested")
    unit_cost: NonNeg = Field(1500.0, description="US$ per person called in, services included (no published figure: assumption)")
    crackdown_cost: NonNeg = Field(25000.0, description="US$ per crackdown (assumption)")


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
                initial=float("nan")),
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
        self.refill = params.crackdowns_per_100k * scale / 52
        self.budget = 0.0
        self.promises = 0
        self.kept = 0
        self._cost = 0.0

    @property
    def credibility(self) -> float:
        prior = self.params.prior_credibility
        return (self.kept + 2 * prior) / (self.promises + 2)

    def notified(self, week: int) -> np.ndarray:
        return self.notified_until > week

    def programmes(self, model: CityModel) -> None:
        self._cost = 0.0
        if self.call_in_size == 0:
            return
        self.budget = min(2.0, self.budget + self.refill)
        if (model.week - self.start) % self.params.interval_weeks == 0:
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
                  if e["kind"] == "gang" and e["step"] > model.week - 52 and e["perpetrator_gang"] >= 0]
        violence = np.bincount(np.array(recent, dtype=np.int64), minlength=n_g)
        groups = np.lexsort((np.arange(n_g), -violence))[: self.params.groups_per_call_in]
        groups = groups[violence[groups] > 0]
        idx = np.flatnonzero(yth.free & np.isin(yth.gang, groups))
        if len(idx) == 0:
            return
        risk = 3.0 * yth.kills[idx] + yth.arrests[idx] + 0.2 * model.peers.degree[idx] + yth.propensity[idx]
        called = idx[np.lexsort((idx, -risk))[: self.call_in_size]]
        yth.notice_step[called] = model.week
        self.notified_until[groups] = model.week + self.params.notice_weeks
        took_job = called[(model.rng.random(len(called)) < self.params.service_uptake) & ~yth.in_school[called]]
        yth.employed[took_job] = True
        self._cost += len(called) * self.params.unit_cost
        model.ledger.count("fd_called_in", len(called))

    def after_violence(self, model: CityModel, events: list[dict]) -> None:
        if self.call_in_size == 0:
            return
        notified = self.notified(model.week)
        for e in events:
            g = e["perpetrator_gang"]
            if e["kind"] != "gang" or g < 0 or not notified[g] or self.episode_until[g] > model.week:
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
        risk = 3.0 * yth.kills[members] + yth.arrests[members] + yth.propensity[members]
        hit = members[np.lexsort((members, -risk))[:n]]
        ones = np.ones(len(hit))
        factor = self.params.crackdown_sentence_weeks / model.p.justice.sentence_weeks
        justice.arrest(model, hit, ones, factor * ones, np.full(len(hit), CRACKDOWN))
        self._cost += self.params.crackdown_cost
        model.ledger.count("arrests", len(hit))
        model.ledger.count("fd_crackdowns", 1)
        model.ledger.count("fd_crackdown_arrests", len(hit))

    def cost(self, model: CityModel) -> float:
        return self._cost
