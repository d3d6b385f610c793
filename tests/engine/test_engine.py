"""Tests for sim.engine.driver.simulate: the daily mass balance, limits, ensembles and chunking."""

import dataclasses
import datetime
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim import builtin
from sim.engine.driver import Model, SimulationError, n_members_of, simulate
from sim.physics.calendar import Period
from sim.physics.demand import User
from sim.rules.regimes import BINDING_CODE, Regime

DAY_S = 86_400.0
TOL_M3 = 1e-9 * 1e6  # 1e-9 hm³
APRIL = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 30))  # 30 days
RES = builtin.reservoir()
HYPS = RES.hypsometry
PLANT = builtin.plant("rehabilitated")
S_MIN = HYPS.storage_m3_at(340.5)
S_NORM = HYPS.storage_m3_at(347.5)
CODE = BINDING_CODE


def _model(period=APRIL, *, level_m=345.0, inflow=500.0, reservoir=RES, plant=PLANT, **kwargs):
    """A model with no losses unless given: constant inflow, start at `level_m`."""
    return Model(
        period=period,
        reservoir=reservoir,
        plant=plant,
        initial_storage_m3=kwargs.pop("initial_storage_m3") if "initial_storage_m3" in kwargs else HYPS.storage_m3_at(level_m),
        inflow_m3s=np.broadcast_to(np.asarray(inflow, dtype=float), (period.n_days,)) if np.ndim(inflow) == 0 else inflow,
        **kwargs,
    )


def _schedule(release, period=APRIL, **kwargs):
    r = np.broadcast_to(np.asarray(release, dtype=float), (period.n_days,)) if np.ndim(release) == 0 else release
    return Regime("schedule", params={"release_m3s": r}, **kwargs)


def _start_storage(result):
    return np.vstack([result.storage_start_m3[None, :], result.daily["storage_m3"][:-1]])


def _assert_balance(result):
    assert np.abs(result.balance_residual_m3()).max() <= TOL_M3
    assert np.all(result.metrics["balance_error_hm3"] <= 1e-9)


# --- The DATA.md plausibility check --------------------------------------------------------


def test_growing_season_plausibility(season):
    model = builtin.model(season)  # mean inflow, 3400 hm³ on 1 April, baseline demand, seepage, khujand
    assert_allclose(model.initial_storage_m3, 3400e6)
    result = simulate(model, Regime("demand", min_release_m3s=150.0))
    m = result.metrics
    _assert_balance(result)
    drawdown_hm3 = m["storage_start_hm3"][0] - m["storage_end_hm3"][0]
    print(f"drawdown {drawdown_hm3:.0f} hm³, energy {m['energy_gwh'][0]:.1f} GWh, level end {m['level_end_m'][0]:.2f} m")
    assert 1000.0 <= drawdown_hm3 <= 2500.0
    assert 250.0 <= m["energy_gwh"][0] <= 500.0
    # The volumes add up: start + inflow − losses − release = end.
    assert_allclose(
        m["storage_start_hm3"] + m["inflow_hm3"] - m["evaporation_hm3"] - m["seepage_hm3"] - m["release_hm3"],
        m["storage_end_hm3"],
        rtol=1e-12,
    )
    assert_allclose(m["inflow_hm3"], 7489.152, rtol=1e-9)  # mean April–September, DATA.md 7.5 km³
    assert_allclose(m["turbine_hm3"] + m["spill_hm3"], m["release_hm3"], rtol=1e-12)
    # Never below the minimum operating level through releases: the level bottoms out at 340.5 m.
    assert m["level_min_m"][0] >= 340.5 - 1e-9
    assert m["days_below_min_level"][0] == 0
    assert 0.0 < m["reliability_time"][0] <= 1.0
    assert m["supply_hm3"][0] <= m["demand_hm3"][0]


