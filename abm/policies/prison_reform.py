"""Prison reform: alternatives to custody and shorter terms for non-violent offenders,
and separation of gang members from other inmates.

Each active week the policy sets the custody rules of the justice mechanism
(:class:`abm.justice.CustodyRules`). A held arrestee from stops or crackdowns who has
no homicide on record (and is not a gang member, unless ``include_members``) serves
the sentence in the community (probation, electronic monitoring) with chance
``alternative``; if sent to prison, the term is multiplied by ``term_factor``
(decongestion: less pre-trial detention, early release). Homicide convictions are not
affected. Each gang member in prison is held apart from non-members with chance
``separation``: a member held apart neither recruits nor counts in the member share
that drives prison recruitment.

The policy sets nothing about recruitment or homicide. What follows is the ordinary
working of the mechanisms (:mod:`abm.justice`, :mod:`abm.behaviour`): fewer non-members
inside and fewer recruiters among them mean fewer prison recruits; fewer inmates
lower occupancy (crowding, organisation of gangs with members inside); youths
sentenced in the community keep school and work and carry no prison record (no
release stigma, no propensity added). Perceived severity of sanction is not changed.
Gang-only prisons can strengthen gang command (Lessing); the model has no channel for
that beyond the existing organisation from members inside.

Published whole-policy evidence, for validation only (never fitted): docs/evidence.md,
"Prison reform" (Di Tella & Schargrodsky 2013; Lessing 2017; Skarbek 2014).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm import justice
from abm.measures import Measure, Total, WindowMeasure
from abm.policies.base import Control, PersonState, Policy, PolicyParams
from abm.schema import NonNeg, Share, param

if TYPE_CHECKING:
    from abm.model import CityModel


class PrisonReformParams(PolicyParams):
    alternative: Share = param(0.5, "chance a held non-violent arrestee serves the sentence in the community "
                               "instead of prison", unit="probability", source="assumption (policy choice)",
                               grade="assumption")
    term_factor: float = param(0.75, "multiplier of the prison terms of held non-violent arrestees (decongestion: "
                               "less pre-trial detention, early release)", unit="ratio",
                               source="assumption (policy choice); over 40% of prisoners in the region are "
                                      "pre-trial (OSJI 2014)", grade="assumption", ge=0.05, le=1)
    include_members: bool = param(False, "gang members without a homicide on record are eligible for alternatives "
                                  "and shorter terms", unit="yes/no", source="scenario choice", grade="assumption")
    separation: Share = param(0.5, "chance a gang member in prison is held apart from non-members",
                              unit="probability",
                              source="assumption (policy choice); separation by gang in Central American and "
                                     "Brazilian prisons (Lessing 2017; not checked)", grade="assumption")
    unit_cost: NonNeg = param(15.0, "cost of a week of a sentence served in the community (supervision, "
                              "electronic monitoring)", unit="US$ per week",
                              source="assumption (prison: 83 US$ an inmate-week, prison.week_cost)",
                              grade="assumption", le=1e7)
    separation_cost: NonNeg = param(20.0, "extra cost of a week of a gang member held apart (separate units, "
                                    "guards)", unit="US$ per week", source="assumption", grade="assumption",
                                    le=1e7)


class PrisonReform(Policy):
    name = "prison_reform"
    label = "Prison reform"
    description = "alternatives to custody for non-violent offenders and separation of gang members in prison"
    Params = PrisonReformParams
    order = 35
    state = (
        PersonState("community_until", np.int64, -1,
                    "step a sentence served in the community ends (-1 never given one)"),
    )
    measures = (
        Measure("reform_diverted", "youths/week", "held arrestees sentenced in the community instead of prison",
                "count"),
        Measure("reform_in_community", "youths", "youths serving a sentence in the community"),
        Measure("reform_members_apart", "youths", "gang members in prison held apart from non-members", "level"),
    )
    # No window measures: a summary column would be added to every run's summary (and to
    # the pinned baselines); the weekly columns sum over any window.
    window_measures = (
        WindowMeasure("reform_diverted", Total(), "youths", "held arrestees sentenced in the community instead of "
                      "prison"),
    )
    controls = (Control("alternative", "Prison reform: share of non-violent arrestees kept out of prison",
                        0.0, 1.0, 0.05),
                Control("separation", "Prison reform: share of gang members held apart", 0.0, 1.0, 0.05))
    cost_unit = "community sentence-week (and separation_cost per member-week held apart)"
    params: PrisonReformParams

    @classmethod
    def observe(cls, model: CityModel) -> dict:
        yth = model.youths
        return {"reform_in_community": int((yth.alive & (yth.community_until > model.week)).sum())}

    def __init__(self, params: PrisonReformParams, model: CityModel):
        super().__init__(params, model)
        self.rules = justice.CustodyRules(alternative=params.alternative, term_factor=params.term_factor,
                                          members_eligible=params.include_members, separation=params.separation)

    def programmes(self, model: CityModel) -> None:
        """The week's custody rules (read by arrests and by prison, later in the week)."""
        model.custody = self.rules
        model.ledger.set("reform_members_apart", 0)

    def cost(self, model: CityModel) -> float:
        """Community sentences running, and separate units sized for ``separation`` of
        the members inside."""
        yth, p = model.youths, self.params
        in_community = int((yth.alive & (yth.community_until > model.week)).sum())
        members_inside = int((yth.incarcerated & (yth.gang >= 0)).sum())
        return in_community * p.unit_cost + p.separation * members_inside * p.separation_cost
