"""Police: deployment, presence, stops of youths, arrests and killings by police.

Officers are few enough to be ordinary Mesa agents, but their weekly deployment is
drawn for all at once. A share of patrols goes to recent violence (hot spots), the
rest by population (random patrol); barriers cut how much of a patrol reaches a block.
Presence is officers on the block plus a fifth of those next door (patrols spill over).

Each officer stops youths on the block. A stop is procedurally just or abusive
(``professionalism``); members are arrested when an offence is seen, more often where
residents give information; non-members are sometimes arrested on suspicion.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

import mesa
import numpy as np

from abm import justice, streams
from abm.city import group_order
from abm.violence import HomicideKind, VictimType, record_homicide

if TYPE_CHECKING:
    from abm.config import PoliceParams
    from abm.model import CityModel


class Officer(mesa.Agent):
    """A police officer; ``block`` is where the officer patrols this week."""

    def __init__(self, model: CityModel, index: int):
        super().__init__(model)
        self.index = index

    @property
    def block(self) -> int:
        return int(self.model.officer_block[self.index])

    @property
    def xy(self) -> tuple[int, int]:
        """(x, y) of the block, for maps."""
        b = self.block
        return (b % self.model.city.width, b // self.model.city.width)


# What each stop decides, each with its own random number.
STOP_DECISIONS = ("who is stopped", "conduct", "arrest", "force")


class DutyMode(IntEnum):
    """What an officer is doing this week (``model.duty.mode``); ``CRACKDOWN`` marks
    youths arrested in a focused-deterrence crackdown (``youths.jailed_by``);
    ``HOT_SPOT`` is ordinary patrol kept on a hot spot (hot-spots policing);
    ``OCCUPATION`` and ``PROXIMITY`` are a pacification's occupying force and the
    proximity police that stay."""

    PATROL = 0
    BEAT = 1
    SWEEP = 2
    CRACKDOWN = 3
    HOT_SPOT = 4
    OCCUPATION = 5
    PROXIMITY = 6


class Duty:
    """Per-officer conduct this week, as arrays: what a stop by each officer is like.

    Patrol officers take the scenario's ``police`` and ``justice`` values; policies
    change them for the officers they take (beats, sweeps). ``DutyMode.CRACKDOWN`` marks
    prisoners arrested in a focused-deterrence crackdown, which uses no patrol.
    """

    def __init__(self, n: int):
        self.mode = np.zeros(n, dtype=np.int64)
        self.stops = np.zeros(n)
        self.professionalism = np.zeros(n)
        self.suspicion = np.zeros(n)
        self.charge = np.zeros(n)
        self.sentence_factor = np.ones(n)
        self.force = np.zeros(n)
        self.detection = np.ones(n)  # factor on the chance a member's offence leads to arrest

    def reset(self, p, justice) -> None:
        self.mode[:] = DutyMode.PATROL
        self.stops[:] = p.contacts_per_officer
        self.professionalism[:] = p.professionalism
        self.suspicion[:] = p.suspicion_arrest
        self.charge[:] = justice.charge_share
        self.sentence_factor[:] = 1.0
        self.force[:] = p.force_lethality
        self.detection[:] = 1.0


def recruit_officers(model: CityModel) -> list[Officer]:
    n = model.p.police.officers
    return [Officer(model, i) for i in range(n)]


def patrol_weights(model: CityModel) -> np.ndarray:
    """Where this week's patrols go: hot spots and population, cut by barriers."""
    city, p = model.city, model.p.police
    by_population = city.population / max(city.population.sum(), 1)
    heat = city.violence_exposure
    by_heat = heat / heat.sum() if heat.sum() > 0 else by_population
    w = (p.hotspot_share * by_heat + (1 - p.hotspot_share) * by_population) * city.access
    return w / w.sum()


def presence(params: PoliceParams, city, officer_block: np.ndarray) -> np.ndarray:
    """Officers on each block (``presence_on_block``) plus a share (``presence_spillover``,
    a fifth) of those in the 3x3 neighbourhood around it, the block included."""
    on = np.bincount(officer_block, minlength=city.n_blocks).astype(float)
    return params.presence_on_block * on + params.presence_spillover * city.neighbourhood_sum(on)


