"""Tests for sim.rules.regimes: validation messages and the built-in rules, one day at a time."""

import datetime
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim import builtin
from sim.engine.driver import Model, simulate
from sim.physics.calendar import Period
from sim.physics.demand import User
from sim.rules import base
from sim.rules.regimes import BINDING, BINDING_CODE, RULES, Regime, rule_names

APRIL = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 30))
RES = builtin.reservoir()
HYPS = RES.hypsometry
PLANT = builtin.plant("rehabilitated")
RHO_G_ETA = 1000.0 * 9.81 * PLANT.efficiency


def _run(regime, *, level_m=345.0, inflow=600.0, period=APRIL, **kwargs):
    """Simulate a regime from `level_m` (scalar or per member) with constant inflow."""
    model = Model(
        period=period,
        reservoir=kwargs.pop("reservoir", RES),
        plant=PLANT,
        initial_storage_m3=HYPS.storage_m3_at(np.asarray(level_m, dtype=float)),
        inflow_m3s=np.full(period.n_days, float(inflow)),
        **kwargs,
    )
    return simulate(model, regime)


def test_binding_names():
    assert BINDING[0] == "rule"
    assert set(BINDING) == {
        "rule", "hedging", "min_release", "max_release", "ramp_up", "ramp_down", "capacity", "available", "spill",
        "head", "overtopping",
    }
    assert all(BINDING[BINDING_CODE[n]] == n for n in BINDING)
    # The compiled kernel and the rules' steps write the same codes.
    assert (base.SPILLED, base.HEAD_LIMIT, base.OVERTOPPING) == (
        BINDING_CODE["spill"], BINDING_CODE["head"], BINDING_CODE["overtopping"])
    assert rule_names() == ["demand", "level", "power", "schedule"] == sorted(RULES)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(rule="demnd"), ValueError,
         '"demnd" is not a rule; did you mean "demand"? (choose one of "demand", "level", "power", "schedule")'),
        (dict(rule="xyz"), ValueError, '"xyz" is not a rule (choose one of "demand", "level", "power", "schedule")'),
        (dict(rule="schedule"), ValueError, "rule schedule: missing parameter release_m3s"),
        (dict(rule="demand", params={"factor": 0.5}), ValueError, "rule demand: unknown parameter factor"),
        (dict(rule="power", params={"x": 1}), ValueError,
         "rule power: missing parameter target_mw; unknown parameter x"),
        (dict(rule=3), TypeError, "rule must be a name or a callable, not int"),
        (dict(rule="demand", min_release_m3s=-1.0), ValueError, "min_release_m3s is -1.0; expected a finite number >= 0"),
        (dict(rule="demand", min_release_m3s=200.0, max_release_m3s=100.0), ValueError,
         "max_release_m3s 100.0 is below min_release_m3s 200.0"),
        (dict(rule="demand", max_change_m3s_day=0.0), ValueError, "max_change_m3s_day is 0.0; expected > 0"),
    ],
)
def test_regime_validation_messages(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        Regime(**kwargs)


def test_regime_names_and_params(season):
    assert Regime("demand").name == "demand"
    assert Regime("demand", name="irrigation-first").name == "irrigation-first"

    def my_rule(day):
        return day.inflow_m3s

    assert Regime(my_rule).name == "my_rule"
    r = Regime("schedule", params={"release_m3s": np.full(season.n_days, 300.0)}, min_release_m3s=[0, 150])
    assert r.params["release_m3s"].shape == (season.n_days, 1)
    assert r.min_release_m3s.shape == (2,)
    assert r.max_release_m3s == np.inf
    assert r.initial_release_m3s is None


def test_schedule_rule():
    release = np.arange(30, dtype=float)
    result = _run(Regime("schedule", params={"release_m3s": release, "scale": [1.0, 0.5, 2.0]}), inflow=100.0)
    r = result.daily["release_m3s"]
    assert_allclose(r[10], [10.0, 5.0, 20.0])
    assert_allclose(r[:, 0], release)
    assert set(result.binding_names(1)) == {"rule"}


def test_demand_rule_reach_loss_and_lateral_inflow():
    # (500 − 50) / (1 − 0.1) = 500 m³/s at the dam; downstream gets 500 × 0.9 + 50 = 500.
    users = (User("d", np.full(30, 500.0)),)
    result = _run(Regime("demand"), users=users, reach_loss_fraction=0.1, lateral_inflow_m3s=50.0)
    assert_allclose(result.daily["release_m3s"], 500.0)
    assert_allclose(result.daily["supply_m3s"], 500.0)
    assert_allclose(result.daily["deficit_m3s"], 0.0, atol=1e-9)
    assert set(result.binding_names()) == {"rule"}
    # Lateral inflow above the demand: nothing is needed at the dam.
    result = _run(Regime("demand"), users=(User("d", np.full(30, 30.0)),), lateral_inflow_m3s=50.0, inflow=100.0)
    assert_allclose(result.daily["release_m3s"], 0.0)
    assert_allclose(result.daily["supply_m3s"], 30.0)
    # The demand scale multiplies the request.
    result = _run(Regime("demand", params={"scale": [1.0, 1.5]}), users=(User("d", np.full(30, 400.0)),))
    assert_allclose(result.daily["release_m3s"][0], [400.0, 600.0])


def test_demand_rule_hedging():
    regime = Regime("demand", params={"hedging_trigger_level_m": 343.0, "hedging_factor": [0.8, 1.0, 0.5]})
    result = _run(regime, level_m=[342.0, 342.0, 344.0], inflow=500.0, users=(User("d", np.full(30, 500.0)),))
    assert_allclose(result.daily["release_m3s"][0], [400.0, 500.0, 500.0])
    # Hedging only binds where it cuts the release.
    assert_array_equal(result.daily["binding"][0], [BINDING_CODE["hedging"], BINDING_CODE["rule"], BINDING_CODE["rule"]])
    assert_allclose(result.daily["deficit_m3s"][0], [100.0, 0.0, 0.0], atol=1e-9)


def test_power_rule_meets_target():
    level = np.array([341.0, 345.0, 347.0])
    one_day = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 1))
    result = _run(Regime("power", params={"target_mw": 100.0}, initial_release_m3s=500.0), level_m=level,
                  period=one_day)
    d = result.daily
    q = d["release_m3s"][0]
    # The rule solves with the head the energy uses (mid-day level, tailwater at the
    # outflow): the day's power is the target, not 99.4 MW.
    assert_allclose(d["power_w"][0], 100e6, rtol=1e-9)
    assert_allclose(RHO_G_ETA * q * d["head_m"][0], 100e6, rtol=1e-9)
    assert np.all(np.diff(q) < 0)  # more head, less water
    assert set(result.binding_names()) == {"rule"}
    # A target beyond what the running units can give: their full flow, no more.
    result = _run(Regime("power", params={"target_mw": 500.0}), level_m=level, period=one_day,
                  units_available=np.array([2.0]))
    d = result.daily
    assert np.all(d["release_m3s"] <= 360.0 * (1 + 1e-12))
    assert np.all(d["power_w"] <= 58e6 * (1 + 1e-12))
    # At 341 m their full flow gives less than their 58 MW; higher up the generators cap the
    # power first, and the rule takes the least water that gives those 58 MW.
    assert d["release_m3s"][0, 0] == 360.0 and d["power_w"][0, 0] < 58e6
    assert_allclose(d["power_w"][0, 1:], 58e6, rtol=1e-9)
    assert np.all(d["release_m3s"][0, 1:] < 360.0)
    assert set(result.binding_names()) == {"capacity"}
    result = _run(Regime("power", params={"target_mw": 500.0}), level_m=level, period=one_day,
                  units_available=np.array([0.0]))
    assert_array_equal(result.daily["release_m3s"], 0.0)
    assert set(result.binding_names()) == {"capacity"}


