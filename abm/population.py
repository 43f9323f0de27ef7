"""People: per-person state in arrays, with Mesa agents as their public face.

The research preset simulates 100,000 people and the city preset a million, one agent
per person. A Python ``step()`` per agent would run at tens of thousands of
agent-steps per second; the mechanisms instead make one vectorized pass over these
arrays (a struct of arrays). Every person is still a :class:`mesa.Agent` that a user
can inspect or select through ``model.agents_by_type``: its attributes read and write
the arrays at its slot.

Youths occupy slots. When a youth ages out (25) or dies, the slot is freed; a new
15-year-old enters a freed slot at the next ageing pass, so the youth pool keeps its
size (a stationary cohort). Residents (adults) are not replaced: killings lower their
number. People leave the simulated population only by ageing out and by homicide.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import mesa
import networkx as nx
import numpy as np

if TYPE_CHECKING:
    from abm.model import CityModel
    from abm.policies.base import PersonState

YOUTH_ENTRY_AGE = 15
YOUTH_EXIT_AGE = 25
WEEKS_PER_YEAR = 52


class Residents:
    """Adults' state: one entry per resident, indexed by slot."""

    def __init__(self, n: int):
        self.n = n
        self.alive = np.ones(n, dtype=bool)
        self.person_id = np.zeros(n, dtype=np.int64)
        self.block = np.zeros(n, dtype=np.int64)
        self.ses = np.zeros(n)
        self.employed = np.zeros(n, dtype=bool)
        self.trust = np.zeros(n)
        self.fear = np.zeros(n)
        self.victimised = np.zeros(n)
        self.report_prob = np.zeros(n)


class Youths:
    """State of persons aged 15-24: one entry per slot.

    Besides the arrays below, each policy's declared per-person state
    (:class:`abm.policies.base.PersonState`, e.g. CBT's ``cbt_status``) is an array
    here, allocated with its reset value and reset by :meth:`reset_policy_state`.
    """

    def __init__(self, n: int, policy_state: Iterable[PersonState] = ()):
        self.n = n
        self.alive = np.ones(n, dtype=bool)
        self.person_id = np.zeros(n, dtype=np.int64)
        self.block = np.zeros(n, dtype=np.int64)
        self.ses = np.zeros(n)
        self.age_weeks = np.zeros(n, dtype=np.int64)
        self.in_school = np.zeros(n, dtype=bool)
        self.employed = np.zeros(n, dtype=bool)
        self.self_control = np.zeros(n)
        self.propensity = np.zeros(n)
        self.gang = np.full(n, -1, dtype=np.int64)
        self.joined_step = np.full(n, -1, dtype=np.int64)
        self.arrests = np.zeros(n, dtype=np.int64)
        self.incarcerated = np.zeros(n, dtype=bool)
        self.release_step = np.full(n, -1, dtype=np.int64)
        self.ever_prison = np.zeros(n, dtype=bool)
        self.jailed_by = np.zeros(n, dtype=np.int64)  # duty of the arresting officer (0 patrol/court)
        self.kills = np.zeros(n, dtype=np.int64)
        self.perceived_certainty = np.zeros(n)
        self.abusive_stops = np.zeros(n)  # abusive stops suffered, decaying (youth.abusive_stop_memory_weeks)
        self.recent_arrests = np.zeros(n)  # own arrests, decaying (youth.arrest_memory_weeks)
        self.policy_state = tuple(policy_state)
        for s in self.policy_state:
            if hasattr(self, s.name):
                raise ValueError(f"policy state {s.name!r} would replace a youth attribute")
            setattr(self, s.name, s.allocate(n))

    def reset_policy_state(self, slots: np.ndarray) -> None:
        """Policies' per-person state back to its reset values (a new youth in ``slots``)."""
        for s in self.policy_state:
            getattr(self, s.name)[slots] = s.reset

    @property
    def free(self) -> np.ndarray:
        """Alive and not in prison."""
        return self.alive & ~self.incarcerated

    @property
    def age_years(self) -> np.ndarray:
        return self.age_weeks / WEEKS_PER_YEAR


