"""Violence interruption: mediation after killings on the workers' blocks cuts the
grievance that drives retaliation, and nothing else."""

import pytest

from abm.simulate import simulate, write_run

from .test_policies import with_policy, window_sum

START = 52  # the short scenario's burn-in: workers start in week 53
STRONG = {"workers_per_100k": 150, "credibility": 1.0, "mediation_success": 1.0}


@pytest.fixture(scope="module")
def short(classroom):
    """Classroom city, 3 years, outreach workers from week 53."""
    return classroom.replace(**{"run.steps": 156, "run.burn_in": START})


def retaliations(events, after: int, memory: int = 18) -> int:
    """Killings by a gang, after step ``after``, within ``memory`` weeks (grievance's
    mean life) of a killing of one of its members by a gang."""
    losses: dict[int, list[int]] = {}
    n = 0
    for e in sorted(events, key=lambda e: e["step"]):
        if e["kind"] != "gang":
            continue
        g = e["perpetrator_gang"]
        if e["step"] > after and any(0 < e["step"] - w <= memory for w in losses.get(g, ())):
            n += 1
        if e["victim_type"] == "rival_member" and e["victim_gang"] >= 0:
            losses.setdefault(e["victim_gang"], []).append(e["step"])
    return n


def test_no_workers_reproduce_the_baseline_byte_for_byte(short, tmp_path):
    write_run(simulate(short, 3), tmp_path / "base")
    write_run(simulate(with_policy(short, "violence_interruption", workers_per_100k=0), 3), tmp_path / "zero")
    for f in ("timeseries.csv", "blocks.csv", "events.csv"):
        assert (tmp_path / "base" / f).read_bytes() == (tmp_path / "zero" / f).read_bytes(), f
    base = (tmp_path / "base" / "summary.csv").read_text().splitlines()[1].split(",")
    zero_row = (tmp_path / "zero" / "summary.csv").read_text().splitlines()[1].split(",")
    assert base[2:] == zero_row[2:]  # all but the scenario's name and hash


def test_mediation_after_killings_means_fewer_retaliations(short):
    longer = short.replace(**{"run.steps": 364})  # six years of workers: enough wars to count
    base = vi = mediations = 0
    for seed in (1, 3, 4, 8):  # seeds with wars between gangs in the classroom city
        b = simulate(longer, seed)
        v = simulate(with_policy(longer, "violence_interruption", **STRONG), seed)
        base += retaliations(b.events, START)
        vi += retaliations(v.events, START)
        mediations += window_sum(v, "vi_mediations")
        assert all(r["vi_sites"] > 0 for r in v.timeseries[START:])
    assert mediations > 0
    assert vi < base, (vi, base)


@pytest.mark.parametrize("off", [{"mediation_success": 0.0}, {"credibility": 0.0}])
def test_mediation_that_settles_nothing_changes_nothing_but_the_bill(short, off):
    base = simulate(short, 1)
    vi = simulate(with_policy(short, "violence_interruption", **{**STRONG, **off}), 1)
    assert vi.events == base.events
    for key in ("homicides", "confrontations", "recruits", "gang_members"):
        assert [r[key] for r in vi.timeseries] == [r[key] for r in base.timeseries], key
    assert window_sum(vi, "vi_reached") > 0
    assert (window_sum(vi, "vi_mediations") > 0) == (off.get("credibility", 1.0) > 0)
    assert window_sum(vi, "policy_cost") > 0


def test_workers_go_to_the_blocks_with_most_killings(short):
    import numpy as np

    from abm.model import CityModel
    from abm.policies.violence_interruption import ViolenceInterruption

    model = CityModel(with_policy(short, "violence_interruption", **STRONG), seed=1)
    model.run(START + 1)  # the sites are chosen in the first active week
    (vi,) = [pol for pol in model.policies if isinstance(pol, ViolenceInterruption)]
    assert vi.site.sum() == vi.n_sites > 0
    # The past year before the choice (made before week START + 1's violence).
    kills = np.bincount([e["block"] for e in model.events if e["kind"] != "police" and 1 < e["step"] <= START],
                        minlength=model.city.n_blocks)
    assert kills[vi.site].min() >= kills[~vi.site].max()