# --- Water balance, hypothesis ------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    levels=st.tuples(st.floats(322.6, 351.0), st.floats(322.6, 351.0)),
    min_level=st.sampled_from([322.5, 335.0, 340.5]),
    rule=st.sampled_from(["schedule", "demand", "power", "level"]),
    min_release=st.floats(0.0, 500.0),
    max_release=st.one_of(st.just(np.inf), st.floats(0.0, 6000.0)),
    ramp=st.one_of(st.just(np.inf), st.floats(1.0, 500.0)),
    initial_release=st.one_of(st.none(), st.floats(0.0, 2000.0)),
    evaporation=st.floats(0.0, 15.0),
    seepage=st.floats(0.0, 300.0),
    withdrawal=st.floats(0.0, 100.0),
    units=st.integers(0, 6),
    precipitation=st.floats(0.0, 10.0),
    reach_loss=st.floats(0.0, 0.3),
    lateral=st.floats(-50.0, 200.0),
    flood=st.sampled_from([1.0, 1.0, 4.0]),
)
def test_water_balance_closes_for_random_inputs(
    seed, levels, min_level, rule, min_release, max_release, ramp, initial_release, evaporation, seepage,
    withdrawal, units, precipitation, reach_loss, lateral, flood,
):
    rng = np.random.default_rng(seed)
    n = APRIL.n_days
    inflow = rng.uniform(0.0, 3000.0 * flood, n) * (rng.uniform(size=n) > 0.2)  # some days without inflow; floods
    params = {
        "schedule": {"release_m3s": rng.uniform(0.0, 3000.0, n)},
        "demand": {"hedging_trigger_level_m": 343.0, "hedging_factor": 0.7},
        "power": {"target_mw": rng.uniform(0.0, 200.0, n)},
        "level": {"target_level_m": rng.uniform(335.0, 349.0, n)},
    }[rule]
    regime = Regime(
        rule, params=params, min_release_m3s=min_release, max_release_m3s=max(max_release, min_release),
        max_change_m3s_day=ramp, initial_release_m3s=initial_release,
    )
    model = Model(
        period=APRIL,
        reservoir=builtin.reservoir(min_level_m=min_level),
        plant=PLANT,
        initial_storage_m3=HYPS.storage_m3_at(np.array(levels)),
        inflow_m3s=inflow,
        evaporation_mm_day=evaporation,
        evaporation_factor=[1.0, 1.3],
        precipitation_mm_day=precipitation,
        seepage_m3s=seepage,
        reach_loss_fraction=reach_loss,
        lateral_inflow_m3s=lateral,
        units_available=np.full(n, units),
        users=(
            User("downstream", rng.uniform(0.0, 1500.0, n)),
            User("pumping", np.full(n, withdrawal), location="reservoir"),
        ),
    )
    result = simulate(model, regime)
    d = result.daily
    assert result.n_members == 2
    _assert_balance(result)
    s0, s1 = _start_storage(result), d["storage_m3"]
    s_min = HYPS.storage_m3_at(min_level)
    # Storage never negative; every flux non-negative; turbines + spill = release.
    assert np.all(s1 >= -1e-6)
    # (Round-off: an emptied reservoir can hold -1e-9 m³, and the loss cap then takes a
    # "loss" of -1e-14 m³/s; see test_emptied_reservoir_storage_is_never_negative.)
    for name in ("release_m3s", "turbine_flow_m3s", "spill_m3s", "evaporation_m3s", "seepage_m3s", "withdrawal_m3s"):
        assert np.all(d[name] >= -1e-9), name
    assert_allclose(d["turbine_flow_m3s"] + d["spill_m3s"], d["release_m3s"], rtol=0, atol=1e-9)
    # Never above the crest; the spillway never passes more than its capacity; the rest overtops.
    assert np.all(s1 <= HYPS.max_storage_m3) and np.all(d["level_m"] <= 351.5)
    assert np.all(d["overtopping_m3s"] >= 0) and np.all(d["overtopping_m3s"] <= d["spill_m3s"])
    assert np.all(d["spill_m3s"] - d["overtopping_m3s"] <= 3960.0 * (1 + 1e-12))
    assert_allclose(result.metrics["overtopping_days"], np.sum(d["overtopping_m3s"] > 0, axis=0), rtol=0)
    # Downstream users get at most their demand and at most what reaches them.
    water_down = np.maximum(d["release_m3s"] * (1 - reach_loss) + lateral, 0.0)
    down, pump = result.user_daily["downstream"], result.user_daily["pumping"]
    assert np.all(down["supply_m3s"] <= down["demand_m3s"] * (1 + 1e-12) + 1e-9)
    assert np.all(down["supply_m3s"] <= water_down * (1 + 1e-12) + 1e-9)
    assert_allclose(down["supply_m3s"], np.minimum(down["demand_m3s"], water_down), rtol=1e-12, atol=1e-9)
    # The totals count every user, the pumping station at the reservoir too.
    assert_allclose(d["demand_m3s"], down["demand_m3s"] + pump["demand_m3s"], rtol=1e-12)
    assert_allclose(d["supply_m3s"], down["supply_m3s"] + pump["supply_m3s"], rtol=1e-12)
    assert_allclose(d["deficit_m3s"], d["demand_m3s"] - d["supply_m3s"], rtol=1e-12, atol=1e-9)
    # Losses never more than requested.
    assert np.all(d["seepage_m3s"] <= seepage + 1e-9)
    assert np.all(d["withdrawal_m3s"] <= withdrawal + 1e-9)
    # Turbines: within the running units, zero below the minimum head, power within capacity.
    flow_cap, power_cap = PLANT.available(units)
    assert np.all(d["turbine_flow_m3s"] <= flow_cap + 1e-9)
    assert np.all(d["turbine_flow_m3s"][d["head_m"] < PLANT.min_head_m] == 0.0)
    assert np.all(d["power_w"] <= power_cap * (1 + 1e-12) + 1e-6)
    # Releases never take the storage below the minimum operating level: below it at the end
    # of a day only if it started there or losses took it there, and then nothing is released.
    net_in = d["inflow_m3s"] + d["precipitation_m3s"] - d["evaporation_m3s"] - d["seepage_m3s"] - d["withdrawal_m3s"]
    below = s1 < s_min - 1e-3
    assert np.all((s0[below] < s_min) | (s0[below] + net_in[below] * DAY_S < s_min + 1e-3))
    assert np.all(d["release_m3s"][below] <= 1e-6)
    # The release never exceeds the water above S_min, except what is spilled from a full pool.
    avail = np.maximum((s0 - s_min) / DAY_S + net_in, 0.0)
    spill_day = d["binding"] == CODE["spill"]
    assert np.all(d["release_m3s"][~spill_day] <= avail[~spill_day] * (1 + 1e-12) + 1e-6)
    # Where ramping is the last limit that bound (no later limit changed the release), the
    # day-to-day change is within the ramp.
    if np.isfinite(ramp):
        prev = np.vstack([np.full((1, 2), np.nan if initial_release is None else initial_release), d["release_m3s"][:-1]])
        ramped = np.isin(d["binding"], [CODE[c] for c in ("rule", "hedging", "min_release", "max_release", "ramp_up", "ramp_down")])
        ramped[0] &= initial_release is not None
        assert np.all(np.abs(d["release_m3s"] - prev)[ramped] <= ramp * (1 + 1e-12) + 1e-9)
    # A Python callable asking for the same releases gives the same run (the engine's
    # per-day path for callables and its path for built-in rules agree).
    if rule == "schedule":
        release = params["release_m3s"]
        same = dataclasses.replace(regime, rule=lambda day: release[day.t], params={}, name="schedule")
        other = simulate(model, same)
        for k in d:
            assert_array_equal(other.daily[k], d[k], err_msg=k)


# --- Analytic cases ---------------------------------------------------------------------


