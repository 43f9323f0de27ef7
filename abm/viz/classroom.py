"""The model the classroom dashboard drives: one city, or two on the same seed.

``ClassroomModel`` builds a city from a preset with the policies a teacher switches on
(every registered policy, with the controls its module declares).
With ``compare`` on, it also builds the same city, from the same seed, without those
policies (or with a second set), and steps both together: until the policies start
the two are identical, so every difference a class sees afterwards is the policy's,
not chance. With ``seeds`` above one, each side is an ensemble: the same policies on
that many seeds (the comparison city on the same seeds, pairwise), so a class sees
how much of a difference is chance.

Every city first runs its scenario's burn-in (four years in the presets) before the
week the class sees as week 0: the prisons have filled and the gangs settled, so the
first years on the charts show the city as it is, not its start-up. Policies start at
the chosen year after that, so the burn-in is the same on every side: it is run once
per city and seed and shared (:mod:`abm.warmup`).
"""

from __future__ import annotations

import mesa
import numpy as np

from abm import policies
from abm.config import load_scenario
from abm.model import CityModel
from abm.presets import resolve_scenario
from abm.schema import MAX_STEPS
from abm.warmup import WarmUps

PRESETS = ("classroom", "district")
MAX_SEED = 2**63 - 1  # as an experiment's root_seed
# Cities after burn-in, shared by every lesson and student the server holds.
WARM_UPS = WarmUps()


def parse_seed(value) -> int:
    """A seed as typed into the page (text) or passed (a whole number): 0 to 2^63-1.

    Raises:
        ValueError: with a message for the page, for anything else.
    """
    text = str(value).strip()
    if isinstance(value, bool) or len(text) > 40:
        number = None
    else:
        try:
            number = int(text)
        except ValueError:
            number = None
    if number is None or not 0 <= number <= MAX_SEED:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise ValueError(f"Seed {shown!r} refused: type a whole number from 0 to {MAX_SEED}, then press Reset.")
    return number


def control_key(policy: str, field: str) -> str:
    """The keyword of a policy's dashboard control, e.g. ``cbt__capacity_per_100k``."""
    return f"{policy}__{field}"


def control_defaults() -> dict[str, float]:
    """Every registered policy's controls at their parameters' defaults."""
    return {
        control_key(cls.name, c.field): c.dtype(cls.Params.model_fields[c.field].default)
        for cls in policies.registered()
        for c in cls.controls
    }


def policy_overrides(chosen: dict[str, bool], levels: dict[str, float] | None = None,
                     start_step: int | None = None, end_step: int | None = None) -> dict:
    """Dotted overrides that switch the chosen policies on, with their controls' levels
    (``levels`` keyed by :func:`control_key`), from after ``start_step`` to ``end_step``."""
    out: dict = {}
    levels = levels or {}
    for cls in policies.registered():
        if not chosen.get(cls.name):
            continue
        out[f"policies.{cls.name}.start"] = int(start_step) if start_step is not None else None
        if end_step is not None:
            out[f"policies.{cls.name}.end"] = int(end_step)
        for c in cls.controls:
            value = levels.get(control_key(cls.name, c.field))
            if value is not None:
                out[f"policies.{cls.name}.{c.field}"] = value
    return out


def arm_label(chosen: dict[str, bool]) -> str:
    labels = [cls.label or cls.name for cls in policies.registered() if chosen.get(cls.name)]
    return " + ".join(labels) if labels else "No policy"


MAX_SEEDS = 10  # cities per side in an ensemble
STREET = "street_members"


