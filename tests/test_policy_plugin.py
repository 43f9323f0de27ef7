"""A policy is one module: a policy defined here, and only here, runs through
``simulate``, an experiment arm and the written files once it is registered.

The policy is a youth job programme: each week it places unemployed out-of-school
youths of poor blocks in jobs. It acts only through the existing mechanisms (a job
lowers the chance of joining a gang and raises desistance, see abm.behaviour); it sets
no homicide or recruitment figure.
"""

import csv

import numpy as np
import pytest
from pydantic import Field

from abm import measures, policies
from abm.config import ConfigError, load_scenario
from abm.measures import Measure, Total, WindowMeasure
from abm.policies.base import Control, PersonState, Policy, PolicyParams
from abm.schema import NonNeg
from abm.simulate import simulate, write_run
from abm.sweep.experiment import load_experiment
from abm.sweep.runner import run_experiment

from .conftest import CONFIGS


class JobProgrammeParams(PolicyParams):
    places_per_100k: NonNeg = Field(400.0, description="job placements a week per 100,000 people")
    unit_cost: NonNeg = Field(60.0, description="US$ per placed youth-week (wage subsidy)")


class JobProgramme(Policy):
    name = "job_programme"
    label = "Youth jobs"
    description = "subsidised jobs for out-of-school youths in poor blocks"
    Params = JobProgrammeParams
    order = 50
    state = (PersonState("job_placed_step", np.int64, -1, "step the youth was placed (-1 never)"),)
    measures = (
        Measure("jobs_placed", "youths/week", "youths placed in a job this week", "count"),
        Measure("job_programme_youths", "youths", "youths ever placed who are alive"),
    )
    window_measures = (
        WindowMeasure("job_placements", Total(("jobs_placed",)), "youths", "youths placed in the window"),
    )
    controls = (Control("places_per_100k", "Youth jobs: placements a week per 100,000", 0, 2000, 50, dtype=int),)
    cost_unit = "placed youth-week"

    def __init__(self, params, model):
        super().__init__(params, model)
        self.places = int(round(params.places_per_100k * model.people_start / 1e5))

    @classmethod
    def observe(cls, model) -> dict:
        yth = model.youths
        return {"job_programme_youths": int((yth.alive & (yth.job_placed_step >= 0)).sum())}

    def programmes(self, model) -> None:
        yth = model.youths
        poor = model.city.poor[yth.block].astype(bool)
        idx = np.flatnonzero(yth.free & ~yth.in_school & ~yth.employed & poor)
        chosen = idx[np.lexsort((idx, -yth.propensity[idx]))[: self.places]]
        yth.employed[chosen] = True
        yth.job_placed_step[chosen] = model.week
        model.ledger.count("jobs_placed", len(chosen))

    def cost(self, model) -> float:
        yth = model.youths
        return float((yth.alive & yth.employed & (yth.job_placed_step >= 0)).sum()) * self.params.unit_cost


@pytest.fixture
def job_programme():
    policies.register(JobProgramme)
    try:
        yield JobProgramme
    finally:
        policies.unregister(JobProgramme.name)


def short_scenario(overrides=None):
    base = {"run.steps": 104, "run.burn_in": 52}
    return load_scenario(CONFIGS / "classroom.toml", {**base, **(overrides or {})})


def read(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_policy_defined_in_one_module_runs_everywhere(job_programme, tmp_path):
    assert "job_programme" in policies.names() and policies.names()[-1] == "job_programme"
    scenario = short_scenario({"policies.job_programme.places_per_100k": 300})
    assert scenario.policies.job_programme.places_per_100k == 300

    # simulate: its measures are columns; it moves employment and costs money.
    result = simulate(scenario, 1)
    assert sum(r["jobs_placed"] for r in result.timeseries) > 0
    assert result.summary["job_placements"] == sum(r["jobs_placed"] for r in result.timeseries[52:])
    assert result.summary["policy_cost"] > 0
    base = simulate(short_scenario(), 1)
    assert all(r["jobs_placed"] == 0 for r in base.timeseries)
    # Nothing moves before the policy starts (rows compared as text: NaN == NaN).
    assert [repr(r) for r in base.timeseries[:52]] == [repr(r) for r in result.timeseries[:52]]

    # written files: its columns in timeseries.csv and summary.csv.
    write_run(result, tmp_path / "run")
    series = read(tmp_path / "run" / "timeseries.csv")
    assert "jobs_placed" in series[0] and "job_programme_youths" in series[0]
    assert int(read(tmp_path / "run" / "summary.csv")[0]["job_placements"]) == result.summary["job_placements"]

    # an experiment arm, from a policy file named like the policy.
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "job_programme.toml").write_text("[policies.job_programme]\nplaces_per_100k = 300\n")
    exp_file = tmp_path / "jobs.toml"
    exp_file.write_text(
        f'name = "jobs"\nscenario = "{CONFIGS / "classroom.toml"}"\npolicy_dir = "policies"\nreplications = 1\n'
        'set = { "run.steps" = 104, "run.burn_in" = 52 }\nwindows = { short_years = 0.5, long_years = 0.5 }\n'
        '[[arms]]\nname = "baseline"\n[[arms]]\nname = "job_programme"\n'
    )
    exp = load_experiment(exp_file)
    run_experiment(exp, tmp_path / "exp", workers=1, progress=False)
    runs = {r["arm"]: r for r in read(tmp_path / "exp" / "runs.csv")}
    assert runs["job_programme"]["status"] == "ok"
    assert int(runs["job_programme"]["job_placements"]) > 0 and int(runs["baseline"]["job_placements"]) == 0
    assert "job_placements__long" in runs["baseline"]


def test_a_registered_policy_is_validated_and_has_dashboard_controls(job_programme):
    from abm.viz.classroom import control_defaults, policy_overrides

    with pytest.raises(ConfigError, match=r"policies.job_programme.places_per_100k: must be >= 0"):
        short_scenario({"policies.job_programme.places_per_100k": -1})
    assert control_defaults()["job_programme__places_per_100k"] == 400
    assert policy_overrides({"job_programme": True}, {"job_programme__places_per_100k": 100}, 52) == {
        "policies.job_programme.start": 52, "policies.job_programme.places_per_100k": 100}
    assert "job_placements" in measures.window_columns()


def test_unregistering_removes_the_policy_everywhere():
    policies.register(JobProgramme)
    policies.unregister(JobProgramme.name)
    assert "job_programme" not in policies.names()
    assert "jobs_placed" not in measures.timeseries_columns()
    assert "job_placements" not in measures.window_columns()
    with pytest.raises(ConfigError, match="policies.job_programme: unknown key"):
        short_scenario({"policies.job_programme.places_per_100k": 300})
    from abm.model import CityModel

    assert not hasattr(CityModel(short_scenario(), 1).youths, "job_placed_step")
