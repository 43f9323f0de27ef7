"""Pacification: police and state services occupy gang-held districts, then stay as
proximity police (Rio de Janeiro's Pacifying Police Units, UPPs, 2008-2018; Colombia's
territorial consolidation).

When the policy starts it chooses the ``districts_share`` of districts (at least one)
whose blocks gangs hold most strongly (gang control x people, summed over the district;
ties: lower district number). Two phases follow:

- **Occupation** (the first ``occupation_weeks`` active weeks): an occupying force of
  ``occupation_share`` of the officers, taken from random patrol, is spread over the
  district's blocks each week. It stops many youths (``occupation_stops``), treats many
  abusively (``occupation_professionalism``), arrests on suspicion and uses lethal force
  (``occupation_force_lethality``), like a sweep.
- **Proximity** (from then on, up to ``end``): ``proximity_share`` of the officers stay
  on fixed posts spread over the district by its people, patrolling the 3x3 blocks
  around their post, with fewer stops and a conduct of their own
  (``proximity_professionalism``: the abuse risk is its complement). State services
  arrive: the district's state presence rises to at least ``state_presence`` (which
  resists gangs' expansion, 7.6) and, with ``services`` on, residents' collective
  efficacy gains ``services_efficacy`` a week, limited by their fear.

In both phases the state retakes territory: every week each block of the district
loses the share ``reclaim`` x (presence of honest pacification officers there) of the
gang control it has (:func:`abm.gangs.yield_control`); a gang whose control falls
below ``gangs.control_lost`` loses the block. Members still living there rebuild
control each week (7.6), so whether the district stays free of gangs is an outcome.

Corruption: each week a proximity officer posted on a block still held by a gang is
bought by it with chance ``corruption_risk`` x that gang's organisation; a bought
officer arrests no member for what he sees and retakes no territory, and is found out
and replaced by an honest one with chance ``oversight`` a week.

Nothing is set on homicide, recruitment or trust: fewer blocks held mean less gang
income, fewer recruits wanted and other borders between rivals (7.6, 7.7); presence
damps confrontations and raises certainty (7.5, 7.7); the occupation's abusive stops
and killings and the proximity police's conduct move trust and reporting (7.11).

Evidence for the whole policy (validation only, never fitted):
docs/evidence.md#b11-pacification-and-territorial-control (Magaloni, Franco & Melo 2020;
Ferraz & Ottoni 2013).
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from abm import gangs, policing, residents
from abm.measures import Last, Measure, Total, WindowMeasure
from abm.policies.base import Control, Policy, PolicyParams
from abm.policing import DutyMode
from abm.schema import NonNeg, Share, param
from abm.violence import HomicideKind

if TYPE_CHECKING:
    from abm.model import CityModel

EVIDENCE = "docs/evidence.md#b11-pacification-and-territorial-control"


class Phase(IntEnum):
    """The pacification's phase in a week (the measure ``pac_phase``)."""

    OFF = 0
    OCCUPATION = 1
    PROXIMITY = 2