class ClassroomModel(mesa.Model):
    """A city with the chosen policies, and optionally the same city without them;
    each side on one seed or on several (``seeds``)."""

    def __init__(
        self,
        preset: str = "classroom",
        seed: int = 1,
        compare: bool = True,
        start_year: float = 1.0,
        seeds: int = 1,
        end_year: float | None = None,
        warm_up: bool = True,
        scenario: object = None,
        **choices,
    ):
        """``choices``: for each registered policy ``<name>`` (switch it on; default its
        ``dashboard_on``), ``compare_<name>`` (on in the comparison city) and its
        controls' levels, ``<name>__<field>`` (default the parameter's). ``scenario`` is
        Mesa's own and is not used: the city's parameters come from the preset and the
        choices.

        ``seeds``: cities per side, on seeds ``seed``, ``seed + 1``, ... (1 to
        :data:`MAX_SEEDS`). ``end_year``: the policies stop after this year (None or 0:
        they never stop; it must come after ``start_year``). ``warm_up``: run the
        scenario's burn-in before week 0 (off only in tests that want the start-up).

        A ``seed`` that is not a whole number from 0 to 2^63-1 (typed into the page)
        builds no city: ``refused`` holds the message the page shows instead, and the
        model does not run."""
        try:
            self.seed, self.refused = parse_seed(seed), None
        except ValueError as exc:
            self.seed, self.refused = None, str(exc)
        super().__init__(rng=self.seed if self.seed is not None else 0)
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}")
        seeds = int(seeds)
        if not 1 <= seeds <= MAX_SEEDS:
            raise ValueError(f"seeds must be 1 to {MAX_SEEDS}")
        registered = policies.registered()
        levels = control_defaults()
        known = {*levels, *(cls.name for cls in registered), *(f"compare_{cls.name}" for cls in registered)}
        unknown = sorted(set(choices) - known)
        if unknown:
            raise TypeError(f"ClassroomModel: unknown choices {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        levels.update({k: v for k, v in choices.items() if k in levels})
        self.preset = preset
        self.start_step = round(start_year * 52)  # weeks after week 0 (the end of burn-in)
        self.end_step = round(end_year * 52) if end_year else None
        if self.end_step is not None and self.end_step <= self.start_step:
            raise ValueError("the policies must end after they start")
        self.sides: list[tuple[str, list[CityModel]]] = []
        self.street: list[list[list[int]]] = []  # per side, per seed: members on the street each week
        self.burn_in = 0
        if self.refused or (self.seed is not None and self.seed + seeds - 1 > MAX_SEED):
            self.refused = self.refused or (f"Seed {self.seed} refused: with {seeds} seeds per side the last "
                                            f"would pass {MAX_SEED}; type a smaller number, then press Reset.")
            self.running = False
            return
        path = resolve_scenario(preset)
        self.burn_in = load_scenario(path).run.burn_in if warm_up else 0
        chosen = {cls.name: bool(choices.get(cls.name, cls.dashboard_on)) for cls in registered}
        other = {cls.name: bool(choices.get(f"compare_{cls.name}", False)) for cls in registered}
        # Policies start start_step weeks after burn-in; the city runs as long as allowed.
        base = {"run.burn_in": self.burn_in, "run.steps": MAX_STEPS}
        arms = [chosen, other] if compare else [chosen]
        for arm in arms:
            scenario_ = load_scenario(path, {**base, **policy_overrides(
                arm, levels, self.burn_in + self.start_step,
                None if self.end_step is None else self.burn_in + self.end_step)})
            # Every side's city on a seed has the same burn-in (no policy acts before
            # week 0): it is run once and shared (abm.warmup).
            self.sides.append((arm_label(arm), [WARM_UPS.city(scenario_, self.seed + i, self.burn_in)
                                                for i in range(seeds)]))
        if compare and self.sides[0][0] == self.sides[1][0]:
            self.sides[1] = (self.sides[1][0] + " (same)", self.sides[1][1])
        self.street = [[[] for _ in runs] for _, runs in self.sides]

    @property
    def cities(self) -> list[tuple[str, CityModel]]:
        """Each side's label and its first city (the one the map shows)."""
        return [(label, runs[0]) for label, runs in self.sides]

    @property
    def seeds(self) -> int:
        return len(self.sides[0][1]) if self.sides else 0

    def rows(self, city: CityModel) -> list[dict]:
        """A city's weekly rows from week 1 (after burn-in)."""
        return city.ledger.rows[self.burn_in:]

    def series(self, side: int, key: str, lead: int = 0) -> np.ndarray:
        """(seeds, weeks) of a ledger column since week 1 on each city of a side, or of
        ``street_members`` (gang members alive and not in prison); with ``lead``, up to
        that many weeks of burn-in before week 1 too (for moving means)."""
        if key == STREET:
            return np.array(self.street[side], dtype=float).reshape(self.seeds, -1)
        first = max(0, self.burn_in - lead)
        return np.array([[r[key] for r in city.ledger.rows[first:]] for city in self.sides[side][1]], dtype=float
                        ).reshape(self.seeds, -1)

    def _step_cities(self) -> None:
        for (_, runs), street in zip(self.sides, self.street, strict=True):
            for city, counts in zip(runs, street, strict=True):
                city.step()
                yth = city.youths
                counts.append(int((yth.free & (yth.gang >= 0)).sum()))

    def step(self) -> None:
        if not self.sides:
            return
        self._step_cities()
        self.running = self.sides[0][1][0].running

    @property
    def week(self) -> int:
        """Weeks since week 0, the end of burn-in."""
        return self.sides[0][1][0].week - self.burn_in if self.sides else 0
