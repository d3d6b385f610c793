"""bakhri optimise: aggregation and repair by hand, the evaluator against single runs, the shipped
scenario's front against the baseline regimes, exact reproduction by the solutions' files,
reproducibility, resume, ensembles and the single-objective path."""

from __future__ import annotations

import csv
import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import load_scenario, simulate
from sim.scenario import scenario_from_dict
from sim.studies import optimise
from sim.studies.optimise import Evaluator, aggregate, repair

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


# --- by hand --------------------------------------------------------------------------------------

def test_aggregate_by_hand():
    v = np.array([[1.0, 2.0, 3.0, 4.0, 10.0]])
    assert aggregate(v, "mean", "max")[0] == 4.0
    assert aggregate(v, "median", "min")[0] == 3.0
    assert aggregate(v, "worst", "max")[0] == 1.0      # the least energy
    assert aggregate(v, "worst", "min")[0] == 10.0     # the largest deficit
    # p25: the 25 % worst case; numpy's linear percentile of 1,2,3,4,10 at 25 % is 2, at 75 % is 4
    assert aggregate(v, "p25", "max")[0] == 2.0
    assert aggregate(v, "p25", "min")[0] == 4.0


def test_repair_by_hand():
    lo, hi = np.full(4, 150.0), np.full(4, 1000.0)
    x = np.array([[100.0, 900.04, 920.0, 100.0]])
    got = repair(x, lo, hi, 200.0)
    # 100 → 150 (bound); 900.0 → 350 (step from 150); 920 → 550; 100 → 350
    assert got.tolist() == [[150.0, 350.0, 550.0, 350.0]]
    assert repair(x, lo, hi, None).tolist() == [[150.0, 900.0, 920.0, 150.0]]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-500, 3000), min_size=2, max_size=18), st.floats(1.0, 500.0))
def test_repair_keeps_bounds_and_steps(values, step):
    x = np.array([values])
    lo, hi = np.full(x.shape[1], 150.0), np.full(x.shape[1], 1100.0)
    got = repair(x, lo, hi, step)
    assert np.all(got >= lo) and np.all(got <= hi)
    assert np.all(np.abs(np.diff(got[0])) <= step + 1e-9)
    assert np.array_equal(np.round(got, 1), got)  # on the 0.1 m³/s grid
    assert np.array_equal(repair(got, lo, hi, step), got)  # idempotent


# --- the evaluator: one engine call, the same numbers as one run per candidate ---------------------

def _scenario(**optimise_table):
    data = {
        "scenario": {"name": "opt-small", "extends": str(SCENARIOS / "baseline.toml")},
        "optimise": {"regime": "agreed-schedule",
                     "variables": {"regimes.agreed-schedule.decadal_m3s": {"min": 150, "max": 1080, "max_step_m3s": 200}},
                     "objectives": {"energy_gwh": "max", "deficit_hm3": "min"},
                     "constraints": {"level_end_m": {"min": 342.0}},
                     "population": 12, "generations": 4, "seed": 7, **optimise_table},
    }
    return scenario_from_dict(data, path=SCENARIOS / "opt-small.toml")


def test_evaluator_equals_one_run_per_candidate():
    s = _scenario()
    ev = Evaluator(s, s.optimise, 1)
    rng = np.random.default_rng(1)
    x = ev.repair(150 + rng.random((3, 18)) * 900)
    raw = ev.metrics(x)
    model, regimes = s.build()
    for i in range(3):
        daily = ev.schedule_daily(x[i:i + 1])
        regime = regimes["agreed-schedule"]
        r = simulate(model, dataclasses.replace(regime, params={**regime.params, "release_m3s": daily}), keep_daily=False)
        assert raw["energy_gwh"][i, 0] == r.metrics["energy_gwh"][0]
        assert raw["deficit_hm3"][i, 0] == r.metrics["deficit_hm3"][0]


def test_large_fields_are_evaluated_in_groups_with_the_same_numbers(monkeypatch):
    s = _scenario()
    ev = Evaluator(s, s.optimise, 1)
    x = ev.repair(150 + np.random.default_rng(2).random((5, 18)) * 900)
    whole = ev.metrics(x)
    monkeypatch.setattr(optimise, "FIELD_BYTES", 2 * 183 * 8)  # two candidates a call
    grouped = ev.metrics(x)
    assert ev.evaluations == 10
    for name in whole:
        assert np.array_equal(whole[name], grouped[name])


