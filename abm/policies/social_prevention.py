"""Social prevention: subsidised jobs and cash transfers for at-risk youths.

Each week open places (up to capacity) go to the youths at highest risk: violence
propensity, exposure to violence of the home block and poverty. A place lasts
``programme_weeks``. It may come with a subsidised job (``job``: an out-of-school
participant is employed while enrolled; an in-school one holds a part-time or summer
job, as in Chicago's One Summer Plus) and with a cash transfer (``transfer_per_week``,
paid, when ``school_condition``, only while the youth stays in school, as Brazil's
Bolsa Família for adolescents).

The programme sets nothing about gangs. It acts through the labour market and the
opportunity cost of gang life, as the model's mechanisms already weigh them
(:mod:`abm.behaviour`): wages and transfers raise the youth's legal income, against
which gang income is weighed in the joining choice (``legal_income_gain``); a job
counts as legal opportunity in that choice and raises the chance that a member leaves
(desistance); a school-conditional transfer lowers the chance of dropping out of
school (``dropout_reduction``), and school is legal opportunity too. At the end of the
place the transfer stops and a subsidised job is kept with chance ``retention``.
CBT is a separate policy; switch both on for a combined programme (as Liberia's STYL
with cash, Blattman et al. 2017).

Published whole-policy evidence, for validation only (never fitted): docs/evidence.md,
"Youth employment and cash transfers" (Heller 2014; Blattman et al. 2017; Chioda et al.
2016).
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from abm.measures import Measure, Total, WindowMeasure
from abm.policies.base import Control, PersonState, Policy, PolicyParams
from abm.schema import NonNeg, Share, param

if TYPE_CHECKING:
    from abm.model import CityModel

EVIDENCE = "docs/evidence.md, youth employment and cash transfers"


class PreventionStatus(IntEnum):
    """A youth's standing in the programme (``youths.prevention_status``)."""

    NEVER = 0
    ENROLLED = 1
    COMPLETED = 2
    LEFT = 3  # died, aged out or imprisoned while enrolled


class SocialPreventionParams(PolicyParams):
    capacity_per_100k: NonNeg = param(400.0, "programme places per 100,000 people", unit="places per 100,000",
                                      source="assumption (policy choice)", grade="assumption", le=100_000)
    programme_weeks: int = param(26, "length of a place", unit="weeks",
                                 source="between One Summer Plus (8 weeks; Heller 2014) and a school year of "
                                        "Bolsa Família's adolescent benefit (Chioda et al. 2016); value assumption",
                                 grade="weak", ge=1, le=520)
    job: bool = param(True, "a place comes with a subsidised job", unit="yes/no", source="scenario choice",
                      grade="assumption")
    wage_per_week: NonNeg = param(50.0, "wage of a subsidised job", unit="US$ per week",
                                  source="assumption: part-time youth minimum wage in Latin America (not checked); "
                                         "One Summer Plus paid about $8.25 an hour, 25 hours a week (Heller 2014)",
                                  grade="assumption", le=10_000)
    transfer_per_week: NonNeg = param(0.0, "cash transfer to a participant", unit="US$ per week",
                                      source="assumption; Bolsa Família adolescent benefit about R$30 a month in "
                                             "2008 (Chioda et al. 2016; amount not checked)",
                                      grade="assumption", le=10_000)
    school_condition: bool = param(True, "the transfer is paid only while the youth stays in school",
                                   unit="yes/no", source="scenario choice (conditional cash transfers)",
                                   grade="assumption")
    reference_income: float = param(60.0, "usual weekly legal income of a poor youth, against which gang income is "
                                    "weighed (the income matching youth.income_half_saturation)",
                                    unit="US$ per week",
                                    source="assumption: about a Latin American youth's informal earnings (not "
                                           "checked)", grade="assumption", gt=0, le=10_000)
    dropout_response: Share = param(0.3, "reduction of the school dropout hazard while a school-conditional "
                                    "transfer is paid", unit="share",
                                    source="assumption; conditional transfers raise secondary enrolment (Progresa, "
                                           "Bolsa Família; size not checked)", grade="assumption")
    retention: Share = param(0.2, "chance a participant with a subsidised job keeps a job when the place ends",
                             unit="probability",
                             source="assumption; One Summer Plus: no lasting employment gain (Heller 2014)",
                             grade="weak")
    include_members: bool = param(False, "gang members may enrol", unit="yes/no", source="scenario choice",
                                  grade="assumption")
    risk_exposure: NonNeg = param(0.5, "enrolment priority per unit violence exposure of the home block "
                                  "(beside propensity, weight 1)", unit="priority points",
                                  source="assumption (as CBT)", grade="assumption", le=1000)
    risk_poverty: NonNeg = param(0.5, "enrolment priority per unit of poverty (1 - household SES)",
                                 unit="priority points", source="assumption (means-tested targeting)",
                                 grade="assumption", le=1000)
    unit_cost: NonNeg = param(20.0, "cost of a participant-week beside wages and transfers (placement, "
                              "supervision, payment)", unit="US$ per week",
                              source="assumption; compare One Summer Plus about $3,000 per participant with wages "
                                     "(Heller 2014)", grade="assumption", le=1e7)


