"""A negotiated truce between gang leaderships (El Salvador 2012-2014).

Mediators broker a ceasefire between the leaderships of all gangs. While it holds
(the policy's active steps, from ``start`` to ``end``), each leadership puts a weight
``restraint_weight`` on restraint and holds back that share of the confrontations it
can stop. How many it can stop depends on its command over its members: a fully
organised gang's leaders can stop ``command_organised`` of them, a diffuse youth
gang's only ``command_diffuse``, linearly in between with the gang's organisation
(see :mod:`abm.gangs`). A confrontation between two gangs is held back at the mean of
the two gangs' restraint (``model.gang_restraint``, read by
:func:`abm.violence.gang_confrontation_rate`); restraint damps everyday friction and
retaliation alike.

Nothing else is touched: gangs keep their territory, economy and recruitment, and
police and justice work as before. Fewer killings mean fewer members lost, fewer
grievances and fewer homicide cases; gangs may therefore grow and organise while the
truce holds. The truce collapses at ``end`` (the truce arm of an experiment: two
years), or earlier by a rule: when one gang's grievance against another reaches
``breach_grievance`` (about that many of its members killed by that gang within the
memory of grievance), its leadership breaks the truce and it collapses for all (off
by default). From the next week restraint is gone, and what follows (larger, more organised
gangs meeting the same rivals, grievance that remained) emerges from the mechanisms.

Evidence for the whole policy (validation only, never fitted): docs/evidence.md#b5-gang-truces
(El Salvador: homicides fell sharply in 2012, then rose as the truce unravelled;
Katz, Hedberg & Amaya 2016; Cruz & Durán-Martínez 2016).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.measures import Measure, Total, WindowMeasure
from abm.policies.base import Control, Policy, PolicyParams
from abm.schema import NonNeg, Share, param

if TYPE_CHECKING:
    from abm.model import CityModel


class TruceParams(PolicyParams):
    restraint_weight: Share = param(0.9, "weight leaderships put on restraint: share of the confrontations they can "
                                         "stop that they do stop while the truce holds (0: no truce agreed)",
                                    unit="share",
                                    source="assumption; leaders ordered members to stop killing rivals "
                                           "(docs/evidence.md#b5-gang-truces)", grade="assumption")
    command_organised: Share = param(0.8, "share of its members' confrontations the leadership of a fully organised "
                                          "gang can stop", unit="share",
                                     source="assumption; hierarchical gangs with leaders in prison could order a "
                                            "ceasefire (docs/evidence.md#b5-gang-truces)", grade="assumption")
    command_diffuse: Share = param(0.3, "share of its members' confrontations the leadership of a fully diffuse youth "
                                        "gang can stop", unit="share", source="assumption", grade="assumption")
    breach_grievance: float | None = param(None, "grievance of one gang against another (about its members killed "
                                                  "by that gang within the memory of grievance) at which its "
                                                  "leadership breaks the truce, and the truce collapses for all; "
                                                  "none: the truce holds until `end`",
                                            unit="grievance (members killed)",
                                            source="assumption; pacts unravel when their terms stop paying for the "
                                                   "leaderships (Cruz & Durán-Martínez 2016; "
                                                   "docs/evidence.md#b5-gang-truces)", grade="assumption", ge=0, le=1000)
    unit_cost: NonNeg = param(2000.0, "cost of a week of the truce per 100,000 people (mediators, facilitation, "
                                      "prison logistics)", unit="US$ per week per 100,000",
                              source="assumption; no published cost found", grade="assumption", le=1e7)


def leadership_restraint(organisation: np.ndarray, params: TruceParams) -> np.ndarray:
    """Share of its members' confrontations each gang's leadership holds back under the
    truce: the weight it puts on restraint times its command over its members."""
    command = params.command_diffuse + (params.command_organised - params.command_diffuse) * organisation
    return params.restraint_weight * command


class Truce(Policy):
    name = "truce"
    label = "Gang truce"
    description = "a negotiated ceasefire between gang leaderships"
    Params = TruceParams
    order = 5
    measures = (
        Measure("truce_active", "0/1", "1 in a week the truce holds (leaderships restrain their members)"),
        Measure("truce_restraint", "share", "mean share of confrontations gangs' leaderships hold back this week"),
    )
    window_measures = (
        WindowMeasure("truce_weeks", Total(("truce_active",)), "weeks", "weeks the truce held"),
    )
    controls = (Control("restraint_weight", "Truce: weight leaders put on restraint", 0.0, 1.0, 0.05),)
    cost_unit = "week of the truce per 100,000 people"
    params: TruceParams

    @classmethod
    def observe(cls, model: CityModel) -> dict:
        restraint = model.gang_restraint
        mean = float(restraint.mean()) if len(restraint) else 0.0
        holds = any(isinstance(pol, cls) and pol.active(model.week) and pol.in_force() and not pol.broken
                    for pol in model.policies)
        return {"truce_active": int(holds), "truce_restraint": mean}

    def __init__(self, params: TruceParams, model: CityModel):
        super().__init__(params, model)
        self.broken = False  # a leadership broke the truce (breach_grievance)

    def in_force(self) -> bool:
        """A truce in which leaderships put no weight on restraint was never agreed."""
        return self.params.restraint_weight > 0

    def programmes(self, model: CityModel) -> None:
        if not self.in_force() or self.broken or len(model.gangs) == 0:
            return
        limit = self.params.breach_grievance
        if limit is not None and model.grievance.size and float(model.grievance.max()) >= limit:
            self.broken = True  # from this week on, no leadership holds back
            return
        model.gang_restraint[:] = np.maximum(model.gang_restraint,
                                             leadership_restraint(model.gangs.organisation, self.params))

    def cost(self, model: CityModel) -> float:
        return 0.0 if self.broken else self.planned_cost(model)

    def planned_cost(self, model: CityModel) -> float:
        return self.params.unit_cost * model.people_start / 1e5 if self.in_force() else 0.0
