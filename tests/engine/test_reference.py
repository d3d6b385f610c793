"""The oracles agree: the compiled engine, the plain-Python reference (sim.engine.reference) and the
metric definitions (sim.engine.metrics), on every shipped scenario and at the limits of issue 7.

The reference restates the daily step one member at a time with Python floats; the engine
runs all members in compiled loops. They must give the same days to round-off (1e-9
relative), and the engine's summary metrics must be what sim.engine.metrics computes from the daily
series.
"""

import dataclasses
import datetime
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sim import builtin
from sim.engine import metrics
from sim.engine.driver import Model, SimulationError, simulate
from sim.engine.reference import simulate_member
from sim.physics.calendar import Period
from sim.physics.demand import User
from sim.rules.regimes import Regime
from sim.scenario import load_scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.toml"))
RTOL = 1e-9
HM3 = 0.0864  # hm³ per m³/s·day
DAILY = ("release_m3s", "turbine_flow_m3s", "spill_m3s", "overtopping_m3s", "storage_m3", "level_m", "head_m", "power_w",
         "demand_m3s", "supply_m3s", "deficit_m3s")
COUNTS = ("days_below_min_level", "days_below_min_by_losses", "spill_days", "surcharge_days", "days_above_max_level",
          "overtopping_days")


def _close(a, b, what):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.max(np.abs(b), initial=0.0), 1.0)  # relative to the series' size (zeros happen)
    assert np.max(np.abs(a - b), initial=0.0) <= RTOL * scale, what


def _agree(model, regime):
    """Engine vs reference vs sim.engine.metrics for every member of a run; returns the result."""
    result = simulate(model, regime)
    d, m = result.daily, result.metrics
    for j in range(result.n_members):
        ref = simulate_member(model, regime, j)
        for k in DAILY:
            _close(d[k][:, j], ref[k], f"{regime.name} member {j}: {k}")
        assert result.binding_names(j) == ref["binding"], f"{regime.name} member {j}: binding"
        for k in ("energy_gwh", "demand_hm3", "deficit_hm3", "storage_end_hm3", "reliability_time", "overtopping_hm3"):
            _close(m[k][j], ref[k], f"{regime.name} member {j}: {k}")
        for k in COUNTS:
            assert m[k][j] == ref[k], f"{regime.name} member {j}: {k}"
    # The summary is what the metric definitions give on the daily series.
    _close(m["reliability_time"], metrics.reliability_time(d["deficit_m3s"]), "reliability_time")
    _close(m["reliability_volume"], metrics.reliability_volume(d["supply_m3s"], d["demand_m3s"]), "reliability_volume")
    _close(m["resilience"], metrics.resilience(d["deficit_m3s"]), "resilience")
    _close(m["vulnerability_hm3"], metrics.vulnerability(d["deficit_m3s"], d["deficit_m3s"] * HM3), "vulnerability")
    _close(m["deficit_hm3"], d["deficit_m3s"].sum(axis=0) * HM3, "deficit_hm3")
    _close(m["energy_gwh"], d["energy_mwh"].sum(axis=0) * 1e-3, "energy_gwh")
    _close(m["overtopping_hm3"], d["overtopping_m3s"].sum(axis=0) * HM3, "overtopping_hm3")
    assert np.all(m["overtopping_days"] == np.sum(d["overtopping_m3s"] > 0, axis=0))
    # The spillway never passes more than its capacity; storage never leaves the table.
    spill_cap = np.asarray(model.reservoir.spillway_capacity_m3s, dtype=float)
    assert np.all(d["spill_m3s"] - d["overtopping_m3s"] <= spill_cap * (1 + 1e-12))
    assert np.all(d["storage_m3"] <= model.reservoir.hypsometry.max_storage_m3)
    for u, um in result.user_metrics.items():
        ud = result.user_daily[u]
        deficit = np.maximum(ud["demand_m3s"] - ud["supply_m3s"], 0.0)
        _close(um["reliability_time"], metrics.reliability_time(deficit), f"{u} reliability_time")
        _close(um["resilience"], metrics.resilience(deficit), f"{u} resilience")
    # Totals are every user's sum, those at the reservoir included.
    for k in ("demand_hm3", "supply_hm3", "deficit_hm3"):
        _close(m[k], sum(um[k] for um in result.user_metrics.values()), k) if result.user_metrics else None
    return result


def _small(scenario):
    """The scenario with at most 3 ensemble members, and 2 corners of its sweep as members."""
    if scenario.ensemble is not None:
        scenario = dataclasses.replace(scenario, ensemble=dataclasses.replace(scenario.ensemble, members=3))
    overrides = None
    if scenario.sweep is not None and scenario.sweep.method == "grid":
        overrides = {k: np.array([v[0], v[-1]], dtype=float) for k, v in scenario.sweep.parameters.items()}
    return scenario.build(overrides=overrides)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_engine_reference_and_metrics_agree_on_every_shipped_scenario(path):
    model, regimes = _small(load_scenario(path))
    for regime in regimes.values():
        _agree(model, regime)


# --- The limits (issue 7) -------------------------------------------------------------------

RES = builtin.reservoir()
HYPS = RES.hypsometry
PLANT = builtin.plant("rehabilitated")
MONTH = Period(datetime.date(2025, 6, 1), datetime.date(2025, 6, 30))


def _model(level_m, inflow, period=MONTH, **kwargs):
    levels = np.atleast_1d(np.asarray(level_m, dtype=float))
    return Model(
        period=period, reservoir=kwargs.pop("reservoir", RES), plant=PLANT,
        initial_storage_m3=HYPS.storage_m3_at(levels) if levels.size > 1 else HYPS.storage_m3_at(levels[0]),
        inflow_m3s=np.broadcast_to(np.asarray(inflow, dtype=float), (period.n_days,)) if np.ndim(inflow) == 0 else inflow,
        **kwargs,
    )


