"""Tests for sim.engine.metrics: Hashimoto et al. (1982) reliability family and sequent peak."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim.engine import metrics
from sim.engine.metrics import (
    failure_events,
    reliability_time,
    reliability_volume,
    resilience,
    sequent_peak,
    vulnerability,
)
from sim.engine.results import SUMMARY_COLUMNS

# DATA.md reference: demand 10 per period, deficits [0, 0, 2, 4, 0, 0, 1, 0, 0, 0].
DEFICIT = np.array([0, 0, 2, 4, 0, 0, 1, 0, 0, 0], dtype=float)
DEMAND = np.full(10, 10.0)
SUPPLY = DEMAND - DEFICIT


def test_data_md_example():
    assert_allclose(reliability_time(DEFICIT), 0.7)
    assert_allclose(reliability_volume(SUPPLY, DEMAND), 0.93)
    assert_allclose(resilience(DEFICIT), 2.0 / 3.0)
    assert_allclose(vulnerability(DEFICIT), 2.5)  # mean of event maxima (4 and 1)
    assert_array_equal(failure_events(DEFICIT), [0, 0, 1, 1, 0, 0, 2, 0, 0, 0])


def test_vulnerability_of_another_quantity():
    # Failure days from the flow deficit, event maxima of the volume (× 0.0864 hm³/day).
    assert_allclose(vulnerability(DEFICIT, DEFICIT * 0.0864), 2.5 * 0.0864)


def test_two_members_at_once_equal_each_alone():
    other = np.array([5, 5, 0, 0, 0, 0, 0, 0, 3, 3], dtype=float)
    d2 = np.column_stack([DEFICIT, other])
    s2 = 10.0 - d2
    dem2 = np.full_like(d2, 10.0)
    for f, args, single in [
        (reliability_time, (d2,), lambda i: reliability_time(d2[:, i])),
        (reliability_volume, (s2, dem2), lambda i: reliability_volume(s2[:, i], dem2[:, i])),
        (resilience, (d2,), lambda i: resilience(d2[:, i])),
        (vulnerability, (d2,), lambda i: vulnerability(d2[:, i])),
    ]:
        both = f(*args)
        assert both.shape == (2,)
        for i in range(2):
            assert_allclose(both[i], single(i), rtol=1e-15)
    # Second member by hand: 4 failure days, 1 recovery (a failure on the last day does not
    # recover), events with maxima 5 and 3.
    assert_allclose(reliability_time(d2), [0.7, 0.6])
    assert_allclose(resilience(d2), [2.0 / 3.0, 0.25])
    assert_allclose(vulnerability(d2), [2.5, 4.0])
    assert_array_equal(failure_events(d2)[:, 1], [1, 1, 0, 0, 0, 0, 0, 0, 2, 2])


def test_no_failures():
    d = np.zeros((5, 3))
    assert_array_equal(reliability_time(d), [1.0, 1.0, 1.0])
    assert_array_equal(resilience(d), [1.0, 1.0, 1.0])
    assert_array_equal(vulnerability(d), [0.0, 0.0, 0.0])
    assert_array_equal(reliability_volume(np.zeros(4), np.zeros(4)), 1.0)  # nothing demanded


def test_round_off_deficit_is_not_a_failure():
    d = np.array([0.0, 5e-7, 0.0])
    assert reliability_time(d) == 1.0
    assert vulnerability(d) == 0.0


def test_all_failures():
    d = np.array([1.0, 2.0, 3.0])
    assert reliability_time(d) == 0.0
    assert resilience(d) == 0.0  # never recovers
    assert_allclose(vulnerability(d), 3.0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=1, max_size=60), st.integers(1, 4))
def test_metric_bounds_and_member_independence(values, k):
    d = np.asarray(values)
    dk = np.column_stack([np.roll(d, j) for j in range(k)])
    rt, rs, vu = reliability_time(dk), resilience(dk), vulnerability(dk)
    assert np.all((0 <= rt) & (rt <= 1)) and np.all((0 <= rs) & (rs <= 1))
    assert np.all((0 <= vu) & (vu <= d.max() + 1e-12))
    for j in range(k):
        assert rt[j] == reliability_time(dk[:, j])
        assert rs[j] == resilience(dk[:, j])
        assert vu[j] == vulnerability(dk[:, j])


def test_sequent_peak_reference():
    q = [1, 3, 3, 5, 8, 6, 7, 2, 1]
    assert_allclose(sequent_peak(q, 3.5), 4.0)
    assert_allclose(sequent_peak(q, 3.5, cyclic=True), 7.5)
    # Demand above the mean inflow: no finite storage suffices when the record repeats.
    assert sequent_peak(q, 5.0, cyclic=True) == np.inf
    # Vectorised over a trailing axis.
    q2 = np.column_stack([q, q])
    assert_allclose(sequent_peak(q2, np.array([3.5, 0.0]), cyclic=True), [7.5, 0.0])
    assert_allclose(sequent_peak(q2, 3.5), [4.0, 4.0])


def test_direction_covers_summary_columns():
    assert set(metrics.DIRECTION) == set(SUMMARY_COLUMNS)
    assert set(metrics.DIRECTION.values()) <= {"max", "min", None}
