"""Every measure the model reports: its name, unit, meaning, and how a window of steps
aggregates it. This module imports no model code, so that reading and analysing
result files can use it.

Two kinds of measure:

- a :class:`Measure` is a column of ``timeseries.csv``: one value per step (a count
  of the week, a level at the end of the week, a rate of the week annualised);
- a :class:`WindowMeasure` is a column of ``summary.csv`` and ``runs.csv``: one value
  per window of steps (the run summary is the window after burn-in), aggregated from
  the per-step measures (:class:`Total`, :class:`Mean`, :class:`Last`, :class:`Rate`,
  :class:`Share`) or computed from the homicide cases and events (:class:`FromRecords`).

Calibration also compares a few *pattern measures* (:data:`PATTERNS`) with evidence;
they are window measures computed from a run's time series and events when asked for,
and are not columns of the run files.

The model's own measures are declared here. A policy declares its measures in its
module (``Policy.measures`` and ``Policy.window_measures``); registering the policy
adds them with :func:`add` (see :mod:`abm.policies`). In the files, policies'
columns come after the model's and before the cost columns, policies in alphabetical
order of name, each in the order it declares.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

# -- how a window of steps aggregates per-step measures ------------------------------


@dataclass(frozen=True)
class Total:
    """The sum over the window's steps of one or more per-step columns."""

    columns: tuple[str, ...] = ()
    kind: type = int  # int for counts, float for money

    def describe(self, name: str) -> str:
        return "total over the window of " + " + ".join(self.columns or (name,))


@dataclass(frozen=True)
class Mean:
    """The mean over the window's steps of a per-step column."""

    column: str = ""

    def describe(self, name: str) -> str:
        return f"mean over the window of {self.column or name}"


@dataclass(frozen=True)
class Last:
    """The value at the window's last step (NaN for an empty window)."""

    column: str = ""

    def describe(self, name: str) -> str:
        return f"{self.column or name} at the window's last step"


@dataclass(frozen=True)
class Rate:
    """A yearly rate: ``total(count) x per / (mean(population) x years of the window)``."""

    count: str
    population: str
    per: float

    def describe(self, name: str) -> str:
        return f"{self.count} per {self.per:,} {self.population} a year over the window"


@dataclass(frozen=True)
class Share:
    """``total(part) / total(whole)`` over the window (NaN when the whole is 0)."""

    part: str
    whole: str

    def describe(self, name: str) -> str:
        return f"{self.part} over {self.whole}, totals over the window"


@dataclass(frozen=True)
class FromRecords:
    """Computed from the run's homicide cases or events (the model's own measures only:
    ``Ledger.window`` says how each is computed), or, for the pattern measures of
    calibration, from the time-series rows (``abm.metrics.pattern_measures``)."""

    records: Literal["cases", "events", "timeseries"]

    def describe(self, name: str) -> str:
        return f"from the {self.records} of the window"


Aggregate = Total | Mean | Last | Rate | Share | FromRecords


@dataclass(frozen=True)
class Measure:
    """A per-step measure: a column of the time series.

    ``record`` says how the ledger fills it: ``count`` sums what mechanisms and policies
    count in the week (0 if none), ``level`` keeps the last value set (``initial``
    before any), ``observed`` is read from the model's state when the week ends.

    ``undefined`` says when the measure has no value (NaN, an empty cell in the files),
    such as a share of arrests in a week without arrests. A measure that does not say
    is always a finite number: the ledger stops a run that gives it anything else.
    """

    name: str
    unit: str
    description: str
    record: Literal["count", "level", "observed"] = "observed"
    initial: float = 0
    label: str = ""
    owner: str = ""  # "" for the model's own, else the policy's name (set by add)
    undefined: str = ""


@dataclass(frozen=True)
class WindowMeasure:
    """A measure of a window of steps: a column of the summary and of ``runs.csv``."""

    name: str
    how: Aggregate
    unit: str
    description: str = ""
    label: str = ""
    owner: str = ""

    @property
    def meaning(self) -> str:
        return self.description or self.how.describe(self.name)


