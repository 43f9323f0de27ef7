"""Measuring a run: per step (the time series), per window of steps (the run summary
is the window after burn-in) and per block.

What each measure means, its unit and how a window aggregates it are declared in
:mod:`abm.measures` (policies' measures in their modules); the :class:`Ledger` computes
them from the model. Rates are annualised: a week's homicides x 52 per 100,000 people.
A run is compared here with the calibration targets (:mod:`abm.targets`, read from
``configs/targets.toml``), with the pattern measures some targets need
(:func:`pattern_measures`); the evidence behind the targets is in docs/evidence.md
("Calibration targets").
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from typing import TYPE_CHECKING

import numpy as np

from abm import justice, measures, policies, targets
from abm.measures import RETALIATION_WINDOW_WEEKS, FromRecords, Last, Mean, Rate, Share, Total
from abm.population import WEEKS_PER_YEAR
from abm.violence import HomicideKind, VictimType, rival_of_block

if TYPE_CHECKING:
    from abm.model import CityModel

# The column lists are read from abm.measures when asked for: this module imports
# abm.policies, so the built-in policies' measures are registered by then, and a
# policy registered later is included.


def timeseries_columns() -> tuple[str, ...]:
    """Columns of ``timeseries.csv``: every per-step measure, policies' included."""
    return measures.timeseries_columns()


def window_columns(policies=None) -> tuple[str, ...]:
    """Measures of a window of steps (the run summary is the window after burn-in):
    all, or the model's own and those of ``policies``."""
    return measures.window_columns(policies)


def summary_columns() -> tuple[str, ...]:
    """Columns of ``summary.csv``: what identifies the run, then the window measures."""
    return measures.summary_columns()


def safe_ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


class NonFiniteMeasure(FloatingPointError):
    """A run gave a measure that is NaN or infinite where it must be a finite number
    (something in the model went wrong): the run stops rather than write it."""


def check_finite(values: dict, undefined: set[str] | frozenset[str], where: str) -> None:
    """Raise :class:`NonFiniteMeasure` naming ``where`` and the first measure of
    ``values`` that is infinite, or NaN without being one of ``undefined`` (the
    measures that may have no value)."""
    for name, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            if math.isnan(value) and name in undefined:
                continue
            raise NonFiniteMeasure(f"{where}: {name} is {value} (not a finite number); the run stopped")


def undefined_step_measures() -> frozenset[str]:
    """Per-step measures that may have no value (NaN): those that say when."""
    return frozenset(m.name for m in measures.step_measures() if m.undefined)


def undefined_window_measures() -> frozenset[str]:
    """Window measures that may have no value: rates and shares (nothing to divide by),
    measures from the records (no homicide), and the mean or last value of a per-step
    measure that may have none."""
    step = undefined_step_measures()
    out = set()
    for m in measures.window_measures():
        how = m.how
        if isinstance(how, (Rate, Share, FromRecords)):
            out.add(m.name)
        elif isinstance(how, (Mean, Last)) and (how.column or m.name) in step:
            out.add(m.name)
    return frozenset(out)


