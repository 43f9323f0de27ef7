"""The model as a plain function of parameters, for notebooks and exploratory modelling.

``CityModelFunction`` is ``f(**params) -> dict``: keyword arguments are dotted field
paths (``**{"police.officers": 300}``) plus an optional ``seed``; the result is the
run summary's outputs. It is picklable, so EMA Workbench's multiprocessing evaluator
can use it as-is::

    from ema_workbench import Model, RealParameter, ScalarOutcome, perform_experiments
    from abm.workbench import CityModelFunction

    f = CityModelFunction("configs/classroom.toml")
    model = Model("city", function=f)
    model.uncertainties = [RealParameter("violence.lethality", 0.1, 0.3),
                           RealParameter("youth.join_peer", 1.0, 5.0)]
    model.outcomes = [ScalarOutcome("homicide_rate_per_100k"),
                      ScalarOutcome("recruitment_per_1000_youth")]
    results = perform_experiments(model, 50)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from abm.config import load_scenario
from abm.simulate import simulate

DEFAULT_OUTPUTS = (
    "homicide_rate_per_100k",
    "recruitment_per_1000_youth",
    "gang_members",
    "incarceration_per_100k",
    "trust_mean",
    "conviction_rate",
)


class CityModelFunction:
    """``f(**params) -> dict`` over a scenario file (and optional policy files).

    Args:
        config: scenario file.
        policies: policy files merged over it.
        outputs: summary measures returned (default :data:`DEFAULT_OUTPUTS`).
        seed: seed used when a call gives none.
    """

    def __init__(self, config: str | Path, policies: tuple[str | Path, ...] = (), outputs=DEFAULT_OUTPUTS, seed: int = 1):
        self.base = load_scenario(config, None, list(policies))
        self.outputs = tuple(outputs)
        self.seed = seed

    def __call__(self, **params: Any) -> dict:
        seed = int(params.pop("seed", self.seed))
        scenario = self.base.replace(**params) if params else self.base
        summary = simulate(scenario, seed).summary
        return {k: summary[k] for k in self.outputs}