class PeerNetwork:
    """Friendships among youths, homophilous by block and school (district).

    A padded neighbour array ``friends[slot, k]`` (-1 = empty, friends in the order
    they were made) holds the network for vectorized passes such as the share of
    friends in gangs; a set of edges answers "are these two friends?" in constant time.
    :attr:`graph` gives the same network as a networkx graph (nodes are youth slots).
    """

    def __init__(self, max_degree: int, n: int):
        self.n = n
        self.friends = np.full((n, max_degree), -1, dtype=np.int64)
        self.degree = np.zeros(n, dtype=np.int64)
        self._edges: set[int] = set()  # u * n + v with u < v
        self._orphaned: list[int] = []

    @property
    def graph(self) -> nx.Graph:
        """The network as a networkx graph, built when asked (a copy: changing it
        changes nothing in the model)."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from(divmod(e, self.n) for e in sorted(self._edges))
        return g

    def neighbours(self, slot: int) -> np.ndarray:
        """Slots of a youth's friends, in the order the friendships were made."""
        return self.friends[slot, : self.degree[slot]].copy()

    def add_edges(self, a: np.ndarray, b: np.ndarray) -> None:
        """Add friendships a[i]-b[i] where both have room; duplicates and loops dropped."""
        cap, n, edges = self.friends.shape[1], self.n, self._edges
        degree, friends = self.degree, self.friends
        for u, v in zip(a.tolist(), b.tolist(), strict=True):
            key = u * n + v if u < v else v * n + u
            if u == v or degree[u] >= cap or degree[v] >= cap or key in edges:
                continue
            edges.add(key)
            friends[u, degree[u]] = v
            degree[u] += 1
            friends[v, degree[v]] = u
            degree[v] += 1

    def clear(self, slot: int) -> None:
        """Remove every friendship of a slot (its person left); its friends are noted."""
        n = self.n
        for v in sorted(self.friends[slot, : self.degree[slot]].tolist()):
            self._orphaned.append(v)
            self._edges.discard(slot * n + v if slot < v else v * n + slot)
            row = self.friends[v, : self.degree[v]]
            keep = row[row != slot]
            self.friends[v, :] = -1
            self.friends[v, : len(keep)] = keep
            self.degree[v] = len(keep)
        self.friends[slot, :] = -1
        self.degree[slot] = 0

    def take_orphaned(self) -> list[int]:
        """Slots that lost a friend since the last call."""
        out, self._orphaned = self._orphaned, []
        return out

    def share_with(self, flag: np.ndarray) -> np.ndarray:
        """For each youth, the share of friends for whom ``flag`` is true (0 with no friends)."""
        valid = self.friends >= 0
        hits = (flag[np.where(valid, self.friends, 0)] & valid).sum(axis=1)
        return np.divide(hits, self.degree, out=np.zeros(len(hits)), where=self.degree > 0)


class PersonAgent(mesa.Agent):
    """A person whose state lives in the model's arrays at ``slot``."""

    _table: str = ""

    def __init__(self, model: CityModel, slot: int):
        super().__init__(model)
        self.slot = slot

    @property
    def _state(self):
        return getattr(self.model, self._table)

    @property
    def block(self) -> int:
        return int(self._state.block[self.slot])

    @property
    def xy(self) -> tuple[int, int]:
        """(x, y) of the block, for maps."""
        b = self.block
        return (b % self.model.city.width, b // self.model.city.width)


def _array_attribute(name: str, cast, doc: str) -> property:
    def get(self):
        return cast(getattr(self._state, name)[self.slot])

    def set_(self, value):
        getattr(self._state, name)[self.slot] = value

    return property(get, set_, doc=doc)


class Resident(PersonAgent):
    """An adult resident: trust in police, fear of retaliation, reporting."""

    _table = "residents"
    ses = _array_attribute("ses", float, "socio-economic status, 0-1")
    employed = _array_attribute("employed", bool, "has a job")
    trust = _array_attribute("trust", float, "trust in police (legitimacy), 0-1")
    fear = _array_attribute("fear", float, "fear of gang retaliation, 0-1")
    victimised = _array_attribute("victimised", float, "recent victimisation, decaying, 0-1")
    report_prob = _array_attribute("report_prob", float, "chance of reporting and giving witness information")


class Youth(PersonAgent):
    """A person aged 15-24 who may join a gang, offend, be arrested and imprisoned."""

    _table = "youths"
    ses = _array_attribute("ses", float, "household socio-economic status, 0-1")
    in_school = _array_attribute("in_school", bool, "enrolled in school")
    employed = _array_attribute("employed", bool, "has a legal job")
    self_control = _array_attribute("self_control", float, "trait self-control, 0-1")
    propensity = _array_attribute("propensity", float, "violence propensity (state), 0-1")
    gang = _array_attribute("gang", int, "index of the gang joined, -1 for none")
    arrests = _array_attribute("arrests", int, "arrests so far")
    incarcerated = _array_attribute("incarcerated", bool, "in prison")

    @property
    def age(self) -> float:
        return float(self.model.youths.age_weeks[self.slot]) / WEEKS_PER_YEAR

    @property
    def friends(self) -> list[int]:
        """Person ids of this youth's friends."""
        return [int(self.model.youths.person_id[s]) for s in self.model.peers.neighbours(self.slot)]