def test_power_rule_meets_120_mw_every_day_the_water_allows():
    # Issue 7: 120 MW gave 119.25–119.93 MW (the rule used the start-of-day level).
    result = _run(Regime("power", params={"target_mw": 120.0}), level_m=346.0, inflow=600.0)
    d = result.daily
    met = np.array(result.binding_names()) == "rule"
    assert met.sum() == 30
    assert_allclose(d["power_w"][met], 120e6, rtol=1e-3)  # the bar: within 0.1 %
    assert_allclose(d["power_w"][met], 120e6, rtol=1e-9)  # and in fact to round-off


def test_power_rule_unreachable_target_gives_the_most_power():
    # Issue 7: 174 MW from 341 m released 0 m³/s and 0 MW on day 2 (a tailwater at an
    # unclamped flow). Now: the full turbine flow, whose power is the most the head allows.
    five = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 5))
    result = _run(Regime("power", params={"target_mw": 174.0}), level_m=341.0, inflow=300.0, period=five,
                  reservoir=builtin.reservoir(min_level_m=335.0))
    d = result.daily
    assert_allclose(d["release_m3s"], 1080.0, rtol=1e-12)
    assert np.all(d["power_w"] > 110e6)
    assert set(result.binding_names()) == {"capacity"}
    # The most power at each day's level: no release of the turbines' range gives more.
    for t in range(5):
        s0 = HYPS.storage_m3_at(341.0) if t == 0 else d["storage_m3"][t - 1, 0]
        for q in np.linspace(0.0, 1080.0, 55):
            s1 = s0 + (300.0 - q) * 86400.0
            h = HYPS.level_m_at(0.5 * (s0 + s1)) - RES.tailwater(q)
            assert RHO_G_ETA * q * h <= d["power_w"][t, 0] * (1 + 1e-12)