# -- the model's own measures, in column order ---------------------------------------

STEP: tuple[Measure, ...] = (
    Measure("step", "week", "weeks completed"),
    Measure("year", "year", "weeks completed / 52"),
    Measure("people", "persons", "residents and youths alive (prisoners included)"),
    Measure("youths", "persons", "persons aged 15-24 alive"),
    Measure("residents", "persons", "adults alive"),
    Measure("homicides", "homicides/week", "homicides by gangs and youths this week", "count"),
    Measure("homicide_rate_per_100k", "homicides/100k/year", "this week's homicides, annualised, per 100,000 people",
            label="Homicides per 100,000 a year", undefined="no one alive"),
    Measure("police_killings", "killings/week", "killings by police this week", "count"),
    Measure("confrontations", "confrontations/week", "violent confrontations this week", "count"),
    Measure("recruits", "youths/week", "youths who joined a gang this week", "count"),
    Measure("prison_recruits", "youths/week", "of them, joined in prison", "count"),
    Measure("recruitment_per_1000_youth", "recruits/1000 youths/year",
            "this week's recruits, annualised, per 1,000 youths", label="Recruits per 1,000 youths a year",
            undefined="no youths alive"),
    Measure("desisted", "youths/week", "members who left their gang this week", "count"),
    Measure("gang_members", "persons", "gang members alive (prisoners included)", label="Gang members"),
    Measure("gangs_active", "gangs", "gangs with members"),
    Measure("organisation_mean", "0-1", "mean organisation of gangs"),
    Measure("contested_blocks", "blocks", "blocks where a rival gang is within reach"),
    Measure("incarcerated", "persons", "youths in prison"),
    Measure("incarceration_per_100k", "prisoners/100k", "prisoners per 100,000 people",
            label="Prisoners per 100,000", undefined="no one alive"),
    Measure("prison_occupancy", "ratio", "prisoners over prison places"),
    Measure("arrests", "arrests/week", "arrests this week", "count"),
    Measure("arrests_non_member", "arrests/week", "of them, of youths not in a gang", "count"),
    Measure("arrests_non_member_share", "share", "share of this week's arrests of non-members",
            undefined="no arrests this week"),
    Measure("cleared", "cases/week", "homicide cases cleared this week", "count"),
    Measure("convicted", "cases/week", "homicide cases ending in conviction this week", "count"),
    Measure("clearance_rate", "share", "share of the trailing year's homicides cleared so far",
            undefined="no homicide in the trailing year"),
    Measure("conviction_rate", "share", "share of the trailing year's homicides convicted so far",
            undefined="no homicide in the trailing year"),
    Measure("contacts_just", "stops/week", "procedurally just stops this week", "count"),
    Measure("contacts_abusive", "stops/week", "abusive stops this week", "count"),
    Measure("trust_mean", "0-1", "residents' mean trust in police", label="Trust in police (0-1)"),
    Measure("reporting_rate", "probability", "residents' mean chance of reporting", label="Reporting"),
    Measure("collective_efficacy_mean", "0-1", "collective efficacy, weighted by block population"),
    Measure("violence_exposure_mean", "0-1", "violence exposure, weighted by block population"),
    Measure("entered", "youths/week", "15-year-olds who entered this week", "count"),
    Measure("aged_out", "youths/week", "youths who turned 25 this week", "count"),
    Measure("killed_total", "persons", "persons killed since the start"),
    Measure("sweep_arrests", "arrests/week", "arrests by officers on sweep duty this week", "count"),
    Measure("sweep_arrests_non_member", "arrests/week", "of them, of non-members", "count"),
)
STEP_COSTS: tuple[Measure, ...] = (
    Measure("policy_cost", "US$/week", "this week's cost of the active policies", label="Policy cost (US$)"),
    Measure("prison_cost", "US$/week", "this week's cost of prison places used"),
)

