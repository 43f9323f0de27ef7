"""Shared fixtures: a small city, built once per session where tests only read it."""

import multiprocessing
from pathlib import Path

import pytest

from abm.config import load_scenario

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"

# Sweeps start their workers from a server process (abm.sweep.runner.worker_context),
# and many tests start a pool of them: let that server import the model once, so that
# every later pool's workers start with it loaded instead of importing it again.
if "forkserver" in multiprocessing.get_all_start_methods():
    multiprocessing.get_context("forkserver").set_forkserver_preload(["__main__", "abm.simulate", "abm.sweep.runner"])


# The files whose tests take longest (a minute or more on two cores), longest first.
# pytest-xdist hands each worker whole files (--dist loadfile) in the order they are
# collected: started first, they run beside the many short files instead of leaving
# one worker busy alone at the end.
LONGEST_FIRST = ("test_study.py", "test_dashboard.py", "test_stationarity.py", "test_teaching.py",
                 "test_patterns.py", "test_posterior.py", "test_experiment.py", "test_examples.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


def pytest_addoption(parser):
    parser.addoption(
        "--update-baselines",
        action="store_true",
        default=False,
        help="rewrite the pinned fixed-seed run summaries in tests/baselines/ instead of comparing",
    )
    parser.addoption(
        "--update-docs",
        action="store_true",
        default=False,
        help="rewrite the outputs shown in docs/study.md (and its figure) from a fresh run instead of comparing",
    )


@pytest.fixture(scope="session")
def update_docs(request) -> bool:
    return bool(request.config.getoption("--update-docs"))


@pytest.fixture(scope="session")
def update_baselines(request) -> bool:
    return bool(request.config.getoption("--update-baselines"))


@pytest.fixture(scope="session")
def classroom():
    return load_scenario(CONFIGS / "classroom.toml")


@pytest.fixture
def tiny(classroom):
    """A classroom city shortened for fast tests (still with burn-in)."""
    return classroom.replace(**{"run.steps": 120, "run.burn_in": 20})


def fail_replicate(monkeypatch, exp, replicate: int = 1):
    """Make every run of one replicate of ``exp`` raise, as a crashing run would; return
    the real ``simulate`` so a test can put it back."""
    from abm.sweep import runner

    bad_seed = exp.seed(replicate)
    real = runner.simulate

    def flaky(scenario, seed, **kwargs):
        if seed == bad_seed:
            raise RuntimeError("simulated failure")
        return real(scenario, seed, **kwargs)

    monkeypatch.setattr(runner, "simulate", flaky)
    return real
