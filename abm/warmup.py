"""Warm-ups: the weeks before any policy acts, run once for every city that shares them.

Policies act only from the step after their ``start`` (by default the last week of
burn-in), and until then a switched-on policy changes nothing and draws no random
number (``tests/test_warmup.py`` checks this for every registered policy). So cities
on one seed whose scenarios differ only in their policies are the same city until the
first policy starts. Those weeks are run once, without policies (:class:`WarmUp`), and
each city is a copy with its own policies attached
(:meth:`abm.model.CityModel.with_policies`):

- the experiment runner runs the arms of a design point and seed this way
  (:mod:`abm.sweep.runner`): five arms of four years after four of burn-in cost 24
  years of simulation instead of 40;
- the dashboard keeps warmed-up cities (:class:`WarmUps`), so both sides of a lesson
  cost one burn-in, and a later lesson on the same city and seed none.

A copy gives exactly the rows the city built with its policies from the start gives.
"""

from __future__ import annotations

import copy
import pickle
import threading
from collections import OrderedDict
from collections.abc import Iterable

from abm import policies
from abm.config import Scenario
from abm.model import CityModel, without_policies

MAX_BYTES = 512 * 2**20  # pickled cities a WarmUps keeps, least recently used dropped first


def shared_weeks(scenarios: Iterable[Scenario]) -> int:
    """The weeks before any policy of ``scenarios`` acts: the earliest ``start`` of a
    switched-on policy (by default the end of burn-in), and never past the run's end."""
    weeks = []
    for scenario in scenarios:
        weeks.append(scenario.run.steps)
        for name in policies.names():
            pol = getattr(scenario.policies, name, None)
            if pol is not None:
                weeks.append(scenario.run.burn_in if pol.start is None else pol.start)
    return max(0, min(weeks))


class WarmUp:
    """A city of ``scenario`` with its policies switched off, run ``weeks`` weeks on
    ``seed`` and kept pickled; :meth:`city` hands out copies."""

    def __init__(self, scenario: Scenario, seed: int, weeks: int):
        self.scenario = without_policies(scenario)
        self.seed = seed
        self.weeks = weeks
        city = CityModel(self.scenario, seed)
        for _ in range(weeks):
            city.step()
        # Mesa's data collector holds the model's reporters (functions defined in a
        # function, which pickle cannot name): it is copied on its own.
        self._collector, city.datacollector = city.datacollector, None
        self._blob = pickle.dumps(city, protocol=pickle.HIGHEST_PROTOCOL)

    @property
    def nbytes(self) -> int:
        return len(self._blob)

    def city(self, scenario: Scenario | None = None) -> CityModel:
        """A new copy of the city, with ``scenario``'s policies attached (none when
        ``scenario`` is None). ``scenario`` must differ from the warm-up's only in its
        policies, none of which may start before the weeks run (ValueError)."""
        city = pickle.loads(self._blob)
        city.datacollector = copy.deepcopy(self._collector)
        return city if scenario is None else city.with_policies(scenario)


class WarmUps:
    """Warm-ups kept for reuse, one per (scenario without policies, seed, weeks), the
    least recently used dropped past ``max_bytes``. Thread-safe: a second request for a
    city being warmed up waits for it."""

    def __init__(self, max_bytes: int = MAX_BYTES):
        self.max_bytes = max_bytes
        self._kept: OrderedDict[tuple, WarmUp] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}

    def city(self, scenario: Scenario, seed: int, weeks: int) -> CityModel:
        """A new copy of the city of ``scenario`` on ``seed`` after ``weeks`` steps, with
        ``scenario``'s policies attached."""
        key = (without_policies(scenario).digest(), seed, weeks)
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                warm = self._kept.get(key)
                if warm is not None:
                    self._kept.move_to_end(key)
            if warm is None:
                warm = WarmUp(scenario, seed, weeks)
                with self._lock:
                    self._keep(key, warm)
        with self._lock:  # a later request finds the city kept, or builds it again
            if self._building.get(key) is building:
                del self._building[key]
        return warm.city(scenario)

    def _keep(self, key: tuple, warm: WarmUp) -> None:
        self._kept[key] = warm
        while len(self._kept) > 1 and sum(w.nbytes for w in self._kept.values()) > self.max_bytes:
            self._kept.popitem(last=False)