WINDOW: tuple[WindowMeasure, ...] = (
    WindowMeasure("homicides", Total(), "homicides"),
    WindowMeasure("homicide_rate_per_100k", Rate("homicides", "people", 1e5), "homicides/100k/year",
                  label="Homicides /100k/yr"),
    WindowMeasure("police_killings", Total(), "killings", label="Killings by police"),
    WindowMeasure("recruits", Total(), "youths"),
    WindowMeasure("recruitment_per_1000_youth", Rate("recruits", "youths", 1000), "recruits/1000 youths/year",
                  label="Recruits /1,000 youths/yr"),
    WindowMeasure("prison_recruits", Total(), "youths"),
    WindowMeasure("gang_members", Mean(), "persons"),
    WindowMeasure("organisation_mean", Mean(), "0-1"),
    WindowMeasure("incarcerated", Mean(), "persons"),
    WindowMeasure("incarceration_per_100k", Mean(), "prisoners/100k", label="Incarceration /100k"),
    WindowMeasure("prison_occupancy", Mean(), "ratio"),
    WindowMeasure("arrests", Total(), "arrests"),
    WindowMeasure("arrests_non_member_share", Share("arrests_non_member", "arrests"), "share",
                  label="Arrested not in gangs"),
    WindowMeasure("sweep_arrests", Total(), "arrests"),
    WindowMeasure("sweep_arrests_non_member_share", Share("sweep_arrests_non_member", "sweep_arrests"), "share"),
    WindowMeasure("clearance_rate", FromRecords("cases"), "share",
                  "share of the window's homicides cleared by the run's end (open cases count as not cleared)"),
    WindowMeasure("conviction_rate", FromRecords("cases"), "share",
                  "share of the window's homicides convicted by the run's end"),
    WindowMeasure("trust_mean", Mean(), "0-1", label="Trust in police"),
    WindowMeasure("reporting_rate", Mean(), "probability", label="Reporting"),
    WindowMeasure("collective_efficacy_mean", Mean(), "0-1"),
    WindowMeasure("homicide_share_top5pct_blocks", FromRecords("events"), "share",
                  "share of the window's homicides in the 5% of blocks with most"),
    WindowMeasure("victims_rival_member_share", FromRecords("events"), "share",
                  "share of the window's homicide victims who were members of a rival gang"),
    WindowMeasure("victims_non_member_youth_share", FromRecords("events"), "share",
                  "share of the window's homicide victims who were youths not in a gang"),
    WindowMeasure("victims_bystander_resident_share", FromRecords("events"), "share",
                  "share of the window's homicide victims who were bystander residents"),
)
# Pattern measures: window measures that calibration compares with evidence
# (configs/targets.toml) but the run files do not carry. ``abm.metrics.pattern_measures``
# computes them from a run's time series and homicide events.
RETALIATION_WINDOW_WEEKS = 52
PATTERNS: tuple[WindowMeasure, ...] = (
    WindowMeasure("youth_gang_share", FromRecords("timeseries"), "share",
                  "mean over the window of gang_members / youths (prisoners included)"),
    WindowMeasure("gang_exit_per_member_year", FromRecords("timeseries"), "exits/member/year",
                  "members who left their gang (desisted) per member-year over the window"),
    WindowMeasure("membership_years", FromRecords("timeseries"), "years",
                  "mean time in a gang by Little's law: mean gang_members / recruits a year over the window "
                  "(every way of leaving counts: desisting, ageing out, death)"),
    WindowMeasure("police_killings_per_homicide", FromRecords("timeseries"), "ratio",
                  "killings by police over homicides, totals over the window"),
    WindowMeasure("retaliation_share", FromRecords("events"), "share",
                  "share of the window's homicides that answer an earlier one: a killing of a member of "
                  f"gang B by a member of gang A within {RETALIATION_WINDOW_WEEKS} weeks of a killing of a "
                  "member of A by B not yet answered (the oldest first)"),
    WindowMeasure("retaliation_delay_weeks", FromRecords("events"), "weeks",
                  "mean weeks from a killing to the retaliation that answers it, over the window's retaliations"),
)
WINDOW_COSTS: tuple[WindowMeasure, ...] = (
    WindowMeasure("policy_cost", Total(kind=float), "US$"),
    WindowMeasure("prison_cost", Total(kind=float), "US$"),
    WindowMeasure("total_cost", Total(("policy_cost", "prison_cost"), kind=float), "US$",
                  "cost of policies and prison over the window", label="Cost, US$"),
)