def test_schedule_daily_matches_decadal_series():
    from sim.inputs import series

    s = _scenario()
    ev = Evaluator(s, s.optimise, 1)
    values = np.arange(18, dtype=float) * 10 + 200
    expected = series.decadal(values.tolist(), s.period, start="04-01")
    assert np.array_equal(ev.schedule_daily(values[None, :])[:, 0], expected)


# --- the shipped scenario: quality, outputs, reproduction ------------------------------------------

@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """optimise-schedule.toml at a small size, written to a folder."""
    s = load_scenario(SCENARIOS / "optimise-schedule.toml")
    out = tmp_path_factory.mktemp("opt")
    result = optimise.run(s, population=30, generations=20, out=out, plots=True)
    return s, result, out


def test_front_weakly_dominates_every_feasible_baseline_regime(searched):
    """The issue's quality point: for each regime of baseline.toml meeting the end-level
    constraint, a solution with energy no lower (within 0.5 %) and deficit no higher (within 1 hm³)."""
    _, result, _ = searched
    baseline = load_scenario(SCENARIOS / "baseline.toml")
    model, regimes = baseline.build()
    e, d = result.front["energy_gwh"], result.front["deficit_hm3"]
    assert result.feasible and np.all(result.front["level_end_m"] >= 342.0)
    checked = 0
    for name, regime in regimes.items():
        r = simulate(model, regime, keep_daily=False).metrics
        if r["level_end_m"][0] < 342.0:
            continue
        checked += 1
        ok = (e >= r["energy_gwh"][0] * 0.995) & (d <= r["deficit_hm3"][0] + 1.0)
        assert np.any(ok), f"{name}: energy {r['energy_gwh'][0]:.1f} GWh, deficit {r['deficit_hm3'][0]:.1f} hm³ not matched"
    assert checked == 2  # irrigation-first and guide-curve end at or above 342 m


def test_front_is_non_dominated_and_ordered(searched):
    _, result, _ = searched
    e, d = result.front["energy_gwh"], result.front["deficit_hm3"]
    assert np.all(np.diff(e) <= 0)  # along the first objective, best first
    for i in range(len(e)):
        dominated = (e >= e[i]) & (d <= d[i]) & ((e > e[i]) | (d < d[i]))
        assert not np.any(dominated)
    assert result.front["solution"].tolist() == list(range(1, len(e) + 1))


def test_output_folder(searched):
    s, result, out = searched
    folder = out / "optimise-schedule-optimise"
    assert result.folder == folder
    names = {p.name for p in folder.iterdir()}
    assert {"pareto.csv", "regimes.csv", "solutions", "plots", "scenario.resolved.toml", "run.json"} <= names
    assert {p.name for p in (folder / "plots").iterdir()} == {"pareto.png", "schedules.png"}
    assert len(list((folder / "solutions").glob("*.toml"))) == len(result.x)
    rows = list(csv.DictReader(open(folder / "pareto.csv", encoding="utf-8")))
    assert len(rows) == len(result.x)
    assert "regimes.agreed-schedule.decadal_m3s[Apr I 2025]" in rows[0] and "energy_gwh" in rows[0]
    assert not any(p.name.startswith(".") for p in out.iterdir())  # no checkpoint left behind


def test_solution_files_reproduce_their_values_exactly(searched, tmp_path):
    """`bakhri run solutions/<k>.toml` gives the solution's objective values, to the last bit."""
    from sim.cli import main

    _, result, out = searched
    folder = out / "optimise-schedule-optimise"
    rows = list(csv.DictReader(open(folder / "pareto.csv", encoding="utf-8")))
    for k in (1, len(rows)):
        sol = load_scenario(folder / "solutions" / f"{k}.toml")
        assert sol.regime_names == ["irrigation-first", "energy-first", "agreed-schedule", "guide-curve", f"optimised-{k}"]
        model, regimes = sol.build()
        m = simulate(model, regimes[f"optimised-{k}"], keep_daily=False).metrics
        for name in ("energy_gwh", "deficit_hm3", "level_end_m"):
            assert m[name][0] == result.front[name][k - 1] == float(rows[k - 1][name])
    assert main(["run", str(folder / "solutions" / "1.toml"), "--no-plots", "--out", str(tmp_path)]) == 0
    summary = {r["regime"]: r for r in csv.DictReader(open(tmp_path / "optimise-schedule-solution-1" / "summary.csv"))}
    assert float(summary["optimised-1"]["energy_gwh"]) == float(rows[0]["energy_gwh"])
    assert float(summary["optimised-1"]["deficit_hm3"]) == float(rows[0]["deficit_hm3"])


