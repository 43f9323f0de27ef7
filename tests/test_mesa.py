"""The model as Mesa users expect it: a DataCollector of the weekly measures, and
mesa.batch_run."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from abm.metrics import timeseries_columns
from abm.model import CityModel
from abm.population import Youth
from abm.simulate import simulate

from .conftest import CONFIGS


def test_the_datacollector_holds_the_weekly_measures(tiny):
    model = CityModel(tiny, seed=4)
    model.run(12)
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame.columns) == list(timeseries_columns())
    assert len(frame) == 12
    assert frame["step"].tolist() == list(range(1, 13))
    assert frame["homicides"].tolist() == [row["homicides"] for row in model.ledger.rows]


def test_youths_state_is_collected_when_asked(tiny):
    model = CityModel(tiny, seed=4, collect_agents=True)
    model.run(3)
    youths = model.datacollector.get_agenttype_vars_dataframe(Youth)
    assert {"gang", "propensity", "incarcerated"} <= set(youths.columns)
    per_week = youths.groupby(level="Step").size()
    assert list(per_week.index) == [1, 2, 3]
    assert (per_week <= model.youths.n).all() and (per_week >= 0.95 * model.youths.n).all()  # the youths alive
    with pytest.warns(UserWarning, match="No agent-type reporters"):  # off by default
        assert CityModel(tiny, seed=4).datacollector.get_agenttype_vars_dataframe(Youth).empty


def test_batch_run_takes_a_scenario_file_and_seeds_and_matches_simulate(tiny, tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(f'base = "{(CONFIGS / "classroom.toml").as_posix()}"\n[run]\nsteps = 30\nburn_in = 5\n')
    rows = mesa.batch_run(CityModel, parameters={"scenario": str(path)}, rng=[1, 2], max_steps=1000,
                          number_processes=1, data_collection_period=-1, display_progress=False)
    assert sorted(r["seed"] for r in rows) == [1, 2]
    assert all(r["step"] == 30 for r in rows)  # the scenario's length stops the run (model.running)
    scenario = tiny.replace(**{"run.steps": 30, "run.burn_in": 5})
    for r in rows:
        expected = simulate(scenario, r["seed"]).timeseries[-1]
        assert r["homicides"] == expected["homicides"] and np.isclose(r["trust_mean"], expected["trust_mean"])


def test_a_bundled_scenario_can_be_named():
    from abm import load_scenario

    model = CityModel("classroom", seed=1)
    assert model.p.name == "classroom" and model.people_start == 6400
    assert load_scenario("classroom", layers=["cbt"]).policies.cbt is not None


def test_a_run_without_a_seed_draws_one_and_keeps_it(tiny):
    model = CityModel(tiny, seed=None)
    again = CityModel(tiny, seed=model.seed)
    model.run(5)
    again.run(5)
    assert model.datacollector.get_model_vars_dataframe().equals(again.datacollector.get_model_vars_dataframe())
