"""Warmed-up cities, run once and shared by every lesson and student that needs them.

A classroom city runs its scenario's burn-in (four years in the presets) before week 0,
and its policies start only after it, so the burn-in of a preset on a seed is the same
whichever policies the city will get: until a policy is active it changes nothing
(``tests/test_dashboard.py`` checks this for every registered policy). The dashboard
therefore runs each (scenario, seed) burn-in once, without policies, keeps the city
pickled, and gives every side and every later lesson on that city its own copy, with its
policies attached. Both sides of a comparison cost one burn-in instead of two, and a
lesson on a city already warmed up loads in seconds.
"""

from __future__ import annotations

import copy
import pickle
import threading
from collections import OrderedDict

from abm import policies
from abm.config import Scenario
from abm.model import CityModel

MAX_BYTES = 512 * 2**20  # pickled cities kept, least recently used dropped first


def with_policies(city: CityModel, scenario: Scenario) -> CityModel:
    """``city`` (built and stepped on ``scenario`` without its policies) with
    ``scenario``'s parameters and policies, built as :class:`CityModel` builds them. The
    scenarios must differ only in ``policies``."""
    city.p = scenario
    city.policies = policies.build(scenario.policies, city)
    return city


class WarmUps:
    """Cities run through burn-in without policies, kept pickled and handed out as
    copies. Thread-safe: a second request for a city being warmed up waits for it."""

    def __init__(self, max_bytes: int = MAX_BYTES):
        self.max_bytes = max_bytes
        self._kept: OrderedDict[tuple, tuple[bytes, object]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}

    def city(self, scenario: Scenario, seed: int, weeks: int) -> CityModel:
        """A new copy of the city of ``scenario`` (its policies switched off) on ``seed``,
        after ``weeks`` steps."""
        plain = scenario.model_copy(update={"policies": type(scenario.policies)()})
        key = (plain.digest(), seed, weeks)
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                kept = self._kept.get(key)
                if kept is not None:
                    self._kept.move_to_end(key)
            if kept is None:
                kept = self._run(plain, seed, weeks)
                with self._lock:
                    self._keep(key, kept)
        with self._lock:  # a later request finds the city kept, or builds it again
            if self._building.get(key) is building:
                del self._building[key]
        blob, collector = kept
        city = pickle.loads(blob)
        city.datacollector = copy.deepcopy(collector)
        return city

    @staticmethod
    def _run(plain: Scenario, seed: int, weeks: int) -> tuple[bytes, object]:
        city = CityModel(plain, seed)
        for _ in range(weeks):
            city.step()
        # Mesa's data collector holds the model's reporters (functions defined in a
        # function, which pickle cannot name): it is copied on its own.
        collector, city.datacollector = city.datacollector, None
        return pickle.dumps(city, protocol=pickle.HIGHEST_PROTOCOL), collector

    def _keep(self, key: tuple, kept: tuple[bytes, object]) -> None:
        self._kept[key] = kept
        while len(self._kept) > 1 and sum(len(b) for b, _ in self._kept.values()) > self.max_bytes:
            self._kept.popitem(last=False)


WARM_UPS = WarmUps()
