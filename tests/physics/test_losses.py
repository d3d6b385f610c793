"""Tests for sim.physics.losses: depth rates over the surface, losses capped in order."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim.physics.losses import cap_losses, evaporation_m3s, monthly_mm_to_daily_mm, precipitation_m3s


def test_evaporation_and_precipitation_hand_checked():
    # 8.64 mm/day over 100 km² = 10 m³/s; 5 mm/day over 512.5 km² = 29.66 m³/s.
    assert_allclose(evaporation_m3s(100e6, 8.64), 10.0)
    assert_allclose(evaporation_m3s(512.5e6, 5.0), 5e-3 * 512.5e6 / 86400)
    assert_allclose(precipitation_m3s(np.array([0.0, 100e6]), 8.64), [0.0, 10.0])


def test_cap_losses_in_order():
    # 100 m³/s of water: evaporation 30 taken fully, seepage 50 fully, withdrawal 40 only 20.
    evap, seep, wd = cap_losses(np.array(100.0), 30.0, 50.0, 40.0)
    assert_allclose([evap, seep, wd], [30.0, 50.0, 20.0])
    evap, seep = cap_losses(np.array([10.0, -5.0]), np.array([30.0, 1.0]), np.array([1.0, 1.0]))
    assert_array_equal(evap, [10.0, 0.0])
    assert_array_equal(seep, [0.0, 0.0])


@settings(max_examples=100, deadline=None)
@given(st.floats(-100, 1e4), st.lists(st.floats(0, 5e3), min_size=1, max_size=5))
def test_cap_losses_never_more_than_the_water(water, requests):
    taken = cap_losses(np.array(water), *requests)
    assert len(taken) == len(requests)
    for t, r in zip(taken, requests, strict=True):
        assert 0.0 <= t <= r
    assert sum(taken) <= max(water, 0.0) * (1 + 1e-12) + 1e-9
    # Whatever is not taken was not there: the first short request takes all that was left.
    if sum(requests) <= max(water, 0.0):
        assert_allclose(taken, requests, atol=1e-9)


def test_monthly_to_daily_keeps_monthly_totals():
    from sim.physics.calendar import Period

    monthly = np.array([10, 15, 40, 70, 120, 160, 180, 160, 110, 70, 35, 15], dtype=float)
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    month_index = np.repeat(np.arange(12), days)
    per_day = monthly_mm_to_daily_mm(monthly, Period("2025-01-01", "2025-12-31"))
    assert per_day.shape == (365,)
    assert_allclose(np.bincount(month_index, per_day), monthly)
    assert_allclose(per_day.sum(), monthly.sum())
    leap = monthly_mm_to_daily_mm(monthly, Period("2024-02-01", "2024-02-29"))
    assert_allclose(leap, 15.0 / 29)
