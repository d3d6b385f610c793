"""Tests for sim.regimes: validation messages and the built-in rules, one day at a time."""

import datetime
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sim import builtin
from sim.calendar import Period
from sim.demand import User
from sim.engine import Model, simulate
from sim.regimes import BINDING, BINDING_CODE, RULES, Regime, rule_names

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
    }
    assert all(BINDING[BINDING_CODE[n]] == n for n in BINDING)
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
    # The release generates the target at the head it produces: the rule aims at the start
    # level, the engine uses the mid-day level (a few cm apart).
    assert_allclose(RHO_G_ETA * q * (level - RES.tailwater(q)), 100e6, rtol=1e-3)
    assert_allclose(d["power_w"][0], 100e6, rtol=5e-3)
    assert np.all(np.diff(q) < 0)  # more head, less water
    # A target beyond what the running units can give: their full flow, no more.
    result = _run(Regime("power", params={"target_mw": 500.0}), level_m=level, period=one_day,
                  units_available=np.array([2.0]))
    assert np.all(result.daily["release_m3s"] <= 360.0 + 1e-9)
    assert np.all(result.daily["power_w"] <= 58e6 * (1 + 1e-12))
    result = _run(Regime("power", params={"target_mw": 500.0}), level_m=level, period=one_day,
                  units_available=np.array([0.0]))
    assert_array_equal(result.daily["release_m3s"], 0.0)


def test_level_rule_reaches_target_at_end_of_day():
    one_day = Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 1))
    # ±0.1 m is about ±43 hm³, ±500 m³/s over the day: within the dam's capacity.
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