class Ledger:
    """Collects the week's counters and writes one time-series row per step."""

    def __init__(self, model: CityModel):
        self.model = model
        self.rows: list[dict] = []
        self._week: dict[str, int] = defaultdict(int)
        self.block_homicides = np.zeros(model.city.n_blocks, dtype=np.int64)
        self.policy_cost = 0.0
        self._policy_measures = [m for m in measures.step_measures() if m.owner]
        self._observers = [cls.observe for cls in policies.registered()]
        self._window_measures = measures.window_measures()
        self._levels: dict[str, float] = {m.name: m.initial for m in self._policy_measures if m.record == "level"}
        self._undefined_step = undefined_step_measures()
        self._undefined_window = undefined_window_measures()

    def count(self, name: str, n: int = 1) -> None:
        self._week[name] += n

    def set(self, name: str, value: float) -> None:
        """A level rather than a count (kept as last set until changed)."""
        self._levels[name] = value

    def homicide(self, block: int) -> None:
        self._week["homicides"] += 1
        if self.model.in_measurement:
            self.block_homicides[block] += 1

    def record(self) -> dict:
        """This week's row of the time series (ODD 7.12): the week's counts and the
        state at its end, by submodel (each part may read what earlier parts put in the
        row, such as the number of people)."""
        m = self.model
        row = {"step": m.week, "year": round(m.week / WEEKS_PER_YEAR, 4)}
        for part in (self._people, self._violence, self._gangs, self._justice, self._residents, self._costs,
                     self._policies):
            row.update(part(row))
        # Once a week, on the row rather than per agent: NaN or infinity stops the run here.
        check_finite(row, self._undefined_step, f"step {m.week}")
        self.rows.append(row)
        self._week = defaultdict(int)
        return row

    def _people(self, row: dict) -> dict:
        m, w = self.model, self._week
        return {
            "people": m.people_alive,
            "youths": int(m.youths.alive.sum()),
            "residents": int(m.residents.alive.sum()),
            "entered": w["entered"],
            "aged_out": w["aged_out"],
        }

    def _violence(self, row: dict) -> dict:
        m, w = self.model, self._week
        return {
            "homicides": w["homicides"],
            "homicide_rate_per_100k": safe_ratio(w["homicides"] * WEEKS_PER_YEAR * 1e5, row["people"]),
            "police_killings": w["police_killings"],
            "confrontations": w["confrontations"],
            "contested_blocks": int((rival_of_block(m) >= 0).sum()),
            "violence_exposure_mean": _population_weighted(m, m.city.violence_exposure),
            "killed_total": m.killed,
        }

    def _gangs(self, row: dict) -> dict:
        m, w = self.model, self._week
        yth = m.youths
        return {
            "recruits": w["recruits"],
            "prison_recruits": w["prison_recruits"],
            "recruitment_per_1000_youth": safe_ratio(w["recruits"] * WEEKS_PER_YEAR * 1000, row["youths"]),
            "desisted": w["desisted"],
            "gang_members": int(((yth.gang >= 0) & yth.alive).sum()),
            "gangs_active": int((m.gangs.members > 0).sum()),
            "organisation_mean": float(np.mean(m.gangs.organisation)) if len(m.gangs) else 0.0,
        }

    def _justice(self, row: dict) -> dict:
        m, w = self.model, self._week
        incarcerated = int(m.youths.incarcerated.sum())
        # Share of the trailing year's homicides cleared / convicted so far.
        clearance, conviction = m.cases.outcomes(m.week - WEEKS_PER_YEAR + 1)
        return {
            "incarcerated": incarcerated,
            "incarceration_per_100k": safe_ratio(incarcerated * 1e5, row["people"]),
            "prison_occupancy": justice.occupancy(m),
            "arrests": w["arrests"],
            "arrests_non_member": w["arrests_non_member"],
            "arrests_non_member_share": safe_ratio(w["arrests_non_member"], w["arrests"]),
            "sweep_arrests": w["sweep_arrests"],
            "sweep_arrests_non_member": w["sweep_arrests_non_member"],
            "cleared": w["cleared"],
            "convicted": w["convicted"],
            "clearance_rate": clearance,
            "conviction_rate": conviction,
        }

    def _residents(self, row: dict) -> dict:
        m, w = self.model, self._week
        res = m.residents
        return {
            "contacts_just": w["contacts_just"],
            "contacts_abusive": w["contacts_abusive"],
            "trust_mean": float(res.trust[res.alive].mean()),
            "reporting_rate": float(res.report_prob[res.alive].mean()),
            "collective_efficacy_mean": _population_weighted(m, m.city.collective_efficacy),
        }

    def _costs(self, row: dict) -> dict:
        return {
            "policy_cost": self.policy_cost,
            "prison_cost": row["incarcerated"] * self.model.p.prison.week_cost,
        }

    def _policies(self, row: dict) -> dict:
        """The measures policies declare: counted, set as levels, or observed."""
        m, w = self.model, self._week
        observed: dict = {}
        for observe in self._observers:
            observed.update(observe(m))
        out = {}
        for measure in self._policy_measures:
            if measure.record == "count":
                out[measure.name] = w[measure.name]
            elif measure.record == "level":
                out[measure.name] = self._levels[measure.name]
            else:
                out[measure.name] = observed[measure.name]
        return out

    def timeseries(self) -> list[dict]:
        columns = timeseries_columns()
        return [{k: row[k] for k in columns} for row in self.rows]

    def summary(self) -> dict:
        """Run measures over the weeks after burn-in, with what identifies the run."""
        m = self.model
        burn = m.p.run.burn_in
        summary = {
            "scenario": m.p.name,
            "scenario_hash": m.p.digest(),
            "seed": m.seed,
            "steps": m.week,
            "burn_in": burn,
            "years_measured": round((m.week - burn) / WEEKS_PER_YEAR, 4),
            "people": m.people_start,
            "youths": m.youths.n,
            "segregation_index": m.city.segregation_index,
            **self.window(burn + 1, m.week),
        }
        check_finite(summary, self._undefined_window, f"summary of steps {burn + 1}-{m.week}")
        return summary

    def window(self, first: int, last: int) -> dict:
        """Measures over steps ``first``..``last`` (inclusive, 1-based as in timeseries.csv)."""
        m = self.model
        rows = self.rows[max(first, 1) - 1 : last]
        years = len(rows) / WEEKS_PER_YEAR
        mean = lambda k: float(np.mean([r[k] for r in rows])) if rows else float("nan")  # noqa: E731
        total = lambda k: sum(r[k] for r in rows)  # noqa: E731
        clearance, conviction = self.model.cases.outcomes(first, last)
        kills = [e for e in m.events if first <= e["step"] <= last and e["kind"] != HomicideKind.POLICE]
        victims = [e["victim_type"] for e in kills]
        by_block = np.bincount([e["block"] for e in kills], minlength=m.city.n_blocks)
        from_records = {
            "clearance_rate": clearance,
            "conviction_rate": conviction,
            "homicide_share_top5pct_blocks": top_share(by_block, 0.05),
            "victims_rival_member_share": safe_ratio(victims.count(VictimType.RIVAL_MEMBER), len(victims)),
            "victims_non_member_youth_share": safe_ratio(victims.count(VictimType.NON_MEMBER_YOUTH), len(victims)),
            "victims_bystander_resident_share": safe_ratio(victims.count(VictimType.BYSTANDER_RESIDENT), len(victims)),
        }
        out = {}
        for measure in self._window_measures:
            how, name = measure.how, measure.name
            if isinstance(how, Total):
                out[name] = how.kind(sum(total(k) for k in how.columns) if how.columns else total(name))
            elif isinstance(how, Mean):
                out[name] = mean(how.column or name)
            elif isinstance(how, Last):
                out[name] = rows[-1][how.column or name] if rows else float("nan")
            elif isinstance(how, Rate):
                out[name] = safe_ratio(int(total(how.count)) * how.per, mean(how.population) * years)
            elif isinstance(how, Share):
                out[name] = safe_ratio(total(how.part), int(total(how.whole)))
            elif isinstance(how, FromRecords):
                out[name] = from_records[name]
        if rows:  # an empty window has no values at all
            check_finite(out, self._undefined_window, f"window of steps {first}-{last}")
        return out


