"""Cognitive behavioural therapy for at-risk youths (Becoming a Man, READI, STYL).

Each week open places (up to capacity) go to the youths at highest risk: violence
propensity, exposure to violence, membership, a prison record, and a referral by
focused deterrence first. A programme lasts ``programme_weeks``; participants drop
out at a weekly rate that leaves ``completion`` of them to finish. While enrolled a
participant's CBT effect is their individual effect (drawn around ``effect``); after
completion or drop-out it decays with ``half_life_weeks``. The effect lowers the
target of violence propensity and the weight of propensity in the joining choice, and
raises desistance (see :mod:`abm.behaviour`): what the programme does to homicide and
recruitment emerges from there.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from abm.measures import Measure, Total, WindowMeasure
from abm.policies.base import Control, PersonState, Policy, PolicyParams
from abm.schema import NonNeg, Share, param

if TYPE_CHECKING:
    from abm.model import CityModel

class CBTStatus(IntEnum):
    """A youth's standing in the programme (``youths.cbt_status``)."""

    NEVER = 0
    ENROLLED = 1
    COMPLETED = 2
    DROPPED = 3


class CBTParams(PolicyParams):
    capacity_per_100k: NonNeg = param(300.0, "programme places per 100,000 people", unit="places per 100,000",
                                      source="assumption (policy choice)", grade="assumption", le=100_000)
    programme_weeks: int = param(16, "length of the programme", unit="weeks",
                                 source="between STYL (8 weeks; Blattman et al. 2017) and BAM (up to 27 weekly "
                                        "sessions; Heller et al. 2017); value assumption", grade="weak", ge=1, le=260)
    completion: Share = param(0.55, "share of participants who finish", unit="share",
                              source="BAM mean attendance 13 of 27 sessions (about 0.48, calc; Heller et al. 2017); "
                                     "value assumption", grade="weak")
    effect: Share = param(0.45, "mean individual effect on propensity while enrolled", unit="share",
                          source="BAM: violent-crime arrests -45-50% during the programme (Heller et al. 2017); "
                                 "mapping onto the propensity target is an assumption", grade="moderate")
    effect_sd: NonNeg = param(0.15, "spread (standard deviation) of individual effects", unit="share",
                              source="assumption", grade="assumption", le=1)
    half_life_weeks: float = param(52.0, "half-life of the effect after the programme", unit="weeks",
                                   source="BAM later gains in schooling only; STYL CBT alone faded (Heller et al. "
                                          "2017; Blattman et al. 2017); value assumption", grade="weak",
                                   gt=0, le=1040)
    include_members: bool = param(True, "gang members may enrol", unit="yes/no", source="scenario choice",
                                  grade="assumption")
    include_prisoners: bool = param(False, "prisoners may enrol (offender programmes) and continue inside",
                                    unit="yes/no", source="option; JTDC detention CBT -21% readmission (Heller et al. "
                                    "2017)", grade="assumption")
    risk_exposure: NonNeg = param(0.5, "enrolment priority per unit violence exposure of the home block "
                                  "(beside propensity, weight 1)", unit="priority points",
                                  source="assumption; larger effects with high-risk offenders (Landenberger & "
                                         "Lipsey 2005)", grade="assumption", le=1000)
    risk_member: NonNeg = param(0.3, "enrolment priority of a gang member", unit="priority points",
                                source="assumption", grade="assumption", le=1000)
    risk_prison: NonNeg = param(0.3, "enrolment priority of a youth with a prison record", unit="priority points",
                                source="assumption", grade="assumption", le=1000)
    risk_referral: NonNeg = param(1.0, "enrolment priority of a youth called in by focused deterrence",
                                  unit="priority points", source="assumption", grade="assumption", le=1000)
    unit_cost: NonNeg = param(85.0, "cost of a participant-week", unit="US$ per week",
                              source="calc: BAM about $2,300 per participant (Heller et al.; Results for America) / "
                                     "27 weekly sessions; compare STYL about $530 per man (Blattman et al. 2022)",
                              grade="weak", le=1e7)