def test_closed_reservoir_loses_only_evaporation():
    model = _model(level_m=345.0, inflow=0.0, evaporation_mm_day=5.0)
    result = simulate(model, _schedule(0.0))
    d = result.daily
    _assert_balance(result)
    s0 = _start_storage(result)[:, 0]
    assert_array_equal(d["release_m3s"], 0.0)
    # Each day loses 5 mm over the area at the start of the day.
    evap_m3 = 5e-3 * HYPS.area_m2_at(s0)
    assert_allclose(d["evaporation_m3s"][:, 0] * DAY_S, evap_m3, rtol=1e-12)
    assert_allclose(d["storage_m3"][:, 0] - s0, -evap_m3, rtol=1e-9)
    assert_allclose(result.metrics["storage_end_hm3"] - result.metrics["storage_start_hm3"],
                    -result.metrics["evaporation_hm3"], rtol=1e-9)
    # About 5 mm × 432 km² ≈ 2.2 hm³ a day at 345 m.
    assert_allclose(evap_m3[0] / 1e6, 5e-3 * HYPS.area_m2_at_level(345.0) / 1e6, rtol=1e-12)


def test_inflow_equal_to_release_keeps_the_level():
    model = _model(level_m=344.0, inflow=800.0)
    result = simulate(model, _schedule(800.0))
    d = result.daily
    _assert_balance(result)
    assert_array_equal(d["storage_m3"], HYPS.storage_m3_at(344.0))
    assert_allclose(d["level_m"], 344.0, rtol=0, atol=1e-9)
    assert_array_equal(d["release_m3s"], 800.0)
    assert set(result.binding_names()) == {"rule"}


def test_constant_inflow_without_release_fills_linearly():
    model = _model(level_m=340.0, inflow=300.0)
    result = simulate(model, _schedule(0.0))
    s = result.daily["storage_m3"][:, 0]
    assert_allclose(s, HYPS.storage_m3_at(340.0) + 300.0 * DAY_S * np.arange(1, 31), rtol=1e-13)


def test_full_reservoir_spills_exactly_the_excess():
    # At normal level, inflow 2500 m³/s, the schedule asks for the turbines' 1080 m³/s: the
    # other 1420 m³/s are spilled, and the storage stays at the normal level.
    model = _model(level_m=347.5, inflow=2500.0)
    result = simulate(model, _schedule(1080.0))
    d = result.daily
    _assert_balance(result)
    assert_allclose(d["storage_m3"], S_NORM, rtol=1e-14)
    assert_allclose(d["level_m"], 347.5, atol=1e-9)
    assert_allclose(d["release_m3s"], 2500.0, rtol=1e-12)
    assert_allclose(d["turbine_flow_m3s"], 1080.0, rtol=1e-12)
    assert_allclose(d["spill_m3s"], 2500.0 - 1080.0, rtol=1e-12)
    assert_allclose(result.metrics["spill_hm3"], (2500.0 - 1080.0) * 30 * 0.0864, rtol=1e-12)
    assert set(result.binding_names()) == {"spill"}
    assert result.metrics["spill_days"][0] == 30
    assert result.metrics["surcharge_days"][0] == 0


def test_full_reservoir_forced_spill_goes_through_idle_turbines_first():
    # A smaller scheduled release: the forced spill is released through the dam; the
    # turbines take what they can and the spillway the rest.
    model = _model(level_m=347.5, inflow=2500.0)
    result = simulate(model, _schedule(500.0))
    d = result.daily
    assert_allclose(d["storage_m3"], S_NORM, rtol=1e-14)
    assert_allclose(d["release_m3s"], 2500.0, rtol=1e-12)  # scheduled 500 + forced 2000
    assert_allclose(d["turbine_flow_m3s"] + d["spill_m3s"], 2500.0, rtol=1e-12)


def test_flood_above_the_spillway_capacity_stays_in_the_reservoir():
    # 8000 m³/s for ten days from 345.0 m with no unit available: only the spillway passes
    # water, 3960 m³/s; the other 4040 m³/s stay: 4040 × 86400 = 349.056 hm³ a day.
    # Hand check: S(345.0 m) = 4160 × (22.5/25)^3.08 = 3007.19 hm³ (a table row); after ten
    # days 3007.19 + 3490.56 = 6497.75 hm³, between 351.25 m (6397.98) and 351.5 m (6570.89):
    # 351.25 + 0.25 × 99.77 / 172.91 = 351.394 m, 3.9 m above the normal level.
    ten_days = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 10))
    model = _model(period=ten_days, level_m=345.0, inflow=8000.0, units_available=np.zeros(10))
    result = simulate(model, _schedule(1e5, period=ten_days))
    d = result.daily
    _assert_balance(result)
    assert_allclose(d["release_m3s"], 3960.0, rtol=1e-12)
    assert_allclose(d["spill_m3s"], 3960.0, rtol=1e-12)
    assert_array_equal(d["turbine_flow_m3s"], 0.0)
    assert_allclose(d["storage_m3"][-1, 0] / 1e6, 3007.19 + 3490.56, atol=0.01)
    assert_allclose(d["level_m"][-1, 0], 351.394, atol=0.001)
    assert set(result.binding_names()) == {"capacity", "spill"}
    # Above the normal level from day 2 (349 hm³ fill 345.0 → 347.5 m in 3.3 days: day 4).
    assert result.metrics["surcharge_days"][0] == 7
    assert result.metrics["days_above_max_level"][0] == np.sum(d["level_m"][:, 0] > 349.0) > 0
    # With all units: the turbines run only while the head at the day's outflow is >= 12 m,
    # so the outlets pass the spillway, plus the turbines when the level is high enough; the
    # spillway never passes more than its capacity.
    result = simulate(_model(period=ten_days, level_m=345.0, inflow=8000.0), _schedule(1e5, period=ten_days))
    d = result.daily
    _assert_balance(result)
    assert np.all(d["spill_m3s"] <= 3960.0 * (1 + 1e-12))
    assert np.all(d["release_m3s"] >= 3960.0 * (1 - 1e-12))
    running = d["turbine_flow_m3s"] > 0
    assert np.all(d["head_m"][running] >= 12.0 - 1e-9)
    # The capacity on those days: a full spillway plus the turbines, or, when more would pull
    # the head below 12 m and trip them, the release at which the head is exactly 12 m.
    full = np.isclose(d["spill_m3s"], 3960.0, rtol=1e-9)
    at_min_head = np.isclose(d["head_m"], 12.0, rtol=1e-9)
    assert np.all((full | at_min_head)[running])
    assert np.all(d["spill_m3s"][~running] == d["release_m3s"][~running])
    assert running[0, 0] == False and running[-1, 0] == True  # noqa: E712 - low at first, high at the end