class PacificationParams(PolicyParams):
    districts_share: Share = param(0.04, "share of districts occupied (at least one if above 0): those gangs hold "
                                   "most strongly when the policy starts", unit="share of districts",
                                   source="assumption (policy choice); Rio's UPPs covered about 700,000 of 6.3 million "
                                          "people (" + EVIDENCE + ")", grade="assumption")
    occupation_weeks: int = param(13, "weeks of the occupation before the proximity police take over", unit="weeks",
                                  source="the occupation by elite troops lasted about three months before a UPP "
                                         "was inaugurated (" + EVIDENCE + ")", grade="weak", ge=0, le=520)
    occupation_share: Share = param(0.3, "share of officers in the occupying force", unit="share of officers",
                                    source="assumption (policy choice); at the district preset 81 officers for 4,000 "
                                           "people, as dense as the UPPs' forces (" + EVIDENCE + ")",
                                    grade="assumption")
    occupation_stops: NonNeg = param(5.0, "stops per occupying officer per week", unit="stops per week",
                                     source="assumption (as a sweep)", grade="assumption", le=100)
    occupation_professionalism: Share = param(0.4, "share of the occupying force's contacts that are procedurally "
                                              "just", unit="share", source="assumption (elite troops' operations)",
                                              grade="assumption")
    occupation_force_lethality: Share = param(0.03, "chance an arrest of a member by the occupying force ends in a "
                                              "killing by police", unit="probability",
                                              source="assumption (as mano dura's sweeps)", grade="assumption")
    proximity_share: Share = param(0.2, "share of officers staying as proximity police", unit="share of officers",
                                   source="assumption (policy choice); about 9,000 UPP officers for about 500,000 "
                                          "residents (" + EVIDENCE + ")", grade="assumption")
    proximity_stops: NonNeg = param(3.0, "stops per proximity officer per week", unit="stops per week",
                                    source="assumption (as community beats)", grade="assumption", le=100)
    proximity_professionalism: Share = param(0.8, "share of the proximity police's contacts that are procedurally just "
                                             "(the abuse risk is 1 minus this)", unit="share",
                                             source="direction: UPPs trained officers in proximity policing, yet young "
                                                    "residents reported abuse and many rejected them (Ribeiro & "
                                                    "Vilarouca 2018; " + EVIDENCE + "); value assumption",
                                             grade="weak")
    reclaim: Share = param(0.3, "share of a gang's control of a block lost per unit presence of honest pacification "
                                "officers there, per week", unit="per officer-week",
                           source="direction: the occupations removed armed gangs from the streets (" + EVIDENCE + "); "
                                  "value assumption", grade="assumption")
    corruption_risk: Share = param(0.02, "weekly chance a proximity officer posted on a block a fully organised gang "
                                   "still holds is bought by it", unit="probability per week",
                                   source="assumption; corruption can attenuate a territorial occupation (chapter; "
                                          + EVIDENCE + ")", grade="assumption")
    oversight: Share = param(0.02, "weekly chance a bought officer is found out and replaced by an honest one",
                             unit="probability per week", source="assumption", grade="assumption")
    state_presence: Share = param(0.85, "state presence in the district once the proximity phase starts (schools, "
                                  "clinics, utilities)", unit="index (0-1)",
                                  source="assumption (the city's rich districts' level); UPP Social brought services "
                                         "(" + EVIDENCE + ")", grade="assumption")
    services: bool = param(True, "state services support residents' collective efficacy in the proximity phase",
                           unit="yes/no", source="scenario choice", grade="assumption")
    services_efficacy: NonNeg = param(0.003, "weekly gain of collective efficacy on a block of the district, at no fear "
                                      "and no efficacy", unit="per week", source="assumption (as community beats)",
                                      grade="assumption", le=1)
    occupation_cost: NonNeg = param(130.0, "cost of an occupying officer-week (operations, overtime)",
                                    unit="US$ per week", source="assumption (as a sweep officer-week)",
                                    grade="assumption", le=1e7)
    unit_cost: NonNeg = param(60.0, "cost of a proximity officer-week over patrol (bonus, training, community work)",
                              unit="US$ per week", source="assumption; not checked against UPP budgets",
                              grade="assumption", le=1e7)
    services_cost: NonNeg = param(100.0, "cost of state services on a block of the district for a week",
                                  unit="US$ per block-week", source="assumption", grade="assumption", le=1e7)


