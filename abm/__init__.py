"""Agent-based simulation of neighbourhood crime dynamics in segregated Latin American
cities, for comparing citizen-security policies.

    from abm import load_scenario, simulate
    result = simulate(load_scenario("configs/classroom.toml"), seed=1)
    result.summary["homicide_rate_per_100k"]
"""

__version__ = "0.1.0"

from abm.config import ConfigError, Scenario, load_scenario  # noqa: E402
from abm.simulate import RunResult, simulate  # noqa: E402

__all__ = ["ConfigError", "RunResult", "Scenario", "load_scenario", "simulate", "__version__"]