def test_same_seed_same_bytes_and_resume_gives_the_same_result(tmp_path):
    s = _scenario()
    a = optimise.run(s, out=tmp_path / "a", plots=False)
    b = optimise.run(s, out=tmp_path / "b", plots=False)
    pareto = "opt-small-optimise/pareto.csv"
    assert (tmp_path / "a" / pareto).read_bytes() == (tmp_path / "b" / pareto).read_bytes()
    assert np.array_equal(a.x, b.x)

    stop_after = 2 * s.optimise.population  # member-seasons after the second generation

    def interrupt(done):
        if done >= stop_after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        optimise.run(s, out=tmp_path / "c", plots=False, progress=interrupt)
    part = optimise.partial_folder(tmp_path / "c", s)
    assert (part / optimise.CHECKPOINT).is_file() and not (tmp_path / "c" / "opt-small-optimise").exists()
    import json

    progress = json.loads((part / "progress.json").read_text())
    assert progress["kind"] == "optimise-partial" and progress["generation"] == 2 and progress["generations"] == 4
    c = optimise.run(s, out=tmp_path / "c", plots=False, resume=True)
    assert c.generations == s.optimise.generations
    assert (tmp_path / "c" / pareto).read_bytes() == (tmp_path / "a" / pareto).read_bytes()
    assert not part.exists()


def test_resume_refuses_other_inputs(tmp_path):
    s = _scenario()

    def interrupt(done):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        optimise.run(s, out=tmp_path, plots=False, progress=interrupt)
    with pytest.raises(optimise.ResumeError, match="had other inputs"):
        optimise.run(s, out=tmp_path, plots=False, resume=True, seed=8)
    with pytest.raises(optimise.ResumeError, match="no interrupted search"):
        optimise.run(s, out=tmp_path / "empty", plots=False, resume=True)


def test_ensemble_candidates_meet_the_same_members_and_aggregate(tmp_path):
    """With an [ensemble], the front's values are the aggregate of the solution run on the same
    inflow members (common random numbers): the solution file reproduces them exactly."""
    data = {
        "scenario": {"name": "opt-ens", "extends": str(SCENARIOS / "optimise-schedule.toml")},
        "ensemble": {"members": 6, "seed": 3, "inflow_cv": 0.62},
        "optimise": {"aggregate": "p20", "population": 8, "generations": 3},
    }
    s = scenario_from_dict(data, path=SCENARIOS / "opt-ens.toml")
    # the file's path is notional: solutions extend it, so write it where they can find it
    result = optimise.run(s, out=tmp_path, plots=False)
    assert result.n_inflow == 6 and result.n_evaluated == 8 * 3 * 6
    ev = Evaluator(s, result.spec, 6)
    raw = ev.metrics(result.x[:1])
    assert aggregate(raw["energy_gwh"], "p20", "max")[0] == result.front["energy_gwh"][0]
    assert aggregate(raw["deficit_hm3"], "p20", "min")[0] == result.front["deficit_hm3"][0]
    # the regimes' values are on the same members
    model, regimes = s.build()
    r = simulate(model, regimes["irrigation-first"], keep_daily=False).metrics["energy_gwh"]
    assert aggregate(r[None, :], "p20", "max")[0] == result.regimes["irrigation-first"]["energy_gwh"]


