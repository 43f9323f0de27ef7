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

from abm.policies.base import Control, Policy, PolicyParams
from abm.policing import DutyMode
from abm.schema import NonNeg, Share, param

if TYPE_CHECKING:
    from abm.model import CityModel


class ManoDuraParams(PolicyParams):
    coverage: Share = param(0.4, "share of officers moved to sweeps", unit="share of officers",
                            source="assumption (policy choice)", grade="assumption")
    stops_per_officer: NonNeg = param(5.0, "stops per sweep officer per week", unit="stops per week",
                                      source="assumption (patrol: 5)", grade="assumption", le=100)
    professionalism: Share = param(0.3, "share of sweep contacts that are procedurally just", unit="share",
                                   source="assumption", grade="assumption")
    suspicion_arrest: Share = param(0.01, "chance a stopped non-member is arrested on suspicion", unit="probability",
                                    source="assumption; El Salvador 2003: about 20,000 arrests in the first year, "
                                           "up to 91% released without charge (weak)", grade="assumption")
    charge_share: Share = param(0.5, "share of sweep arrests held (El Salvador 2003: up to 91% released without "
                                "charge; since 2022 most held)", unit="share",
                                source="assumption; LatAm over 40% of prisoners are pre-trial (OSJI 2014), a share of "
                                       "prisoners, not of arrests", grade="assumption")
    sentence_factor: float = param(1.5, "multiplier of sentences for sweep arrests (anti-gang laws)", unit="ratio",
                                   source="assumption (anti-gang laws)", grade="assumption", ge=1, le=10)
    force_lethality: Share = param(0.03, "chance an arrest of a member in a sweep ends in a killing by police",
                                   unit="probability",
                                   source="assumption; compare killings by police at about 6% (El Salvador) to over "
                                          "10% (Brazil) of homicides", grade="weak")
    unit_cost: NonNeg = param(130.0, "cost of a sweep officer-week (operations, overtime; about a week's wage)",
                              unit="US$ per week",
                              source="calc: basic police wage in Mexico 9,933 MXN a month (SESNSP 2017), about "
                                     "US$120 a week; value assumption", grade="weak", le=1e7)


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
        model.officer_block[officers] = model.stream("sweeps").choice(city.n_blocks, size=self.n_sweep, p=weights / weights.sum())
        duty = model.duty
        duty.mode[officers] = DutyMode.SWEEP
        duty.stops[officers] = p.stops_per_officer
        duty.professionalism[officers] = p.professionalism
        duty.suspicion[officers] = p.suspicion_arrest
        duty.charge[officers] = p.charge_share
        duty.sentence_factor[officers] = p.sentence_factor
        duty.force[officers] = p.force_lethality
        model.severity_factor = max(model.severity_factor, p.sentence_factor)

    def cost(self, model: CityModel) -> float:
        return self.n_sweep * self.params.unit_cost

    def planned_cost(self, model: CityModel) -> float:
        return self.cost(model)