def test_water_above_the_dam_crest_overtops_it_and_is_reported():
    # Issue 7: a flood the outlets cannot pass stopped the run (before: extrapolated levels).
    # From the normal level (4160 hm³), no units, 8000 m³/s for ten days against the
    # 3960 m³/s spillway: +349.056 hm³ a day. The table's top (351.5 m, the crest) holds
    # 6570.8861 hm³, 2410.8861 hm³ of room: full during day 7. Overtopping = inflow volume
    # − spillway volume − room = 10 × (8000 − 3960) × 0.0864 − 2410.8861 = 1079.6739 hm³.
    ten_days = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 10))
    model = _model(period=ten_days, level_m=347.5, inflow=8000.0, units_available=np.zeros(10))
    result = simulate(model, _schedule(1e5, period=ten_days))
    d, m = result.daily, result.metrics
    _assert_balance(result)
    assert_allclose(m["overtopping_hm3"], 1079.6739, rtol=1e-12)
    assert m["overtopping_days"][0] == 4
    assert_allclose(d["overtopping_m3s"][:, 0].sum() * 0.0864, 1079.6739, rtol=1e-12)
    # Day 7 fills the last 2410.8861 − 6 × 349.056 = 316.5501 hm³; the rest goes over.
    assert_allclose(d["overtopping_m3s"][:, 0], [0.0] * 6 + [4040.0 - 316.5501 / 0.0864] + [4040.0] * 3, rtol=1e-12)
    assert result.binding_names() == ["spill"] * 6 + ["overtopping"] * 4
    # Levels are held at the crest, never extrapolated; the spillway passes its capacity.
    assert_allclose(d["storage_m3"][6:, 0], HYPS.max_storage_m3, rtol=0)
    assert np.all(d["level_m"][6:, 0] == 351.5) and np.all(d["level_m"] <= 351.5)
    assert_allclose(d["spill_m3s"] - d["overtopping_m3s"], 3960.0, rtol=1e-12)
    assert_allclose(d["release_m3s"], d["spill_m3s"], rtol=0)  # no units: every drop is spill
    assert m["surcharge_days"][0] == 10 and m["days_above_max_level"][0] == np.sum(d["level_m"][:, 0] > 349.0) == 8


def test_overtopping_in_one_member_leaves_the_others_alone():
    # A flow of 1e9 m³/s (a unit mix-up) overtops on the first day in its member; member 0
    # runs as it would alone. The balance closes to round-off of the flows it carries.
    ten_days = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 10))
    model = _model(period=ten_days, level_m=345.0, inflow=np.tile([[500.0, 1e9]], (10, 1)))
    result = simulate(model, _schedule(500.0, period=ten_days))
    alone = simulate(_model(period=ten_days, level_m=345.0, inflow=500.0), _schedule(500.0, period=ten_days))
    for k in result.metrics:
        assert_allclose(result.metrics[k][0], alone.metrics[k][0], rtol=0, err_msg=k)
    d, m = result.daily, result.metrics
    assert m["overtopping_days"].tolist() == [0, 10]
    assert np.all(d["level_m"][:, 1] == 351.5) and np.all(np.isfinite(d["power_w"]))
    room_hm3 = (HYPS.max_storage_m3 - HYPS.storage_m3_at(345.0)) * 1e-6  # the tailwater drowns the turbines
    assert_allclose(m["overtopping_hm3"][1], (1e9 - 3960.0) * 10 * 0.0864 - room_hm3, rtol=1e-12)
    assert np.all(d["spill_m3s"][:, 1] - d["overtopping_m3s"][:, 1] <= 3960.0)
    assert np.abs(result.balance_residual_m3()[:, 1]).max() <= 1e-15 * 1e9 * DAY_S * 10


def test_initial_storage_above_the_table_is_rejected():
    with pytest.raises(ValueError, match=r"initial_storage_m3 is 7000 hm³; expected at most the top of the "
                       r"level–storage table \(6570.89 hm³ at 351.5 m\)"):
        _model(initial_storage_m3=7e9, level_m=None)


def test_non_finite_results_are_errors():
    # 1e308 m³/s × scale 10 overflows: never a NaN level or energy with exit 0.
    model = _model(inflow=1e308, inflow_scale=10.0)
    with pytest.raises(SimulationError, match=r"on 2025-04-01 \(day 1, member 0\) the storage, release or power is "
                       r"not a finite number.*inflow that day was inf m³/s"):
        simulate(model, _schedule(500.0))
    with pytest.raises(SimulationError, match=r"on 2025-04-01 \(day 1, member 0\) the rule 'bad' asked for a release "
                       r"of nan m³/s"):
        simulate(_model(), Regime(lambda day: np.full(1, np.nan), name="bad"))


def test_min_release_binds():
    model = _model(users=(User("d", np.full(30, 50.0)),))
    result = simulate(model, Regime("demand", min_release_m3s=300.0))
    assert_allclose(result.daily["release_m3s"], 300.0)
    assert set(result.binding_names()) == {"min_release"}


