"""Tests for sim.builtin: every preset builds, inputs have the right shapes and totals."""

import datetime
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sim import builtin
from sim.engine.driver import Model, simulate
from sim.inputs.series import SeriesError
from sim.physics.calendar import Period, growing_season, water_year
from sim.rules.regimes import Regime

KHUJAND_MM = np.array([10, 15, 40, 70, 120, 160, 180, 160, 110, 70, 35, 15], dtype=float)


def test_hypsometry_and_reservoir():
    h = builtin.hypsometry()
    assert h.source == "preset bakhri-tojik"
    assert_allclose(h.storage_m3_at(347.5), 4160e6)
    r = builtin.reservoir()
    assert (r.min_level_m, r.normal_level_m, r.max_level_m) == (340.5, 347.5, 349.0)
    assert r.spillway_capacity_m3s == 3960.0
    assert r.name == "bakhri-tojik"
    r = builtin.reservoir(min_level_m=338.0, spillway_capacity_m3s=3000.0, siltation_fraction=0.1)
    assert r.min_level_m == 338.0 and r.spillway_capacity_m3s == 3000.0
    assert_allclose(r.hypsometry.storage_m3_at(347.5), 0.9 * 4160e6)
    r = builtin.reservoir(tailwater_flow_m3s=[0.0, 1000.0], tailwater_level_m=[324.0, 328.0])
    assert_allclose(r.tailwater(500.0), 326.0)


@pytest.mark.parametrize(
    "name, units_mw", [("original", [21] * 6), ("rehabilitated", [29] * 6), ("degraded", [21, 21, 21, 12, 12, 12])]
)
def test_every_plant_builds(name, units_mw):
    p = builtin.plant(name)
    assert p.name == name
    assert_array_equal(p.unit_capacity_w, np.array(units_mw) * 1e6)


def test_plant_overrides():
    assert builtin.plant("rehabilitated", units=5).n_units == 5
    assert_allclose(builtin.plant("rehabilitated", efficiency=0.8).efficiency, 0.8)
    # An explicit capacity overrides the degraded units' per-unit list.
    assert_allclose(builtin.plant("degraded", unit_capacity_mw=20.0).installed_w, 120e6)


@pytest.mark.parametrize(
    "name, volume_hm3", [("mean-2001-2010", 7489.152), ("dry-2008", 3234.6432), ("wet-2010", 12264.601)]
)
def test_inflow_presets_growing_season(name, volume_hm3):
    q = builtin.inflow_m3s(growing_season(2025), name)
    assert q.shape == (183,)
    assert np.all(q > 0)
    # DATA.md: April–September 7.5 km³ on average, 3.2 km³ in 2008.
    assert_allclose(q.sum() * 0.0864, volume_hm3, rtol=1e-6)


def test_mean_inflow_covers_a_water_year():
    q = builtin.inflow_m3s(water_year(2025))
    assert q.shape == (365,)
    assert_allclose(q.sum() * 0.0864 / 1000, 20.7, atol=0.1)  # annual mean 20.7 km³


def test_dry_2008_for_a_water_year_raises():
    with pytest.raises(
        SeriesError,
        match=re.escape("start 04-01 with 18 values covers 04-01..09-30 only; the period 2024-10-01..2025-09-30"),
    ):
        builtin.inflow_m3s(water_year(2025), "dry-2008")


@pytest.mark.parametrize("year", [2024, 2025])  # leap and common year
def test_evaporation_sums_to_monthly_totals(year):
    # The khujand monthly depths add up to 985 mm a year (DATA.md, Jan..Dec).
    period = Period(datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    e = builtin.evaporation_mm_day(period)
    assert e.shape == (period.n_days,)
    assert_allclose(np.bincount(period.month_index, e), KHUJAND_MM)
    assert_allclose(e.sum(), KHUJAND_MM.sum())
    assert_allclose(e.sum(), 985.0)
    assert_allclose(e[0], 10.0 / 31)


def test_evaporation_over_season_and_water_year():
    assert_allclose(builtin.evaporation_mm_day(growing_season(2025)).sum(), 70 + 120 + 160 + 180 + 160 + 110)
    assert_allclose(builtin.evaporation_mm_day(water_year(2025)).sum(), 985.0)
    # A period starting mid-month gets that month's daily rate on its days.
    part = builtin.evaporation_mm_day(Period(datetime.date(2025, 7, 17), datetime.date(2025, 7, 31)))
    assert_allclose(part, 180.0 / 31)


def test_seepage_demand_and_constants(season):
    seep = builtin.seepage_m3s(season)
    assert seep.shape == (183,)
    assert_allclose(np.unique(seep), [0.0, 27.7, 48.8, 101.9, 110.5])
    assert_allclose(seep[season.index_of(datetime.date(2025, 6, 15))], 101.9)
    d = builtin.baseline_demand_m3s(season)
    assert d.shape == (183,)
    assert d[0] == 720.0 and d[-1] == 322.0
    assert builtin.sanitary_min_release_m3s() == 150.0


def test_model_defaults_and_overrides(season):
    m = builtin.model(season)
    assert isinstance(m, Model)
    assert_allclose(m.initial_storage_m3, 3400e6)
    assert m.plant.name == "rehabilitated"
    assert [u.name for u in m.users] == ["downstream-baseline"]
    m = builtin.model(season, initial_storage_hm3=3000.0, plant_name="original", inflow="dry-2008", inflow_scale=0.9,
                      reservoir=builtin.reservoir(min_level_m=338.0))
    assert_allclose(m.initial_storage_m3, 3000e6)
    assert m.plant.name == "original"
    assert m.reservoir.min_level_m == 338.0
    assert m.inflow_scale == 0.9
    assert_allclose(m.inflow_m3s[:, 0], builtin.inflow_m3s(season, "dry-2008"))


@pytest.mark.parametrize("plant_name", ["original", "rehabilitated", "degraded"])
@pytest.mark.parametrize("inflow", ["mean-2001-2010", "dry-2008", "wet-2010"])
def test_every_preset_combination_runs(season, plant_name, inflow):
    m = builtin.model(season, inflow=inflow, plant_name=plant_name)
    result = simulate(m, Regime("demand", min_release_m3s=builtin.sanitary_min_release_m3s()))
    assert result.metrics["balance_error_hm3"][0] <= 1e-9
    assert result.metrics["level_min_m"][0] >= 340.5 - 1e-9
    assert result.metrics["energy_gwh"][0] > 0
