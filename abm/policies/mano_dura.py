"""Mano dura: sweeps of poor and gang-held blocks, arrest on suspicion, long sentences.

``coverage`` of the officers leave patrol for sweeps: each week they go to blocks
drawn by gang control x poverty x population, stop many youths, treat many abusively,
arrest on suspicion (so many arrested are not members), hold most of those arrested,
under anti-gang laws that multiply sentences, with more lethal force. Perceived
severity of sanction rises with the sentences. What follows (incapacitation, prison
overcrowding and recruitment, gang organisation, lost trust and reporting) is the
ordinary working of the other mechanisms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from abm.policies.base import Control, Policy, PolicyParams
from abm.policing import SWEEP
from abm.schema import NonNeg, Share

if TYPE_CHECKING:
    from abm.model import CityModel


class ManoDuraParams(PolicyParams):
    coverage: Share = Field(0.4, description="share of officers moved to sweeps")
    stops_per_officer: NonNeg = Field(5.0, description="stops per sweep officer per week")
    professionalism: Share = Field(0.3, description="share of sweep contacts that are procedurally just")
    suspicion_arrest: Share = Field(0.01, description="chance a stopped non-member is arrested on suspicion")
    charge_share: Share = Field(0.5, description="share of sweep arrests held (El Salvador 2003: up to 91% released without charge; since 2022 most held)")
    sentence_factor: float = Field(1.5, ge=1, le=10, description="multiplier of sentences for sweep arrests (anti-gang laws)")
    force_lethality: Share = Field(0.03, description="chance an arrest of a member in a sweep ends in a killing by police")
    unit_cost: NonNeg = Field(130.0, description="US$ per sweep officer-week (operations, overtime; about a week's wage, SESNSP 2017)")


class ManoDura(Policy):
    name = "mano_dura"
    label = "Mano dura"
    description = "mano dura"
    Params = ManoDuraParams
    order = 40
    controls = (Control("coverage", "Mano dura: share of officers in sweeps", 0.0, 1.0, 0.05),)
    cost_unit = "sweep officer-week"
    params: ManoDuraParams

    def __init__(self, params: ManoDuraParams, model: CityModel):
        super().__init__(params, model)
        self.n_sweep = int(round(params.coverage * len(model.officers)))

    def deploy(self, model: CityModel) -> None:
        if self.n_sweep == 0:
            return
        city, p = model.city, self.params
        weights = city.gang_control * (1 - city.ses) * city.population
        if weights.sum() <= 0:
            weights = (1 - city.ses) * city.population
        n = len(model.officers)
        officers = np.arange(n - self.n_sweep, n)  # the last officers are taken for sweeps
        model.officer_block[officers] = model.rng.choice(city.n_blocks, size=self.n_sweep, p=weights / weights.sum())
        duty = model.duty
        duty.mode[officers] = SWEEP
        duty.stops[officers] = p.stops_per_officer
        duty.professionalism[officers] = p.professionalism
        duty.suspicion[officers] = p.suspicion_arrest
        duty.charge[officers] = p.charge_share
        duty.sentence_factor[officers] = p.sentence_factor
        duty.force[officers] = p.force_lethality
        model.severity_factor = max(model.severity_factor, p.sentence_factor)

    def cost(self, model: CityModel) -> float:
        return self.n_sweep * self.params.unit_cost