# What identifies a run, before its window measures in summary.csv.
RUN_COLUMNS = (
    "scenario", "scenario_hash", "seed", "steps", "burn_in", "years_measured", "people", "youths",
    "segregation_index",
)

# The measures compared across arms (comparison.csv), in the table's order.
COMPARED = (
    "homicide_rate_per_100k", "recruitment_per_1000_youth", "homicides", "recruits", "gang_members",
    "organisation_mean", "prison_recruits", "incarcerated", "incarceration_per_100k", "arrests",
    "arrests_non_member_share", "clearance_rate", "conviction_rate", "trust_mean", "reporting_rate",
    "collective_efficacy_mean", "homicide_share_top5pct_blocks", "police_killings", "policy_cost", "prison_cost",
    "total_cost",
)

# -- measures added by policies --------------------------------------------------------

_by_owner: dict[str, tuple[tuple[Measure, ...], tuple[WindowMeasure, ...]]] = {}


def add(owner: str, step: tuple[Measure, ...] = (), window: tuple[WindowMeasure, ...] = ()) -> None:
    """Add a policy's measures (replacing any it added before), marked as ``owner``'s."""
    known = {m.name for m in step_measures()} | {m.name for m in window_measures()}
    ours = {m.name for m in _by_owner.get(owner, ((), ()))[0]} | {m.name for m in _by_owner.get(owner, ((), ()))[1]}
    clash = sorted(({m.name for m in step} | {m.name for m in window}) & (known - ours))
    if clash:
        raise ValueError(f"policy {owner}: measure names already taken: {', '.join(clash)}")
    _by_owner[owner] = (tuple(replace(m, owner=owner) for m in step), tuple(replace(m, owner=owner) for m in window))


def remove(owner: str) -> None:
    _by_owner.pop(owner, None)


def _policies(i: int) -> tuple:
    return tuple(m for owner in sorted(_by_owner) for m in _by_owner[owner][i])


def step_measures() -> tuple[Measure, ...]:
    """Every per-step measure, in the column order of ``timeseries.csv``."""
    return STEP + _policies(0) + STEP_COSTS


def window_measures() -> tuple[WindowMeasure, ...]:
    """Every window measure, in the column order of ``summary.csv`` after :data:`RUN_COLUMNS`."""
    return WINDOW + _policies(1) + WINDOW_COSTS


def timeseries_columns() -> tuple[str, ...]:
    return tuple(m.name for m in step_measures())


def window_columns(policies: Iterable[str] | None = None) -> tuple[str, ...]:
    """Names of the window measures: all, or (``policies`` given) the model's own and
    those of these policies."""
    if policies is None:
        return tuple(m.name for m in window_measures())
    keep = {"", *policies}
    return tuple(m.name for m in window_measures() if m.owner in keep)


def summary_columns() -> tuple[str, ...]:
    return RUN_COLUMNS + window_columns()


def get(name: str, step: bool = False) -> Measure | WindowMeasure:
    """A measure by name: the window measure (or with ``step``, the per-step one)."""
    for m in step_measures() if step else window_measures():
        if m.name == name:
            return m
    raise KeyError(name)


def label(name: str, step: bool = False) -> str:
    """A short label for tables and figures (the name when none is declared)."""
    try:
        return get(name, step).label or name
    except KeyError:
        return name