class Pacification(Policy):
    name = "pacification"
    label = "Pacification"
    description = "police and state services occupy gang-held districts, then stay as proximity police"
    Params = PacificationParams
    order = 31
    measures = (
        Measure("pac_phase", "0/1/2", "pacification's phase this week: 0 not acting, 1 occupation, 2 proximity"),
        Measure("pac_blocks", "blocks", "blocks of the pacified districts (while the policy acts)", "count"),
        Measure("pac_blocks_held", "blocks", "blocks of the pacified districts a gang holds (while the policy acts)",
                "count"),
        Measure("pac_officers", "officers", "officers of the occupying force or proximity police this week", "count"),
        Measure("pac_bought", "officers", "proximity officers bought by a gang this week", "count"),
        Measure("pac_homicides", "homicides/week", "homicides (not by police) on the pacified blocks this week",
                "count"),
        Measure("pac_police_killings", "killings/week", "killings by police on the pacified blocks this week",
                "count"),
    )
    window_measures = (
        WindowMeasure("pac_blocks_held", Last(), "blocks", "blocks of the pacified districts a gang holds at the "
                      "window's end"),
        WindowMeasure("pac_homicides", Total(), "homicides", "homicides (not by police) on the pacified blocks"),
        WindowMeasure("pac_police_killings", Total(), "killings", "killings by police on the pacified blocks"),
    )
    controls = (
        Control("proximity_share", "Pacification: share of officers staying as proximity police", 0.0, 1.0, 0.05),
        Control("proximity_professionalism", "Pacification: proximity police's just contacts", 0.0, 1.0, 0.05),
    )
    cost_unit = "proximity officer-week"
    params: PacificationParams

    def __init__(self, params: PacificationParams, model: CityModel):
        super().__init__(params, model)
        n_officers = len(model.officers)
        share = params.districts_share
        self.n_districts = 0 if share == 0 else max(1, int(round(share * model.city.n_districts)))
        self.n_occupation = int(round(params.occupation_share * n_officers)) if self.n_districts else 0
        self.n_proximity = int(round(params.proximity_share * n_officers)) if self.n_districts else 0
        self.blocks: np.ndarray | None = None  # the pacified blocks, chosen when the policy starts
        self.posts: np.ndarray | None = None  # proximity officers' posts
        self.bought = np.zeros(self.n_proximity, dtype=bool)
        self.taken = np.zeros(0, dtype=np.int64)  # officers of the force this week
        self.honest = np.zeros(0, dtype=bool)

    @classmethod
    def observe(cls, model: CityModel) -> dict:
        phase = [pol.phase(model.week) for pol in model.policies
                 if isinstance(pol, cls) and pol.active(model.week) and pol.n_districts]
        return {"pac_phase": int(phase[0]) if phase else int(Phase.OFF)}

    def phase(self, week: int) -> Phase:
        """The occupation in its first weeks, proximity afterwards (while the policy acts)."""
        return Phase.OCCUPATION if week - self.start <= self.params.occupation_weeks else Phase.PROXIMITY

    def _choose(self, model: CityModel) -> None:
        city = model.city
        held = np.where(city.gang_owner >= 0, city.gang_control, 0.0) * city.population
        score = np.bincount(city.district, weights=held, minlength=city.n_districts)
        chosen = np.lexsort((np.arange(city.n_districts), -score))[: self.n_districts]
        self.blocks = np.flatnonzero(np.isin(city.district, chosen))
        # Proximity posts: spread over the district's blocks by their people (largest
        # remainder, ties: lower block number), fixed from then on.
        people = city.population[self.blocks].astype(float)
        weights = people / people.sum() if people.sum() > 0 else np.full(len(self.blocks), 1 / len(self.blocks))
        quota = weights * self.n_proximity
        count = np.floor(quota).astype(np.int64)
        rest = self.n_proximity - int(count.sum())
        count[np.lexsort((np.arange(len(quota)), -(quota - count)))[:rest]] += 1
        self.posts = np.repeat(self.blocks, count)

    def deploy(self, model: CityModel) -> None:
        if self.n_districts == 0:
            return
        if self.blocks is None:
            self._choose(model)
        model.ledger.count("pac_blocks", len(self.blocks))
        duty, p = model.duty, self.params
        occupation = self.phase(model.week) == Phase.OCCUPATION
        wanted = self.n_occupation if occupation else self.n_proximity
        officers = np.flatnonzero(duty.mode == DutyMode.PATROL)[:wanted]  # not beats or hot spots
        self.taken = officers
        if len(officers) == 0:
            self.honest = np.zeros(0, dtype=bool)
            return
        rng = model.stream("pacification")
        if occupation:
            model.officer_block[officers] = self.blocks[rng.integers(0, len(self.blocks), len(officers))]
            duty.mode[officers] = DutyMode.OCCUPATION
            duty.stops[officers] = p.occupation_stops
            duty.professionalism[officers] = p.occupation_professionalism
            duty.force[officers] = p.occupation_force_lethality
            self.honest = np.ones(len(officers), dtype=bool)
            return
        posts = self.posts[: len(officers)]
        around = model.city.moore[posts]
        pick = around[np.arange(len(posts)), rng.integers(0, around.shape[1], len(posts))]
        model.officer_block[officers] = np.where(pick >= 0, pick, posts)
        duty.mode[officers] = DutyMode.PROXIMITY
        duty.stops[officers] = p.proximity_stops
        duty.professionalism[officers] = p.proximity_professionalism
        self._corruption(model, rng, posts)
        self.honest = ~self.bought[: len(officers)]
        duty.detection[officers[~self.honest]] = 0.0

    def _corruption(self, model: CityModel, rng: np.random.Generator, posts: np.ndarray) -> None:
        """Gangs still holding a post's block buy its officer; oversight finds some out."""
        n = len(posts)
        u_buy, u_found = rng.random(n), rng.random(n)
        owner = model.city.gang_owner[posts]
        org = model.gangs.of(model.gangs.organisation, owner)
        bought = self.bought[:n]
        found = bought & (u_found < self.params.oversight)
        bought &= ~found
        bought |= (owner >= 0) & (u_buy < self.params.corruption_risk * org)
        model.ledger.count("pac_bought", int(bought.sum()))

    def programmes(self, model: CityModel) -> None:
        """The state retakes territory where honest pacification officers are."""
        if self.blocks is None or len(self.taken) == 0 or self.params.reclaim == 0:
            return
        city = model.city
        honest = policing.presence(model.p.police, city, model.officer_block[self.taken][self.honest])
        gangs.yield_control(model, self.blocks, self.params.reclaim * honest[self.blocks])

    def community(self, model: CityModel) -> None:
        if self.blocks is None or len(self.blocks) == 0:
            return
        city = model.city
        model.ledger.count("pac_blocks_held", int((city.gang_owner[self.blocks] >= 0).sum()))
        model.ledger.count("pac_officers", len(self.taken))
        pacified = np.zeros(city.n_blocks, dtype=bool)
        pacified[self.blocks] = True
        for e in reversed(model.events):
            if e["step"] < model.week:
                break
            if pacified[e["block"]]:
                model.ledger.count("pac_police_killings" if e["kind"] == HomicideKind.POLICE else "pac_homicides", 1)
        if self.phase(model.week) != Phase.PROXIMITY:
            return
        city.state_presence[self.blocks] = np.maximum(city.state_presence[self.blocks], self.params.state_presence)
        if self.params.services:
            residents.support_efficacy(model, self.blocks, self.params.services_efficacy)

    def planned_cost(self, model: CityModel) -> float:
        """Once the proximity police are in place (the occupation's weeks cost more)."""
        size = model.p.city.district_size
        services = self.n_districts * size * size * self.params.services_cost if self.params.services else 0.0
        return self.n_proximity * self.params.unit_cost + services

    def cost(self, model: CityModel) -> float:
        if self.blocks is None:
            return 0.0
        if self.phase(model.week) == Phase.OCCUPATION:
            return len(self.taken) * self.params.occupation_cost
        services = len(self.blocks) * self.params.services_cost if self.params.services else 0.0
        return len(self.taken) * self.params.unit_cost + services
