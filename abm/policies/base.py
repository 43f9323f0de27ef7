"""The policy interface: parameters every policy has, and the hooks it may fill.

A policy is switched on by its table in a scenario, ``[policies.<name>]``. It acts
only through the model's mechanisms: it moves officers, enrols youths in programmes,
notifies groups, changes how stops and sentences are done. No policy parameter sets
an effect on homicide or recruitment; those emerge.

Hooks, called in the step at these points (see ``CityModel.step``), in the order
of :data:`abm.policies.ORDER` when several policies are on:

- ``deploy``: after patrols are drawn; take officers for beats and sweeps.
- ``programmes``: before youths' choices; enrol, notify, offer services, decay effects.
- ``after_violence``: after this week's confrontations; respond to killings.
- ``community``: after residents' update; work with residents.
- ``cost``: this week's cost in US$.

A hook runs only while the policy is active: from ``start`` (default: the end of
burn-in) up to, not including, ``end``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from abm.schema import NonNeg, Section, param

if TYPE_CHECKING:
    from abm.model import CityModel


class PolicyParams(Section):
    """What every policy has: when it acts and what a unit of it costs."""

    start: int | None = param(None, "step the policy starts (default: end of burn-in)", unit="step",
                              source="scenario choice", grade="assumption", ge=0)
    end: int | None = param(None, "step the policy ends (default: never)", unit="step", source="scenario choice",
                            grade="assumption", ge=1)
    unit_cost: NonNeg = param(0.0, "cost of one unit (each policy says what its unit is)", unit="US$ per unit",
                              source="assumption", grade="assumption")


class Policy:
    """A policy plugged into the step. Subclasses fill the hooks they need."""

    name: ClassVar[str] = ""
    params: PolicyParams

    def __init__(self, params: PolicyParams, model: CityModel):
        self.params = params
        self.model = model
        self.start = model.p.run.burn_in if params.start is None else params.start

    def active(self, week: int) -> bool:
        """Whether the policy acts in the step after ``week`` completed weeks."""
        end = self.params.end
        return week >= self.start and (end is None or week < end)

    def deploy(self, model: CityModel) -> None:  # noqa: D102 - hooks are documented above
        pass

    def programmes(self, model: CityModel) -> None:
        pass

    def after_violence(self, model: CityModel, events: list[dict]) -> None:
        pass

    def community(self, model: CityModel) -> None:
        pass

    def cost(self, model: CityModel) -> float:
        return 0.0
