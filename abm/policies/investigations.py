"""Investigations: more homicide detectives and forensic capacity.

The city hires ``detectives_per_100k`` homicide detectives, each able to work
``cases_per_detective`` cases at once. Where the homicide unit is overloaded (a larger
caseload than it can work) they let more cases be worked at the full weekly chance (see
:func:`abm.justice.clearance_probability`). Where it is not, their spare time goes to
open cases as second investigators, whose canvassing supplies a share
``canvass_yield`` of the evidence the unit lacks. Forensic capacity
(``forensic_per_100k`` open cases covered at once: crime scene, ballistics, DNA)
supplies a share ``forensic_yield`` of that missing evidence on the cases it covers, so
clearance depends less on residents' willingness to talk. Evidence still fades with a
case's age (``justice.evidence_weeks``) (:meth:`Investigations.evidence`).

Nothing else is set. More cleared cases mean more convictions (incapacitation of
killers) and fewer cases gone cold (less impunity, more trust, 7.11); the city's recent
clearance enters every youth's perceived certainty of sanction (7.5), which lowers
joining and damps confrontations (7.7). Deterrence through certainty is an outcome,
compared with the evidence in docs/evidence.md, B7 (Nagin 2013 on certainty; Braga &
Dusseault 2018 and Braga, Turchan & Barao 2019 on homicide-unit resources and
clearance; Wellford & Cronin 1999 on what detectives do and clearance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.measures import Measure, Total, WindowMeasure
from abm.policies.base import Control, Policy, PolicyParams
from abm.schema import NonNeg, Share, param

if TYPE_CHECKING:
    from abm.model import CityModel

EVIDENCE = "docs/evidence.md#b7-homicide-investigations-and-clearance"


class InvestigationsParams(PolicyParams):
    detectives_per_100k: NonNeg = param(4.0, "homicide detectives added per 100,000 people", unit="detectives per 100,000",
                                        source="assumption (policy choice); Boston added detectives to its homicide unit "
                                               "(Braga & Dusseault 2018; size not checked)", grade="assumption", le=1000)
    cases_per_detective: NonNeg = param(3.0, "homicide cases a detective can work at once", unit="cases",
                                        source="assumption; US guidance of a few new homicide cases a detective a year "
                                               "(not checked)", grade="assumption", le=100)
    canvass_yield: Share = param(0.2, "share of the evidence missing from witnesses that a second detective's "
                                 "canvassing supplies on a case", unit="share",
                                 source="direction: clearance rises with detectives assigned and witness canvassing "
                                        "(Wellford & Cronin 1999, not checked; " + EVIDENCE + "); value assumption",
                                 grade="assumption")
    forensic_per_100k: NonNeg = param(10.0, "open homicide cases forensic work (crime scene, ballistics, DNA) covers at "
                                      "once, per 100,000 people", unit="cases per 100,000",
                                      source="assumption (policy choice)", grade="assumption", le=10_000)
    forensic_yield: Share = param(0.3, "share of the evidence missing from witnesses that forensic work supplies on a "
                                  "case it covers", unit="share",
                                  source="direction: more investigative resources (forensics, canvassing) raise "
                                         "clearance (Braga, Turchan & Barao 2019; " + EVIDENCE + "); value assumption",
                                  grade="assumption")
    unit_cost: NonNeg = param(250.0, "cost of a detective-week (wage, overtime, vehicle, support)", unit="US$ per week",
                              source="calc: basic police wage in Mexico about US$120 a week (SESNSP 2017), about "
                                     "twice that for an investigator with support; value assumption",
                              grade="assumption", le=1e7)
    forensic_cost: NonNeg = param(150.0, "cost of forensic capacity for one case for a week (staff, laboratory)",
                                  unit="US$ per case-week", source="assumption", grade="assumption", le=1e7)


class Investigations(Policy):
    name = "investigations"
    label = "Investigations"
    description = "more homicide detectives and forensic capacity"
    Params = InvestigationsParams
    order = 27
    measures = (
        Measure("inv_detectives", "detectives", "detectives added to the homicide unit this week", "count"),
        Measure("inv_open_cases", "cases", "open homicide cases worked this week (while the policy acts)", "count"),
        Measure("inv_forensic_cases", "cases", "of them, given forensic work", "count"),
        Measure("inv_second_detective_cases", "cases", "of them, given a second detective", "count"),
    )
    window_measures = (
        WindowMeasure("inv_forensic_cases", Total(), "case-weeks", "open homicide cases given forensic work, summed "
                      "over the weeks"),
    )
    controls = (
        Control("detectives_per_100k", "Investigations: detectives added per 100,000", 0.0, 40.0, 1.0),
        Control("forensic_per_100k", "Investigations: forensic case places per 100,000", 0.0, 100.0, 5.0),
    )
    cost_unit = "detective-week"
    params: InvestigationsParams

    def __init__(self, params: InvestigationsParams, model: CityModel):
        super().__init__(params, model)
        scale = model.people_start / 1e5
        self.detectives = int(round(params.detectives_per_100k * scale))
        self.forensic = int(round(params.forensic_per_100k * scale))

    @property
    def extra_investigators(self) -> float:
        """Homicide cases more that the unit can work at once."""
        return self.detectives * self.params.cases_per_detective

    def evidence(self, evidence: np.ndarray, caseload: float, investigators: float) -> np.ndarray:
        """Evidence on each open case, 0-1, for :func:`abm.justice.investigations`:
        what the unit has (witnesses and other sources), and what the policy's forensic
        work and second detectives supply of the rest, on the shares of the caseload
        (open cases weighted by their fresh evidence) they cover."""
        p = self.params
        forensic = min(1.0, self.forensic / max(caseload, 1e-9))
        # The added detectives' time not needed to work every case once.
        spare = min(self.extra_investigators, max(0.0, investigators - caseload))
        second = min(1.0, spare / max(caseload, 1e-9))
        gain = 1 - (1 - forensic * p.forensic_yield) * (1 - second * p.canvass_yield)
        model, open_cases = self.model, len(evidence)
        model.ledger.count("inv_open_cases", open_cases)
        model.ledger.count("inv_forensic_cases", int(round(forensic * open_cases)))
        model.ledger.count("inv_second_detective_cases", int(round(second * open_cases)))
        return evidence + gain * (1 - evidence)

    def programmes(self, model: CityModel) -> None:
        """Before this week's investigations, the unit's added detectives and forensic work."""
        if self.detectives == 0 and self.forensic == 0:
            return
        model.investigation_support = self
        model.ledger.count("inv_detectives", self.detectives)

    def cost(self, model: CityModel) -> float:
        return self.detectives * self.params.unit_cost + self.forensic * self.params.forensic_cost

    def planned_cost(self, model: CityModel) -> float:
        return self.cost(model)
