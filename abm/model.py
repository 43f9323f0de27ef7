"""CityModel: builds the segregated city and orders the weekly step.

The step reads like the model description (docs/ODD.md, "Process overview and
scheduling"); each mechanism is one vectorized pass in its own module.
"""

from __future__ import annotations

from pathlib import Path

import mesa
import networkx as nx
import numpy as np

from abm import behaviour, gangs, justice, policies, policing, presets, residents, violence
from abm.city import City
from abm.config import Scenario, load_scenario
from abm.metrics import Ledger, timeseries_columns
from abm.population import (
    WEEKS_PER_YEAR,
    YOUTH_ENTRY_AGE,
    YOUTH_EXIT_AGE,
    PeerNetwork,
    Resident,
    Residents,
    Youth,
    Youths,
)
from abm.streams import Streams


YOUTH_REPORTERS = {name: name for name in ("block", "gang", "propensity", "in_school", "employed", "incarcerated")}


def as_scenario(scenario: Scenario | str | Path) -> Scenario:
    """A scenario, or a bundled scenario's name or a scenario file to load (so that
    ``mesa.batch_run`` can pass one: ``batch_run(CityModel, {"scenario": "classroom"},
    rng=[1, 2])``)."""
    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(presets.resolve_scenario(scenario))


def _reporter(name: str):
    return lambda model: model.ledger.rows[-1][name]


