"""The stochastic inflow's lag-one correlation varied per member (``ensemble.inflow_lag1``):
a swept value gives the run of a file with that value, one value gives today's numbers to the
bit, and ``bakhri sweep --set`` takes it like any sweepable key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.engine.driver import simulate
from sim.scenario import load_scenario
from sim.studies import sweep

ROOT = Path(__file__).resolve().parents[2]
ENSEMBLE = ROOT / "scenarios" / "ensemble-dry.toml"
REGIMES = ["irrigation-first", "guide-curve"]
N_INFLOW = 7


def _with_lag(tmp_path, lag):
    path = tmp_path / f"lag-{lag}.toml"
    path.write_text(f'[scenario]\nextends = "{ENSEMBLE}"\nname = "lag"\n\n[ensemble]\ninflow_lag1 = {lag}\n',
                    encoding="utf-8")
    return load_scenario(path)


def _run(scenario, regime, n=N_INFLOW):
    model, built = scenario.build(n_members=n)
    return simulate(model, built[regime], n_members=n, keep_daily=False).metrics


def test_a_swept_correlation_is_a_run_with_that_correlation(tmp_path):
    lags = [0.3, 0.95, 0.8, -0.2]
    res = sweep.run(load_scenario(ENSEMBLE), {"ensemble.inflow_lag1": lags}, inflow_members=N_INFLOW, regimes=REGIMES,
                    chunk_size=9)  # chunks that cut settings apart
    assert "ensemble.inflow_lag1" in load_scenario(ENSEMBLE).sweepable
    for regime in REGIMES:
        for k, lag in enumerate(lags):
            alone = _run(_with_lag(tmp_path, lag), regime)
            for m in ("energy_gwh", "deficit_hm3", "level_end_m"):
                got = res.results[regime].metrics[m][k * N_INFLOW:(k + 1) * N_INFLOW]
                assert got.tobytes() == alone[m].tobytes(), (regime, lag, m)
    # the correlations matter: the season's inflow volume spreads more with more persistence
    vol = res.results[REGIMES[0]].metrics["inflow_hm3"].reshape(len(lags), N_INFLOW)
    assert vol[1].std() > vol[0].std()


def test_one_swept_value_gives_the_unswept_numbers_to_the_bit():
    s = load_scenario(ENSEMBLE)
    res = sweep.run(s, {"ensemble.inflow_lag1": [0.8]}, inflow_members=N_INFLOW, regimes=REGIMES)
    for regime in REGIMES:
        alone = _run(s, regime)
        for m, v in alone.items():
            assert res.results[regime].metrics[m].tobytes() == v.tobytes(), m
    # and per-member overrides of a build: equal values are the file's value
    model, built = s.build(overrides={"ensemble.inflow_lag1": np.full(N_INFLOW, 0.8)}, n_members=N_INFLOW)
    got = simulate(model, built[REGIMES[0]], n_members=N_INFLOW, keep_daily=False).metrics
    assert all(got[m].tobytes() == v.tobytes() for m, v in _run(s, REGIMES[0]).items())


def test_without_an_ensemble_the_key_is_refused():
    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    assert "ensemble.inflow_lag1" not in s.sweepable
    assert s.override_problem("ensemble.inflow_lag1", [0.5]) is not None


@pytest.mark.parametrize("value,code,text", [
    ("0.6,0.9", 0, "ensemble.inflow_lag1"),  # the column of the swept values
    ("-0.9", 2, "found -0.9; expected a number > -0.722335 and < 1 (with inflow_cv = 0.62 lognormal flows cannot"),
])  # fmt: skip
def test_sweep_command_takes_the_key(tmp_path, value, code, text):
    p = subprocess.run([sys.executable, "-m", "sim", "sweep", str(ENSEMBLE), "--set", f"ensemble.inflow_lag1={value}",
                        "--members", "3", "--regime", "irrigation-first", "--out", str(tmp_path), "--no-plots"],
                       capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == code, p.stderr
    if code:
        assert text in p.stderr and len(p.stderr.strip().splitlines()) == 1 and not any(tmp_path.iterdir())
        return
    table = sweep.load(tmp_path / "ensemble-dry-sweep").table
    assert table[text].tolist() == [0.6] * 3 + [0.9] * 3