ALL_RULES = {
    "schedule": Regime("schedule", params={"release_m3s": np.linspace(0.0, 6000.0, 30)}, min_release_m3s=100.0),
    "demand": Regime("demand", params={"hedging_trigger_level_m": 343.0, "hedging_factor": 0.7}, min_release_m3s=150.0),
    "power-120": Regime("power", params={"target_mw": 120.0}, min_release_m3s=150.0),
    "power-174": Regime("power", params={"target_mw": 174.0}),
    "power-ramped": Regime("power", params={"target_mw": np.linspace(0.0, 250.0, 30)}, max_change_m3s_day=100.0,
                           initial_release_m3s=300.0),
    "level": Regime("level", params={"target_level_m": np.linspace(347.5, 341.0, 30), "approach_days": 3.0}),
    "level-capped": Regime("level", params={"target_level_m": 344.0}, max_release_m3s=2500.0),
}
USERS = (User("down", np.full(30, 700.0)), User("pump", np.full(30, 40.0), location="reservoir"))


@pytest.mark.parametrize("rule", ALL_RULES)
@pytest.mark.parametrize(
    "case, kwargs",
    [
        ("zero inflow", dict(level_m=[345.0, 341.0, 340.5], inflow=0.0, evaporation_mm_day=6.0, seepage_m3s=110.0)),
        ("flood past the spillway", dict(level_m=[345.0, 347.5], inflow=5500.0, evaporation_mm_day=6.0)),
        ("minimum level", dict(level_m=[340.5, 339.0, 340.6], inflow=150.0, seepage_m3s=110.0, evaporation_mm_day=6.0)),
        ("no units available", dict(level_m=[342.0, 347.0], inflow=900.0, units_available=np.where(np.arange(30) < 10, 0, 2))),
        ("low head", dict(level_m=[334.0, 337.0], inflow=1200.0, reservoir=builtin.reservoir(min_level_m=330.0))),
        ("pumps at the reservoir", dict(level_m=[323.5, 341.0], inflow=30.0, users=USERS,
                                        reservoir=builtin.reservoir(min_level_m=322.5))),
        ("overtopping", dict(level_m=[347.5, 350.0, 351.4], inflow=np.linspace(6000.0, 12000.0, 30),
                             evaporation_mm_day=6.0, units_available=np.where(np.arange(30) < 15, 2, 0))),
        ("overtopping, turbines running", dict(level_m=[351.5, 351.5], inflow=np.tile([[5060.0, 5120.0]], (30, 1)))),
    ],
)
def test_engine_and_reference_agree_at_the_limits(rule, case, kwargs):
    result = _agree(_model(**kwargs), ALL_RULES[rule])
    if case.startswith("overtopping"):  # the case reaches the crest in every member, under every rule
        assert np.all(result.metrics["overtopping_days"] > 0)
    if case == "overtopping, turbines running":  # a little over the crest: the head still runs them
        over = result.daily["overtopping_m3s"] > 0
        assert np.all(result.daily["turbine_flow_m3s"][over] > 0)


def test_both_still_refuse_a_number_that_is_not_finite():
    model = _model(level_m=347.5, inflow=1e305)  # 1e305 m³/s × 86,400 s overflows
    regime = ALL_RULES["schedule"]
    with pytest.raises(SimulationError, match=r"on 2025-06-01 \(day 1, member 0\).*not a finite number"):
        simulate(model, regime)
    with pytest.raises(SimulationError, match=r"on 2025-06-01 \(day 1, member 0\).*not finite"):
        simulate_member(model, regime)


@pytest.mark.parametrize("rule", ["demand", "power-ramped", "level"])
def test_members_with_their_own_daily_inputs_run_as_if_alone(rule):
    """Every daily input and every user's demand differs by member and by day. The kernel lays
    each member's days out in one table before running it (sim.engine.kernels, `tin`), the
    inputs shared by all members once: each member must get the reference's numbers, and,
    exactly, the numbers it gets run alone (one-member chunks, compiled; `_agree` runs the
    plain-Python path of the same kernel)."""
    rng = np.random.default_rng(11)
    n, k = MONTH.n_days, 3
    model = _model(
        level_m=[344.0, 346.5, 341.5], inflow=rng.uniform(0.0, 3000.0, (n, k)),
        evaporation_mm_day=rng.uniform(0.0, 12.0, (n, k)), precipitation_mm_day=rng.uniform(0.0, 5.0, (n, k)),
        seepage_m3s=rng.uniform(0.0, 150.0, (n, k)), lateral_inflow_m3s=rng.uniform(-50.0, 200.0, (n, k)),
        units_available=rng.integers(0, 7, (n, k)), extra_release_m3s=rng.uniform(0.0, 300.0, (n, k)),
        users=(User("down", rng.uniform(0.0, 1500.0, (n, k))), User("second", np.full(n, 200.0), priority=2),
               User("pump", rng.uniform(0.0, 60.0, (n, k)), location="reservoir")),
    )
    together = _agree(model, ALL_RULES[rule])
    alone = simulate(model, ALL_RULES[rule], chunk_size=1, engine="compiled")
    for key in together.daily:
        assert_array_equal(together.daily[key], alone.daily[key], err_msg=key, strict=True)
    for key in together.metrics:
        assert_array_equal(together.metrics[key], alone.metrics[key], err_msg=key, strict=True)
    assert not np.array_equal(together.daily["release_m3s"][:, 0], together.daily["release_m3s"][:, 1])