class SocialPrevention(Policy):
    name = "social_prevention"
    label = "Social prevention"
    description = "subsidised jobs and cash transfers for at-risk youths"
    Params = SocialPreventionParams
    order = 25
    state = (
        PersonState("prevention_status", np.int64, PreventionStatus.NEVER,
                    "0 never enrolled, 1 enrolled, 2 completed, 3 left early"),
        PersonState("prevention_until", np.int64, -1, "step the place ends or ended (-1 never enrolled)"),
        PersonState("legal_income_gain", np.float64, 0.0,
                    "legal income a programme adds this week, as a share of a poor youth's usual legal income "
                    "(read by abm.behaviour)"),
        PersonState("dropout_reduction", np.float64, 0.0,
                    "reduction of the school dropout hazard this week, 0-1 (read by abm.behaviour)"),
    )
    measures = (
        Measure("prevention_enrolled", "youths", "youths in a social prevention place at the end of the week"),
        Measure("prevention_enrolled_new", "youths/week", "youths who started a social prevention place this week",
                "count"),
        Measure("prevention_jobs", "youths", "participants holding a subsidised job this week", "level"),
        Measure("prevention_paid", "US$/week", "wages and cash transfers paid to participants this week", "level",
                initial=0.0),
    )
    # No window measures: a summary column would be added to every run's summary (and to
    # the pinned baselines); the weekly columns sum over any window.
    window_measures = (
        WindowMeasure("prevention_participants", Total(("prevention_enrolled_new",)), "youths",
                      "youths who started a social prevention place"),
    )
    controls = (Control("capacity_per_100k", "Social prevention: places per 100,000 people", 0, 2000, 50, dtype=int),
                Control("transfer_per_week", "Social prevention: cash transfer (US$ a week)", 0, 100, 5))
    cost_unit = "participant-week (wages and transfers paid are added)"
    params: SocialPreventionParams

    @classmethod
    def observe(cls, model: CityModel) -> dict:
        return {"prevention_enrolled": int((model.youths.prevention_status == PreventionStatus.ENROLLED).sum())}

    def __init__(self, params: SocialPreventionParams, model: CityModel):
        super().__init__(params, model)
        self.capacity = int(round(params.capacity_per_100k * model.people_start / 1e5))
        self.paid = 0.0

    def active(self, week: int) -> bool:
        """After ``end`` no one new enrols, but places run to their end."""
        return week > self.start

    def enrolling(self, week: int) -> bool:
        return self.params.end is None or week <= self.params.end

    def programmes(self, model: CityModel) -> None:
        yth, p = model.youths, self.params
        status = yth.prevention_status
        enrolled = np.flatnonzero(status == PreventionStatus.ENROLLED)
        if len(enrolled):
            left = ~yth.alive[enrolled] | yth.incarcerated[enrolled]
            finished = ~left & (yth.prevention_until[enrolled] <= model.week)
            status[enrolled[left]] = PreventionStatus.LEFT
            status[enrolled[finished]] = PreventionStatus.COMPLETED
            ended = enrolled[left | finished]
            yth.legal_income_gain[ended] = 0.0
            yth.dropout_reduction[ended] = 0.0
            if p.job:
                # A subsidised job ends with the place unless the participant keeps it.
                done = enrolled[finished]
                u = model.stream("prevention_retention").random(yth.n)[done]  # one number per youth slot
                yth.employed[done[u >= p.retention]] = False
        if self.enrolling(model.week):
            self._enrol(model)
        self._pay(model)

    def _enrol(self, model: CityModel) -> None:
        yth, p = model.youths, self.params
        open_places = self.capacity - int((yth.prevention_status == PreventionStatus.ENROLLED).sum())
        if open_places <= 0:
            return
        eligible = yth.alive & yth.free & (yth.prevention_status == PreventionStatus.NEVER)
        if not p.include_members:
            eligible &= yth.gang < 0
        if p.job:
            eligible &= ~yth.employed  # a subsidised job is for those without one
        idx = np.flatnonzero(eligible)
        if len(idx) == 0:
            return
        exposure = np.minimum(model.city.violence_exposure[yth.block[idx]], 1.0)
        risk = yth.propensity[idx] + p.risk_exposure * exposure + p.risk_poverty * (1 - yth.ses[idx])
        chosen = idx[np.lexsort((idx, -risk))[:open_places]]
        yth.prevention_status[chosen] = PreventionStatus.ENROLLED
        yth.prevention_until[chosen] = model.week + p.programme_weeks
        model.ledger.count("prevention_enrolled_new", len(chosen))

    def _pay(self, model: CityModel) -> None:
        """This week's wages and transfers of the participants, and what they change."""
        yth, p = model.youths, self.params
        enrolled = np.flatnonzero(yth.prevention_status == PreventionStatus.ENROLLED)
        wage = np.zeros(len(enrolled))
        if p.job:
            out = ~yth.in_school[enrolled]
            yth.employed[enrolled[out]] = True  # the labour market keeps it while the place lasts
            wage[:] = p.wage_per_week
        transfer = np.full(len(enrolled), p.transfer_per_week)
        if p.school_condition:
            transfer = np.where(yth.in_school[enrolled], transfer, 0.0)
        yth.legal_income_gain[enrolled] = (wage + transfer) / p.reference_income
        conditional = p.school_condition & (transfer > 0)
        yth.dropout_reduction[enrolled] = np.where(conditional, p.dropout_response, 0.0)
        self.paid = float(wage.sum() + transfer.sum())
        model.ledger.set("prevention_jobs", int(len(enrolled)) if p.job else 0)
        model.ledger.set("prevention_paid", self.paid)

    def cost(self, model: CityModel) -> float:
        enrolled = int((model.youths.prevention_status == PreventionStatus.ENROLLED).sum())
        return enrolled * self.params.unit_cost + self.paid

    def planned_cost(self, model: CityModel) -> float:
        """Every place filled, each paid a wage and the transfer (at most)."""
        p = self.params
        return self.capacity * (p.unit_cost + p.wage_per_week + p.transfer_per_week)
