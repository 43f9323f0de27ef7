"""Agent-based simulation of neighbourhood crime dynamics in segregated Latin American
cities, for comparing citizen-security policies.

    from abm import load_scenario, simulate
    result = simulate(load_scenario("configs/classroom.toml"), seed=1)
    result.summary["homicide_rate_per_100k"]

The names below are imported when first used (PEP 562), so that reading and analysing
result files (:mod:`abm.results`, :mod:`abm.analysis`, :mod:`abm.measures`, :mod:`abm.io`) never loads the
model.
"""

from __future__ import annotations

import importlib
import sys
import types

DISTRIBUTION = "citizen-security-abm"  # what pip installs; the import package is abm

_LAZY = {
    "ConfigError": "abm.schema",
    "Scenario": "abm.config",
    "load_scenario": "abm.config",
    "RunResult": "abm.simulate",
    "simulate": "abm.simulate",
    "load_results": "abm.results",
}

__all__ = ["ConfigError", "RunResult", "Scenario", "load_results", "load_scenario", "simulate", "__version__"]


def _version() -> str:
    """The installed distribution's version, set from git when it was built."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # a source tree on sys.path, never installed
        return "0+unknown"


def __getattr__(name: str):
    if name == "__version__":
        globals()["__version__"] = value = _version()
        return value
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'abm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"__version__"})


class _Package(types.ModuleType):
    """Importing the submodule ``abm.simulate`` binds it on the package; the package's
    ``simulate`` stays the function, as when it was imported eagerly."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and name in _LAZY and value.__name__ == f"{__name__}.{name}":
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