def test_power_rule_peak_below_the_turbines_full_flow():
    # A steep tailwater (0.02 m per m³/s): power ρgηQ(H0 − 0.02 Q) peaks below the units'
    # 1080 m³/s. The rule releases the peak's flow, and says the head limited it.
    steep = builtin.reservoir(tailwater_flow_m3s=[0.0, 4000.0], tailwater_level_m=[324.0, 404.0])
    one_day = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 1))
    result = _run(Regime("power", params={"target_mw": 174.0}), level_m=346.0, inflow=0.0, period=one_day,
                  reservoir=steep)
    d = result.daily
    q = d["release_m3s"][0, 0]
    assert 300.0 < q < 1080.0
    assert result.binding_names() == ["head"]
    s0 = HYPS.storage_m3_at(346.0)
    flows = np.linspace(0.0, 1080.0, 2161)
    heads = HYPS.level_m_at(0.5 * (s0 + s0 - flows * 86400.0)) - steep.tailwater(flows)
    power = np.where(heads >= 12.0, RHO_G_ETA * flows * heads, 0.0)
    assert d["power_w"][0, 0] >= power.max() * (1 - 1e-9)


@settings(max_examples=60, deadline=None)
@given(
    level=st.floats(336.0, 349.0),
    inflow=st.floats(0.0, 3000.0),
    units=st.integers(0, 6),
    targets=st.lists(st.one_of(st.just(0.0), st.floats(0.01, 250.0)), min_size=2, max_size=6),
    min_release=st.sampled_from([0.0, 150.0]),
)
def test_power_rule_more_target_never_less_power(level, inflow, units, targets, min_release):
    # One day, many targets as members: the power is non-decreasing in the target.
    one_day = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 1))
    targets = np.sort(np.array(targets))
    regime = Regime("power", params={"target_mw": targets[None, :]}, min_release_m3s=min_release)
    result = _run(regime, level_m=level, inflow=inflow, period=one_day, units_available=np.array([float(units)]),
                  reservoir=builtin.reservoir(min_level_m=330.0))
    p = result.daily["power_w"][0]
    assert np.all(np.diff(p) >= -1e-9 * max(p.max(), 1.0))
    # A reachable target is met (the release is the rule's, nothing bound after it).
    met = result.daily["binding"][0] == BINDING_CODE["rule"]
    assert_allclose(p[met], targets[met] * 1e6, rtol=1e-9)


def test_level_rule_reaches_target_at_end_of_day():
    one_day = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 1))
    # ±0.1 m is about ±43 hm³, ±500 m³/s over the day: within the turbines' flow.
    kwargs = dict(level_m=[345.1, 345.0, 344.9], inflow=600.0, period=one_day, evaporation_mm_day=5.0, seepage_m3s=20.0)
    result = _run(Regime("level", params={"target_level_m": 345.0}), **kwargs)
    assert_allclose(result.daily["storage_m3"][0], HYPS.storage_m3_at(345.0), rtol=1e-12)
    assert_allclose(result.daily["level_m"][0], 345.0, atol=1e-9)
    # At the target: release inflow less losses.
    d = result.daily
    assert_allclose(d["release_m3s"][0, 1], 600.0 - 20.0 - d["evaporation_m3s"][0, 1], rtol=1e-12)
    # Over approach_days the gap closes in proportion: R = (S − S_target) / (days · 86400) + Q − L.
    s0 = HYPS.storage_m3_at(np.array([345.1, 345.0, 344.9]))
    d = _run(Regime("level", params={"target_level_m": 345.0, "approach_days": 10.0}), **kwargs).daily
    loss = d["evaporation_m3s"][0] + d["seepage_m3s"][0]
    assert_allclose(d["release_m3s"][0], (s0 - HYPS.storage_m3_at(345.0)) / (10 * 86400.0) + 600.0 - loss, rtol=1e-12)


