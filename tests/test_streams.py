"""Random streams: keyed by seed, decision and week; draws laid out per person and block,
so that what one mechanism or one person does leaves the others' draws in place."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from abm.model import CityModel
from abm.streams import Streams, binomial, poisson


def test_a_stream_depends_on_its_key_not_on_other_streams():
    one = Streams(7)
    first = one.get("joining", 3).random(5)
    other = Streams(7)
    other.get("patrol", 3).random(100)  # another decision drawn first
    assert np.array_equal(other.get("joining", 3).random(5), first)
    assert not np.array_equal(one.get("joining", 4).random(5), first)
    assert not np.array_equal(one.get("desistance", 3).random(5), first)
    assert not np.array_equal(Streams(8).get("joining", 3).random(5), first)


def assert_quantile(k, u, law):
    """k is the smallest count whose distribution function reaches u (to rounding)."""
    assert (law.cdf(k) >= u - 1e-9).all()
    assert (law.cdf(k - 1) < u + 1e-9).all()


@settings(max_examples=40, deadline=None)
@given(rate=st.floats(0, 60), seed=st.integers(0, 2**32 - 1))
def test_poisson_by_inversion_is_the_poisson_quantile(rate, seed):
    u = np.random.default_rng(seed).random(50)
    assert_quantile(poisson(u, np.full(50, rate)), u, stats.poisson(rate))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 800), p=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_binomial_by_inversion_is_the_binomial_quantile(n, p, seed):
    u = np.random.default_rng(seed).random(50)
    assert_quantile(binomial(u, np.full(50, n), p), u, stats.binom(n, p))


def test_a_count_moves_only_where_its_rate_moves():
    u = np.random.default_rng(1).random(1000)
    rate = np.full(1000, 0.4)
    higher = rate.copy()
    higher[10] = 3.0
    a, b = poisson(u, rate), poisson(u, higher)
    assert np.array_equal(np.delete(a, 10), np.delete(b, 10)) and b[10] >= a[10]


def _twins(scenario, seed=5, weeks=30):
    """Two identical cities after ``weeks`` steps, their clocks on the next step."""
    a, b = CityModel(scenario, seed), CityModel(scenario, seed)
    for _ in range(weeks):
        a.step()
        b.step()
    a.week += 1
    b.week += 1
    return a, b


def test_one_youth_leaving_the_candidates_does_not_change_who_else_joins(classroom):
    from abm import behaviour

    scenario = classroom.replace(**{"youth.join_base": 0.0})  # many joins in one week
    a, b = _twins(scenario)
    yth = b.youths
    local = b.city.gang_owner[yth.block]
    candidates = np.flatnonzero(yth.free & (yth.gang < 0) & (local >= 0))
    out = int(candidates[len(candidates) // 2])
    b.youths.incarcerated[out] = True  # no longer a candidate; nothing else changes
    before = a.youths.gang.copy()
    behaviour.youth_choices(a)
    behaviour.youth_choices(b)
    joined_a = np.flatnonzero((before < 0) & (a.youths.gang >= 0))
    joined_b = np.flatnonzero((before < 0) & (b.youths.gang >= 0))
    assert len(joined_a) >= 5
    assert np.array_equal(joined_a[joined_a != out], joined_b)


def test_police_in_one_block_does_not_change_confrontations_elsewhere(classroom):
    from abm import violence

    scenario = classroom.replace(**{"violence.gang_rate": 0.5, "violence.youth_rate": 0.02,
                                    "violence.lethality": 0.0})
    a, b = _twins(scenario)
    contested = np.flatnonzero(violence.rival_of_block(b) >= 0)
    if len(contested) == 0:
        pytest.skip("no contested block in this city")
    block = int(contested[0])
    b.city.police_presence[block] += 5.0
    exposure = a.city.violence_exposure.copy()
    violence.confrontations(a)
    violence.confrontations(b)
    around = b.city.moore[block]
    elsewhere = np.setdiff1d(np.arange(b.city.n_blocks), around[around >= 0])
    assert (a.city.violence_exposure[elsewhere] > exposure[elsewhere] * 0.97).any()  # there was violence
    assert np.array_equal(a.city.violence_exposure[elsewhere], b.city.violence_exposure[elsewhere])
