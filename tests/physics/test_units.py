"""Tests for sim.physics.units: constants and conversions, hand-checked."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from sim.physics import units


def test_constants():
    assert units.SECONDS_PER_DAY == 86_400.0
    assert units.GRAVITY_M_S2 == 9.81
    assert units.WATER_DENSITY_KG_M3 == 1000.0
    assert units.M3_PER_HM3 == 1.0e6
    assert units.M2_PER_KM2 == 1.0e6
    assert_allclose(units.HM3_PER_M3S_DAY, 0.0864, rtol=1e-15)


def test_scale_factors_multiply_where_the_functions_divide():
    assert 4.16e9 * units.HM3_PER_M3 == 4160.0
    assert 5.13e8 * units.KM2_PER_M2 == 513.0
    assert 29.0e6 * units.MW_PER_W == 29.0
    # Why both exist: a product by 1e-6 and a quotient by 1e6 differ in the last bit for some
    # values, and pinned messages and outputs keep the operation they were written with.
    assert 123.0 * units.HM3_PER_M3 == 0.00012299999999999998 != units.m3_to_hm3(123.0) == 0.000123


def test_flow_to_volume_per_day():
    # 1 m³/s for a day is 86 400 m³ = 0.0864 hm³; 1000 m³/s is 86.4 hm³.
    assert_allclose(units.m3s_to_hm3_per_day(1.0), 0.0864)
    assert_allclose(units.m3s_to_hm3_per_day(1000.0), 86.4)
    assert_allclose(units.m3s_to_hm3_per_day(np.array([0.0, 500.0])), [0.0, 43.2])


def test_volume_and_area():
    assert units.hm3_to_m3(4160.0) == 4.16e9
    assert units.m3_to_hm3(4.16e9) == 4160.0
    assert units.km2_to_m2(513.0) == 5.13e8
    assert units.m2_to_km2(5.13e8) == 513.0


def test_depth_rate_over_area():
    # 8.64 mm/day over 100 km² is 864 000 m³/day = 10 m³/s.
    assert_allclose(units.mm_day_over_area_to_m3s(8.64, 100e6), 10.0)
    # 160 mm in June (30 d) over 411 km² = 25.37 m³/s (DATA.md seepage note).
    assert_allclose(units.mm_day_over_area_to_m3s(160.0 / 30, 411e6), 25.37, atol=0.005)


def test_power_and_energy():
    assert_allclose(units.w_to_mw(17_658_000.0), 17.658, rtol=1e-15)
    assert units.mw_to_w(29.0) == 29e6
    # 1 MW for a day = 24 MWh.
    assert_allclose(units.w_day_to_mwh(1e6), 24.0)
    assert_allclose(units.w_day_to_mwh(174e6), 4176.0)


@settings(max_examples=50, deadline=None)
@given(st.floats(0, 1e12, allow_nan=False))
def test_round_trips(x):
    assert_allclose(units.m3_to_hm3(units.hm3_to_m3(x)), x, rtol=1e-15)
    assert_allclose(units.m2_to_km2(units.km2_to_m2(x)), x, rtol=1e-15)
    assert_allclose(units.w_to_mw(units.mw_to_w(x)), x, rtol=1e-15)