def top_share(counts: np.ndarray, share: float) -> float:
    """Share of the total held by the top ``share`` of units (NaN when the total is 0)."""
    total = counts.sum()
    if total == 0:
        return float("nan")
    k = max(1, math.ceil(share * len(counts)))
    return float(np.sort(counts)[::-1][:k].sum() / total)


def _population_weighted(model: CityModel, field: np.ndarray) -> float:
    pop = model.city.population
    return float((field * pop).sum() / max(pop.sum(), 1))


def pattern_measures(timeseries: list[dict], events: list[dict], first: int, last: int) -> dict:
    """The pattern measures (:data:`abm.measures.PATTERNS`) of steps ``first``..``last``,
    from the run's time-series rows and homicide events (NaN where there is nothing to
    divide by)."""
    rows = [r for r in timeseries if first <= r["step"] <= last]
    years = len(rows) / WEEKS_PER_YEAR
    total = lambda k: sum(r[k] for r in rows)  # noqa: E731
    members = float(np.mean([r["gang_members"] for r in rows])) if rows else float("nan")
    shares = [r["gang_members"] / r["youths"] for r in rows if r["youths"]]
    out = {
        "youth_gang_share": float(np.mean(shares)) if shares else float("nan"),
        "gang_exit_per_member_year": safe_ratio(total("desisted"), members * years) if rows else float("nan"),
        "membership_years": safe_ratio(members * years, total("recruits")) if rows else float("nan"),
        "police_killings_per_homicide": safe_ratio(total("police_killings"), total("homicides")),
    }
    out.update(retaliations(events, first, last))
    return out


