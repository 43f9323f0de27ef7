"""The model the classroom dashboard drives: one city, or two on the same seed.

``ClassroomModel`` builds a city from a preset with the policies a teacher switches on
(every registered policy, with the controls its module declares).
With ``compare`` on, it also builds the same city, from the same seed, without those
policies (or with a second set), and steps both together: until the policies start
the two are identical, so every difference a class sees afterwards is the policy's,
not chance.
"""

from __future__ import annotations

import mesa

from abm import policies
from abm.config import load_scenario
from abm.model import CityModel
from abm.presets import resolve_scenario

PRESETS = ("classroom", "district")
MAX_SEED = 2**63 - 1  # as an experiment's root_seed


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
                     start_step: int | None = None) -> dict:
    """Dotted overrides that switch the chosen policies on, with their controls' levels
    (``levels`` keyed by :func:`control_key`)."""
    out: dict = {}
    levels = levels or {}
    for cls in policies.registered():
        if not chosen.get(cls.name):
            continue
        out[f"policies.{cls.name}.start"] = int(start_step) if start_step is not None else None
        for c in cls.controls:
            value = levels.get(control_key(cls.name, c.field))
            if value is not None:
                out[f"policies.{cls.name}.{c.field}"] = value
    return out


def arm_label(chosen: dict[str, bool]) -> str:
    labels = [cls.label or cls.name for cls in policies.registered() if chosen.get(cls.name)]
    return " + ".join(labels) if labels else "No policy"


class ClassroomModel(mesa.Model):
    """A city with the chosen policies, and optionally the same city without them."""

    def __init__(
        self,
        preset: str = "classroom",
        seed: int = 1,
        compare: bool = True,
        start_year: float = 1.0,
        scenario: object = None,
        **choices,
    ):
        """``choices``: for each registered policy ``<name>`` (switch it on; default its
        ``dashboard_on``), ``compare_<name>`` (on in the comparison city) and its
        controls' levels, ``<name>__<field>`` (default the parameter's). ``scenario`` is
        Mesa's own (SolaraViz passes one on reset) and is not used: the city's
        parameters come from the preset and the choices.

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
        registered = policies.registered()
        levels = control_defaults()
        known = {*levels, *(cls.name for cls in registered), *(f"compare_{cls.name}" for cls in registered)}
        unknown = sorted(set(choices) - known)
        if unknown:
            raise TypeError(f"ClassroomModel: unknown choices {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        levels.update({k: v for k, v in choices.items() if k in levels})
        self.preset = preset
        start_step = round(start_year * 52)
        self.start_step = start_step
        self.cities: list[tuple[str, CityModel]] = []
        if self.refused:
            self.running = False
            return
        chosen = {cls.name: bool(choices.get(cls.name, cls.dashboard_on)) for cls in registered}
        other = {cls.name: bool(choices.get(f"compare_{cls.name}", False)) for cls in registered}
        # The dashboard measures from the start, and policies start at start_year.
        base = {"run.burn_in": 0, "run.steps": 5200}
        path = resolve_scenario(preset)
        self.cities.append(
            (arm_label(chosen), CityModel(load_scenario(path, {**base, **policy_overrides(chosen, levels, start_step)}),
                                          self.seed)),
        )
        if compare:
            self.cities.append(
                (arm_label(other), CityModel(load_scenario(path, {**base, **policy_overrides(other, levels, start_step)}),
                                             self.seed))
            )
        if compare and self.cities[0][0] == self.cities[1][0]:
            self.cities[1] = (self.cities[1][0] + " (same)", self.cities[1][1])

    def step(self) -> None:
        for _, city in self.cities:
            city.step()

    @property
    def week(self) -> int:
        return self.cities[0][1].week if self.cities else 0
