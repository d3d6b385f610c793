"""Tests for sim.physics.hypsometry: level ↔ storage ↔ area, table checks, reservoir levels."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim import builtin
from sim.inputs.presets import hypsometry_table
from sim.physics.hypsometry import Hypsometry, Reservoir, check_hypsometry, check_reservoir_levels, power_law_table

HYPS = builtin.hypsometry()


def test_builtin_table_reference_values():
    # DATA.md / bakhri-tojik.toml: V = 4160 hm³ and A = 512.5 km² at 347.5 m, ≈1512 hm³ at 340.5 m.
    assert_allclose(HYPS.storage_m3_at(347.5), 4160e6, rtol=1e-12)
    assert_allclose(HYPS.area_m2_at_level(347.5), 512.512e6, rtol=1e-4)
    assert_allclose(HYPS.storage_m3_at(340.5), 1512e6, rtol=1e-3)
    assert HYPS.min_level_m == 322.5
    assert HYPS.max_level_m == 351.5
    assert HYPS.storage_m3[0] == 0.0
    assert HYPS.max_storage_m3 == HYPS.storage_m3[-1]
    # Active volume between 340.5 and 347.5 m: 2648 hm³ (bakhri-tojik.toml note).
    assert_allclose((HYPS.storage_m3_at(347.5) - HYPS.storage_m3_at(340.5)) / 1e6, 2648, atol=1)


def test_power_law_table_matches_formula():
    level, storage, area = power_law_table(322.5, 347.5, 4160.0, 3.08, top_level_m=351.5)
    assert level[0] == 322.5 and level[-1] == 351.5 and level.size == 117
    assert_allclose(storage, 4160.0 * ((level - 322.5) / 25.0) ** 3.08)
    i = np.flatnonzero(level == 347.5)[0]
    assert_allclose(storage[i], 4160.0)
    assert_allclose(area[i], 4160.0 * 3.08 / 25.0)  # 512.512 km²


def test_round_trip_exact_on_table_points():
    assert_array_equal(HYPS.storage_m3_at(HYPS.level_m), HYPS.storage_m3)
    assert_array_equal(HYPS.level_m_at(HYPS.storage_m3), HYPS.level_m)
    assert_array_equal(HYPS.level_m_at(HYPS.storage_m3_at(HYPS.level_m)), HYPS.level_m)
    assert_array_equal(HYPS.area_m2_at(HYPS.storage_m3), HYPS.area_m2)
    assert_array_equal(HYPS.area_m2_at_level(HYPS.level_m), HYPS.area_m2)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(322.5, 351.5), min_size=1, max_size=100))
def test_round_trip_between_table_points(levels):
    h = np.asarray(levels)
    s = HYPS.storage_m3_at(h)
    assert_allclose(HYPS.level_m_at(s), h, rtol=0, atol=1e-9)
    # Both directions agree on the area too.
    assert_allclose(HYPS.area_m2_at(s), HYPS.area_m2_at_level(h), rtol=1e-9, atol=1e-3)
    # The fast (unchecked) paths give the same numbers inside the table.
    assert_array_equal(HYPS.storage_fast(h), s)
    assert_array_equal(HYPS.level_fast(s), HYPS.level_m_at(s))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=100))
def test_monotonic(fractions):
    s = np.sort(np.asarray(fractions)) * HYPS.max_storage_m3
    assert np.all(np.diff(HYPS.level_m_at(s)) >= 0)
    h = np.sort(322.5 + np.asarray(fractions) * 29.0)
    assert np.all(np.diff(HYPS.storage_m3_at(h)) >= 0)
    assert np.all(HYPS.area_m2_at_level(h) >= 0)


@pytest.mark.parametrize(
    "call, arg, message",
    [
        ("storage_m3_at", 352.0, "level 352 m is outside the hypsometry table (322.5–351.5 m)"),
        ("area_m2_at_level", 322.0, "level 322 m is outside the hypsometry table (322.5–351.5 m)"),
        ("level_m_at", 7000e6, "storage 7000 hm³ is outside the hypsometry table (0–"),
        ("area_m2_at", -1e6, "storage -1 hm³ is outside the hypsometry table (0–"),
        ("storage_m3_at", np.nan, "level nan m is outside the hypsometry table"),
    ],
)
def test_outside_the_table_raises(call, arg, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(HYPS, call)(arg)


def test_outside_the_table_names_first_bad_value():
    with pytest.raises(ValueError, match=re.escape("level 360 m is outside")):
        HYPS.storage_m3_at([340.0, 360.0, 370.0])


def test_fast_paths_outside_the_table():
    # Below empty: clamped to the first row; above the top: linear extension.
    assert_array_equal(HYPS.level_fast(np.array([-5.0, 0.0])), [322.5, 322.5])
    assert HYPS.level_fast(HYPS.max_storage_m3 + 1e8) > 351.5
    assert HYPS.storage_fast(300.0) == 0.0


def test_check_hypsometry_good_table_has_no_problems():
    assert check_hypsometry(HYPS.level_m, HYPS.storage_m3, HYPS.area_m2) == []


@pytest.mark.parametrize(
    "level, storage_hm3, area_km2, expected",
    [
        (
            [340.0, 341.0, 342.0],
            [100.0, 200.0, 200.0],
            [10.0, 20.0, 30.0],
            ["row 3: storage_hm3 must increase with level; 200 is followed by 200"],
        ),
        (
            [340.0, 341.0, 342.0],
            [100.0, 250.0, 200.0],
            [10.0, 20.0, 30.0],
            ["row 3: storage_hm3 must increase with level; 250 is followed by 200"],
        ),
        (
            [340.0, 342.0, 341.0],
            [100.0, 200.0, 300.0],
            [10.0, 20.0, 30.0],
            ["row 3: level_m must increase with level; 342 is followed by 341"],
        ),
        (
            [340.0, 341.0],
            [100.0, 200.0],
            [10.0, -5.0],
            ["row 2: area_km2 is -5; expected >= 0"],
        ),
        (
            [340.0, 341.0, 342.0],
            [100.0, 200.0, 300.0],
            [100.0, 100.0, 10.0],  # a misplaced decimal point: the water surface cannot shrink
            ["row 3: area_km2 must not fall as the level rises; 100 is followed by 10"],
        ),
        (
            [340.0, 341.0],
            [100.0, np.nan],
            [10.0, 20.0],
            ["row 2: storage_hm3 is nan; expected a finite number"],
        ),
        ([340.0], [100.0], [10.0], ["needs at least 2 rows, found 1"]),
        (
            [340.0, 341.0],
            [100.0],
            [10.0, 20.0],
            ["columns differ in length: 2 levels, 1 storages, 2 areas"],
        ),
    ],
)
def test_check_hypsometry_messages(level, storage_hm3, area_km2, expected):
    problems = check_hypsometry(level, np.asarray(storage_hm3) * 1e6, np.asarray(area_km2) * 1e6)
    assert problems == expected


def test_bad_table_raises_with_the_problems():
    with pytest.raises(
        ValueError, match=re.escape("hypsometry: row 2: storage_hm3 must increase with level; 5 is followed by 4")
    ):
        Hypsometry.from_table([1.0, 2.0, 3.0], [5.0, 4.0, 6.0], [0.0, 1.0, 2.0])


def test_table_is_read_only():
    with pytest.raises(ValueError):
        HYPS.storage_m3[0] = 1.0


def test_siltation_fraction_scales_storage_and_area():
    level, storage, area = hypsometry_table("bakhri-tojik")
    silted = Hypsometry.from_table(level, storage, area, siltation_fraction=0.25)
    assert_allclose(silted.storage_m3, HYPS.storage_m3 * 0.75)
    assert_allclose(silted.area_m2, HYPS.area_m2 * 0.75)
    assert_allclose(silted.storage_m3_at(347.5), 3120e6)
    assert_array_equal(silted.level_m, HYPS.level_m)
    # The built-in accessor takes the same argument.
    assert_allclose(builtin.hypsometry(siltation_fraction=0.25).storage_m3, silted.storage_m3)


@pytest.mark.parametrize("f", [-0.1, 1.0, 1.5])
def test_siltation_fraction_out_of_range(f):
    with pytest.raises(ValueError, match=re.escape(f"siltation_fraction is {f}; expected 0 <= f < 1")):
        Hypsometry.from_table([1.0, 2.0], [0.0, 1.0], [0.0, 1.0], siltation_fraction=f)


def test_reservoir_levels_checked(reservoir):
    assert reservoir.min_level_m == 340.5
    assert reservoir.normal_level_m == 347.5
    assert reservoir.max_level_m == 349.0
    assert reservoir.spillway_capacity_m3s == 3960.0
    assert check_reservoir_levels(HYPS, 340.5, 347.5, 349.0, 3960.0) == []
    assert check_reservoir_levels(HYPS, 348.0, 347.5, 349.0, 3960.0) == [
        "min_level_m 348.0 is above normal_level_m 347.5; expected min_level_m <= normal_level_m <= max_level_m"
    ]
    assert check_reservoir_levels(HYPS, 340.5, 347.5, 347.0, 3960.0) == [
        "normal_level_m 347.5 is above max_level_m 347.0; expected min_level_m <= normal_level_m <= max_level_m"
    ]
    assert check_reservoir_levels(HYPS, 340.5, 347.5, 360.0, -1.0) == [
        "max_level_m is 360.0; expected a level within the hypsometry table (322.5–351.5 m)",
        "spillway_capacity_m3s is -1.0; expected a finite number >= 0",
    ]
    with pytest.raises(ValueError, match=re.escape("reservoir: min_level_m 348.0 is above normal_level_m 347.5")):
        Reservoir(HYPS, 348.0, 347.5, 349.0, 3960.0, reservoir.tailwater)


def test_reservoir_per_member_levels(reservoir):
    r = builtin.reservoir(min_level_m=[335.0, 340.5, 342.0])
    assert r.min_level_m.shape == (3,)
    with pytest.raises(ValueError, match="min_level_m"):
        builtin.reservoir(min_level_m=[335.0, 348.0])
