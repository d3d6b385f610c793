"""Tests for sim.physics.hydropower: power, head, tailwater rating, unit limits."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim import builtin
from sim.physics import units
from sim.physics.hydropower import Plant, TailwaterRating, check_plant, energy_mwh, head_m, power_w, turbine_flow_m3s

RHO_G = 1000.0 * 9.81


def test_power_reference_value():
    # DATA.md: 100 m³/s through 20 m at η = 0.9 gives 17.658 MW.
    assert_allclose(power_w(100.0, 20.0, 0.9), 17_658_000.0, rtol=1e-15)
    assert_allclose(units.w_to_mw(power_w(100.0, 20.0, 0.9)), 17.658, rtol=1e-15)


def test_power_negative_head_is_zero():
    assert power_w(100.0, -3.0, 0.9) == 0.0
    assert_array_equal(power_w(np.array([100.0, 100.0]), np.array([-1.0, 0.0]), 0.9), [0.0, 0.0])


def test_power_broadcasts():
    p = power_w(np.array([[100.0], [200.0]]), np.array([10.0, 20.0]), 0.9)
    assert p.shape == (2, 2)
    assert_allclose(p, RHO_G * 0.9 * np.array([[1000.0, 2000.0], [2000.0, 4000.0]]))


def test_head_and_energy():
    assert head_m(347.5, 325.0) == 22.5
    assert head_m(320.0, 325.0) == 0.0
    assert_allclose(energy_mwh(1e6), 24.0)
    assert_allclose(energy_mwh(174e6, hours=1.0), 174.0)


def test_builtin_tailwater_rating_placeholder(reservoir):
    tw = reservoir.tailwater
    assert_array_equal(tw.flow_m3s, [0.0, 300.0, 1000.0, 4000.0])
    assert_array_equal(tw.level_m, [324.1, 325.0, 327.1, 336.1])
    assert_array_equal(tw(np.array([0.0, 300.0, 1000.0, 4000.0])), [324.1, 325.0, 327.1, 336.1])
    # level = 325.0 + 0.003 (Q − 300) above 300 m³/s, also beyond the table (linear extension).
    q = np.array([300.0, 650.0, 2500.0, 5040.0])
    assert_allclose(tw(q), 325.0 + 0.003 * (q - 300.0), rtol=1e-13)
    assert_allclose(tw(150.0), 324.55)


@pytest.mark.parametrize(
    "flow, level, message",
    [
        ([0.0, 300.0, 200.0], [1.0, 2.0, 3.0], "tailwater rating: flow_m3s must increase strictly"),
        ([0.0, 300.0], [2.0, 1.0], "tailwater rating: level_m must not decrease with flow"),
        ([0.0], [1.0], "tailwater rating: flow_m3s and level_m must be lists of equal length >= 2"),
        ([0.0, np.inf], [1.0, 2.0], "tailwater rating: flows and levels must be finite"),
    ],
)
def test_tailwater_rating_rejects(flow, level, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        TailwaterRating(flow, level)


@pytest.mark.parametrize(
    "name, installed_mw, max_flow, efficiency",
    [("original", 126.0, 900.0, 0.85), ("rehabilitated", 174.0, 1080.0, 0.90), ("degraded", 99.0, 900.0, 0.85)],
)
def test_builtin_plants(name, installed_mw, max_flow, efficiency):
    p = builtin.plant(name)
    assert p.n_units == 6
    assert_allclose(p.installed_w, installed_mw * 1e6)
    assert_allclose(p.unit_max_flow_m3s.sum(), max_flow)
    assert p.efficiency == efficiency
    assert (p.min_head_m, p.max_head_m) == (12.0, 22.5)


def test_available_with_k_units(plant):
    flow, cap = plant.available(np.arange(8))
    assert_allclose(flow, [0, 180, 360, 540, 720, 900, 1080, 1080])  # 7 is clipped to 6
    assert_allclose(cap, np.array([0, 29, 58, 87, 116, 145, 174, 174]) * 1e6)
    flow, cap = plant.available(-1)
    assert flow == 0.0 and cap == 0.0
    flow, cap = plant.available(np.array([[6, 5], [3, 0]]))
    assert flow.shape == cap.shape == (2, 2)
    assert_allclose(flow, [[1080, 900], [540, 0]])


def test_available_unequal_degraded_units():
    # The first k units of the list run: 21, 21, 21, 12, 12, 12 MW.
    p = builtin.plant("degraded")
    flow, cap = p.available(np.arange(7))
    assert_allclose(cap, np.array([0, 21, 42, 63, 75, 87, 99]) * 1e6)
    assert_allclose(flow, np.arange(7) * 150.0)
    custom = Plant.from_field_units(3, [10.0, 20.0, 5.0], [100.0, 150.0, 40.0], 0.9, 5.0, 30.0)
    flow, cap = custom.available([1, 2, 3])
    assert_allclose(flow, [100.0, 250.0, 290.0])
    assert_allclose(cap, [10e6, 30e6, 35e6])


def test_turbine_flow_limits():
    cap_w = 174e6
    eff = 0.9
    # Outflow below every limit: all of it.
    assert_allclose(turbine_flow_m3s(500.0, 20.0, 1080.0, cap_w, eff, 12.0), 500.0)
    # Unit flow limit.
    assert_allclose(turbine_flow_m3s(2000.0, 16.0, 1080.0, cap_w, eff, 12.0), 1080.0)
    # Generator capacity: at 14 m the generators use 174e6 / (9810 × 0.9 × 14) = 1407.7 m³/s,
    # at 22 m only 895.8 m³/s.
    assert_allclose(turbine_flow_m3s(2000.0, 22.0, 1080.0, cap_w, eff, 12.0), cap_w / (RHO_G * eff * 22.0))
    assert_allclose(turbine_flow_m3s(2000.0, 14.0, 1500.0, cap_w, eff, 12.0), cap_w / (RHO_G * eff * 14.0))
    # Below the minimum head (and at zero head) the turbines stop.
    assert turbine_flow_m3s(500.0, 11.9, 1080.0, cap_w, eff, 12.0) == 0.0
    assert turbine_flow_m3s(500.0, 0.0, 1080.0, cap_w, eff, 12.0) == 0.0
    assert_allclose(turbine_flow_m3s(500.0, 12.0, 1080.0, cap_w, eff, 12.0), 500.0)
    # Vectorised.
    q = turbine_flow_m3s(np.array([500.0, 2000.0, 500.0]), np.array([20.0, 20.0, 5.0]), 1080.0, cap_w, eff, 12.0)
    assert_allclose(q, [500.0, 985.389, 0.0], atol=0.001)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0, 6000),
    st.floats(0, 30),
    st.integers(0, 6),
)
def test_turbine_power_never_exceeds_capacity(outflow, head, k):
    plant = builtin.plant("rehabilitated")
    max_flow, cap = plant.available(k)
    q = turbine_flow_m3s(outflow, head, max_flow, cap, plant.efficiency, plant.min_head_m)
    assert 0.0 <= q <= min(outflow, max_flow) + 1e-9
    assert power_w(q, head, plant.efficiency) <= cap * (1 + 1e-12) + 1e-6
    if head < plant.min_head_m:
        assert q == 0.0


def test_check_plant_messages():
    assert check_plant(6, 29.0, 180.0, 0.9, 12.0, 22.5) == []
    assert check_plant(2.5, 29.0, 180.0, 0.9, 12.0, 22.5) == ["units is 2.5; expected a whole number >= 0"]
    assert check_plant(6, [29.0, 29.0], 180.0, 0.9, 12.0, 22.5) == [
        "unit_capacity_mw has 2 values; expected 1 or one per unit (6)"
    ]
    assert check_plant(6, 29.0, -1.0, 0.9, 12.0, 22.5) == ["unit_max_flow_m3s is -1.0; expected finite numbers >= 0"]
    assert check_plant(6, 29.0, 180.0, 1.2, 12.0, 22.5) == ["efficiency is 1.2; expected 0 < efficiency <= 1"]
    assert check_plant(6, 29.0, 180.0, 0.9, 22.5, 12.0) == [
        "head range 22.5–12.0 m; expected 0 <= min_head_m < max_head_m"
    ]
    with pytest.raises(ValueError, match=re.escape("plant: efficiency is 0.0; expected 0 < efficiency <= 1")):
        Plant.from_field_units(6, 29.0, 180.0, 0.0, 12.0, 22.5)
