"""Violence interruption by outreach workers (Cure Violence, CeaseFire Chicago, Safe Streets).

Outreach workers ("violence interrupters", often former members with standing among
youths) work in the most violent blocks: every ``retarget_weeks`` the sites are the
blocks with most homicides in the past year (ties: higher violence exposure, then lower
index), as many as the staff covers, ``workers_per_100k`` workers each covering
``blocks_per_worker`` blocks. When a killing in a confrontation between gangs happens
on a site, the workers learn of the conflict and are heard by the youths involved with
probability ``credibility`` (one draw per block and week); they then mediate, and the
grievance between the two gangs (both directions) is cut by ``mediation_success``.

Grievance drives retaliation (:mod:`abm.violence`): fewer retaliatory confrontations,
and the homicides they cause, follow from the mediation, not from any parameter on
homicide. Killings off the sites, fights among non-members (which leave no grievance
between groups) and the everyday friction between rival gangs are not reached.

Evidence for the whole policy (validation only, never fitted):
docs/evidence.md#b6-violence-interruption (mixed results: Skogan et al. 2008; Webster et
al. 2013; Butts et al. 2015).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.measures import Measure, Total, WindowMeasure
from abm.policies.base import Control, Policy, PolicyParams
from abm.population import WEEKS_PER_YEAR
from abm.schema import NonNeg, Share, param
from abm.violence import HomicideKind, rival_of_block

if TYPE_CHECKING:
    from abm.model import CityModel


class ViolenceInterruptionParams(PolicyParams):
    workers_per_100k: NonNeg = param(20.0, "outreach workers per 100,000 people", unit="workers per 100,000",
                                     source="assumption (policy choice); programmes staff a site with a handful of "
                                            "workers (docs/evidence.md#b6-violence-interruption)",
                                     grade="assumption", le=10_000)
    blocks_per_worker: NonNeg = param(3.0, "blocks one outreach worker covers", unit="blocks per worker",
                                      source="assumption", grade="assumption", le=1000)
    credibility: Share = param(0.5, "chance the workers learn of a killing's conflict on their blocks and are heard "
                                    "by the youths involved (credibility with youths)", unit="probability",
                               source="assumption; programmes hire former members for their standing "
                                      "(docs/evidence.md#b6-violence-interruption)", grade="assumption")
    mediation_success: Share = param(0.5, "share of the grievance between two gangs a mediation settles",
                                     unit="share", source="assumption", grade="assumption")
    retarget_weeks: int = param(26, "weeks between choices of the sites", unit="weeks", source="assumption",
                                grade="assumption", ge=1, le=520)
    unit_cost: NonNeg = param(300.0, "cost of an outreach worker-week (wage, supervision, training)",
                              unit="US$ per week", source="assumption; not checked against programme budgets",
                              grade="assumption", le=1e7)


class ViolenceInterruption(Policy):
    name = "violence_interruption"
    label = "Violence interruption"
    description = "outreach workers mediate conflicts after killings in the most violent blocks"
    Params = ViolenceInterruptionParams
    order = 15
    measures = (
        Measure("vi_sites", "blocks", "blocks the outreach workers cover", "level"),
        Measure("vi_reached", "killings/week", "killings between gangs on the workers' blocks this week", "count"),
        Measure("vi_mediations", "mediations/week", "conflicts mediated after a killing this week", "count"),
    )
    window_measures = (
        WindowMeasure("vi_mediations", Total(), "mediations", "conflicts mediated after a killing"),
    )
    controls = (Control("workers_per_100k", "Violence interruption: outreach workers per 100,000", 0.0, 200.0, 5.0),)
    cost_unit = "outreach worker-week"
    params: ViolenceInterruptionParams

    def __init__(self, params: ViolenceInterruptionParams, model: CityModel):
        super().__init__(params, model)
        self.workers = int(round(params.workers_per_100k * model.people_start / 1e5))
        self.n_sites = min(int(round(self.workers * params.blocks_per_worker)), model.city.n_blocks)
        self.site = np.zeros(model.city.n_blocks, dtype=bool)

    def programmes(self, model: CityModel) -> None:
        if self.n_sites == 0:
            return
        if (model.week - self.start - 1) % self.params.retarget_weeks == 0:  # from its first step
            self._choose_sites(model)
        model.ledger.set("vi_sites", int(self.site.sum()))

    def _choose_sites(self, model: CityModel) -> None:
        city = model.city
        recent = [e["block"] for e in model.events
                  if e["kind"] != HomicideKind.POLICE and e["step"] > model.week - WEEKS_PER_YEAR]
        kills = np.bincount(np.array(recent, dtype=np.int64), minlength=city.n_blocks)
        order = np.lexsort((np.arange(city.n_blocks), -city.violence_exposure, -kills))
        self.site[:] = False
        self.site[order[: self.n_sites]] = True

    def after_violence(self, model: CityModel, events: list[dict]) -> None:
        if self.n_sites == 0:
            return
        reached = [e["block"] for e in events if e["kind"] == HomicideKind.GANG and self.site[e["block"]]]
        if not reached:
            return
        heard = model.stream("vi_credibility").random(model.city.n_blocks) < self.params.credibility  # by block
        owner = model.city.gang_owner
        rival = rival_of_block(model)  # the pair that fought there this week (territory has not moved)
        keep = 1 - self.params.mediation_success
        for b in sorted(set(reached)):  # one mediation per block and week
            g, h = int(owner[b]), int(rival[b])
            if not heard[b] or g < 0 or h < 0:
                continue
            model.grievance[g, h] *= keep
            model.grievance[h, g] *= keep
            model.rivalry.edges[g, h]["grievance"] = float(model.grievance[g, h] + model.grievance[h, g])
            model.ledger.count("vi_mediations", 1)
        model.ledger.count("vi_reached", len(reached))

    def cost(self, model: CityModel) -> float:
        return self.workers * self.params.unit_cost

    def planned_cost(self, model: CityModel) -> float:
        return self.cost(model)
