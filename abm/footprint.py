"""The memory and time a scenario needs, estimated before it runs.

A scenario within every range can still need more memory than a machine has: a city
of 1000 x 1000 blocks with a gang per poor district needs over 100 GiB, mostly for
its table of distances from every block to every gang's seed. :func:`check` refuses
such a scenario before anything is built or written, in one line with the estimate.

How the estimate is made. The peak memory of a run is

    base + persistent state + the larger of (what building the city takes,
                                              what one week takes)

with the terms counted from the scenario's sizes:

- ``base``: the interpreter with numpy, pandas, networkx and Mesa imported;
- per resident and per youth: their state arrays and Mesa agents; a youth also its
  slots in the friends table (``peer_degree_cap``) and its friendships in the
  networkx graph (``peer_degree``);
- per block: the cell fields, and the neighbourhood tables of each radius the model
  uses (``violence.reach``, ``gangs.control_reach``, 1);
- per gang and block: building the city holds two integer tables of the distance from
  every block to every gang's seed; each week holds one table of members per gang and
  block; per pair of gangs, grievance and rivalry;
- per officer: its Mesa agent, and each week the table of numbers drawn per stop
  (stops per officer at its Poisson maximum, four numbers per stop) and the arrays of
  the week's stops;
- per step: the time-series row and Mesa's data collection.

The coefficients were measured as the peak resident set size (``ru_maxrss``) of one
process running one scenario on Linux x86-64 with numpy 2 and Python 3.13: the
classroom, district and city presets, the district with 1% and 90% youths, with
300,000 people, with a peer degree of 30 and a degree cap of 1,000, grids of 200 x 200
and 400 x 400 blocks and of 100 x 100 and 200 x 200 blocks in districts of 2, and
100,000 officers making 5 and 100 stops a week. A least-squares fit of base, resident
and youth over the population runs is within 10 MiB of each, and the estimate is
within 10% of every measured peak (the city preset: 0.69 GiB estimated, 0.70 GiB
measured; 400 x 400 blocks: 1.79 GiB and 1.76 GiB; 5 million people: 2.54 GiB and
2.68 GiB). Other platforms differ somewhat; the check refuses only what cannot fit,
with the estimate in the message.

Time is estimated from the measured speed of the presets (seconds to build, seconds
per week); it is shown, never used to refuse, as a run's speed depends on how violent
it becomes.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abm.schema import ConfigError

MIB = 2**20
GIB = 2**30

BASE = 192 * MIB             # interpreter and libraries
PER_RESIDENT = 285           # bytes: state arrays and Mesa agent
PER_YOUTH = 830              # bytes: state arrays and Mesa agent, without friends
PER_FRIEND_SLOT = 18         # bytes per slot of the friends table (and its weekly copies)
PER_FRIENDSHIP = 80          # bytes per friendship end in the networkx graph
PER_BLOCK_BUILT = 160        # bytes: cell fields
PER_BLOCK_WEEK = 120         # bytes: a week's per-block arrays
PER_NEIGHBOUR = 16           # bytes per block and neighbour of a cached neighbourhood table
PER_GANG_BLOCK_BUILD = 16    # bytes: two int64 distance tables while the gangs are founded
PER_GANG_BLOCK_WEEK = 8      # bytes: a week's table of members per gang and block
PER_GANG_PAIR = 9            # bytes: grievance (float64) and rivalry (bool)
PER_OFFICER = 350            # bytes: Mesa agent and duty arrays
PER_STOP_SLOT = 32           # bytes: four random numbers per possible stop of an officer
PER_STOP = 120               # bytes: the arrays of one stop in the week
PER_STEP = 6 * 1024          # bytes: a time-series row and its data collection

BUILD_SECONDS_PER_PERSON = 5e-6
SECONDS_PER_STEP = 3e-3
SECONDS_PER_PERSON_STEP = 5e-7


@dataclass(frozen=True)
class Footprint:
    """Estimated peak memory (bytes) and time (seconds, on one core) of one run, with
    the largest parts of the memory."""

    memory: int
    seconds: float
    parts: tuple[tuple[str, int], ...]

    def describe(self) -> str:
        """``about 0.79 GiB of memory (people 0.52 GiB, ...) and about 2 minutes``."""
        big = [f"{name} {gib(size)}" for name, size in self.parts if size >= 0.05 * self.memory][:3]
        return f"about {gib(self.memory)} of memory ({', '.join(big)}) and about {duration(self.seconds)}"


def gib(size: float) -> str:
    return f"{size / GIB:,.2f} GiB" if size < 100 * GIB else f"{size / GIB:,.0f} GiB"


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


# The fields the estimate reads. A design that varies one of them is estimated at its
# ends (see :func:`worst`).
FIELDS = (
    "run.steps", "city.width", "city.height", "city.district_size", "city.poor_share", "population.people",
    "population.youth_share", "population.peer_degree", "population.peer_degree_cap_factor",
    "population.peer_degree_cap_min", "gangs.per_poor_district", "gangs.control_reach", "violence.reach",
    "police.officers", "police.contacts_per_officer",
)
# Policies whose officers make stops at their own rate, and its field.
POLICY_STOPS = ("community_policing", "mano_dura")


def estimate(scenario, values: dict[str, Any] | None = None) -> Footprint:
    """The footprint of a run of ``scenario``, with ``values`` (dotted paths) in place
    of its own where given (a design point)."""
    values = values or {}

    def get(key: str) -> Any:
        return values[key] if key in values else scenario.get(key)

    people = get("population.people")
    youths = int(round(people * get("population.youth_share")))
    residents = people - youths
    degree = get("population.peer_degree")
    cap = max(get("population.peer_degree_cap_min"), int(round(degree * get("population.peer_degree_cap_factor"))))
    width, height, size = get("city.width"), get("city.height"), get("city.district_size")
    blocks = width * height
    districts = math.ceil(width / size) * math.ceil(height / size)
    gangs = int(round(get("gangs.per_poor_district") * int(round(get("city.poor_share") * districts))))
    neighbours = sum((2 * r + 1) ** 2 for r in {1, get("violence.reach"), get("gangs.control_reach")})
    officers = get("police.officers")
    stops = get("police.contacts_per_officer")
    for name in POLICY_STOPS:
        key = f"policies.{name}.stops_per_officer"
        if key in values or getattr(scenario.policies, name, None) is not None:
            stops = max(stops, get(key))
    most_stops = stops + 6 * math.sqrt(stops) + 6 if stops > 0 else 0
    steps = get("run.steps")

    persistent = {
        "base": BASE,
        "people": residents * PER_RESIDENT + youths * (PER_YOUTH + cap * PER_FRIEND_SLOT + degree * PER_FRIENDSHIP),
        "blocks": blocks * PER_BLOCK_BUILT,
        "gang pairs": gangs * gangs * PER_GANG_PAIR,
        "officers": officers * PER_OFFICER,
        "time series": steps * PER_STEP,
    }
    build = {"gang distances": blocks * gangs * PER_GANG_BLOCK_BUILD}
    week = {
        "gang members per block": blocks * gangs * PER_GANG_BLOCK_WEEK,
        "neighbourhoods": blocks * (neighbours * PER_NEIGHBOUR + PER_BLOCK_WEEK),
        "stops": officers * (most_stops * PER_STOP_SLOT + stops * PER_STOP),
    }
    transient = build if sum(build.values()) > sum(week.values()) else week
    parts = {**persistent, **transient}
    memory = int(sum(parts.values()))
    seconds = people * BUILD_SECONDS_PER_PERSON + steps * (SECONDS_PER_STEP + people * SECONDS_PER_PERSON_STEP)
    ordered = tuple(sorted(((k, int(v)) for k, v in parts.items()), key=lambda kv: -kv[1]))
    return Footprint(memory, seconds, ordered)


def worst(scenario, ranges: dict[str, list[Any]]) -> Footprint:
    """The largest footprint over every combination of the given values of fields
    (a design's parameters at their ends); fields the estimate does not read are left
    out."""
    relevant = {k: sorted(set(v)) for k, v in ranges.items() if k in FIELDS or k.endswith(".stops_per_officer")}
    combos: list[dict[str, Any]] = [{}]
    for key, options in relevant.items():
        ends = {options[0], options[-1]}
        combos = [dict(c, **{key: v}) for c in combos for v in ends]
    return max((estimate(scenario, c) for c in combos), key=lambda f: f.memory)


def available_memory() -> int | None:
    """Memory this process may still use, in bytes: the smaller of the system's
    available memory (``MemAvailable`` of /proc/meminfo, else the free physical pages)
    and the room left under a control group's limit; None when unknown."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_file).read_text().strip()
            if limit != "max" and int(limit) < 2**60:
                found.append(int(limit) - int(Path(usage_file).read_text().strip()))
            break
        except (OSError, ValueError):
            continue
    return max(0, min(found)) if found else None


def check(footprint: Footprint, what: str, copies: int = 1) -> None:
    """Refuse (ConfigError, one line) when ``copies`` runs of ``footprint`` at once
    would need more memory than :func:`available_memory`. ``what`` names the scenario."""
    free = available_memory()
    need = footprint.memory * copies
    if free is None or need <= free:
        return
    runs = f" x {copies} runs at once" if copies > 1 else ""
    fewer = (f"; use --workers {max(1, free // footprint.memory)} or fewer"
             if copies > 1 and footprint.memory <= free else "")
    raise ConfigError(f"{what}: needs {footprint.describe()}{runs}, but this machine has {gib(free)} available"
                      f"{fewer}")