class CityModel(mesa.Model):
    """A segregated city with youths, gangs, police and residents.

    Args:
        scenario: validated parameters (see :mod:`abm.config`), or a bundled scenario's
            name or a scenario file.
        seed: the run's seed (>= 0; None draws one, kept in ``model.seed``). Every
            random number comes from a stream derived from it and the name of the
            decision that draws it (:mod:`abm.streams`): ``model.stream(name)`` for
            this week's draws.
        collect_agents: also collect each youth's main state every week in
            ``model.datacollector`` (memory grows with people x weeks).

    Attributes:
        city: blocks, districts and cell fields (:class:`abm.city.City`).
        residents, youths: per-person state arrays.
        peers: the youth peer network.
        gangs: gangs' state, one row per gang (:class:`abm.gangs.Gangs`); ``gang_agents``
            their Mesa agents; ``rivalry`` their networkx graph.
        officers: list of :class:`abm.policing.Officer` agents.
        cases: open homicide investigations.
        ledger: per-step measures (see :mod:`abm.metrics`).
    """

    def __init__(self, scenario: Scenario | str | Path, seed: int | None = 0, collect_agents: bool = False):
        scenario = as_scenario(scenario)
        if seed is None:  # as Mesa does for rng=None: a fresh seed, kept so the run can be repeated
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        streams = Streams(seed)
        super().__init__(rng=streams.get("mesa"))
        self.streams = streams
        self.p = scenario  # the validated parameters (mesa's own `scenario` is unused)
        self.seed = seed
        # The clock: the step being run, 1-based (0 before the first step). It is the
        # ``step`` of every output row, homicide event and case, and every time a
        # mechanism stores (release, programme end, notice) is on it.
        self.week = 0

        self.city = City(scenario.city, streams.get("city"))
        n_people = scenario.population.people
        n_youth = int(round(n_people * scenario.population.youth_share))
        n_res = n_people - n_youth
        self.people_start = n_people
        self.residents = Residents(n_res)
        self.youths = Youths(n_youth, policies.person_state())
        self._place_people()
        self.city.measure_segregation(
            np.concatenate([self.residents.ses, self.youths.ses]),
            np.concatenate([self.residents.block, self.youths.block]),
        )

        pop = scenario.population
        cap = max(pop.peer_degree_cap_min, int(round(pop.peer_degree * pop.peer_degree_cap_factor)))
        self.peers = PeerNetwork(cap, n_youth)
        behaviour.build_peer_network(self, np.arange(n_youth), streams.get("peers_initial"))

        self.resident_agents: list[Resident | None] = [Resident(self, i) for i in range(n_res)]
        self.residents.person_id[:] = [a.unique_id for a in self.resident_agents]
        self.youth_agents: list[Youth | None] = [Youth(self, i) for i in range(n_youth)]
        self.youths.person_id[:] = [a.unique_id for a in self.youth_agents]

        self.gangs: gangs.Gangs = gangs.found_gangs(self)
        self.gang_agents = [gangs.Gang(self, i) for i in range(len(self.gangs))]
        justice.settle_prison(self)  # the slow stocks start where they settle
        gangs.settle_organisation(self)
        self.rivalry = nx.Graph()
        self.grievance = np.zeros((len(self.gangs), len(self.gangs)))
        gangs.update_rivalry(self)
        n_officers = scenario.police.officers
        self.officer_block = np.zeros(n_officers, dtype=np.int64)  # where each patrols this week
        self.duty = policing.Duty(n_officers)  # what each officer's stops are like this week
        self.officers = policing.recruit_officers(self)
        self.cases = justice.Cases()
        # Set by policies each week: perceived certainty of collective sanction for
        # each gang's members (focused deterrence), and the factor on perceived
        # severity (mano dura's sentences); and the share of its confrontations each
        # gang's leadership holds back (a truce).
        self.collective_certainty = np.zeros(len(self.gangs))
        self.severity_factor = 1.0
        self.gang_restraint = np.zeros(len(self.gangs))
        # Set by policies each week: how arrests turn into custody and who meets whom
        # inside (prison reform); the ordinary rules otherwise.
        self.custody = justice.ORDINARY
        # Set by a policy each week that adds detectives or forensic work to homicide
        # investigations (see abm.justice.investigations); None: the unit as it is.
        self.investigation_support = None
        residents.initialise(self)

        self.ledger = Ledger(self)
        # Mesa's data collection: the weekly measures (the columns of timeseries.csv),
        # and, when asked, each youth's main state.
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in timeseries_columns()},
            agenttype_reporters={Youth: YOUTH_REPORTERS} if collect_agents else None,
        )
        self.policies = policies.build(scenario.policies, self)
        self.events: list[dict] = []
        self.entered = 0
        self.aged_out = 0
        self.killed = 0

    def _place_people(self) -> None:
        """Households to blocks by density; SES, schooling, work and traits."""
        rng, p, city = self.streams.get("population"), self.p.population, self.city
        weights = city.density_weights(self.p.city.poor_density)
        weights = weights / weights.sum()
        res, yth = self.residents, self.youths
        res.block[:] = np.sort(rng.choice(city.n_blocks, size=res.n, p=weights))
        yth.block[:] = np.sort(rng.choice(city.n_blocks, size=yth.n, p=weights))
        res.ses[:] = city.household_ses(res.block, rng)
        res.employed[:] = rng.random(res.n) < np.clip(
            p.adult_employment * (p.adult_employment_ses_base + p.adult_employment_ses_slope * res.ses), 0, 1
        )
        yth.age_weeks[:] = rng.integers(YOUTH_ENTRY_AGE * WEEKS_PER_YEAR, YOUTH_EXIT_AGE * WEEKS_PER_YEAR, yth.n)
        behaviour.new_youth_traits(self, np.arange(yth.n), lambda name: self.streams.get("initial_" + name))
        city.population[:] = np.bincount(res.block, minlength=city.n_blocks) + np.bincount(
            yth.block, minlength=city.n_blocks
        )

    # -- the week -------------------------------------------------------------------
    def step(self) -> None:
        """One week, mechanisms in a fixed order."""
        self.week += 1
        self.collective_certainty[:] = 0.0
        self.severity_factor = 1.0
        self.gang_restraint[:] = 0.0
        self.custody = justice.ORDINARY
        self.investigation_support = None
        behaviour.ageing(self)                 # 15-year-olds enter, 25-year-olds leave
        behaviour.labour_market(self)          # school dropout, jobs found and lost
        policing.deploy(self)                  # patrols; policies' beats and sweeps (hook "deploy")
        gangs.update_territory(self)           # control, expansion, resources, demand
        self.policy_hook("programmes")         # call-ins, services, CBT enrolment
        behaviour.youth_choices(self)          # propensity; joining and leaving gangs
        before = len(self.events)
        violence.confrontations(self)          # confrontations, homicides, grievance
        self.policy_hook("after_violence", self.events[before:])  # crackdowns
        policing.contacts(self)                # stops, just or abusive; arrests
        justice.investigations(self)           # clearance, conviction, sentences
        justice.prison(self)                   # releases, prison recruitment, organisation
        residents.update(self)                 # trust, fear, reporting, collective efficacy
        self.policy_hook("community")          # beat officers work with residents
        self.ledger.policy_cost = float(sum(pol.cost(self) for pol in self.active_policies()))
        self.ledger.record()                   # this week's measures
        self.datacollector.collect(self)
        self.running = self.week < self.p.run.steps

    def run(self, steps: int | None = None, progress=None) -> None:
        """Run ``steps`` weeks (default: the scenario's), calling ``progress(1)`` after each."""
        for _ in range(self.p.run.steps if steps is None else steps):
            self.step()
            if progress is not None:
                progress(1)

    def stream(self, name: str, *key: int) -> np.random.Generator:
        """This week's random stream of the decision ``name`` (see :mod:`abm.streams`);
        ``key`` narrows it further (a block, a killing)."""
        return self.streams.get(name, self.week - 1, *key)  # keyed by completed weeks

    def active_policies(self) -> list:
        return [pol for pol in self.policies if pol.active(self.week)]

    def policy_hook(self, hook: str, *args) -> None:
        """Call ``hook`` on every active policy, in hook order (:func:`abm.policies.registered`)."""
        for pol in self.active_policies():
            getattr(pol, hook)(self, *args)

    def with_policies(self, scenario: Scenario) -> CityModel:
        """This city, run so far on a scenario that differs from ``scenario`` only in
        its policies, now with ``scenario``'s parameters and policies, built as the
        constructor builds them (:mod:`abm.warmup`). Returns the city itself.

        Raises:
            ValueError: the scenarios differ in more than their policies, or one of the
                policies would have acted already.
        """
        if without_policies(scenario).digest() != without_policies(self.p).digest():
            raise ValueError(f"{scenario.name}: differs from the city's scenario in more than its policies")
        built = policies.build(scenario.policies, self)
        late = [pol.name for pol in built if pol.start < self.week]
        if late:
            raise ValueError(f"{scenario.name}: {', '.join(late)} would have acted before week {self.week}")
        self.p = scenario
        self.policies = built
        return self

    # -- bookkeeping shared by mechanisms --------------------------------------------
    @property
    def in_measurement(self) -> bool:
        """True once burn-in is over: events now count toward the run summary."""
        return self.week > self.p.run.burn_in

    @property
    def people_alive(self) -> int:
        return int(self.residents.alive.sum() + self.youths.alive.sum())

    def remove_youth(self, slot: int) -> None:
        """A youth leaves the population (ageing out or death); the slot is freed."""
        yth = self.youths
        yth.alive[slot] = False
        yth.incarcerated[slot] = False
        yth.release_step[slot] = -1
        yth.gang[slot] = -1
        self.peers.clear(slot)
        agent = self.youth_agents[slot]
        if agent is not None:
            agent.remove()
            self.youth_agents[slot] = None

    def remove_resident(self, slot: int) -> None:
        self.residents.alive[slot] = False
        agent = self.resident_agents[slot]
        if agent is not None:
            agent.remove()
            self.resident_agents[slot] = None

    def add_youth(self, slot: int) -> None:
        agent = Youth(self, slot)
        self.youth_agents[slot] = agent
        self.youths.person_id[slot] = agent.unique_id


def without_policies(scenario: Scenario) -> Scenario:
    """``scenario`` with every policy switched off."""
    return scenario.model_copy(update={"policies": type(scenario.policies)()})