def test_max_release_binds():
    model = _model(users=(User("d", np.full(30, 900.0)),))
    result = simulate(model, Regime("demand", max_release_m3s=600.0))
    assert_allclose(result.daily["release_m3s"], 600.0)
    assert set(result.binding_names()) == {"max_release"}
    assert_allclose(result.daily["deficit_m3s"], 300.0)
    assert_allclose(result.metrics["deficit_hm3"], 300.0 * 30 * 0.0864)
    assert result.metrics["reliability_time"][0] == 0.0


def test_ramping_limits_day_to_day_change():
    release = np.where(np.arange(30) < 10, 200.0, np.where(np.arange(30) < 20, 1000.0, 100.0))
    result = simulate(_model(inflow=500.0), _schedule(release, max_change_m3s_day=50.0, initial_release_m3s=500.0))
    r = result.daily["release_m3s"][:, 0]
    assert np.all(np.abs(np.diff(np.concatenate([[500.0], r]))) <= 50.0 + 1e-9)
    assert_allclose(r[:3], [450.0, 400.0, 350.0])
    assert_allclose(r[10:13], [250.0, 300.0, 350.0])
    names = result.binding_names()
    assert names[0] == "ramp_down" and names[10] == "ramp_up"
    assert "rule" in names  # the ramp catches up with the schedule
    # Without an initial release the first day is free.
    result = simulate(_model(inflow=500.0), _schedule(release, max_change_m3s_day=50.0))
    r = result.daily["release_m3s"][:, 0]
    assert r[0] == 200.0
    assert np.all(np.abs(np.diff(r)) <= 50.0 + 1e-9)


def test_capacity_binds_for_a_huge_demand():
    model = _model(level_m=347.5, inflow=500.0, users=(User("d", np.full(30, 1e6)),))
    result = simulate(model, Regime("demand"))
    d = result.daily
    # The outlets pass what they can: the turbines (6 × 180 m³/s) only run with 12 m of head,
    # and at 347.5 m the tailwater of 3960 m³/s (327.1 + 0.003 × 2960 = 335.98 m) leaves
    # 11.5 m: they trip, and the spillway's 3960 m³/s is the capacity (not 5040).
    assert_allclose(d["release_m3s"][:3], 3960.0)
    assert_array_equal(d["turbine_flow_m3s"][:3], 0.0)
    assert result.binding_names()[:3] == ["capacity"] * 3
    # Then the water above the minimum operating level runs out.
    assert result.binding_names()[-1] == "available"
    assert_allclose(d["storage_m3"][-1], S_MIN, rtol=1e-12)
    _assert_balance(result)


def test_release_cut_to_available_water_at_min_level():
    # Start at the minimum operating level with little inflow: the release is what flows in.
    model = _model(level_m=340.5, inflow=100.0, users=(User("d", np.full(30, 600.0)),))
    result = simulate(model, Regime("demand", min_release_m3s=150.0))
    assert_allclose(result.daily["release_m3s"], 100.0, rtol=1e-9)
    assert set(result.binding_names()) == {"available"}
    assert_allclose(result.daily["storage_m3"], S_MIN, rtol=1e-12)


def test_below_min_level_nothing_is_released_even_the_sanitary_minimum():
    # Started below the minimum operating level, no inflow: the sanitary minimum cannot be met.
    model = _model(level_m=338.0, inflow=0.0, evaporation_mm_day=5.0)
    result = simulate(model, Regime("demand", min_release_m3s=150.0))
    assert_array_equal(result.daily["release_m3s"], 0.0)
    assert set(result.binding_names()) == {"available"}
    assert result.metrics["days_below_min_level"][0] == 30
    # Started at the minimum level: evaporation alone takes it below, nothing is released.
    model = _model(level_m=340.5, inflow=0.0, evaporation_mm_day=5.0)
    result = simulate(model, Regime("demand", min_release_m3s=150.0))
    assert_array_equal(result.daily["release_m3s"], 0.0)
    assert np.all(result.daily["storage_m3"] < S_MIN)
    _assert_balance(result)


def test_emptied_reservoir_storage_is_never_negative():
    # 1000 members drain a nearly empty reservoir (S_min = 0) with a release far above the
    # inflow, then sit empty with evaporation and no inflow.
    rng = np.random.default_rng(3)
    n = 1000
    period = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 3))
    inflow = np.zeros((3, n))
    inflow[0] = rng.uniform(0.0, 20.0, n)
    model = _model(period=period, initial_storage_m3=rng.uniform(1.0, 1e5, n), level_m=None, inflow=inflow,
                   evaporation_mm_day=5.0, reservoir=builtin.reservoir(min_level_m=322.5))
    result = simulate(model, _schedule(3000.0, period=period))
    assert np.all(result.daily["storage_m3"] >= 0.0)
    assert np.all(result.daily["evaporation_m3s"] >= 0.0)


def test_losses_never_take_the_reservoir_below_empty():
    model = _model(initial_storage_m3=1e3, level_m=None, inflow=5.0, evaporation_mm_day=20.0, seepage_m3s=50.0,
                   reservoir=builtin.reservoir(min_level_m=322.5),
                   users=(User("pump", np.full(30, 10.0), location="reservoir"),))
    result = simulate(model, _schedule(100.0))
    d = result.daily
    _assert_balance(result)
    assert np.all(d["storage_m3"] >= -1e-9)
    assert np.all(d["seepage_m3s"] <= 5.0 + 1e3 / DAY_S + 1e-9)
    # The pumping station is short: its deficit is counted for it.
    assert result.user_metrics["pump"]["deficit_hm3"][0] > 0
    assert_allclose(result.user_metrics["pump"]["supply_hm3"], result.metrics["withdrawal_hm3"], rtol=1e-12)