def test_single_objective_with_scalar_keys(tmp_path):
    """One objective: the genetic algorithm; scalar variables of the regime and of a section, written
    back into the solution file where `bakhri run` reads them."""
    data = {
        "scenario": {"name": "opt-one", "extends": "baseline.toml", "regimes": ["irrigation-first", "guide-curve"]},
        "optimise": {"regime": "irrigation-first",
                     "variables": {"regimes.irrigation-first.hedging.factor": {"min": 0.5, "max": 1.0},
                                   "regimes.irrigation-first.min_release_m3s": {"min": 100, "max": 200},
                                   "reservoir.initial_storage_hm3": {"min": 3200, "max": 3400}},
                     "objectives": {"downstream-baseline.deficit_hm3": "min"},
                     "constraints": {"level_end_m": {"min": 342.0}},
                     "population": 8, "generations": 3, "seed": 1},
    }
    path = tmp_path / "opt-one.toml"
    shutil.copy(SCENARIOS / "baseline.toml", tmp_path / "baseline.toml")
    s = scenario_from_dict(data, path=path)
    _write_scenario(path, data)
    result = optimise.run(s, out=tmp_path / "out", plots=True)
    best = result.front["downstream-baseline.deficit_hm3"]
    assert len(best) >= 1 and np.all(best == best[0])  # one objective: the best candidate(s)
    assert set(result.front) >= {"regimes.irrigation-first.hedging.factor", "reservoir.initial_storage_hm3",
                                 "downstream-baseline.deficit_hm3", "level_end_m"}
    sol = load_scenario(result.folder / "solutions" / "1.toml")
    assert sol.resolved["reservoir"]["initial_storage_hm3"] == result.x[0, 2]
    model, regimes = sol.build()
    m = simulate(model, regimes["optimised-1"], keep_daily=False)
    assert m.user_metrics["downstream-baseline"]["deficit_hm3"][0] == result.front["downstream-baseline.deficit_hm3"][0]
    assert s.resolved["regimes"]["irrigation-first"]["hedging"]["factor"] == 0.8  # the scenario is left as it was
    # the best deficit is no worse than irrigation-first's own, which the search started from
    assert result.front["downstream-baseline.deficit_hm3"][0] <= result.regimes["irrigation-first"]["downstream-baseline.deficit_hm3"]


