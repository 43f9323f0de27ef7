"""The policy interface: what a policy declares, and the hooks it may fill.

A policy is switched on by its table in a scenario, ``[policies.<name>]``. It acts
only through the model's mechanisms: it moves officers, enrols youths in programmes,
notifies groups, changes how stops and sentences are done. No policy parameter sets
an effect on homicide or recruitment; those emerge.

A policy module declares, on its :class:`Policy` subclass, everything the rest of the
package needs to know about it (see :mod:`abm.policies` for the registry):

- ``name``, ``label``, ``description``; ``Params``: its parameter table;
- ``order``: its place when several policies act at the same hook (lower first);
- ``state``: per-person arrays it keeps on the youths (:class:`PersonState`), which
  the model allocates and resets when a slot gets a new youth, and ``gang_state``:
  per-gang arrays (:class:`GangState`), allocated on the policy when it is built;
- ``measures`` and ``window_measures``: its columns of the result files
  (:mod:`abm.measures`), filled by ``ledger.count`` / ``ledger.set`` or by
  :meth:`Policy.observe`;
- ``controls``: its dashboard sliders (:class:`Control`), and ``dashboard_on``;
- ``cost_unit``: what ``unit_cost`` is paid for; :meth:`Policy.cost` the week's cost.

Hooks, called in the step at these points (see ``CityModel.step``), in ``order``
when several policies are on:

- ``deploy``: after patrols are drawn; take officers for beats and sweeps.
- ``programmes``: before youths' choices; enrol, notify, offer services, decay effects.
- ``after_violence``: after this week's confrontations; respond to killings.
- ``community``: after residents' update; work with residents.
- ``cost``: this week's cost in US$.

And, outside the step, :meth:`Policy.planned_cost`: the weekly cost as planned (its
officers, workers or places in full use), known before the policy starts, or None
where the cost follows what happens (shown by the dashboard before a class runs).

A hook runs only while the policy is active: in the steps after ``start`` (default:
the last step of burn-in) up to and including step ``end``. Steps are numbered from 1,
as in every output file (``model.week`` is the step being run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from abm.measures import Measure, WindowMeasure
from abm.schema import MAX_STEPS, NonNeg, Section, param

if TYPE_CHECKING:
    from abm.model import CityModel


class PolicyParams(Section):
    """What every policy has: when it acts and what a unit of it costs."""

    start: int | None = param(None, "the policy acts from the step after this one (default: the last step of burn-in)", unit="step",
                              source="scenario choice", grade="assumption", ge=0, le=MAX_STEPS)
    end: int | None = param(None, "last step the policy acts in (default: never ends)", unit="step", source="scenario choice",
                            grade="assumption", ge=1, le=MAX_STEPS)
    unit_cost: NonNeg = param(0.0, "cost of one unit (each policy says what its unit is)", unit="US$ per unit",
                              source="assumption", grade="assumption", le=1e7)


@dataclass(frozen=True)
class PersonState:
    """A per-person array a policy keeps on the youths (``model.youths.<name>``).

    It exists whether or not the policy is on (mechanisms and other policies may
    read it), holds ``reset`` for every youth at the start and is set back to
    ``reset`` when a slot gets a new youth.
    """

    name: str
    dtype: Any
    reset: Any
    description: str

    def allocate(self, n: int) -> np.ndarray:
        return np.full(n, self.reset, dtype=self.dtype)


@dataclass(frozen=True)
class GangState:
    """A per-gang array a policy keeps on itself (``policy.<name>``), one entry per gang."""

    name: str
    dtype: Any
    reset: Any
    description: str


@dataclass(frozen=True)
class Control:
    """A dashboard slider for one parameter of a policy (its default is the field's)."""

    field: str
    label: str
    low: float
    high: float
    step: float
    dtype: type = float


class Policy:
    """A policy plugged into the step. Subclasses declare themselves and fill the hooks
    they need."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Params: ClassVar[type[PolicyParams]] = PolicyParams
    order: ClassVar[int] = 100
    state: ClassVar[tuple[PersonState, ...]] = ()
    gang_state: ClassVar[tuple[GangState, ...]] = ()
    measures: ClassVar[tuple[Measure, ...]] = ()
    window_measures: ClassVar[tuple[WindowMeasure, ...]] = ()
    controls: ClassVar[tuple[Control, ...]] = ()
    dashboard_on: ClassVar[bool] = False
    cost_unit: ClassVar[str] = ""
    params: PolicyParams

    def __init__(self, params: PolicyParams, model: CityModel):
        self.params = params
        self.model = model
        self.start = model.p.run.burn_in if params.start is None else params.start
        for s in self.gang_state:
            setattr(self, s.name, np.full(len(model.gangs), s.reset, dtype=s.dtype))

    @classmethod
    def observe(cls, model: CityModel) -> dict:
        """This week's values of the policy's ``observed`` measures, read from the
        model's state (called every week, whether or not the policy is on)."""
        return {}

    def active(self, week: int) -> bool:
        """Whether the policy acts in step ``week``: from the step after ``start`` up to
        and including step ``end``."""
        end = self.params.end
        return week > self.start and (end is None or week <= end)

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

    def planned_cost(self, model: CityModel) -> float | None:
        """This policy's weekly cost as planned, with its officers, workers or places in
        full use, known before it starts; None where the cost follows what happens
        (people called in, sentences diverted)."""
        return None
