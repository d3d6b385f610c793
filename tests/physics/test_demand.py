"""Tests for sim.physics.demand: users, priorities, proportional sharing."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim.physics.demand import User, allocate, downstream_water_m3s, priority_groups


def _alloc(water, demands, priorities):
    return [
        np.asarray(s)
        for s in allocate(
            np.asarray(water, dtype=float), [np.asarray(d, dtype=float) for d in demands], priority_groups(priorities)
        )
    ]


def test_priority_groups():
    assert priority_groups([2, 1, 2, 3]) == [[1], [0, 2], [3]]
    assert priority_groups([1]) == [[0]]
    assert priority_groups([]) == []


def test_priorities_served_in_order():
    # 100 m³/s for a priority-1 user wanting 70 and a priority-2 user wanting 50.
    s1, s2 = _alloc(100.0, [70.0, 50.0], [1, 2])
    assert_allclose([s1, s2], [70.0, 30.0])
    # Lower number first, whatever the order of the list.
    s1, s2 = _alloc(100.0, [50.0, 70.0], [2, 1])
    assert_allclose([s1, s2], [30.0, 70.0])
    # Not enough for the first: the second gets nothing.
    s1, s2 = _alloc(60.0, [70.0, 50.0], [1, 2])
    assert_allclose([s1, s2], [60.0, 0.0])


def test_equal_priorities_share_in_proportion():
    # 60 for demands 30 and 90 (total 120): half of each.
    s1, s2 = _alloc(60.0, [30.0, 90.0], [1, 1])
    assert_allclose([s1, s2], [15.0, 45.0])
    # A priority-1 group, then a shared priority-2 group.
    s1, s2, s3 = _alloc(100.0, [40.0, 40.0, 80.0], [1, 2, 2])
    assert_allclose([s1, s2, s3], [40.0, 20.0, 40.0])


def test_surplus_and_zero_and_negative_water():
    s1, s2 = _alloc(1000.0, [30.0, 90.0], [1, 1])
    assert_allclose([s1, s2], [30.0, 90.0])
    s1, s2 = _alloc(50.0, [0.0, 0.0], [1, 1])
    assert_array_equal([s1, s2], [0.0, 0.0])
    s1, s2 = _alloc(-10.0, [30.0, 90.0], [1, 2])
    assert_array_equal([s1, s2], [0.0, 0.0])


def test_vectorised_over_members():
    water = np.array([0.0, 50.0, 100.0, 500.0])
    s1, s2 = _alloc(water, [np.full(4, 40.0), np.full(4, 80.0)], [1, 2])
    assert_allclose(s1, [0.0, 40.0, 40.0, 40.0])
    assert_allclose(s2, [0.0, 10.0, 60.0, 80.0])


@settings(max_examples=100, deadline=None)
@given(
    st.floats(-100, 2000),
    st.lists(st.tuples(st.one_of(st.just(0.0), st.floats(1e-6, 500)), st.integers(1, 3)), min_size=1, max_size=6),
)
def test_allocation_properties(water, users):
    demands = [d for d, _ in users]
    priorities = [p for _, p in users]
    supplies = _alloc(water, demands, priorities)
    total_demand = sum(demands)
    assert_allclose(sum(supplies), min(max(water, 0.0), total_demand), rtol=1e-12, atol=1e-9)
    for s, d in zip(supplies, demands, strict=True):
        assert 0.0 <= s <= d * (1 + 1e-12)
    for i, (s, d) in enumerate(zip(supplies, demands, strict=True)):
        for j, (sj, dj) in enumerate(zip(supplies, demands, strict=True)):
            # A user gets water only once every more urgent user is fully served.
            if s > 0 and priorities[j] < priorities[i]:
                assert_allclose(sj, dj, rtol=1e-12)
            # Users of equal priority get the same share of their demands.
            if priorities[j] == priorities[i] and dj > 0 and d > 0:
                assert_allclose(sj / dj, s / d, rtol=1e-9, atol=1e-12)


def test_downstream_water():
    assert_allclose(downstream_water_m3s(500.0, 0.1, 20.0), 470.0)
    assert_allclose(downstream_water_m3s(np.array([0.0, 100.0]), 0.0, -5.0), [-5.0, 95.0])


def test_user_shapes_and_checks():
    u = User("a", np.ones(10))
    assert u.demand_m3s.shape == (10, 1)
    assert u.scale.shape == ()
    assert User("b", np.ones((10, 3)), scale=[1.0, 2.0, 3.0]).scale.shape == (3,)
    with pytest.raises(ValueError, match=re.escape("user a: location is 'river'; expected one of ('downstream', 'reservoir')")):
        User("a", np.ones(3), location="river")
    with pytest.raises(ValueError, match=re.escape("user a: demand must be finite and >= 0")):
        User("a", np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match=re.escape("user a: demand must be a daily series")):
        User("a", np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match=re.escape("user a: scale must be a number or per-member array >= 0")):
        User("a", np.ones(3), scale=-1.0)