def retaliations(events: list[dict], first: int, last: int) -> dict:
    """Killings that answer an earlier one, among the homicides of steps ``first``..``last``.

    A killing of a member of gang B by a member of gang A answers the oldest killing of a
    member of A by B that is not yet answered, if it is at most
    :data:`~abm.measures.RETALIATION_WINDOW_WEEKS` old and from an earlier week. Earlier
    killings count as provocations; only answers within the window count.
    """
    owed: dict[tuple[int, int], deque] = defaultdict(deque)  # (avenger, offender) -> steps
    answered, delays = 0, []
    homicides = 0
    for e in events:
        step = int(e["step"])
        if step > last:
            break
        if e["kind"] == HomicideKind.POLICE:
            continue
        homicides += step >= first
        if e["kind"] != HomicideKind.GANG or int(e["victim_gang"]) < 0:
            continue
        a, b = int(e["perpetrator_gang"]), int(e["victim_gang"])
        queue = owed[(a, b)]
        while queue and step - queue[0] > RETALIATION_WINDOW_WEEKS:
            queue.popleft()
        if queue and queue[0] < step:
            delay = step - queue.popleft()
            if step >= first:
                answered += 1
                delays.append(delay)
        owed[(b, a)].append(step)
    return {
        "retaliation_share": safe_ratio(answered, homicides),
        "retaliation_delay_weeks": float(np.mean(delays)) if delays else float("nan"),
    }


def calibration(measured: dict, chosen: tuple[targets.Target, ...] | None = None) -> list[dict]:
    """Each target (default: the bundled ones) with the run's value of its measure (NaN
    if ``measured`` lacks it), its distance from the target and whether it is met (None
    without a value)."""
    out = []
    for t in chosen if chosen is not None else targets.bundled():
        value = measured.get(t.measure, float("nan"))
        distance = t.distance(value)
        out.append({"name": t.name, "metric": t.measure, "value": value, "target": t.label,
                    "tolerance": t.tolerance, "distance": distance,
                    "met": t.met(value) if math.isfinite(distance) else None,
                    "source": t.source.citation()})
    return out


def drifting(overrides) -> list[str]:
    """The overrides that change the calibrated city itself: not the run's length and
    windows (``run.*``) and not a policy (``policies.*``), which are meant to move the
    numbers."""
    return [k for k in overrides if not (k.startswith("run.") or k.startswith("policies."))]


def outside(rows: list[dict]) -> list[dict]:
    """The calibration rows (:func:`calibration`) whose value misses its target (further
    outside than its tolerance); a value that is missing is not counted."""
    return [r for r in rows if math.isfinite(r["distance"]) and r["distance"] > r["tolerance"]]


def misses(rows: list[dict]) -> str:
    """The calibration rows outside their targets, in words (empty if none): each
    target's value, range and distance. Rows read back from a manifest may hold None
    for a value that was not a number."""
    off = [r for r in rows if r.get("distance") is not None and math.isfinite(r["distance"])
           and r["distance"] > r.get("tolerance", 0)]
    return "; ".join(f"{r['metric']} {r['value']:.3g} (target {r['target']}, off by {r['distance']:.3g})"
                     for r in off)


def drift_warning(rows: list[dict], overrides) -> str | None:
    """One line when ``overrides`` of the city put the baseline outside its
    calibration targets: which targets, and how far."""
    moved = drifting(overrides)
    what = misses(rows)
    if not moved or not what:
        return None
    return f"note: with {', '.join(moved)} changed, the baseline is outside its calibration targets: {what}"
