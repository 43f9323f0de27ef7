"""The truce: leaderships hold back confrontations while it holds, and nothing else."""

import numpy as np
import pytest

from abm import violence
from abm.policies.truce import TruceParams, leadership_restraint
from abm.simulate import simulate, write_run

from .test_policies import with_policy, window_sum

START = 52  # the short scenario's burn-in: the truce holds from week 53


@pytest.fixture(scope="module")
def short(classroom):
    """Classroom city, 3 years, the truce from week 53."""
    return classroom.replace(**{"run.steps": 156, "run.burn_in": START})


@pytest.fixture
def gang_confrontations(monkeypatch):
    """Record each week's confrontations between gangs (step -> count)."""
    weeks: dict[int, int] = {}
    real = violence.gang_confrontations

    def recording(model, u):
        conf, rival = real(model, u)
        weeks[model.week] = int(conf.sum())
        return conf, rival

    monkeypatch.setattr(violence, "gang_confrontations", recording)
    return weeks


def test_no_weight_on_restraint_reproduces_the_baseline_byte_for_byte(short, tmp_path):
    write_run(simulate(short, 3), tmp_path / "base")
    write_run(simulate(with_policy(short, "truce", restraint_weight=0), 3), tmp_path / "zero")
    for f in ("timeseries.csv", "blocks.csv", "events.csv"):
        assert (tmp_path / "base" / f).read_bytes() == (tmp_path / "zero" / f).read_bytes(), f
    base = (tmp_path / "base" / "summary.csv").read_text().splitlines()[1].split(",")
    zero_row = (tmp_path / "zero" / "summary.csv").read_text().splitlines()[1].split(",")
    assert base[2:] == zero_row[2:]  # all but the scenario's name and hash


def test_leaders_of_organised_gangs_hold_back_more():
    p = TruceParams()
    r = leadership_restraint(np.array([0.0, 0.5, 1.0]), p)
    assert np.all(np.diff(r) > 0)
    assert r[0] == pytest.approx(p.restraint_weight * p.command_diffuse)
    assert r[2] == pytest.approx(p.restraint_weight * p.command_organised)


def test_fewer_confrontations_between_gangs_while_the_truce_holds(short, gang_confrontations):
    during = {}
    for arm, scenario in (("base", short), ("truce", with_policy(short, "truce"))):
        total = 0
        for seed in (1, 2, 3):
            gang_confrontations.clear()
            result = simulate(scenario, seed)
            total += sum(n for week, n in gang_confrontations.items() if week > START)
            if arm == "truce":
                assert all(r["truce_active"] == 1 for r in result.timeseries[START:])
                assert all(r["truce_restraint"] > 0 for r in result.timeseries[START:])
        during[arm] = total
    assert during["truce"] < 0.8 * during["base"], during


def test_leaders_without_command_change_nothing_but_the_bill(short):
    base = simulate(short, 2)
    off = simulate(with_policy(short, "truce", command_organised=0, command_diffuse=0), 2)
    assert off.events == base.events
    for key in ("homicides", "confrontations", "recruits", "gang_members", "organisation_mean"):
        assert [r[key] for r in off.timeseries] == [r[key] for r in base.timeseries], key
    assert window_sum(off, "truce_active") == len(off.timeseries) - START
    assert window_sum(off, "truce_restraint") == 0
    assert window_sum(off, "policy_cost") > 0


def test_restraint_ends_when_the_truce_collapses(short):
    end = START + 52
    result = simulate(with_policy(short, "truce", end=end), 1)
    active = [r["truce_active"] for r in result.timeseries]
    assert active[:START] == [0] * START
    assert active[START:end] == [1] * (end - START)
    assert active[end:] == [0] * (len(active) - end)
    assert all(r["truce_restraint"] == 0 and r["policy_cost"] == 0 for r in result.timeseries[end:])


def test_restraint_never_raises_a_blocks_confrontation_rate(classroom):
    from abm.violence import gang_confrontation_rate

    def rate(restraint):
        one = np.array([1.0])
        return gang_confrontation_rate(
            classroom.violence, own=5 * one, rival=4 * one, propensity=0.5 * one, grievance=2 * one,
            police=0.5 * one, efficacy=0.3 * one, organisation=0.4 * one, sanction=0.2 * one, restraint=restraint,
        )[0]

    levels = [rate(r) for r in (0.0, 0.25, 0.5, 1.0)]
    assert levels == sorted(levels, reverse=True) and levels[-1] == 0
    assert rate(0.0) == rate(np.array([0.0]))  # no restraint: the rate without the factor


def test_a_leadership_that_loses_members_breaks_the_truce_for_good(short):
    broke = 0
    for seed in (1, 2):
        result = simulate(with_policy(short, "truce", breach_grievance=1.0), seed)
        active = [r["truce_active"] for r in result.timeseries[START:]]
        if 0 in active:
            broke += 1
            after = active.index(0)
            assert set(active[after:]) == {0}, "a broken truce came back"
            assert all(r["truce_restraint"] == 0 and r["policy_cost"] == 0
                       for r in result.timeseries[START + after:])
    assert broke > 0, "no leadership lost a member to a rival in two seeds of two years"


def test_a_breach_limit_never_reached_changes_nothing(short):
    holds = simulate(with_policy(short, "truce"), 1)
    never = simulate(with_policy(short, "truce", breach_grievance=1000), 1)
    assert never.events == holds.events
    assert [repr(r) for r in never.timeseries] == [repr(r) for r in holds.timeseries]
