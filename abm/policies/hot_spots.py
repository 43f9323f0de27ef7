"""Hot-spots policing: more patrol time on the blocks with most violence, with or
without municipal services there (lighting, cleaning, upgrading).

When the policy starts it chooses its hot spots: the ``spots_share`` of blocks with
most recent violence (violence exposure, 7.7). Each week ``officers_share`` of the
officers leave random patrol and patrol the hot spots instead, spread evenly over them
(ordinary patrol conduct). Police presence on a hot spot rises, and with it, through
the ordinary mechanisms, the damping of confrontations (7.7) and the perceived
certainty of the youths living around (7.5); the officers' spill-over presence reaches
the neighbouring blocks too. The officers are taken from patrols elsewhere, whose
presence falls. They keep patrol's conduct unless ``professionalism`` gives the share
of their stops that are procedurally just (officers trained in procedural justice, as
in Weisburd et al.'s trial on hot spots; the measures ``hs_abusive_spots`` and
``hs_trust_spots`` follow the abusive stops on the spots and their residents' trust).
With ``services`` on, each hot spot also gets municipal services that raise residents'
collective efficacy (more eyes on lit, clean streets), limited by their fear
(``services_efficacy``).

Whether violence is displaced to the blocks around the hot spots or their benefits
diffuse there is not set: the measures ``hs_confrontations_ring`` and
``hs_homicides_ring`` count violence in the ring of blocks around the hot spots, to be
compared with a run of the same seed in which the hot spots are chosen but get no
officers and no services (``officers_share = 0``, ``services = false``), which
reproduces the baseline exactly. In the model offenders do not choose where to fight
(confrontations happen where rival gangs meet), so displacement can come only from the
officers taken off other patrols; diffusion from spill-over presence, certainty and
fewer retaliations. Evidence compared with (never fitted): docs/evidence.md, B9
(Braga et al. 2019; Blattman et al. 2021, Bogotá).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.measures import Mean, Measure, Total, WindowMeasure
from abm import residents
from abm.policies.base import Control, Policy, PolicyParams
from abm.policing import DutyMode
from abm.schema import NonNeg, Share, param
from abm.violence import HomicideKind

if TYPE_CHECKING:
    from abm.model import CityModel

EVIDENCE = "docs/evidence.md#b9-hot-spots-policing-and-place-based-services"


class HotSpotsParams(PolicyParams):
    spots_share: Share = param(0.02, "share of blocks chosen as hot spots: those with most recent violence when the "
                               "policy starts", unit="share of blocks",
                               source="assumption (policy choice); Bogotá chose 1,919 hot-spot streets of a city's "
                                      "many more (Blattman et al. 2021, A17)", grade="assumption")
    officers_share: Share = param(0.2, "share of officers taken from random patrol to patrol the hot spots",
                                  unit="share of officers", source="assumption (policy choice); Bogotá about doubled "
                                  "patrol time on treated streets (A17)", grade="assumption")
    professionalism: Share | None = param(None, "share of hot-spot officers' contacts that are procedurally just; "
                                          "none: patrol's (police.professionalism)", unit="share",
                                          source="policy choice: officers trained in procedural justice for the hot "
                                                 "spots, as in Weisburd et al. 2022 "
                                                 "(docs/evidence.md#a18-procedural-justice-and-trust)",
                                          grade="assumption")
    services: bool = param(False, "municipal services (lighting, cleaning, upgrading) on the hot spots too",
                           unit="yes/no", source="scenario choice", grade="assumption")
    services_efficacy: NonNeg = param(0.01, "weekly gain of collective efficacy on a serviced hot spot, at no fear and "
                                      "no efficacy", unit="per week",
                                      source="direction: lighting and cleaning bring residents' guardianship to "
                                             "streets (Blattman et al. 2021; " + EVIDENCE + "); value assumption",
                                      grade="assumption", le=1)
    unit_cost: NonNeg = param(40.0, "cost of a hot-spot officer-week over patrol (analysis, supervision)",
                              unit="US$ per week", source="assumption (the officers are paid already)",
                              grade="assumption", le=1e7)
    services_cost: NonNeg = param(100.0, "cost of municipal services on a hot spot for a week", unit="US$ per block-week",
                                  source="assumption", grade="assumption", le=1e7)


class HotSpots(Policy):
    name = "hot_spots"
    label = "Hot spots"
    description = "hot-spots policing, with or without municipal services"
    Params = HotSpotsParams
    order = 33
    measures = (
        Measure("hs_officers", "officers", "officers on hot-spot patrol this week", "count"),
        Measure("hs_spots", "blocks", "hot spots (while the policy acts)", "count"),
        Measure("hs_ring", "blocks", "blocks around the hot spots, not hot spots (while the policy acts)", "count"),
        Measure("hs_presence_spots", "officers", "police presence summed over the hot spots this week "
                "(while the policy acts)", "level"),
        Measure("hs_presence_ring", "officers", "police presence summed over the blocks around the hot spots this "
                "week (while the policy acts)", "level"),
        Measure("hs_confrontations_spots", "confrontations/week", "confrontations on the hot spots this week", "count"),
        Measure("hs_confrontations_ring", "confrontations/week", "confrontations in the blocks around the hot spots "
                "this week", "count"),
        Measure("hs_homicides_spots", "homicides/week", "homicides on the hot spots this week", "count"),
        Measure("hs_homicides_ring", "homicides/week", "homicides in the blocks around the hot spots this week",
                "count"),
        Measure("hs_stops_spots", "stops/week", "stops on the hot spots this week", "count"),
        Measure("hs_abusive_spots", "stops/week", "abusive stops on the hot spots this week", "count"),
        Measure("hs_trust_spots", "index (0-1)", "mean trust in police of the residents of the hot spots (while the "
                "policy acts)", "level"),
    )
    window_measures = (
        WindowMeasure("hs_presence_spots", Mean(), "officers", "police presence summed over the hot spots, mean "
                      "over the window's weeks"),
        WindowMeasure("hs_confrontations_spots", Total(), "confrontations", "confrontations on the hot spots"),
        WindowMeasure("hs_homicides_spots", Total(), "homicides", "homicides on the hot spots"),
        WindowMeasure("hs_homicides_ring", Total(), "homicides", "homicides in the blocks around the hot spots"),
        WindowMeasure("hs_stops_spots", Total(), "stops", "stops on the hot spots"),
        WindowMeasure("hs_abusive_spots", Total(), "stops", "abusive stops on the hot spots"),
        WindowMeasure("hs_trust_spots", Mean(), "index (0-1)", "mean trust in police of the hot spots' residents, "
                      "mean over the window's weeks"),
    )
    controls = (
        Control("officers_share", "Hot spots: share of officers on hot spots", 0.0, 1.0, 0.05),
        Control("spots_share", "Hot spots: share of blocks targeted", 0.0, 0.2, 0.01),
    )
    cost_unit = "hot-spot officer-week"
    params: HotSpotsParams

    def __init__(self, params: HotSpotsParams, model: CityModel):
        super().__init__(params, model)
        self.n_spots = int(round(params.spots_share * model.city.n_blocks))
        self.n_officers = int(round(params.officers_share * len(model.officers))) if self.n_spots else 0
        self.spots: np.ndarray | None = None  # chosen when the policy starts
        self.ring: np.ndarray | None = None
        self.on_spots: np.ndarray | None = None  # a mask of the hot spots
        self.taken = 0  # officers on hot-spot patrol this week

    def _choose(self, model: CityModel) -> None:
        """The blocks with most recent violence (ties: lower block number), and the
        ring of blocks around them."""
        city = model.city
        heat = city.violence_exposure
        order = np.lexsort((np.arange(city.n_blocks), -heat))
        self.spots = np.sort(order[: self.n_spots][heat[order[: self.n_spots]] > 0])
        around = np.zeros(city.n_blocks, dtype=bool)
        near = city.moore[self.spots].ravel()
        around[near[near >= 0]] = True
        around[self.spots] = False
        self.ring = np.flatnonzero(around)
        self.on_spots = np.zeros(city.n_blocks, dtype=bool)
        self.on_spots[self.spots] = True

    def deploy(self, model: CityModel) -> None:
        if self.n_spots == 0:
            return
        if self.spots is None:
            self._choose(model)
        if len(self.spots) == 0:
            return
        model.ledger.count("hs_spots", len(self.spots))
        model.ledger.count("hs_ring", len(self.ring))
        self.taken = 0
        if self.n_officers == 0:
            return
        # Officers still on random patrol (not on community beats), first ones first;
        # spread evenly over the hot spots.
        officers = np.flatnonzero(model.duty.mode == DutyMode.PATROL)[: self.n_officers]
        model.officer_block[officers] = self.spots[np.arange(len(officers)) % len(self.spots)]
        model.duty.mode[officers] = DutyMode.HOT_SPOT
        if self.params.professionalism is not None:
            model.duty.professionalism[officers] = self.params.professionalism
        self.taken = len(officers)
        model.ledger.count("hs_officers", self.taken)

    def after_violence(self, model: CityModel, events: list[dict]) -> None:
        if not self._targets():
            return
        city = model.city
        model.ledger.set("hs_presence_spots", float(city.police_presence[self.spots].sum()))
        model.ledger.set("hs_presence_ring", float(city.police_presence[self.ring].sum()))
        model.ledger.count("hs_confrontations_spots", int(city.confrontations[self.spots].sum()))
        model.ledger.count("hs_confrontations_ring", int(city.confrontations[self.ring].sum()))
        killed = np.zeros(city.n_blocks, dtype=np.int64)
        for e in events:
            if e["kind"] != HomicideKind.POLICE:
                killed[e["block"]] += 1
        model.ledger.count("hs_homicides_spots", int(killed[self.spots].sum()))
        model.ledger.count("hs_homicides_ring", int(killed[self.ring].sum()))

    def community(self, model: CityModel) -> None:
        """What the week's stops left on the hot spots (stops, abusive stops, their
        residents' trust); municipal services there support residents' informal control."""
        if not self._targets():
            return
        city, res = model.city, model.residents
        abusive = int(city.contacts_abusive[self.spots].sum())
        model.ledger.count("hs_stops_spots", int(city.contacts_just[self.spots].sum()) + abusive)
        model.ledger.count("hs_abusive_spots", abusive)
        on_spots = res.alive & self.on_spots[res.block]
        model.ledger.set("hs_trust_spots", float(res.trust[on_spots].mean()) if on_spots.any() else 0.0)
        if self.params.services:
            residents.support_efficacy(model, self.spots, self.params.services_efficacy)

    def planned_cost(self, model: CityModel) -> float:
        services = self.n_spots * self.params.services_cost if self.params.services else 0.0
        return self.n_officers * self.params.unit_cost + services

    def _targets(self) -> bool:
        return self.spots is not None and len(self.spots) > 0

    def cost(self, model: CityModel) -> float:
        if not self._targets():
            return 0.0
        services = len(self.spots) * self.params.services_cost if self.params.services else 0.0
        return self.taken * self.params.unit_cost + services
