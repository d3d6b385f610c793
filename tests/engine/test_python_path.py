"""The plain-Python path of the engine gives the compiled engine's numbers, bit for bit.

Small runs take the plain-Python path (sim.engine.dispatch.advance_python: the kernel's own
code object with every kernel it calls bound to its Python function), so that they need
neither numba nor its compilation. Nothing about the numbers may depend on the path: every
shipped scenario gives the recorded output bytes through it, and random models (floods past
the spillway, an emptied reservoir, every rule and limit) give equal arrays, NaN for NaN.
"""

import dataclasses
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import builtin
from sim._jit import njit
from sim.engine import dispatch, driver
from sim.engine.driver import Model, SimulationError, choose_engine, simulate
from sim.physics.calendar import Period, growing_season
from sim.physics.compiled import field_at
from sim.physics.demand import User
from sim.rules import Param, Rule, register, unregister
from sim.rules.base import RULE, as_field
from sim.rules.regimes import Regime

ROOT = Path(__file__).resolve().parents[2]
SEASON = growing_season(2025)
HYPS = builtin.reservoir().hypsometry
PLANT = builtin.plant("rehabilitated")


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "BAKHRI_ENGINE"}
    env.update(extra)
    return env


def _assert_same(a, b):
    """Two SimulationResults hold exactly the same numbers (NaN where the other has NaN)."""
    assert a.metrics.keys() == b.metrics.keys()
    for k in a.metrics:
        np.testing.assert_array_equal(a.metrics[k], b.metrics[k], err_msg=k, strict=True)
    for user in a.user_metrics:
        for k in a.user_metrics[user]:
            np.testing.assert_array_equal(a.user_metrics[user][k], b.user_metrics[user][k], err_msg=f"{user} {k}")
    assert (a.daily is None) == (b.daily is None)
    for k in a.daily or {}:
        np.testing.assert_array_equal(a.daily[k], b.daily[k], err_msg=k, strict=True)
    for user in a.user_daily or {}:
        for k in a.user_daily[user]:
            np.testing.assert_array_equal(a.user_daily[user][k], b.user_daily[user][k], err_msg=f"{user} {k}")


def _both(model, regime, **kwargs):
    python = simulate(model, regime, engine="python", **kwargs)
    compiled = simulate(model, regime, engine="compiled", **kwargs)
    _assert_same(python, compiled)
    return python


# --- every shipped scenario, byte for byte -------------------------------------------------


def test_every_shipped_scenario_gives_the_recorded_bytes_on_the_python_path(tmp_path):
    sys.path.insert(0, str(ROOT / "tests"))
    from golden import make

    recorded = json.loads((ROOT / "tests" / "golden" / "outputs.json").read_text())["files"]
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", *map(str, make.scenario_files()), "--no-plots", "--out", str(tmp_path)],
        cwd=ROOT, env=_env(BAKHRI_ENGINE="python"), capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "compiling" not in proc.stderr
    got = make.hashes(tmp_path)
    want = {name: h for name, h in recorded.items() if not name.startswith("sweep-hedging-sweep/")}
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []
    for run_json in tmp_path.glob("*/run.json"):
        assert json.loads(run_json.read_text())["engine"] == "python"


# --- random models, both paths ------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    level=st.floats(322.6, 351.0),
    rule=st.sampled_from(["schedule", "demand", "power", "level"]),
    min_release=st.floats(0.0, 500.0),
    max_release=st.one_of(st.just(np.inf), st.floats(0.0, 6000.0)),
    ramp=st.one_of(st.just(np.inf), st.floats(1.0, 500.0)),
    initial_release=st.one_of(st.none(), st.floats(0.0, 2000.0)),
    units=st.integers(0, 6),
    flood=st.sampled_from([0.0, 1.0, 6.0]),
    keep_daily=st.booleans(),
    table=st.sampled_from([(1.0, 1.0), (0.6, 1.0), (1.0, 1.4), (1.02, 0.6)]),  # member 0's storage/exponent factors
)
def test_random_models_give_identical_numbers_on_both_paths(
    seed, level, rule, min_release, max_release, ramp, initial_release, units, flood, keep_daily, table,
):
    rng = np.random.default_rng(seed)
    n = 40
    period = Period(datetime.date(2025, 6, 1), datetime.date(2025, 6, 1) + datetime.timedelta(days=n - 1))
    inflow = rng.uniform(0.0, 3000.0 * flood, (n, 2))  # flood 0: no inflow, the reservoir empties
    params = {
        "schedule": {"release_m3s": rng.uniform(0.0, 5000.0, n)},
        "demand": {"hedging_trigger_level_m": 343.0, "hedging_factor": 0.7},
        "power": {"target_mw": rng.uniform(0.0, 250.0, n)},
        "level": {"target_level_m": rng.uniform(335.0, 349.0, n)},
    }[rule]
    regime = Regime(rule, params=params, min_release_m3s=min_release, max_release_m3s=max(max_release, min_release),
                    max_change_m3s_day=ramp, initial_release_m3s=initial_release)
    reservoir = dataclasses.replace(builtin.reservoir(), storage_factor=np.array([table[0], 1.0]),
                                    storage_exponent_factor=np.array([table[1], 1.0]))
    model = Model(
        period=period, reservoir=reservoir, plant=PLANT,
        initial_storage_m3=reservoir.member_hypsometry().storage_fast(np.array([level, 340.6])), inflow_m3s=inflow,
        evaporation_mm_day=rng.uniform(0.0, 12.0), precipitation_mm_day=rng.uniform(0.0, 5.0),
        seepage_m3s=rng.uniform(0.0, 200.0), reach_loss_fraction=0.1, lateral_inflow_m3s=rng.uniform(-50, 200),
        units_available=np.full(n, units),
        users=(User("downstream", rng.uniform(0.0, 1500.0, n)), User("second", rng.uniform(0.0, 300.0, n), priority=2),
               User("pumping", np.full(n, 40.0), location="reservoir")),
    )
    _both(model, regime, keep_daily=keep_daily)


