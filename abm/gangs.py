"""Gangs: collective agents with territory, resources, organisation and rivals.

A gang controls blocks with a strength (0-1). Control grows where its members live and
decays elsewhere; a gang takes weakly held neighbouring blocks. Income comes from the
drug market and extortion in the blocks it holds, more where people are poorer
(``gangs.market_income``, scaled by 1 - SES and control); a gang wants as many members
as its income supports, and the gap is its recruitment demand. Organisation (0 a diffuse
youth gang, 1 an organised criminal group) grows with resources per member and with members
in prison (prisons as finishing schools), and decays slowly.

Gangs whose territories come close are rivals: an edge of the networkx graph
``model.rivalry``. Grievance, ``model.grievance[g, h]`` (g's grievance against h),
rises when h kills one of g's members, decays with a mean life of
``violence.grievance_memory_weeks`` and drives retaliation (see :mod:`abm.violence`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from abm import justice

if TYPE_CHECKING:
    from abm.model import CityModel


class Gangs:
    """Gangs' state as arrays, one row per gang (index = the value youths carry in
    ``youths.gang``), like people's.

    Attributes:
        organisation: 0 diffuse youth gang ... 1 organised criminal group.
        income: illicit income per week from its territory (relative units).
        income_per_member: income per free member (scaled, relative units).
        target_members: members its income supports.
        demand: unmet demand for recruits, -1 (twice the members it can pay) to 1 (none of them).
        members, imprisoned: free members and members in prison.
        rival: ``rival[g, h]`` is True when g and h are rivals (edges of ``model.rivalry``).
    """

    def __init__(self, n: int):
        self.n = n
        self.organisation = np.zeros(n)
        self.income = np.zeros(n)
        self.income_per_member = np.zeros(n)
        self.target_members = np.zeros(n)
        self.demand = np.zeros(n)
        self.members = np.zeros(n, dtype=np.int64)
        self.imprisoned = np.zeros(n, dtype=np.int64)
        self.rival = np.zeros((n, n), dtype=bool)

    def __len__(self) -> int:
        return self.n

    def of(self, values: np.ndarray, gang: np.ndarray, none: float = 0.0) -> np.ndarray:
        """``values[gang]`` for an array of gang indices, ``none`` where the index is -1."""
        return np.append(values, none)[gang]


class Gang(mesa.Agent):
    """A gang as a Mesa agent: a view of row ``index`` of ``model.gangs``; its members
    are the youths whose ``gang`` equals ``index``."""

    def __init__(self, model: CityModel, index: int):
        super().__init__(model)
        self.index = index

    organisation = property(lambda self: float(self.model.gangs.organisation[self.index]),
                            doc="0 diffuse youth gang ... 1 organised criminal group")
    income = property(lambda self: float(self.model.gangs.income[self.index]),
                      doc="illicit income per week (relative units)")
    demand = property(lambda self: float(self.model.gangs.demand[self.index]),
                      doc="unmet demand for recruits, -1 to 1")
    members = property(lambda self: int(self.model.gangs.members[self.index]), doc="free members")
    imprisoned = property(lambda self: int(self.model.gangs.imprisoned[self.index]), doc="members in prison")

    @property
    def territory(self) -> np.ndarray:
        """Blocks this gang controls."""
        return np.flatnonzero(self.model.city.gang_owner == self.index)

    @property
    def rivals(self) -> list[int]:
        return sorted(self.model.rivalry.neighbors(self.index))


def found_gangs(model: CityModel) -> Gangs:
    """Seed gangs in poor districts, give them territory and initial members."""
    rng, city, p = model.streams.get("gangs_initial"), model.city, model.p.gangs
    poor = np.flatnonzero(city.poor_district)
    n_gangs = int(round(p.per_poor_district * len(poor)))
    if n_gangs == 0:
        return Gangs(0)
    homes = rng.choice(poor, size=n_gangs, replace=n_gangs > len(poor))
    size = model.p.city.district_size
    # Each gang's seed: a random block in its home district.
    seeds = np.array([rng.choice(np.flatnonzero(city.district == d)) for d in homes.tolist()])
    gangs = Gangs(n_gangs)  # organisation: set to its settled level once prisons are (settle_organisation)
    # Territory: poor blocks go to the nearest seed within a district's reach.
    d2 = (city.x[:, None] - city.x[seeds][None, :]) ** 2 + (city.y[:, None] - city.y[seeds][None, :]) ** 2
    nearest = np.argmin(d2, axis=1)
    dist = np.sqrt(d2[np.arange(city.n_blocks), nearest])
    held = city.poor & (dist <= p.territory_radius * size)
    city.gang_owner[held] = nearest[held]
    city.gang_control[held] = np.clip(p.control_initial * np.exp(-dist[held] / size), p.control_initial_min, 1)

    yth = model.youths
    local = city.gang_owner[yth.block]
    # Youths prone to violence are likelier members (as joining selects them later);
    # the expected number of members does not change.
    territory = local >= 0
    prone = yth.propensity / max(float(yth.propensity[territory].mean()), 1e-9) if territory.any() else 1.0
    join = territory & (rng.random(yth.n) < p.initial_member_share * p.initial_member_control
                        * city.gang_control[yth.block] * prone)
    yth.gang[join] = local[join]
    yth.joined_step[join] = -1
    return gangs


# The fixed-point iteration of organisation at start converges in a few rounds; this caps it.
SETTLE_ROUNDS = 100


def member_counts(model: CityModel) -> np.ndarray:
    """Free members of each gang living in each block: array ``(n_gangs, n_blocks)``."""
    yth, n = model.youths, model.city.n_blocks
    m = yth.free & (yth.gang >= 0)
    flat = np.bincount(yth.gang[m] * n + yth.block[m], minlength=len(model.gangs) * n)
    return flat.reshape(len(model.gangs), n)


def update_territory(model: CityModel) -> None:
    """Control follows members; gangs take weakly held neighbouring blocks."""
    if not model.gangs:
        return
    rng, city, p = model.stream("territory"), model.city, model.p.gangs
    counts = member_counts(model)
    owner = city.gang_owner
    held = owner >= 0
    # Members within the neighbourhood keep a block.
    near_own = city.near_members(counts, owner, p.control_reach)
    growth = p.control_growth * (1 - np.exp(-near_own / p.control_members_scale)) * (1 - city.gang_control)
    city.gang_control[held] += growth[held]
    city.gang_control[held] -= p.control_decay * city.gang_control[held]
    lost = held & (city.gang_control < p.control_lost)
    owner[lost] = -1
    city.gang_control[lost] = 0.0

    # Expansion: a block next to a gang's strong block, weakly held by another or
    # by no one, may change hands; stronger neighbours win.
    nbrs = city.von_neumann
    pick = nbrs[np.arange(city.n_blocks), rng.integers(0, 4, city.n_blocks)]
    valid = pick >= 0
    pick_safe = np.where(valid, pick, 0)
    challenger = np.where(valid, owner[pick_safe], -1)
    strength = np.where(valid, city.gang_control[pick_safe], 0.0)
    # A gang thin on the ground takes less: its chance falls as its free members per
    # held block fall toward members_per_block, and is nil below.
    spare = np.append(expansion_capacity(counts.sum(axis=1), np.bincount(owner[owner >= 0], minlength=counts.shape[0]),
                                         p.members_per_block), 0.0)
    try_take = (
        (challenger >= 0)
        & (challenger != owner)
        & (strength > city.gang_control + p.expansion_margin)
        & (rng.random(city.n_blocks) < p.expansion * city.access * spare[challenger])
    )
    # The state holds rich blocks better.
    try_take &= rng.random(city.n_blocks) > city.state_presence * p.state_resistance
    owner[try_take] = challenger[try_take]
    city.gang_control[try_take] = p.control_taken * strength[try_take]
    update_economy(model, counts)
    if (model.week - 1) % p.rivalry_interval_weeks == 0:  # from the first step on
        update_rivalry(model)


def expansion_capacity(members: np.ndarray, blocks: np.ndarray, members_per_block: float) -> np.ndarray:
    """Each gang's share of its full expansion chance: 1 - members_per_block x blocks /
    members, clipped to 0-1 (1 for every gang when members_per_block is 0)."""
    need = members_per_block * blocks
    return np.clip(1.0 - np.divide(need, members, out=np.full(len(members), np.inf), where=members > 0)
                   if members_per_block > 0 else np.ones(len(members)), 0.0, 1.0)


def yield_control(model: CityModel, blocks: np.ndarray, loss: np.ndarray) -> None:
    """The state retakes ``blocks``: each gang's control there falls by the share
    ``loss`` (0-1, one per block), and a gang whose control falls below
    ``control_lost`` loses the block, as in :func:`update_territory`."""
    city = model.city
    held = city.gang_owner[blocks] >= 0
    blocks, loss = blocks[held], np.clip(loss[held], 0.0, 1.0)
    city.gang_control[blocks] *= 1.0 - loss
    lost = blocks[city.gang_control[blocks] < model.p.gangs.control_lost]
    city.gang_owner[lost] = -1
    city.gang_control[lost] = 0.0


def update_economy(model: CityModel, counts: np.ndarray | None = None) -> None:
    """Income, wanted size, demand for recruits and organisation of each gang."""
    city, p, yth = model.city, model.p.gangs, model.youths
    n_g = len(model.gangs)
    if n_g == 0:
        return
    held = city.gang_owner >= 0
    # Drug market and extortion: bigger where more, poorer people live under strong control.
    market = city.population * (1 - city.ses) * city.gang_control * p.market_income / p.market_scale
    income = np.bincount(city.gang_owner[held], weights=market[held], minlength=n_g)
    members = np.bincount(yth.gang[yth.free & (yth.gang >= 0)], minlength=n_g)
    jailed = np.bincount(yth.gang[yth.incarcerated & (yth.gang >= 0)], minlength=n_g)
    occupancy = justice.occupancy(model)
    gangs = model.gangs
    extortion = 1 + p.extortion_organisation * gangs.organisation
    gangs.income[:] = income * extortion
    gangs.members[:] = members
    gangs.imprisoned[:] = jailed
    gangs.income_per_member[:] = gangs.income / np.maximum(gangs.members, 1) / p.income_per_member_scale
    gangs.target_members[:] = gangs.income * p.target_members_per_income / p.target_members_scale
    gangs.demand[:] = np.clip((gangs.target_members - gangs.members) / np.maximum(gangs.target_members, 1), -1, 1)
    gangs.organisation += organisation_gain(model, occupancy) - p.organisation_decay * gangs.organisation
    np.clip(gangs.organisation, 0, 1, out=gangs.organisation)


def organisation_gain(model: CityModel, occupancy: float) -> np.ndarray:
    """Each gang's weekly gain of organisation: from resources per member, and from
    members in prison (more in crowded prisons). Reads the state update_economy set."""
    gangs, p = model.gangs, model.p.gangs
    total = gangs.members + gangs.imprisoned
    prison_share = np.divide(gangs.imprisoned, total, out=np.zeros(len(gangs)), where=total > 0)
    return (p.organisation_growth * np.minimum(gangs.income_per_member, p.organisation_income_cap)
            + p.organisation_prison * prison_share * max(occupancy, 1.0))


def settle_organisation(model: CityModel, rounds: int = SETTLE_ROUNDS) -> None:
    """Start each gang at the organisation its resources and its members in prison
    sustain: the fixed point of the weekly update (gain = decay x organisation), found
    by iteration since income rises with organisation (extortion)."""
    gangs, p = model.gangs, model.p.gangs
    if not gangs:
        return
    occupancy = justice.occupancy(model)
    for _ in range(rounds):
        update_economy(model)  # income at the current organisation (it also moves organisation a week)
        gain = organisation_gain(model, occupancy)
        if p.organisation_decay > 0:
            settled = np.clip(gain / p.organisation_decay, 0.0, 1.0)
        else:
            settled = np.where(gain > 0, 1.0, gangs.organisation)
        done = np.allclose(settled, gangs.organisation, atol=1e-9, rtol=0)
        gangs.organisation[:] = settled
        if done:
            break
    update_economy(model)


def update_rivalry(model: CityModel) -> None:
    """Gangs whose territories lie within ``rivalry_range`` blocks become rivals."""
    city, n_g = model.city, len(model.gangs)
    model.rivalry.add_nodes_from(range(n_g))
    if n_g < 2:
        return
    r = model.p.gangs.rivalry_range
    owner = city.grid(city.gang_owner)
    h, w = owner.shape
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if (dx, dy) <= (0, 0):
                continue
            a = owner[max(0, -dy): h - max(0, dy), max(0, -dx): w - max(0, dx)]
            b = owner[max(0, dy): h + min(0, dy), max(0, dx): w + min(0, dx)]
            pairs = (a >= 0) & (b >= 0) & (a != b)
            if pairs.any():
                for u, v in sorted(set(zip(a[pairs].tolist(), b[pairs].tolist(), strict=True))):
                    if not model.rivalry.has_edge(u, v):
                        model.rivalry.add_edge(u, v, grievance=0.0)
    for u, v in model.rivalry.edges():
        model.gangs.rival[u, v] = model.gangs.rival[v, u] = True