def deploy(model: CityModel) -> None:
    n = len(model.officers)
    city = model.city
    if n == 0:
        city.police_presence[:] = 0.0
        return
    model.duty.reset(model.p.police, model.p.justice)
    model.officer_block[:] = model.stream("patrol").choice(city.n_blocks, size=n, p=patrol_weights(model))
    # Policies then take some officers off patrol: beats, sweeps, crackdowns.
    model.policy_hook("deploy")
    city.police_presence[:] = presence(model.p.police, city, model.officer_block)


def contacts(model: CityModel) -> None:
    """Stops of youths by officers: just or abusive; arrests; killings by police."""
    city, p, yth = model.city, model.p.police, model.youths
    n_off = len(model.officers)
    if n_off == 0:
        return
    free = np.flatnonzero(yth.free)
    if len(free) == 0:
        return
    # Stops happen where officers are, among free youths living there.
    duty = model.duty
    rng = model.stream("stops")
    stops_per_officer = streams.poisson(rng.random(n_off), duty.stops)
    blocks = np.repeat(model.officer_block, stops_per_officer)
    officer = np.repeat(np.arange(n_off), stops_per_officer)
    # The k-th stop of each officer has its own numbers (STOP_DECISIONS): row k of a
    # (stops, decisions, officers) table drawn after the counts, so
    # a change in one officer's stops does not shift another's, and more stops only
    # add rows at the end.
    nth = np.arange(len(officer)) - np.repeat(np.cumsum(stops_per_officer) - stops_per_officer, stops_per_officer)
    table = rng.random((int(stops_per_officer.max(initial=0)), len(STOP_DECISIONS), n_off))
    u_pick, u_conduct, u_arrest, u_force = (table[nth, j, officer] for j in range(len(STOP_DECISIONS)))
    order = group_order(yth.block[free])
    sorted_blocks = yth.block[free][order]
    lo = np.searchsorted(sorted_blocks, blocks, side="left")
    hi = np.searchsorted(sorted_blocks, blocks, side="right")
    has = hi > lo
    blocks, lo, hi, officer = blocks[has], lo[has], hi[has], officer[has]
    u_pick, u_conduct, u_arrest, u_force = u_pick[has], u_conduct[has], u_arrest[has], u_force[has]
    stopped = free[order[lo + np.floor(u_pick * (hi - lo)).astype(np.int64)]]
    abusive = u_conduct > duty.professionalism[officer]
    np.add.at(yth.abusive_stops, stopped[abusive], 1.0)  # remembered by the youth stopped (defiance)
    model.ledger.count("contacts_just", int((~abusive).sum()))
    model.ledger.count("contacts_abusive", int(abusive.sum()))
    city.contacts_just[:] = np.bincount(blocks[~abusive], minlength=city.n_blocks)
    city.contacts_abusive[:] = np.bincount(blocks[abusive], minlength=city.n_blocks)

    # Arrests: members when an offence is seen (more with residents' information,
    # less where an organised gang has bought officers), non-members on suspicion.
    member = yth.gang[stopped] >= 0
    info = city.reporting[blocks]
    org = model.gangs.of(model.gangs.organisation, yth.gang[stopped])
    protected = p.corruption * org
    detection = p.member_detection * (1 + p.detection_information * info) * (1 - protected) * duty.detection[officer]
    p_arrest = np.where(member, detection, duty.suspicion[officer])
    arrested = u_arrest < p_arrest
    arrested_slots, first = np.unique(stopped[arrested], return_index=True)
    was_member = member[arrested][first]
    by = officer[arrested][first]
    killed = was_member & (u_force[arrested][first] < duty.force[by])
    for slot in arrested_slots[killed].tolist():
        record_homicide(model, HomicideKind.POLICE, int(yth.block[slot]), -1, slot, VictimType.MEMBER, -1,
                        int(yth.gang[slot]))
    keep = ~killed
    justice.arrest(model, arrested_slots[keep], duty.charge[by][keep], duty.sentence_factor[by][keep],
                   duty.mode[by][keep])
    model.ledger.count("arrests", len(arrested_slots))
    model.ledger.count("arrests_non_member", int((~was_member).sum()))
    sweep = duty.mode[by] == DutyMode.SWEEP
    model.ledger.count("sweep_arrests", int(sweep.sum()))
    model.ledger.count("sweep_arrests_non_member", int((sweep & ~was_member).sum()))