def _write_scenario(path: Path, data: dict) -> None:
    """The dict as a TOML file (only what these tests use: tables, strings, numbers, lists)."""
    from sim.scenario.resolved import toml_pairs

    lines = []
    for section, table in data.items():
        lines += [f"[{section}]", *toml_pairs(table), ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def test_cli_optimise(tmp_path, capsys):
    from sim.cli import main

    code = main(["optimise", str(SCENARIOS / "optimise-schedule.toml"), "--population", "8", "--generations", "2",
                 "--no-plots", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "Energy [GWh]" in out and "Deficit [hm³]" in out and "guide-curve" in out
    assert (tmp_path / "optimise-schedule-optimise" / "pareto.csv").is_file()


def test_cli_without_optimise_table(capsys):
    from sim.cli import main

    code = main(["optimise", str(SCENARIOS / "baseline.toml")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"{SCENARIOS / 'baseline.toml'}: no [optimise] table; expected regime, variables")


def test_cli_bad_population(capsys):
    from sim.cli import main

    code = main(["optimise", str(SCENARIOS / "optimise-schedule.toml"), "--population", "3"])
    assert code == 2
    assert capsys.readouterr().err == f"{SCENARIOS / 'optimise-schedule.toml'}: --population is 3; expected a whole number >= 4\n"


def test_unreachable_constraint_gives_the_least_infeasible(tmp_path):
    """No schedule ends the season at 348.5 m: the search says so and keeps the nearest miss."""
    s = _scenario(constraints={"level_end_m": {"min": 348.5}}, population=8, generations=3,
                  variables={"regimes.agreed-schedule.decadal_m3s": {"min": 150, "max": 1080},
                             "regimes.agreed-schedule.min_release_m3s": {"min": 150, "max": 150}})
    result = optimise.run(s, out=tmp_path, plots=True)
    assert not result.feasible and len(result.x) == 1
    assert np.all(np.isfinite(result.x)) and result.x[0, -1] == 150.0  # a range of one value stays there
    assert result.front["level_end_m"][0] < 348.5
    assert all(not r["feasible"] for r in result.regimes.values())
    from sim.studies.optimise_output import format_front

    assert "(no candidate met the constraints: the least infeasible is shown)" in format_front(result)


def test_show_lists_the_search():
    from sim.report.show import scenario_text

    text = scenario_text(load_scenario(SCENARIOS / "optimise-schedule.toml"))
    assert "optimise    regime agreed-schedule: population 100 × 100 generations, seed 2025" in text
    assert "  regimes.agreed-schedule.decadal_m3s: 18 decades, 150..1080, step <= 200" in text
    assert "  constraint: level_end_m >= 342" in text


def test_cli_interrupt_then_resume(tmp_path, capsys, monkeypatch):
    """Ctrl-C after the second generation keeps the checkpoint; --resume finishes the same search."""
    from sim.cli import main

    args = ["optimise", str(SCENARIOS / "optimise-schedule.toml"), "--population", "6", "--generations", "4",
            "--no-plots", "--out"]
    assert main(args + [str(tmp_path / "whole")]) == 0
    calls = {"n": 0}
    evaluate = Evaluator.evaluate

    def interrupted(self, x):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return evaluate(self, x)

    monkeypatch.setattr(Evaluator, "evaluate", interrupted)
    capsys.readouterr()
    assert main(args + [str(tmp_path / "cut")]) == 130
    err = capsys.readouterr().err
    part = tmp_path / "cut" / ".optimise-schedule-optimise.partial"
    assert f"the search's last completed generation is kept in {part}: the same command with --resume continues it" in err
    monkeypatch.setattr(Evaluator, "evaluate", evaluate)
    assert main(args + [str(tmp_path / "cut"), "--resume"]) == 0
    pareto = "optimise-schedule-optimise/pareto.csv"
    assert (tmp_path / "cut" / pareto).read_bytes() == (tmp_path / "whole" / pareto).read_bytes()


def test_demand_volume_as_a_variable(tmp_path):
    """A [[demand]] key: the solution file repeats the whole list (extends replaces it whole) with the
    solution's volume, and reproduces the values."""
    shutil.copy(SCENARIOS / "protocol-2025.toml", tmp_path / "protocol-2025.toml")
    shutil.copy(SCENARIOS / "baseline.toml", tmp_path / "baseline.toml")
    data = {
        "scenario": {"name": "opt-vol", "extends": "protocol-2025.toml"},
        "optimise": {"regime": "irrigation-first",
                     "variables": {"demand.kazakhstan-protocol.volume_hm3": {"min": 0, "max": 491}},
                     "objectives": {"energy_gwh": "max", "kazakhstan-protocol.supply_hm3": "max"},
                     "population": 6, "generations": 2, "seed": 3},
    }
    path = tmp_path / "opt-vol.toml"
    _write_scenario(path, data)
    s = load_scenario(path)
    result = optimise.run(s, out=tmp_path / "out", plots=False)
    for k in (1, len(result.x)):
        sol = load_scenario(result.folder / "solutions" / f"{k}.toml")
        users = {d["name"]: d for d in sol.resolved["demand"]}
        assert set(users) == {"downstream-baseline", "kazakhstan-protocol"}
        assert users["kazakhstan-protocol"]["volume_hm3"] == result.x[k - 1, 0]
        model, regimes = sol.build()
        r = simulate(model, regimes[f"optimised-{k}"], keep_daily=False)
        assert r.metrics["energy_gwh"][0] == result.front["energy_gwh"][k - 1]
        assert r.user_metrics["kazakhstan-protocol"]["supply_hm3"][0] == result.front["kazakhstan-protocol.supply_hm3"][k - 1]


def test_per_decade_bounds_and_step_are_kept(tmp_path):
    """Per-decade bounds (a list) and the step between decades hold for every solution, and the
    decades' values are on the 0.1 m³/s grid the solution files write."""
    lo = [150.0] * 6 + [400.0] * 6 + [150.0] * 6   # June-July: at least 400 m³/s
    hi = [1080.0] * 12 + [700.0] * 6                # August-September: at most 700 m³/s
    s = _scenario(variables={"regimes.agreed-schedule.decadal_m3s": {"min": lo, "max": hi, "max_step_m3s": 400}},
                  population=10, generations=3)
    result = optimise.run(s)
    x = result.x
    assert np.all(x >= np.array(lo)) and np.all(x <= np.array(hi))
    assert np.all(np.abs(np.diff(x, axis=1)) <= 400 + 1e-9)
    assert np.array_equal(np.round(x, 1), x)


@pytest.mark.parametrize(("population", "generations", "expected"), [(4, 1, "python"), (12, 8, "compiled")])
def test_one_engine_path_for_the_whole_search(engine_paths, population, generations, expected):
    """The engine's path is chosen on the whole search's size: a search of many small
    generations (each under the plain-Python threshold) is a large run, compiled throughout;
    a tiny one (4 candidates × 1 generation) never compiles."""
    seen = engine_paths(optimise)
    optimise.run(_scenario(population=population, generations=generations))
    assert set(seen) == {expected}