class CBT(Policy):
    name = "cbt"
    label = "CBT"
    description = "cognitive behavioural therapy for at-risk youths"
    Params = CBTParams
    order = 20
    state = (
        PersonState("cbt_status", np.int64, CBTStatus.NEVER, "0 never enrolled, 1 enrolled, 2 completed, 3 dropped out"),
        PersonState("cbt_base", np.float64, 0.0, "the youth's individual effect while fully engaged, 0-1"),
        PersonState("cbt_effect", np.float64, 0.0, "the current effect, 0-1 (read by abm.behaviour)"),
        PersonState("cbt_until", np.int64, -1, "step the programme ends or ended (-1 never enrolled)"),
    )
    measures = (
        Measure("cbt_enrolled", "youths", "youths enrolled in CBT at the end of the week"),
        Measure("cbt_enrolled_new", "youths/week", "youths who started CBT this week", "count"),
    )
    window_measures = (
        WindowMeasure("cbt_participants", Total(("cbt_enrolled_new",)), "youths",
                      "youths who started CBT in the window"),
    )
    controls = (Control("capacity_per_100k", "CBT: places per 100,000 people", 0, 2000, 50, dtype=int),)
    cost_unit = "participant-week"
    params: CBTParams

    @classmethod
    def observe(cls, model: CityModel) -> dict:
        return {"cbt_enrolled": int((model.youths.cbt_status == CBTStatus.ENROLLED).sum())}

    def active(self, week: int) -> bool:
        """After ``end`` no one new enrols, but participants finish and effects fade."""
        return week > self.start

    def enrolling(self, week: int) -> bool:
        return self.params.end is None or week <= self.params.end

    def __init__(self, params: CBTParams, model: CityModel):
        super().__init__(params, model)
        self.capacity = int(round(params.capacity_per_100k * model.people_start / 1e5))
        self.dropout = 1 - params.completion ** (1 / params.programme_weeks)
        self.decay = math.exp(-math.log(2) / params.half_life_weeks)

    def programmes(self, model: CityModel) -> None:
        yth, p = model.youths, self.params
        status = yth.cbt_status
        # Effects fade after the programme.
        done = (status == CBTStatus.COMPLETED) | (status == CBTStatus.DROPPED)
        yth.cbt_effect[done] *= self.decay
        enrolled = np.flatnonzero(status == CBTStatus.ENROLLED)
        if len(enrolled):
            left = ~yth.alive[enrolled] | (yth.incarcerated[enrolled] & (not p.include_prisoners))
            left |= model.stream("cbt_dropout").random(yth.n)[enrolled] < self.dropout
            finished = ~left & (yth.cbt_until[enrolled] <= model.week)
            status[enrolled[left]] = CBTStatus.DROPPED
            status[enrolled[finished]] = CBTStatus.COMPLETED
            model.ledger.count("cbt_completed", int(finished.sum()))
            model.ledger.count("cbt_dropped", int(left.sum()))
        if self.enrolling(model.week):
            self._enrol(model)
        enrolled = status == CBTStatus.ENROLLED
        yth.cbt_effect[enrolled] = yth.cbt_base[enrolled]

    def _enrol(self, model: CityModel) -> None:
        yth, p = model.youths, self.params
        open_places = self.capacity - int((yth.cbt_status == CBTStatus.ENROLLED).sum())
        if open_places <= 0:
            return
        eligible = yth.alive & (yth.cbt_status == CBTStatus.NEVER)
        eligible &= yth.free | (yth.incarcerated if p.include_prisoners else False)
        if not p.include_members:
            eligible &= yth.gang < 0
        idx = np.flatnonzero(eligible)
        if len(idx) == 0:
            return
        exposure = np.minimum(model.city.violence_exposure[yth.block[idx]], 1.0)
        risk = (
            yth.propensity[idx] + p.risk_exposure * exposure + p.risk_member * (yth.gang[idx] >= 0)
            + p.risk_prison * yth.ever_prison[idx]
            + p.risk_referral * (yth.notice_step[idx] >= 0)  # referred by focused deterrence
        )
        chosen = idx[np.lexsort((idx, -risk))[:open_places]]
        yth.cbt_status[chosen] = CBTStatus.ENROLLED
        yth.cbt_until[chosen] = model.week + p.programme_weeks
        effect = model.stream("cbt_effect").normal(p.effect, p.effect_sd, yth.n)[chosen]  # by slot
        yth.cbt_base[chosen] = np.clip(effect, 0, 1)
        model.ledger.count("cbt_enrolled_new", len(chosen))

    def cost(self, model: CityModel) -> float:
        return float((model.youths.cbt_status == CBTStatus.ENROLLED).sum()) * self.params.unit_cost

    def planned_cost(self, model: CityModel) -> float:
        """Every place filled."""
        return self.capacity * self.params.unit_cost
