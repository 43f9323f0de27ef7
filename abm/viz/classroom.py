"""The model the classroom dashboard drives: one city, or two on the same seed.

``ClassroomModel`` builds a city from a preset with the policies a teacher switches on.
With ``compare`` on, it also builds the same city, from the same seed, without those
policies (or with a second set), and steps both together: until the policies start
the two are identical, so every difference a class sees afterwards is the policy's,
not chance.
"""

from __future__ import annotations

from pathlib import Path

import mesa

from abm.config import load_scenario
from abm.model import CityModel

CONFIGS = Path(__file__).resolve().parent.parent.parent / "configs"
PRESETS = ("classroom", "district")
POLICIES = ("focused_deterrence", "cbt", "community_policing", "mano_dura")
LABELS = {
    "focused_deterrence": "Focused deterrence",
    "cbt": "CBT",
    "community_policing": "Community policing",
    "mano_dura": "Mano dura",
}


def policy_overrides(policies: dict[str, bool], **levels: float) -> dict:
    """Dotted overrides that switch policies on, with their main levels."""
    out: dict = {}
    main = {
        "focused_deterrence": ("crackdowns_per_100k", levels.get("fd_capacity")),
        "cbt": ("capacity_per_100k", levels.get("cbt_capacity")),
        "community_policing": ("coverage", levels.get("cp_coverage")),
        "mano_dura": ("coverage", levels.get("md_coverage")),
    }
    start = levels.get("start_step")
    for name, on in policies.items():
        if not on:
            continue
        field, value = main[name]
        out[f"policies.{name}.start"] = int(start) if start is not None else None
        if value is not None:
            out[f"policies.{name}.{field}"] = value
    return out


def arm_label(policies: dict[str, bool]) -> str:
    names = [LABELS[n] for n in POLICIES if policies.get(n)]
    return " + ".join(names) if names else "No policy"


class ClassroomModel(mesa.Model):
    """A city with the chosen policies, and optionally the same city without them."""

    def __init__(
        self,
        preset: str = "classroom",
        seed: int = 1,
        compare: bool = True,
        focused_deterrence: bool = False,
        cbt: bool = False,
        community_policing: bool = True,
        mano_dura: bool = False,
        compare_focused_deterrence: bool = False,
        compare_cbt: bool = False,
        compare_community_policing: bool = False,
        compare_mano_dura: bool = False,
        cp_coverage: float = 0.3,
        md_coverage: float = 0.4,
        cbt_capacity: float = 300.0,
        fd_capacity: float = 6.0,
        start_year: float = 1.0,
    ):
        super().__init__(rng=int(seed))
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}")
        self.preset = preset
        self.seed = int(seed)
        levels = dict(cp_coverage=cp_coverage, md_coverage=md_coverage, cbt_capacity=cbt_capacity,
                      fd_capacity=fd_capacity, start_step=round(start_year * 52))
        chosen = dict(focused_deterrence=focused_deterrence, cbt=cbt, community_policing=community_policing,
                      mano_dura=mano_dura)
        other = dict(focused_deterrence=compare_focused_deterrence, cbt=compare_cbt,
                     community_policing=compare_community_policing, mano_dura=compare_mano_dura)
        # The dashboard measures from the start, and policies start at start_year.
        base = {"run.burn_in": 0, "run.steps": 5200}
        path = CONFIGS / f"{preset}.toml"
        self.start_step = levels["start_step"]
        self.cities: list[tuple[str, CityModel]] = [
            (arm_label(chosen), CityModel(load_scenario(path, {**base, **policy_overrides(chosen, **levels)}),
                                          self.seed)),
        ]
        if compare:
            self.cities.append(
                (arm_label(other), CityModel(load_scenario(path, {**base, **policy_overrides(other, **levels)}),
                                             self.seed))
            )
        if compare and self.cities[0][0] == self.cities[1][0]:
            self.cities[1] = (self.cities[1][0] + " (same)", self.cities[1][1])

    def step(self) -> None:
        for _, city in self.cities:
            city.step()

    @property
    def week(self) -> int:
        return self.cities[0][1].week
