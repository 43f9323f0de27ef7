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
from pydantic import Field

from abm.policies.base import Control, Policy, PolicyParams
from abm.policing import BEAT
from abm.schema import NonNeg, Share

if TYPE_CHECKING:
    from abm.model import CityModel


class CommunityPolicingParams(PolicyParams):
    coverage: Share = Field(0.3, description="share of officers on fixed community beats")
    professionalism: Share = Field(0.95, description="share of beat officers' contacts that are procedurally just")
    stops_per_officer: NonNeg = Field(3.0, description="stops per beat officer per week (fewer, longer contacts)")
    efficacy_support: NonNeg = Field(0.003, description="weekly gain of collective efficacy on a beat block per beat officer, at no fear")
    unit_cost: NonNeg = Field(40.0, description="US$ per beat officer-week over patrol (training, meetings; assumption)")


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
        need = city.population * (0.5 + np.minimum(city.violence_exposure, 1.0)) * city.poor
        order = np.lexsort((np.arange(city.n_blocks), -need))
        return order[: self.n_beats]

    def deploy(self, model: CityModel) -> None:
        if self.n_beats == 0:
            return
        if self.beats is None:
            self.beats = self._choose_beats(model)
        officers = np.arange(self.n_beats)  # the first officers hold beats
        around = model.city.moore[self.beats]
        pick = around[np.arange(self.n_beats), model.rng.integers(0, 9, self.n_beats)]
        model.officer_block[officers] = np.where(pick >= 0, pick, self.beats)
        duty, p = model.duty, self.params
        duty.mode[officers] = BEAT
        duty.stops[officers] = p.stops_per_officer
        duty.professionalism[officers] = p.professionalism

    def community(self, model: CityModel) -> None:
        if self.n_beats == 0 or self.beats is None:
            return
        city, res = model.city, model.residents
        fear = np.bincount(res.block[res.alive], weights=res.fear[res.alive], minlength=city.n_blocks)
        count = np.bincount(res.block[res.alive], minlength=city.n_blocks)
        fear = np.divide(fear, count, out=np.zeros(city.n_blocks), where=count > 0)
        on_beat = model.duty.mode[: self.n_beats] == BEAT  # not those mano dura took, if both run
        officers = np.bincount(model.officer_block[: self.n_beats][on_beat], minlength=city.n_blocks)
        gain = self.params.efficacy_support * officers * (1 - fear) * (1 - city.collective_efficacy)
        city.collective_efficacy[:] = np.clip(city.collective_efficacy + gain, 0, 1)

    def cost(self, model: CityModel) -> float:
        return self.n_beats * self.params.unit_cost