def test_seepage_stops_at_the_minimum_level_and_losses_below_it_are_counted():
    # Issue 7: the residual preset drained 110 m³/s below the minimum operating level (40 days
    # without inflow: 339.12 m). Seepage now takes only water above that level; evaporation
    # still takes the level below it, and those days are counted as caused by losses.
    forty = Period(datetime.date(2025, 7, 1), datetime.date(2025, 8, 9))
    model = _model(period=forty, level_m=340.6, inflow=0.0, seepage_m3s=110.0)
    result = simulate(model, _schedule(0.0, period=forty))
    d = result.daily
    _assert_balance(result)
    above_m3 = HYPS.storage_m3_at(340.6) - S_MIN  # 25.2 hm³: 2.6 days of 9.504 hm³
    expected = np.maximum(HYPS.storage_m3_at(340.6) - 110.0 * DAY_S * np.arange(1, 41), S_MIN)
    assert_allclose(d["storage_m3"][:, 0], expected, rtol=1e-12)  # seepage alone stops at the minimum
    assert_allclose(d["seepage_m3s"][3:], 0.0, atol=1e-9)
    assert_allclose(result.metrics["seepage_hm3"], above_m3 / 1e6, rtol=1e-9)
    assert result.metrics["days_below_min_level"][0] == 0
    # With 6 mm/day of evaporation the level sinks below, a little each day.
    result = simulate(dataclasses.replace(model, evaporation_mm_day=6.0), _schedule(0.0, period=forty))
    d = result.daily
    first_below = int(np.argmax(d["storage_m3"][:, 0] < S_MIN - 1e-3))
    assert_allclose(d["seepage_m3s"][first_below + 1:], 0.0, atol=1e-9)
    assert result.metrics["days_below_min_level"][0] == result.metrics["days_below_min_by_losses"][0] == 40 - first_below
    assert d["level_m"][-1, 0] > 340.0  # 6 mm a day for 40 days: 0.24 m, not 1.4 m
    # Started below the minimum and refilling: below the minimum, but not by the losses.
    result = simulate(_model(period=forty, level_m=339.0, inflow=50.0, evaporation_mm_day=6.0),
                      _schedule(0.0, period=forty))
    assert result.metrics["days_below_min_level"][0] == 40
    assert result.metrics["days_below_min_by_losses"][0] == 0


def test_totals_count_users_at_the_reservoir():
    # Issue 7: a pump's 42.2 hm³ deficit was missing from an 86.4 hm³ total. Downstream wants
    # 900 m³/s, the regime gives 600 (300 short, 30 days: 777.6 hm³); a pump at the reservoir
    # wants 50 m³/s of an empty-ish reservoir that holds 20 m³/s a day (30 short: 77.76 hm³).
    pump = User("pump", np.full(30, 50.0), location="reservoir")
    down = User("d", np.full(30, 900.0))
    model = _model(level_m=345.0, inflow=620.0, users=(down, pump))
    result = simulate(model, Regime("demand", max_release_m3s=600.0))
    m, um = result.metrics, result.user_metrics
    assert_allclose(um["pump"]["deficit_hm3"], 0.0, atol=1e-9)  # plenty of water: the pump is served
    assert_allclose(um["d"]["deficit_hm3"], 300.0 * 30 * 0.0864, rtol=1e-12)
    assert_allclose(m["demand_hm3"], (900.0 + 50.0) * 30 * 0.0864, rtol=1e-12)
    assert_allclose(m["deficit_hm3"], um["d"]["deficit_hm3"] + um["pump"]["deficit_hm3"], rtol=1e-12)
    # A nearly empty reservoir (S_min = 0): the pump gets what the day holds, 20 m³/s.
    model = _model(initial_storage_m3=0.0, level_m=None, inflow=20.0, users=(down, pump),
                   reservoir=builtin.reservoir(min_level_m=322.5))
    result = simulate(model, Regime("demand"))
    m, um, d = result.metrics, result.user_metrics, result.daily
    assert_allclose(um["pump"]["deficit_hm3"], 30.0 * 30 * 0.0864, rtol=1e-9)
    assert_allclose(um["d"]["deficit_hm3"], 900.0 * 30 * 0.0864, rtol=1e-9)
    assert_allclose(m["deficit_hm3"], (930.0) * 30 * 0.0864, rtol=1e-9)
    assert_allclose(m["supply_hm3"], 20.0 * 30 * 0.0864, rtol=1e-9)
    assert_allclose(m["reliability_volume"], 20.0 / 950.0, rtol=1e-9)
    assert m["reliability_time"][0] == 0.0
    assert_allclose(d["deficit_m3s"], 930.0, rtol=1e-9)
    assert_allclose(d["demand_m3s"], 950.0)


# --- Turbines and power -------------------------------------------------------------------


def test_no_turbine_flow_below_min_head():
    # At 336 m with 500 m³/s the head is 336 − 325.6 ≈ 10.4 m < 12 m: everything is spilled.
    model = _model(level_m=336.0, inflow=500.0, reservoir=builtin.reservoir(min_level_m=330.0),
                   period=Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 5)))
    result = simulate(model, _schedule(500.0, period=model.period))
    d = result.daily
    assert np.all(d["head_m"] < 12.0)
    assert_array_equal(d["turbine_flow_m3s"], 0.0)
    assert_array_equal(d["power_w"], 0.0)
    assert_allclose(d["spill_m3s"], 500.0)
    assert result.metrics["energy_gwh"][0] == 0.0