def test_level_rule_rejects_approach_below_one_day():
    # Issue 7: approach_days = 0.5 was accepted and releases oscillated 5040 / 0 / 752 m³/s.
    with pytest.raises(ValueError, match=re.escape("rule level: approach_days: found 0.5; expected a number of days >= 1")):
        Regime("level", params={"target_level_m": 345.0, "approach_days": 0.5})
    with pytest.raises(ValueError, match="found 0; expected"):
        Regime("level", params={"target_level_m": 345.0, "approach_days": np.array([2.0, 0.0])})


def test_level_rule_follows_a_moving_guide_curve_without_lag():
    # A curve falling 0.05 m a day (the baseline's June–September slope), approach 5 days,
    # started on it: every end of day is on the curve (the old rule lagged 0.2 m behind).
    curve = 346.0 - 0.05 * np.arange(30)
    result = _run(Regime("level", params={"target_level_m": curve, "approach_days": 5.0}), level_m=346.0, inflow=600.0)
    assert_allclose(result.daily["level_m"][:, 0], curve, atol=1e-9)
    # Started 0.3 m below it: the gap closes by a fifth each day, never overshooting, and the
    # release changes smoothly (no oscillation).
    result = _run(Regime("level", params={"target_level_m": curve, "approach_days": 5.0}), level_m=345.7, inflow=600.0)
    gap = HYPS.storage_m3_at(curve) - result.daily["storage_m3"][:, 0]
    s_gap0 = HYPS.storage_m3_at(346.0) - HYPS.storage_m3_at(345.7)
    assert_allclose(gap, s_gap0 * 0.8 ** np.arange(1, 31), rtol=1e-9)
    assert np.all(gap > 0)
    assert np.all(np.abs(np.diff(result.daily["release_m3s"][1:, 0])) < 60.0)


def test_level_rule_default_maximum_is_the_turbines_flow():
    # 2 m above the curve: closing it in a day would need ~10,000 m³/s; by default the rule
    # asks no more than the available units pass (no spillway to follow a curve).
    five = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 5))
    result = _run(Regime("level", params={"target_level_m": 344.0}), level_m=346.0, inflow=600.0, period=five)
    assert_allclose(result.daily["release_m3s"], 1080.0)
    assert set(result.binding_names()) == {"max_release"}
    result = _run(Regime("level", params={"target_level_m": 344.0}), level_m=346.0, inflow=600.0, period=five,
                  units_available=np.array([3.0] * 5))
    assert_allclose(result.daily["release_m3s"], 540.0)
    # A regime maximum replaces the default (the spillway may then be used).
    result = _run(Regime("level", params={"target_level_m": 344.0}, max_release_m3s=3000.0), level_m=346.0,
                  inflow=600.0, period=five)
    assert_allclose(result.daily["release_m3s"][:3], 3000.0)
    assert_allclose(result.daily["level_m"][3:], 344.0, atol=1e-9)


def test_baseline_guide_curve_ends_on_its_342_m_target(season):
    # Issue 7: every run ended at 342.20 m for a 342.0 m target on 30 September.
    from sim.scenario import load_scenario

    model, regimes = load_scenario("scenarios/baseline.toml").build()
    result = simulate(model, regimes["guide-curve"])
    assert abs(result.metrics["level_end_m"][0] - 342.0) <= 0.05
    r = result.daily["release_m3s"][:, 0]
    assert np.all(np.abs(np.diff(r)) < 500.0)  # no day-to-day swings of the 5040 / 0 kind


def test_callable_rule_gets_params_and_the_day():
    seen = []

    def rule(day, factor):
        seen.append(day)
        return day.inflow_m3s * factor

    result = _run(Regime(rule, params={"factor": 0.5}), level_m=[344.0, 345.0])
    assert_allclose(result.daily["release_m3s"], 300.0)
    assert set(result.binding_names()) == {"rule"}
    assert [d.t for d in seen] == list(range(30))
    assert seen[0].date == np.datetime64("2025-04-01")
    assert np.all(np.isnan(seen[0].previous_release_m3s))  # no initial release given
    assert_allclose(seen[1].previous_release_m3s, 300.0)
    assert_allclose(seen[0].level_m, [344.0, 345.0])
    assert_allclose(seen[0].storage_m3, HYPS.storage_m3_at(np.array([344.0, 345.0])))
    assert_allclose(seen[5].turbine_max_flow_m3s, 1080.0)
    assert_allclose(seen[5].capacity_w, 174e6)
    assert_allclose(seen[5].min_storage_m3, HYPS.storage_m3_at(340.5))
