"""Community policing: officers on fixed beats, procedurally just, working with residents.

At the start, ``coverage`` of the officers get fixed beats: the poor blocks where most
people live with most recent violence. Each week a beat officer patrols within the
3x3 blocks around the beat's centre, stops fewer youths and treats them justly
(``professionalism``); residents who see just contacts trust more (see
:mod:`abm.residents`), report more, and clearance follows. Beat officers also support
residents' own informal control: collective efficacy on the beat grows by
``efficacy_support`` per officer-week, limited by residents' fear where gangs are
organised and strong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm import residents
from abm.policies.base import Control, Policy, PolicyParams
from abm.policing import DutyMode
from abm.schema import NonNeg, Share, param

if TYPE_CHECKING:
    from abm.model import CityModel


class CommunityPolicingParams(PolicyParams):
    coverage: Share = param(0.3, "share of officers on fixed community beats", unit="share of officers",
                            source="assumption (policy choice)", grade="assumption")
    professionalism: Share = param(0.95, "share of beat officers' contacts that are procedurally just", unit="share",
                                   source="direction: community policing improves satisfaction and perceived "
                                          "legitimacy (Gill et al. 2014), procedural justice raises confidence and "
                                          "cooperation (Mazerolle et al. 2013); value assumption", grade="weak")
    stops_per_officer: NonNeg = param(3.0, "stops per beat officer per week (fewer, longer contacts)",
                                      unit="stops per week", source="assumption", grade="assumption", le=100)
    efficacy_support: NonNeg = param(0.003, "weekly gain of collective efficacy on a beat block per beat officer, "
                                     "at no fear", unit="per officer-week", source="assumption",
                                     grade="assumption", le=1)
    beat_need_base: NonNeg = param(0.5, "beat need of a poor block per resident with no recent violence "
                                   "(need = population x (this + exposure))", unit="relative units",
                                   source="assumption", grade="assumption", le=1000)
    unit_cost: NonNeg = param(40.0, "cost of a beat officer-week over patrol (training, meetings)",
                              unit="US$ per week", source="assumption", grade="assumption", le=1e7)


class CommunityPolicing(Policy):
    name = "community_policing"
    label = "Community policing"
    description = "community policing"
    Params = CommunityPolicingParams
    order = 30
    controls = (Control("coverage", "Community policing: share of officers on beats", 0.0, 1.0, 0.05),)
    dashboard_on = True
    cost_unit = "beat officer-week"
    params: CommunityPolicingParams

    def __init__(self, params: CommunityPolicingParams, model: CityModel):
        super().__init__(params, model)
        self.n_beats = int(round(params.coverage * len(model.officers)))
        self.beats: np.ndarray | None = None  # beat centres, chosen when the policy starts

    def _choose_beats(self, model: CityModel) -> np.ndarray:
        city = model.city
        need = city.population * (self.params.beat_need_base + np.minimum(city.violence_exposure, 1.0)) * city.poor
        order = np.lexsort((np.arange(city.n_blocks), -need))
        return order[: self.n_beats]

    def deploy(self, model: CityModel) -> None:
        if self.n_beats == 0:
            return
        if self.beats is None:
            self.beats = self._choose_beats(model)
        officers = np.arange(self.n_beats)  # the first officers hold beats
        around = model.city.moore[self.beats]
        pick = around[np.arange(self.n_beats), model.stream("beats").integers(0, around.shape[1], self.n_beats)]
        model.officer_block[officers] = np.where(pick >= 0, pick, self.beats)
        duty, p = model.duty, self.params
        duty.mode[officers] = DutyMode.BEAT
        duty.stops[officers] = p.stops_per_officer
        duty.professionalism[officers] = p.professionalism

    def community(self, model: CityModel) -> None:
        if self.n_beats == 0 or self.beats is None:
            return
        city = model.city
        on_beat = model.duty.mode[: self.n_beats] == DutyMode.BEAT  # not those mano dura took, if both run
        officers = np.bincount(model.officer_block[: self.n_beats][on_beat], minlength=city.n_blocks)
        residents.support_efficacy(model, slice(None), self.params.efficacy_support * officers)

    def cost(self, model: CityModel) -> float:
        return self.n_beats * self.params.unit_cost

    def planned_cost(self, model: CityModel) -> float:
        return self.cost(model)