def test_power_hand_checked_and_within_capacity():
    model = _model(level_m=344.0, inflow=600.0)
    result = simulate(model, _schedule(600.0))
    d = result.daily
    # Head = level at mid-day storage − tailwater(600) = 344 − 325.9 = 18.1 m.
    assert_allclose(d["head_m"], 344.0 - (325.0 + 0.003 * 300.0), atol=1e-9)
    assert_allclose(d["power_w"], 1000 * 9.81 * 0.9 * 600.0 * d["head_m"], rtol=1e-12)
    assert_allclose(d["energy_mwh"], d["power_w"] * 24e-6, rtol=1e-12)
    assert_allclose(result.metrics["energy_gwh"], d["energy_mwh"].sum() * 1e-3, rtol=1e-12)
    # A big release at high head: the generators cap the power at 174 MW.
    result = simulate(_model(level_m=347.0, inflow=1080.0), _schedule(1080.0))
    assert np.all(result.daily["power_w"] <= 174e6 * (1 + 1e-12))
    assert_allclose(result.daily["power_w"].max(), 174e6, rtol=1e-12)


def test_units_available_reduce_turbine_flow():
    units = np.where(np.arange(30) < 15, 6, 3)
    model = _model(level_m=344.0, inflow=1000.0, units_available=units)
    result = simulate(model, _schedule(1000.0))
    d = result.daily
    assert_allclose(d["turbine_flow_m3s"][:15], 1000.0)
    assert_allclose(d["turbine_flow_m3s"][15:], 540.0)
    assert_allclose(d["spill_m3s"][15:], 460.0)
    assert np.all(d["power_w"][15:] <= 87e6 * (1 + 1e-12))


def test_callable_regime_equals_schedule_of_inflow():
    rng = np.random.default_rng(7)
    inflow = rng.uniform(100.0, 1500.0, 30)
    model = _model(inflow=inflow, evaporation_mm_day=4.0, seepage_m3s=20.0)

    def rule(day):
        return day.inflow_m3s

    a = simulate(model, Regime(rule, min_release_m3s=150.0))
    b = simulate(model, _schedule(inflow, min_release_m3s=150.0))
    assert a.regime == "rule"
    for k in a.daily:
        assert_array_equal(a.daily[k], b.daily[k], err_msg=k)
    for k in a.metrics:
        assert_array_equal(a.metrics[k], b.metrics[k], err_msg=k)


# --- Ensembles and chunking ---------------------------------------------------------------

N = 1000


@pytest.fixture(scope="module")
def ensemble(season):
    rng = np.random.default_rng(2025)
    scale = rng.uniform(0.5, 1.5, N)
    storage = rng.uniform(1500e6, 4160e6, N)
    factor = rng.uniform(0.5, 1.0, N)
    model = builtin.model(season, inflow_scale=scale, initial_storage_m3=storage)
    regime = Regime("demand", params={"hedging_trigger_level_m": 343.0, "hedging_factor": factor},
                    min_release_m3s=150.0, max_change_m3s_day=200.0)
    return model, regime, scale, storage, factor


def _assert_same(a, b, i=None):
    """Result `b` equals member `i` of `a` (or all of `a`)."""
    sl = slice(None) if i is None else slice(i, i + 1)
    for k in a.daily:
        assert_array_equal(a.daily[k][:, sl], b.daily[k], err_msg=k)
    for k in a.metrics:
        assert_allclose(a.metrics[k][sl], b.metrics[k], rtol=1e-12, atol=1e-15, err_msg=k)
    for u in a.user_metrics:
        for k in a.user_metrics[u]:
            assert_allclose(a.user_metrics[u][k][sl], b.user_metrics[u][k], rtol=1e-12, atol=1e-15, err_msg=k)
            assert_array_equal(a.user_daily[u]["supply_m3s"][:, sl], b.user_daily[u]["supply_m3s"])


def test_member_alone_equals_member_in_ensemble(ensemble, season):
    model, regime, scale, storage, factor = ensemble
    assert n_members_of(model, regime) == N
    result = simulate(model, regime)
    assert result.n_members == N
    _assert_balance(result)
    # The ensemble is not degenerate: the hedging and the limits bind differently across members.
    assert len(np.unique(result.daily["binding"])) >= 3
    for i in (0, 1, 417, 998, 999):
        alone_model = builtin.model(season, inflow_scale=scale[i], initial_storage_m3=storage[i])
        alone_regime = Regime("demand", params={"hedging_trigger_level_m": 343.0, "hedging_factor": factor[i]},
                              min_release_m3s=150.0, max_change_m3s_day=200.0)
        alone = simulate(alone_model, alone_regime)
        assert alone.n_members == 1
        _assert_same(result, alone, i)
        _assert_same(result.member(i), alone)


@pytest.mark.parametrize("chunk_size", [7, 128, 1000])
def test_chunking_does_not_change_results(ensemble, chunk_size):
    model, regime, *_ = ensemble
    reference = simulate(model, regime, chunk_size=N)
    result = simulate(model, regime, chunk_size=chunk_size)
    assert result.n_members == N
    _assert_same(reference, result)


def test_executor_and_keep_daily(ensemble):
    model, regime, *_ = ensemble
    reference = simulate(model, regime, chunk_size=250)
    done = []
    with ThreadPoolExecutor(2) as ex:
        result = simulate(model, regime, chunk_size=250, executor=ex, progress=done.append)
    _assert_same(reference, result)
    assert done == [250, 500, 750, 1000]
    lean = simulate(model, regime, chunk_size=300, keep_daily=False)
    assert lean.daily is None and lean.user_daily is None
    for k in reference.metrics:
        assert_allclose(lean.metrics[k], reference.metrics[k], rtol=1e-12, atol=1e-15, err_msg=k)
    with pytest.raises(ValueError, match=re.escape("daily series were not kept")):
        lean.balance_residual_m3()


