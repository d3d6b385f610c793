"""`bakhri sensitivity`: Sobol' indices (analytic cases through the code path the engine samples
take), ranking stability, the default uncertain inputs, the [sensitivity] table, the seepage
factor against the oracle and a hand-made series, and the command end to end."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.engine.driver import simulate
from sim.engine.reference import simulate_member
from sim.inputs.uncertain import UNCERTAIN, Range
from sim.scenario import ScenarioError, load_scenario, scenario_from_dict
from sim.studies import sensitivity
from sim.studies.sensitivity import design, indices, ranking_stability

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.toml"


def _ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def _ranges(bounds):
    return [Range(f"x{i}", (f"x{i}",), lo, hi) for i, (lo, hi) in enumerate(bounds)]


def test_ishigami_indices_match_the_analytic_values():
    # a = 7, b = 0.1: V = a²/8 + bπ⁴/5 + b²π⁸/18 + 1/2; S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437)
    a, b = 7.0, 0.1
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    s1 = np.array([v1 / v, v2 / v, 0.0])
    st = np.array([(v1 + v13) / v, v2 / v, v13 / v])
    assert s1[:2] == pytest.approx([0.314, 0.442], abs=1e-3) and st == pytest.approx([0.558, 0.442, 0.244], abs=1e-3)
    x = design(_ranges([(-math.pi, math.pi)] * 3), 8192, seed=1)
    assert x.shape == (8192 * 5, 3)
    got = indices(_ishigami(x), 3, seed=1)
    for k, want in (("S1", s1), ("ST", st)):
        err = np.abs(got[k] - want)
        # within the bootstrap's 95 % half-width (3 of them: every comparison must pass), and small
        assert np.all(err <= np.maximum(3 * got[f"{k}_conf"], 0.01)), (k, got[k], got[f"{k}_conf"])
        assert np.all(got[f"{k}_conf"] < 0.05)


def test_indices_are_salibs_own():
    from SALib.analyze.sobol import analyze

    rs = _ranges([(-math.pi, math.pi)] * 3)
    x = design(rs, 1024, seed=3)
    y = _ishigami(x)
    ours = indices(y, 3, seed=7)
    problem = {"num_vars": 3, "names": [r.name for r in rs], "bounds": [[r.low, r.high] for r in rs]}
    theirs = analyze(problem, y, calc_second_order=False, seed=7)
    for k in ("S1", "ST", "S1_conf", "ST_conf"):
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-9, atol=1e-12, err_msg=k)


def test_additive_model_first_order_indices_sum_to_one():
    c = np.array([1.0, 2.0, 0.5, 3.0])
    x = design(_ranges([(0.0, 1.0)] * 4), 4096, seed=2)
    got = indices(x @ c, 4, seed=2)
    # analytic: S1_i = c_i² / Σc² and ST = S1 (no interactions)
    want = c**2 / np.sum(c**2)
    assert abs(np.sum(got["S1"]) - 1.0) <= np.sum(got["S1_conf"])
    np.testing.assert_allclose(got["S1"], want, atol=np.max(3 * got["S1_conf"]))
    np.testing.assert_allclose(got["ST"], want, atol=np.max(3 * got["ST_conf"]))


def test_an_input_that_does_nothing_gets_zero_and_a_constant_output_zeros():
    x = design(_ranges([(0.0, 1.0)] * 3), 512, seed=0)
    got = indices(x[:, 0] ** 2, 3)
    assert got["ST"][1] == 0.0 and got["ST"][2] == 0.0 and got["S1"][1] == 0.0
    assert got["ST"][0] == pytest.approx(1.0, abs=0.05)
    flat = indices(np.full(x.shape[0], 5.0), 3)
    assert flat["constant"] and not np.any(flat["ST"]) and not np.any(flat["S1_conf"])
    with pytest.raises(ValueError, match="expected N × 5"):
        indices(np.ones(11), 3)


def test_ranking_stability_by_hand():
    nominal = {"a": {"energy_gwh": 10.0, "deficit_hm3": 5.0, "level_end_m": 342.0},
               "b": {"energy_gwh": 9.0, "deficit_hm3": 6.0, "level_end_m": 341.0},
               "c": {"energy_gwh": 8.0, "deficit_hm3": 7.0, "level_end_m": 340.0}}
    outputs = {
        # sample 1 keeps the order; sample 2 swaps b and c; sample 3 makes b best; sample 4: a tie within
        # half the printed precision (0.05 GWh) keeps a first
        "a": {"energy_gwh": np.array([10.0, 10.0, 8.0, 9.02]), "deficit_hm3": np.array([1.0, 1.0, 1.0, 1.0]),
              "level_end_m": np.array([342.0, 342.0, 342.0, 342.0])},
        "b": {"energy_gwh": np.array([9.0, 7.0, 9.0, 9.0]), "deficit_hm3": np.array([2.0, 2.0, 0.5, 2.0]),
              "level_end_m": np.array([341.0, 341.0, 341.0, 341.0])},
        "c": {"energy_gwh": np.array([8.0, 8.0, 7.0, 8.0]), "deficit_hm3": np.array([3.0, 3.0, 3.0, 3.0]),
              "level_end_m": np.array([340.0, 340.0, 340.0, 340.0])},
    }
    rows = {r["metric"]: r for r in ranking_stability(nominal, outputs)}
    e = rows["energy_gwh"]
    assert e["nominal_order"] == "a > b > c"
    assert e["best_changes"] == 0.25 and e["order_changes"] == 0.5
    assert (e["best.a"], e["best.b"], e["best.c"]) == (0.75, 0.25, 0.0)
    d = rows["deficit_hm3"]  # lower is better
    assert d["nominal_order"] == "a > b > c" and d["best_changes"] == 0.25 and d["order_changes"] == 0.25
    assert rows["level_end_m"]["order_changes"] == 0.0 and rows["level_end_m"]["samples"] == 4


def test_default_inputs_of_the_baseline_come_from_the_one_table():
    s = load_scenario(BASELINE)
    rs = {r.name: r for r in sensitivity.ranges(s)}
    # every default applies to the baseline but the stochastic inflow's correlation (it has no [ensemble])
    assert list(rs) == [u.key for u in UNCERTAIN if u.key != "ensemble.inflow_lag1"]
    ens = {r.name: r for r in sensitivity.ranges(load_scenario(ROOT / "scenarios" / "ensemble-dry.toml"))}
    assert list(ens) == [u.key for u in UNCERTAIN]
    lag = ens["ensemble.inflow_lag1"]
    assert (lag.low, lag.high, lag.nominal, lag.label) == (0.65, 0.95, 0.8, "GUESS") and "DATA.md" in lag.source
    assert (rs["losses.evaporation_factor"].low, rs["losses.evaporation_factor"].high) == (0.7, 1.3)  # DATA.md ±30 %
    assert (rs["reservoir.initial_storage_hm3"].low, rs["reservoir.initial_storage_hm3"].high) == (3140, 3490)
    assert rs["plant.efficiency"].low == pytest.approx(0.85) and rs["plant.efficiency"].high == pytest.approx(0.93)
    assert rs["reservoir.min_level_m"].low == pytest.approx(339.5)
    assert (rs["reservoir.tailwater_shift_m"].low, rs["reservoir.tailwater_shift_m"].high) == (-1.0, 1.0)
    assert rs["regimes.*.min_release_m3s"].keys == tuple(f"regimes.{r}.min_release_m3s" for r in sorted(s.regime_names))
    assert all(r.label in ("GUESS", "DERIVED") and r.source for r in rs.values())
    # the DERIVED table as a family: volume at the normal level, and the exponent factor whose
    # ends give the active volumes 2300 (Wikipedia) and 2648 hm³ (the table)
    assert (rs["reservoir.storage_factor"].low, rs["reservoir.storage_factor"].high) == (0.67, 1.01)
    assert (rs["reservoir.storage_exponent_factor"].low, rs["reservoir.storage_exponent_factor"].high) == (0.8, 1.0)
    assert "2300" in rs["reservoir.storage_exponent_factor"].source


def test_a_table_of_the_scenarios_own_is_not_varied(tmp_path):
    from sim.physics.hypsometry import power_law_table

    level, storage, area = power_law_table(322.5, 347.5, 4160.0, 3.0, step_m=0.5, top_level_m=351.5)
    table = tmp_path / "survey.csv"
    table.write_text("level_m,storage_hm3,area_km2\n" + "".join(f"{a},{b},{c}\n" for a, b, c in zip(level, storage, area,
                                                                                                      strict=True)))
    rs = {r.name for r in sensitivity.ranges(_base(reservoir={"hypsometry": str(table)}))}
    assert "reservoir.storage_factor" not in rs and "reservoir.storage_exponent_factor" not in rs
    assert "reservoir.storage_factor" in {r.name for r in sensitivity.ranges(_base())}


def _base(**extra):
    data = {
        "scenario": {"name": "t"}, "period": {"start": __import__("datetime").date(2025, 4, 1),
                                              "end": __import__("datetime").date(2025, 9, 30)},
        "reservoir": {"initial_storage_hm3": 3400}, "inflow": {"preset": "mean-2001-2010"},
        "demand": [{"name": "downstream", "preset": "baseline-2001-2010"}],
        "regimes": {"a": {"rule": "demand", "min_release_m3s": 150}, "b": {"rule": "demand", "min_release_m3s": 300}},
    }
    for k, v in extra.items():
        data[k] = {**data.get(k, {}), **v}
    return scenario_from_dict(data)


def test_a_default_applies_only_where_the_scenario_uses_the_labelled_figure():
    own = {"initial_storage_hm3": 3000, "tailwater": {"flow_m3s": [0, 4000], "level_m": [324.0, 336.0]}}
    rs = {r.name: r for r in sensitivity.ranges(_base(plant={"efficiency": 0.8}, reservoir=own))}
    # its own efficiency, initial storage and rating are the scenario's choices, not the presets' guesses
    assert "plant.efficiency" not in rs and "reservoir.initial_storage_hm3" not in rs
    assert "reservoir.tailwater_shift_m" not in rs
    # the sanitary minimum only in regime a (150 m³/s, the GUESS); b's 300 m³/s is a policy
    assert rs["regimes.*.min_release_m3s"].keys == ("regimes.a.min_release_m3s",)
    none = sensitivity.ranges(_base(losses={"evaporation_mm_month": [100] * 12, "seepage_m3s": 0}))
    assert "losses.evaporation_factor" not in {r.name for r in none}
    assert "losses.seepage_factor" not in {r.name for r in none}


def test_the_sensitivity_table_replaces_and_adds_ranges():
    s = _base(sensitivity={"defaults": True, "samples": 16, "metrics": ["energy_gwh"],
                           "inputs": {"losses.evaporation_factor": {"min": 0.5, "max": 1.5},
                                      "inflow.scale": {"min": 0.8, "max": 1.2},
                                      "regimes.*.max_release_m3s": {"min": 900, "max": 1200}}})
    rs = {r.name: r for r in sensitivity.ranges(s)}
    assert (rs["losses.evaporation_factor"].low, rs["losses.evaporation_factor"].high) == (0.5, 1.5)
    assert rs["inflow.scale"].nominal == 1.0 and rs["inflow.scale"].unit == "-"
    assert rs["regimes.*.max_release_m3s"].keys == ("regimes.a.max_release_m3s", "regimes.b.max_release_m3s")
    only = _base(sensitivity={"defaults": False, "inputs": {"inflow.scale": {"min": 0.8, "max": 1.2}}})
    assert [r.name for r in sensitivity.ranges(only)] == ["inflow.scale"]
    assert s.compiled.sensitivity.samples == 16 and s.compiled.sensitivity.metrics == ("energy_gwh",)


def test_bad_sensitivity_tables_say_what_is_wrong():
    with pytest.raises(ScenarioError) as err:
        _base(sensitivity={"samples": 3, "seed": -1, "defaults": "yes", "metrics": "energy_gwh", "inputs": []})
    text = str(err.value)
    for part in ("sensitivity.samples: found 3; expected a power of two", "sensitivity.seed: found -1",
                 "sensitivity.defaults: found the string \"yes\"; expected true or false",
                 "sensitivity.metrics: found the string \"energy_gwh\"; expected a list of metric names",
                 "sensitivity.inputs: found a list"):
        assert part in text, part


def test_seepage_factor_matches_a_doubled_series_and_the_oracle():
    s = _base(regimes={"b": {"rule": "demand", "min_release_m3s": 150}})
    model, regimes = s.build(overrides={"losses.seepage_factor": [0.0, 1.0, 2.0]})
    assert model.seepage_m3s.shape == (s.period.n_days, 3)
    res = simulate(model, regimes["a"])
    # by hand: the preset's monthly residual doubled, given as a series
    preset = [0.0, 0.0, 0.0, 0.0, 48.8, 101.9, 110.5, 27.7, 0.0, 0.0, 0.0, 0.0]
    doubled = _base(losses={"seepage_m3s": {"monthly": [2 * v for v in preset]}})
    m2, r2 = doubled.build()
    want = simulate(m2, r2["a"])
    for k in ("energy_gwh", "deficit_hm3", "level_end_m", "seepage_hm3"):
        assert res.metrics[k][2] == want.metrics[k][0], k
    zero = _base(losses={"seepage_m3s": 0})
    m0, r0 = zero.build()
    assert res.metrics["seepage_hm3"][0] == 0.0
    assert res.metrics["energy_gwh"][0] == simulate(m0, r0["a"]).metrics["energy_gwh"][0]
    # total seepage over May-August by hand (no cap: the level stays above the minimum)
    days = {5: 31, 6: 30, 7: 31, 8: 31}
    assert res.metrics["seepage_hm3"][1] == pytest.approx(sum(preset[m - 1] * d for m, d in days.items()) * 0.0864)
    for j in range(3):
        ref = simulate_member(model, regimes["a"], j)
        for k in ("energy_gwh", "deficit_hm3", "storage_end_hm3"):
            assert res.metrics[k][j] == pytest.approx(ref[k], rel=1e-9), (j, k)
    # factor 1 given in the file leaves the model's seepage as it was (no arithmetic)
    one = _base(losses={"seepage_factor": 1.0})
    assert one.build()[0].seepage_m3s is not None
    np.testing.assert_array_equal(one.build()[0].seepage_m3s, s.build()[0].seepage_m3s)


def test_run_on_the_baseline_is_reproducible_and_finds_what_matters():
    s = load_scenario(BASELINE)
    r1 = sensitivity.run(s, samples=64, metrics=["energy_gwh"], regimes=["irrigation-first", "energy-first"], seed=5)
    r2 = sensitivity.run(s, samples=64, metrics=["energy_gwh"], regimes=["irrigation-first", "energy-first"], seed=5)
    assert r1.indices == r2.indices
    d = len(r1.inputs)
    assert r1.n_settings == 64 * (d + 2) and len(r1.indices) == 2 * d
    # the nominal run is the scenario as given
    m, built = s.build()
    assert r1.nominal["irrigation-first"]["energy_gwh"] == simulate(m, built["irrigation-first"]).metrics["energy_gwh"][0]
    # efficiency is a first-order driver of energy; the maximum level cannot change it in an average year
    st = {row["input"]: row["ST"] for row in r1.indices if row["regime"] == "irrigation-first"}
    assert st["plant.efficiency"] > 0.2 and st["reservoir.max_level_m"] == 0.0
    assert [r["metric"] for r in r1.ranking] == ["energy_gwh", "deficit_hm3", "level_end_m"]
    with pytest.raises(ValueError, match="power of two"):
        sensitivity.run(s, samples=100)


def test_streamed_samples_give_the_same_result_and_can_be_read_as_a_sweep(tmp_path):
    from sim.studies import sweep

    s = load_scenario(BASELINE)
    kw = dict(samples=8, metrics=["energy_gwh", "deficit_hm3"], regimes=["irrigation-first", "guide-curve"], seed=3)
    held = sensitivity.run(s, **kw)
    streamed = sensitivity.run(s, out=tmp_path, chunk_size=20, **kw)
    assert streamed.indices == held.indices and streamed.ranking == held.ranking
    table = sweep.load(tmp_path / "baseline-sensitivity-samples").table
    assert len(table["regime"]) == 2 * held.n_settings
    col = [r.name for r in held.inputs].index("plant.efficiency")
    np.testing.assert_array_equal(table["plant.efficiency"][: held.n_settings], held.x[:, col])
    np.testing.assert_array_equal(table["energy_gwh"][: held.n_settings], held.outputs["irrigation-first"]["energy_gwh"])


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_command_end_to_end(tmp_path):
    p = _cli("sensitivity", BASELINE, "--samples", "16", "--out", tmp_path, "--metrics", "energy_gwh,deficit_hm3")
    assert p.returncode == 0, p.stderr
    folder = tmp_path / "baseline-sensitivity"
    assert sorted(f.name for f in folder.iterdir()) == ["inputs.csv", "plots", "ranking.csv", "run.json",
                                                         "scenario.resolved.toml", "sensitivity.csv"]
    assert (tmp_path / "baseline-sensitivity-samples" / "sweep.parquet").is_file()
    assert (folder / "plots" / "total-indices.png").stat().st_size > 10_000
    rows = list(csv.DictReader((folder / "sensitivity.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["metric", "regime", "input", "S1", "S1_conf", "ST", "ST_conf"]
    assert len(rows) == 2 * 4 * 10 and {r["metric"] for r in rows} == {"energy_gwh", "deficit_hm3"}
    ranking = list(csv.DictReader((folder / "ranking.csv").open(encoding="utf-8")))
    assert [r["metric"] for r in ranking] == ["energy_gwh", "deficit_hm3", "level_end_m"]
    doc = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert doc["written_by"] == "bakhri" and doc["kind"] == "sensitivity" and doc["settings_per_regime"] == 16 * 12
    assert "Energy [GWh]:" in p.stdout and "ranking of the regimes" in p.stdout and "ST " in p.stdout
    listed = _cli("sensitivity", BASELINE, "--list-inputs")
    assert listed.returncode == 0 and "reservoir.initial_storage_hm3: 3140–3490 hm³" in listed.stdout
    assert "not varied (yet)" not in listed.stdout and "ensemble.inflow_lag1" not in listed.stdout
    listed = _cli("sensitivity", ROOT / "scenarios" / "ensemble-dry.toml", "--list-inputs")
    assert listed.returncode == 0 and "ensemble.inflow_lag1: 0.65–0.95 -, nominal 0.8  [GUESS]" in listed.stdout
    assert "reservoir.storage_factor: 0.67–1.01" in listed.stdout


@pytest.mark.parametrize("args,message", [
    (["--samples", "100"], "--samples 100: expected a power of two from 2 to 10,000,000"),
    (["--metrics", "energy"], '--metrics: "energy" is not a metric; did you mean "energy_gwh"?'),
    (["--members", "5"], "--members 5: the scenario has no [ensemble]"),
    (["--regime", "irrigation"], '--regime: "irrigation" is not a regime of the scenario'),
])
def test_command_bad_options_exit_2_and_write_nothing(tmp_path, args, message):
    p = _cli("sensitivity", BASELINE, "--out", tmp_path, *args)
    assert p.returncode == 2 and p.stderr.startswith(f"{BASELINE}: ") and message in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("cores,load,now,expected", [
    (2, 0.1, None, 2), (2, 0.6, None, 1), (2, 1.0, None, 1), (2, 4.5, None, 1), (8, 2.2, None, 6), (1, 0.0, None, 1),
    (4, 0.0, None, 4),
    (2, 1.6, 0, 2),  # the lagging load of work that has just ended: both cores are idle now
    (2, 1.6, 1, 1), (2, 0.1, 3, 2),  # busy now but not over the minute: the minute's figure
])
def test_default_workers_are_the_idle_cores(monkeypatch, cores, load, now, expected):
    import os

    from sim.studies import sensitivity_cli
    from sim.studies.sensitivity_cli import idle_cores

    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(sensitivity_cli, "others_running", lambda: now)
    assert idle_cores() == expected

    def missing():
        raise OSError("no load average here")

    monkeypatch.setattr(os, "getloadavg", missing)
    assert idle_cores() == 1


@pytest.mark.skipif(not Path("/proc/loadavg").exists(), reason="needs /proc/loadavg")
def test_others_running_reads_this_instant():
    from sim.studies.sensitivity_cli import others_running

    running, total = (int(x) for x in Path("/proc/loadavg").read_text().split()[3].split("/"))
    assert 0 <= others_running() < total