def test_python_rule_ensemble_and_chunks_give_identical_numbers_on_both_paths():
    model = builtin.model(SEASON)
    rng = np.random.default_rng(7)
    ensemble = Model(period=model.period, reservoir=model.reservoir, plant=model.plant,
                     initial_storage_m3=model.initial_storage_m3,
                     inflow_m3s=model.inflow_m3s * rng.uniform(0.5, 1.5, (1, 7)),
                     evaporation_mm_day=model.evaporation_mm_day, seepage_m3s=model.seepage_m3s, users=model.users)
    _both(ensemble, Regime(lambda day: np.minimum(day.inflow_m3s * 0.9, 2500.0), name="ninety-percent"))
    _both(ensemble, Regime("power", params={"target_mw": 120.0}, max_change_m3s_day=80.0), chunk_size=3)


def _fraction_step(p, t, j, s0, sg, lev, pv, q, wn, dsum, lateral, reach_loss, turb_max, cap_w, rge, min_head, use_hi,
                   hs, hl, hl_slope, tq, tl, tl_slope):
    return field_at(p[0], 0, j) * q, RULE


@pytest.fixture
def half_inflow():
    """A rule defined in this file (a plain njit step, not inlined), registered for one test."""
    rule = Rule(name="inflow-fraction-py", doc="Release a fraction of the day's inflow.",
                params=(Param("fraction", "fraction", doc="Share of the inflow released."),),
                prepare=lambda model, fraction: (as_field(fraction),), step=njit(cache=True)(_fraction_step),
                reference=None)
    register(rule)
    try:
        yield rule
    finally:
        unregister(rule.name)


def test_a_rule_registered_in_a_test_file_runs_on_the_python_path(half_inflow):
    model = builtin.model(SEASON)
    result = _both(model, Regime("inflow-fraction-py", params={"fraction": 0.5}))
    np.testing.assert_array_equal(result.daily["release_m3s"][:20], 0.5 * result.daily["inflow_m3s"][:20])


def test_non_finite_numbers_stop_both_paths_on_the_same_day():
    model = builtin.model(SEASON)
    bad = Model(period=model.period, reservoir=model.reservoir, plant=model.plant,
                initial_storage_m3=model.initial_storage_m3, inflow_m3s=model.inflow_m3s, inflow_scale=1e308)
    messages = []
    for engine in ("python", "compiled"):
        with pytest.raises(SimulationError) as err, np.errstate(all="ignore"):
            simulate(bad, Regime("demand"), engine=engine)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "not a finite number" in messages[0]


# --- the choice -----------------------------------------------------------------------------


def test_auto_takes_python_for_small_runs_and_compiled_above_the_threshold(monkeypatch):
    monkeypatch.delenv("BAKHRI_ENGINE", raising=False)
    monkeypatch.setattr(dispatch, "loaded", lambda: False)
    assert choose_engine(1) == "python"
    assert choose_engine(driver.PYTHON_MAX_MEMBER_DAYS) == "python"
    assert choose_engine(driver.PYTHON_MAX_MEMBER_DAYS + 1) == "compiled"
    assert choose_engine(10**12, "python") == "python"  # forced, whatever the size
    assert choose_engine(1, "compiled") == "compiled"
    monkeypatch.setattr(dispatch, "loaded", lambda: True)  # loaded already: it costs nothing more
    assert choose_engine(1) == "compiled"
    monkeypatch.setenv("BAKHRI_ENGINE", " Python ")
    assert choose_engine(10**12) == "python"
    monkeypatch.setenv("BAKHRI_ENGINE", "fast")
    with pytest.raises(ValueError, match="BAKHRI_ENGINE='fast': expected one of auto, compiled, python"):
        choose_engine(1)
    with pytest.raises(ValueError, match="engine='numba': expected one of auto, compiled, python"):
        choose_engine(1, "numba")


def test_small_run_loads_no_numba_and_says_nothing_of_compiling(tmp_path):
    code = ("import sys; from sim import cli; status = cli.main(['run', 'scenarios/baseline.toml', '--no-plots', "
            f"'--out', {str(tmp_path)!r}]); print(status, [m for m in ('numba', 'llvmlite', 'matplotlib') "
            "if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "0 []"
    assert "compiling" not in proc.stderr
    doc = json.loads((tmp_path / "baseline" / "run.json").read_text())
    assert doc["engine"] == "python" and doc["matplotlib"]


def test_large_run_is_compiled_and_bad_engine_setting_is_refused(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim", "run", "scenarios/ensemble-dry.toml", "--no-plots", "--out",
                           str(tmp_path)], cwd=ROOT, env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "ensemble-dry" / "run.json").read_text())["engine"] == "compiled"
    proc = subprocess.run([sys.executable, "-m", "sim", "run", "scenarios/baseline.toml", "--no-plots", "--out",
                           str(tmp_path / "bad")], cwd=ROOT, env=_env(BAKHRI_ENGINE="gpu"), capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == "bakhri: BAKHRI_ENGINE='gpu': expected one of auto, compiled, python\n"
    assert not (tmp_path / "bad").exists()