def test_explicit_n_members_and_errors():
    model = _model()
    result = simulate(model, _schedule(500.0), n_members=4)
    assert result.n_members == 4
    assert_array_equal(result.daily["storage_m3"], np.broadcast_to(result.daily["storage_m3"][:, :1], (30, 4)))
    model3 = _model(inflow_scale=[1.0, 1.1, 1.2])
    with pytest.raises(ValueError, match=re.escape("n_members=4 but the inputs have 3 members")):
        simulate(model3, _schedule(500.0), n_members=4)
    with pytest.raises(ValueError, match=re.escape("per-member arrays disagree on the number of members: [2, 3]")):
        simulate(model3, _schedule(500.0, min_release_m3s=[0.0, 10.0]))
    with pytest.raises(ValueError, match=re.escape("chunk_size must be >= 1")):
        simulate(model, _schedule(500.0), chunk_size=-1)


def test_chunk_size_zero_is_an_error():
    with pytest.raises(ValueError, match=re.escape("chunk_size must be >= 1")):
        simulate(_model(), _schedule(500.0), chunk_size=0)


def test_model_validation():
    with pytest.raises(ValueError, match=re.escape("inflow_m3s has 10 days; the period has 30")):
        _model(inflow=np.ones(10))
    with pytest.raises(ValueError, match=re.escape("seepage_m3s has negative values")):
        _model(seepage_m3s=-1.0)
    with pytest.raises(ValueError, match=re.escape("reach_loss_fraction must be in [0, 1)")):
        _model(reach_loss_fraction=1.0)
    with pytest.raises(ValueError, match=re.escape("user names must be unique: ['a', 'a']")):
        _model(users=(User("a", np.ones(30)), User("a", np.ones(30))))


# --- The compiled step agrees with the documented physics functions -------------------


def test_compiled_step_agrees_with_the_physics_functions():
    """The kernel reimplements the daily step for speed; its numbers must be those of the
    public, documented functions (hypsometry, losses, hydropower, demand)."""
    from sim.physics import calendar, demand, hydropower, losses

    period = calendar.growing_season(2025)
    model = builtin.model(period, inflow_scale=np.array([0.7, 1.0, 1.3]))
    result = simulate(model, Regime("demand", {"hedging_trigger_level_m": 343.0, "hedging_factor": 0.8},
                                    min_release_m3s=150.0))
    d = result.daily
    start = np.vstack([result.storage_start_m3[None, :], d["storage_m3"][:-1]])
    hyps = model.reservoir.hypsometry
    area = hyps.area_m2_at(start)
    evap = losses.evaporation_m3s(area, model.evaporation_mm_day)
    assert_allclose(d["evaporation_m3s"], np.minimum(evap, start / DAY_S + d["inflow_m3s"]), rtol=1e-12)
    assert_allclose(d["level_m"], hyps.level_m_at(d["storage_m3"]), rtol=0, atol=1e-9)
    level_mid = hyps.level_m_at(0.5 * (start + d["storage_m3"]))
    head = hydropower.head_m(level_mid, model.reservoir.tailwater(d["release_m3s"]))
    assert_allclose(d["head_m"], head, rtol=0, atol=1e-9)
    assert_allclose(d["power_w"], hydropower.power_w(d["turbine_flow_m3s"], d["head_m"], model.plant.efficiency),
                    rtol=1e-12)
    max_flow, capacity = model.plant.available(model.plant.n_units)
    q = hydropower.turbine_flow_m3s(d["release_m3s"], d["head_m"], max_flow, capacity, model.plant.efficiency,
                                    model.plant.min_head_m)
    assert_allclose(d["turbine_flow_m3s"], q, rtol=1e-12, atol=1e-9)
    (user,) = model.users
    for t in (0, 60, 120, 182):
        (supply,) = demand.allocate(d["release_m3s"][t], [user.demand_m3s[t] * np.ones(3)], [[0]])
        assert_allclose(d["supply_m3s"][t], supply, rtol=1e-12)


def test_storage_energy_change_values_the_drawdown_at_the_season_energy_per_volume():
    """(S_end − S_start) × E / V_turbined, by hand from the same run's metrics."""
    from sim.physics import calendar

    model = builtin.model(calendar.growing_season(2025))
    m = simulate(model, Regime("demand", min_release_m3s=150.0)).metrics
    expected = (m["storage_end_hm3"] - m["storage_start_hm3"]) * m["energy_gwh"] / m["turbine_hm3"]
    assert_allclose(m["storage_energy_change_gwh"], expected, rtol=1e-12)
    assert m["storage_energy_change_gwh"][0] < 0  # the season draws the reservoir down
    # Nothing turbined (all units out): no energy per volume, so no value is put on storage.
    out = simulate(dataclasses.replace(model, units_available=0), Regime("demand", min_release_m3s=150.0)).metrics
    assert out["energy_gwh"][0] == 0.0 and out["storage_energy_change_gwh"][0] == 0.0


@pytest.mark.parametrize("regime", [Regime("power", params={"target_mw": 100.0}), _schedule(500.0)], ids=["power", "schedule"])
def test_metrics_only_runs_agree_and_a_one_day_run_keeps_its_day(regime):
    # A metrics-only run skips the daily writes: its metrics are the same to the last bit, and
    # a one-day run (whose one-day buffer is also the kept series) still keeps its day.
    one_day = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 1))
    for period in (one_day, APRIL):
        model = _model(period, level_m=np.array([341.0, 345.0, 347.0]))
        kept, lean = simulate(model, regime), simulate(model, regime, keep_daily=False)
        for k in kept.metrics:
            assert_array_equal(lean.metrics[k], kept.metrics[k], err_msg=k)
    one = simulate(_model(one_day, level_m=345.0), regime).daily
    month = simulate(_model(APRIL, level_m=345.0), regime).daily
    for name in ("release_m3s", "storage_m3", "power_w"):
        assert_array_equal(one[name][0], month[name][0], err_msg=name)
    assert one["power_w"][0, 0] > 50e6  # 100 MW asked, or 500 m³/s at about 15 m of head
