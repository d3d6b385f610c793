"""Scenario files: loading, inheritance, presets, validation messages, build and overrides."""

import datetime
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
from bad_cases import BAD_CASES, BAD_DIR

import sim.scenario as sc
from sim.engine.driver import Model, n_members_of
from sim.inputs.inflow import StochasticInflow
from sim.inputs.series import SeriesError, guide_curve
from sim.physics.calendar import growing_season, water_year
from sim.report.captions import DATA_SOURCES, plot_kwargs
from sim.report.show import scenario_text
from sim.rules.regimes import Regime
from sim.scenario import EnsembleSpec, ScenarioError, SweepSpec, load_scenario, scenario_from_dict, validate
from sim.scenario import keys as scenario_keys
from sim.scenario import regimes as scenario_regimes

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
REFERENCE = ROOT / "scenarios" / "reference.toml"


# ---------------------------------------------------------------------------------------
# The shipped scenario files
# ---------------------------------------------------------------------------------------


def test_the_expected_scenarios_are_there():
    names = {p.stem for p in SCENARIOS}
    assert {
        "reference", "baseline", "dry-2008", "wet-2010", "protocol-2025", "water-year", "plant-original",
        "sweep-hedging", "ensemble-dry",
    } <= names  # fmt: skip


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_scenario_loads_and_builds(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#"), "each scenario starts with a comment saying what question it asks"
    s = load_scenario(path)
    assert s.name == path.stem
    assert s.title and s.description
    model, regimes = s.build()
    assert isinstance(model, Model)
    assert list(regimes) == s.regime_names and regimes
    assert all(isinstance(r, Regime) for r in regimes.values())
    for r in regimes.values():
        expected = s.ensemble.members if s.ensemble else 1
        assert n_members_of(model, r) == expected
    assert scenario_text(s).startswith(f"{s.name}: ")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_to_toml_round_trip(path, tmp_path):
    s = load_scenario(path)
    out = tmp_path / "elsewhere" / "scenario.resolved.toml"
    out.parent.mkdir()
    out.write_text(s.to_toml(), encoding="utf-8")
    again = load_scenario(out)
    assert again.resolved == s.resolved
    assert again.name == s.name and again.period == s.period
    assert again.ensemble == s.ensemble and again.sweep == s.sweep
    assert "extends" not in again.resolved["scenario"]


def test_reference_documents_every_key():
    text = REFERENCE.read_text(encoding="utf-8")
    keys = (
        scenario_keys.SCENARIO_KEYS + scenario_keys.PERIOD_KEYS + scenario_keys.RESERVOIR_KEYS + scenario_keys.PLANT_KEYS + scenario_keys.INFLOW_KEYS
        + scenario_keys.LOSSES_KEYS + scenario_keys.DOWNSTREAM_KEYS + scenario_keys.DEMAND_KEYS + scenario_regimes.REGIME_COMMON
        + scenario_keys.ENSEMBLE_KEYS + scenario_keys.SWEEP_OPTIONS + tuple(scenario_keys.SECTION_KEYS["sensitivity"]) + tuple(k for ks in scenario_regimes.RULE_KEYS.values() for k in ks)
        + ("trigger_level_m", "factor", "flow_m3s", "level_m")
    )  # fmt: skip
    missing = sorted({k for k in keys if not re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", text)})
    assert not missing, f"reference.toml does not mention {missing}"
    # every live key is on a commented line, or documented in a comment line
    comments = "\n".join(line for line in text.splitlines() if "#" in line)
    data = tomllib.loads(text)

    def walk(table, depth=0):
        for k, v in table.items():
            yield k
            if isinstance(v, dict) and depth < 2 and k not in ("sweep",):
                yield from walk(v, depth + 1)

    live = set(walk({k: v for k, v in data.items() if k not in ("regimes", "sweep")}))
    live |= {k for r in data["regimes"].values() for k in r}
    undocumented = sorted(k for k in live if not re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", comments))
    assert not undocumented
    s = load_scenario(REFERENCE)
    assert {spec["rule"] for spec in s.regimes_spec.values()} == {"schedule", "demand", "power", "level"}
    assert s.ensemble is not None and s.sweep is not None


def test_baseline_numbers_come_from_data():
    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    c = s.compiled
    assert c.initial_storage_m3 == pytest.approx(3400e6)
    assert s.period == growing_season(2025)
    assert s.resolved["reservoir"]["normal_level_m"] == 347.5  # filled from the preset
    assert s.resolved["plant"]["unit_capacity_mw"] == 29
    fi = s.regimes_spec["irrigation-first"]
    assert fi["hedging"] == {"trigger_level_m": 343.0, "factor": 0.8} and fi["min_release_m3s"] == 150


def test_protocol_adds_491_hm3_june_to_august():
    s = load_scenario(ROOT / "scenarios" / "protocol-2025.toml")
    assert s.regime_names == ["irrigation-first", "energy-first"]
    model, _ = s.build()
    kz = {u.name: u for u in model.users}["kazakhstan-protocol"]
    volume_hm3 = kz.demand_m3s.sum() * 0.0864 * kz.scale
    assert volume_hm3 == pytest.approx(491.0)
    days = s.period.dates
    inside = (days >= np.datetime64("2025-06-01")) & (days <= np.datetime64("2025-08-31"))
    assert np.all(kz.demand_m3s[~inside] == 0) and np.all(kz.demand_m3s[inside] > 0)
    assert kz.priority == 2


# ---------------------------------------------------------------------------------------
# Inheritance
# ---------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _daily_csv(path: Path, period, value):
    rows = ["date,inflow_m3s"] + [f"{d},{value}" for d in period.dates]
    _write(path, "\n".join(rows) + "\n")


PARENT = """
[scenario]
name = "parent"
title = "The parent"
description = "Parent question"

[period]
start = 2025-04-01
end = 2025-09-30

[reservoir]
initial_storage_hm3 = 3400
min_level_m = 339.0

[inflow]
csv = "flows.csv"
scale = 0.9

[[demand]]
name = "downstream"
preset = "baseline-2001-2010"

[[demand]]
name = "kazakhstan-protocol"
preset = "kazakhstan-protocol-2025"
priority = 2

[regimes.keep]
rule = "demand"
hedging = { trigger_level_m = 343.0, factor = 0.8 }
min_release_m3s = 150

[regimes.change]
rule = "schedule"
constant_m3s = 500
min_release_m3s = 150
"""

CHILD = """
[scenario]
extends = "../common/parent.toml"

[reservoir]
initial_level_m = 346.0           # replaces the parent's initial_storage_hm3
hypsometry = "tables/survey.csv"  # relative to this file's folder

[regimes.keep]
hedging = { factor = 0.5 }        # deep merge: trigger_level_m kept

[regimes.change]
rule = "power"                    # a new rule: the regime is replaced whole
target_mw = 100

[[demand]]                        # arrays of tables are replaced whole
name = "only-one"
constant_m3s = 400
"""


def test_extends_merges_child_over_parent_with_paths_from_each_folder(tmp_path):
    season = growing_season(2025)
    _daily_csv(tmp_path / "common" / "flows.csv", season, 450.0)
    from sim.inputs.presets import hypsometry_table

    level, storage, area = hypsometry_table()
    rows = ["level_m,storage_hm3,area_km2"] + [f"{a},{b},{c}" for a, b, c in zip(level, storage, area, strict=True)]
    _write(tmp_path / "child" / "tables" / "survey.csv", "\n".join(rows) + "\n")
    _write(tmp_path / "common" / "parent.toml", PARENT)
    child = _write(tmp_path / "child" / "my-child.toml", CHILD)

    s = load_scenario(child)
    r = s.resolved
    assert s.name == "my-child"  # name, title and description are per file
    assert s.description == "" and s.title == "my-child"
    assert r["inflow"]["csv"] == str(tmp_path / "common" / "flows.csv")
    assert r["inflow"]["scale"] == 0.9
    assert r["reservoir"]["hypsometry"] == str(tmp_path / "child" / "tables" / "survey.csv")
    assert r["reservoir"]["initial_level_m"] == 346.0 and "initial_storage_hm3" not in r["reservoir"]
    assert r["reservoir"]["min_level_m"] == 339.0
    assert r["regimes"]["keep"]["hedging"] == {"trigger_level_m": 343.0, "factor": 0.5}
    assert r["regimes"]["keep"]["min_release_m3s"] == 150
    assert r["regimes"]["change"] == {"rule": "power", "target_mw": 100, "min_release_m3s": 0.0}
    assert [d["name"] for d in r["demand"]] == ["only-one"]
    assert s.sources == (str(child), str(tmp_path / "common" / "parent.toml"))
    model, regimes = s.build()
    assert np.all(model.inflow_m3s == 450.0) and float(model.inflow_scale) == 0.9
    assert float(regimes["keep"].params["hedging_factor"]) == 0.5


def test_extends_missing_parent(tmp_path):
    child = _write(tmp_path / "c.toml", '[scenario]\nextends = "nowhere.toml"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert str(info.value) == f"{child}: scenario.extends: file not found: nowhere.toml"


def test_series_form_in_child_replaces_parent_form(tmp_path):
    _write(tmp_path / "p.toml", (BAD_DIR / "base.toml").read_text())
    child = _write(tmp_path / "c.toml", '[scenario]\nextends = "p.toml"\n[inflow]\nconstant_m3s = 300\n')
    s = load_scenario(child)
    assert s.resolved["inflow"] == {"constant_m3s": 300, "scale": 1.0}


def test_protocol_preset_fills_volume_window_and_extra_in_the_periods_year():
    data = tomllib.loads((BAD_DIR / "base.toml").read_text())
    data["period"] = {"start": datetime.date(2020, 10, 1), "end": datetime.date(2021, 9, 30)}
    data["inflow"] = {"preset": "mean-2001-2010"}
    data["demand"] = [{"name": "kz", "preset": "kazakhstan-protocol-2021"}]
    s = scenario_from_dict(data)
    d = s.resolved["demand"][0]
    assert d["volume_hm3"] == 315 and d["extra_m3s"] == 50
    assert d["window"] == [datetime.date(2021, 6, 1), datetime.date(2021, 8, 31)]
    assert d["extra_from"] == datetime.date(2021, 7, 24)
    model, _ = s.build()
    (u,) = model.users
    assert (u.demand_m3s * u.scale).sum() * 0.0864 == pytest.approx(315 + 50 * 39 * 0.0864)


# ---------------------------------------------------------------------------------------
# Overrides: how sweeps run as one ensemble
# ---------------------------------------------------------------------------------------


def test_sweep_grid_overrides_are_per_member_fields():
    s = load_scenario(ROOT / "scenarios" / "sweep-hedging.toml")
    assert s.sweep == SweepSpec(
        {"regimes.irrigation-first.hedging.factor": (0.5, 0.6, 0.7, 0.8, 0.9, 1.0), "inflow.scale": (0.6, 0.8, 1.0, 1.2)},
        "grid", None, None,
    )
    grid = s.sweep.grid()
    assert s.sweep.n_members == 24 and all(v.shape == (24,) for v in grid.values())
    model, regimes = s.build(grid)
    r = regimes["irrigation-first"]
    assert model.inflow_m3s.shape == (s.period.n_days, 1)  # no (n_steps, n_members) inflow
    assert model.inflow_scale.shape == (24,)
    assert r.params["hedging_factor"].shape == (24,)
    assert n_members_of(model, r) == 24
    np.testing.assert_array_equal(model.inflow_scale[:4], [0.6, 0.8, 1.0, 1.2])


def test_every_kind_of_override_maps_to_a_small_array():
    s = load_scenario(REFERENCE)
    n = 5
    overrides = {
        "reservoir.initial_level_m": np.linspace(344, 347, n),
        "reservoir.min_level_m": np.full(n, 339.0),
        "plant.efficiency": np.linspace(0.85, 0.92, n),
        "losses.evaporation_factor": np.linspace(0.7, 1.3, n),
        "downstream.reach_loss_fraction": np.linspace(0, 0.1, n),
        "demand.kazakhstan-protocol.volume_hm3": np.linspace(300, 600, n),
        "demand.downstream-baseline.scale": np.linspace(0.9, 1.1, n),
        "demand.pumping-stations.constant_m3s": np.linspace(0, 20, n),
        "regimes.irrigation-first.hedging.factor": np.linspace(0.5, 1, n),
        "regimes.irrigation-first.min_release_m3s": np.linspace(100, 200, n),
        "regimes.agreed-schedule.scale": np.linspace(0.9, 1.1, n),
        "regimes.guide-curve.approach_days": np.arange(1, n + 1),
    }
    model, regimes = s.build(overrides)
    n_days = s.period.n_days
    assert isinstance(model.inflow_m3s, StochasticInflow) and model.inflow_m3s.n_members == n
    assert model.initial_storage_m3.shape == (n,)
    assert model.initial_storage_m3[0] == pytest.approx(s.compiled.hypsometry.storage_m3_at(344.0))
    assert model.reservoir.min_level_m.shape == (n,)
    assert np.shape(model.plant.efficiency) == (n,)
    assert model.evaporation_factor.shape == (n,) and model.reach_loss_fraction.shape == (n,)
    users = {u.name: u for u in model.users}
    kz = users["kazakhstan-protocol"]
    assert kz.demand_m3s.shape == (n_days, 1) and kz.scale.shape == (n,)
    np.testing.assert_allclose((kz.demand_m3s * kz.scale).sum(axis=0) * 0.0864, np.linspace(300, 600, n))
    assert users["pumping-stations"].demand_m3s.shape == (n_days, 1)
    assert users["downstream-baseline"].scale.shape == (n,)
    assert regimes["irrigation-first"].params["hedging_factor"].shape == (n,)
    assert regimes["irrigation-first"].min_release_m3s.shape == (n,)
    assert regimes["guide-curve"].params["approach_days"].shape == (n,)
    for r in regimes.values():
        assert n_members_of(model, r) == n


def test_constant_series_overrides_have_shape_one_by_members():
    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    n = 3
    model, regimes = s.build({
        "plant.units_available": [4, 5, 6],
        "regimes.energy-first.target_mw": [80, 100, 120],
        "regimes.guide-curve.max_change_m3s_day": [50, 100, 200],
    })  # fmt: skip
    assert model.units_available.shape == (1, n)
    assert regimes["energy-first"].params["target_mw"].shape == (1, n)
    assert regimes["guide-curve"].max_change_m3s_day.shape == (n,)


def test_ensemble_build():
    s = load_scenario(ROOT / "scenarios" / "ensemble-dry.toml")
    assert s.ensemble == EnsembleSpec(200, 2025, 0.62, 0.8)
    model, _ = s.build()
    assert isinstance(model.inflow_m3s, StochasticInflow)
    assert model.inflow_m3s.n_members == 200 and model.inflow_m3s.seed == 2025
    model, _ = s.build(n_members=10)
    assert model.inflow_m3s.n_members == 10


def test_bad_overrides_raise_scenario_errors():
    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    with pytest.raises(ScenarioError, match=re.escape('overrides["inflow.scael"]: not a numeric key of this scenario; did you mean "inflow.scale"?')):
        s.build({"inflow.scael": [1.0, 2.0]})
    with pytest.raises(ScenarioError, match=re.escape('overrides["regimes.irrigation-first.hedging.factor"]: found 1.5; expected a number from 0 to 1')):
        s.build({"regimes.irrigation-first.hedging.factor": [0.5, 1.5]})
    with pytest.raises(ScenarioError, match="different lengths"):
        s.build({"inflow.scale": [1.0, 2.0], "losses.evaporation_factor": [1.0, 1.1, 1.2]})


def test_lhs_sweep_keeps_ranges():
    data = tomllib.loads((BAD_DIR / "base.toml").read_text())
    data["sweep"] = {"method": "lhs", "samples": 64, "seed": 3, "inflow": {"scale": {"from": 0.5, "to": 1.5}}}
    s = scenario_from_dict(data)
    assert s.sweep == SweepSpec({"inflow.scale": (0.5, 1.5)}, "lhs", 64, 3)
    assert s.sweep.n_members == 64


def test_plot_captions_come_from_the_scenario_and_its_regimes():
    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    r = s.resolved["reservoir"]
    kw = plot_kwargs(s)
    assert kw["limits"] == {"min": r["min_level_m"], "normal": r["normal_level_m"], "max": r["max_level_m"]}
    assert kw["title"] == s.title and kw["question"] == s.description
    assert kw["footnote"].startswith(DATA_SOURCES + " Tool: bakhri ")
    level = [name for name, spec in s.regimes_spec.items() if spec["rule"] == "level"]
    assert sorted(kw["guide_curves"] or {}) == sorted(level)
    for name in level:
        assert kw["guide_curves"][name].shape == (s.period.n_days,)
        target = s.regimes_spec[name]["target_level_m"]
        if isinstance(target, (int, float)):  # a constant target: one level every day
            assert np.all(kw["guide_curves"][name] == target)


def test_show_text_totals_the_inputs():
    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    text = scenario_text(s)
    c = s.compiled
    # 1 m³/s for a day is 0.0864 hm³: the inflow line gives the period's volume in hm³
    hm3 = float(np.sum(c.inflow_m3s)) * 0.0864 * c.inflow_scale
    assert f"× {c.inflow_scale:g}: {hm3:.0f} hm³" in text
    assert f"{c.plant.n_units} units, {c.plant.installed_w / 1e6:g} MW" in text


def test_section_keys_describe_every_key_and_the_checks_use_their_bounds():
    types = {"string", "number", "integer", "date", "array", "table", "boolean"}
    assert list(scenario_keys.SECTION_KEYS) == [s for s in scenario_keys.SECTIONS if s != "regimes"]
    for section, table in scenario_keys.SECTION_KEYS.items():
        for name, key in table.items():
            assert key.doc and key.types and set(key.types) <= types, (section, name)
            assert key.bound is None or set(key.types) & {"number", "integer", "array", "table"}, (section, name)
    assert scenario_keys.PLANT_KEYS == tuple(scenario_keys.SECTION_KEYS["plant"])
    # the bound of SECTION_KEYS is the one the check applies, message and all
    data = tomllib.loads((BAD_DIR / "base.toml").read_text())
    data["plant"] = {"units": 7.5}
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert err.value.problems == ["plant.units: " + scenario_keys.bound("plant", "units").problem(7.5)]
    assert err.value.problems == ["plant.units: found 7.5; expected a whole number from 0 to 100 (the plant has 6 units)"]


def test_random_sampling_is_a_sweep_method_of_files_too():
    # the CLI's --method random was refused in a [sweep] table: one list of methods now
    assert sc.SWEEP_METHODS == ("grid", "lhs", "sobol", "random")
    data = tomllib.loads((BAD_DIR / "base.toml").read_text())
    data["sweep"] = {"method": "random", "samples": 8, "inflow": {"scale": {"from": 0.5, "to": 1.5}}}
    s = scenario_from_dict(data)
    assert s.sweep == SweepSpec({"inflow.scale": (0.5, 1.5)}, "random", 8, 0)
    data["sweep"] = {"method": "grid", "seed": 1, "inflow.scale": [1.0]}
    with pytest.raises(ScenarioError, match=re.escape(
            'sweep.seed: only used with method "lhs", "sobol" or "random"; the method is "grid"')):
        scenario_from_dict(data)


def test_one_validator_of_override_keys_for_toml_python_and_set(capsys):
    from sim import cli

    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    unknown = 'not a numeric key of this scenario; did you mean "inflow.scale"?'
    assert s.override_problem("inflow.scael", [1.0]) == unknown
    assert s.override_problem("inflow.scale", [-0.5, 1.0]) == "found -0.5; expected a number from 0 to 10"
    assert s.override_problem("inflow.scale", [0.5, 1.5]) is None
    # the same words from a [sweep] table (tests/bad), from build() and from --set
    with pytest.raises(ScenarioError, match=re.escape(f'overrides["inflow.scael"]: {unknown}')):
        s.build({"inflow.scael": [1.0]})
    path = ROOT / "scenarios" / "baseline.toml"
    assert cli.main(["sweep", str(path), "--set", "inflow.scael=0.5:1.5:3"]) == 2
    assert capsys.readouterr().err.strip().endswith(f'{path}: --set "inflow.scael=0.5:1.5:3": {unknown}')
    # a value out of range is refused before anything is built
    assert cli.main(["sweep", str(path), "--set", "inflow.scale=-0.5,1"]) == 2
    assert capsys.readouterr().err.strip().endswith(
        f'{path}: --set "inflow.scale=-0.5,1": found -0.5; expected a number from 0 to 10')


def test_the_sweep_grid_has_one_implementation():
    from sim.scenario.overrides import grid
    from sim.studies import sweep

    assert sweep.grid is grid
    g = SweepSpec({"a": (1.0, 2.0), "b": (10.0, 20.0, 30.0)}).grid()
    assert g["a"].tolist() == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]  # the first varies slowest
    assert g["b"].tolist() == [10.0, 20.0, 30.0, 10.0, 20.0, 30.0]


@pytest.mark.parametrize("section, patch, message", [
    ("reservoir", {"min_level_m": 348.0}, "reservoir: min_level_m 348.0 is above normal_level_m 347.5; expected min_level_m <= normal_level_m <= max_level_m"),
    ("reservoir", {"max_level_m": 360.0},
     "reservoir: max_level_m is 360.0; expected a level within the hypsometry table (322.5–351.5 m)"),
    ("plant", {"unit_capacity_mw": [29.0, 29.0]}, "plant: unit_capacity_mw has 2 values; expected 1 or one per unit (6)"),
    ("plant", {"min_head_m": 23.0, "max_head_m": 22.5}, "plant: head range 23.0–22.5 m; expected 0 <= min_head_m < max_head_m"),
])  # fmt: skip
def test_cross_key_checks_are_the_domain_modules_own(section, patch, message):
    # the words of Reservoir(...) and Plant(...): written once, in sim.physics
    data = tomllib.loads((ROOT / "scenarios" / "baseline.toml").read_text(encoding="utf-8"))
    data.setdefault(section, {}).update(patch)
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert err.value.problems == [message]


def test_lag_one_bound_is_the_inflow_models():
    data = tomllib.loads((BAD_DIR / "base.toml").read_text())
    data["ensemble"] = {"members": 2, "inflow_cv": 0.62, "inflow_lag1": -0.8}
    # -1 / (1 + 0.62²) = -1 / 1.3844 = -0.72233...
    with pytest.raises(ScenarioError, match=re.escape(
            "ensemble.inflow_lag1: found -0.8; with inflow_cv = 0.62 expected a number > -0.7223 and < 1")):
        scenario_from_dict(data)
    data["ensemble"] = {"members": 2, "inflow_cv": 0.62}
    assert scenario_from_dict(data).ensemble.inflow_lag1 == 0.8  # sim.inputs.inflow.DEFAULT_LAG1


# ---------------------------------------------------------------------------------------
# Bad files: one per failure mode, exact messages
# ---------------------------------------------------------------------------------------


def test_base_of_the_bad_files_is_valid():
    load_scenario(BAD_DIR / "base.toml").build()


@pytest.mark.parametrize(("filename", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_file_message(filename, message):
    path = BAD_DIR / filename
    with pytest.raises(ScenarioError, match=re.escape(message)) as info:
        load_scenario(path)
    err = info.value
    assert str(err) == f"{path}: {message}"
    assert err.path == str(path)
    n = int(message.split()[0]) if re.match(r"^\d+ problems\n", message) else 1
    assert len(err.problems) == n
    assert validate(path) == err.problems


def test_scenario_error_formats():
    one = ScenarioError("a.toml", ["x.y: bad"])
    assert str(one) == "a.toml: x.y: bad" and isinstance(one, ValueError)
    two = ScenarioError("a.toml", ["x: 1", "y: 2"])
    assert str(two) == "a.toml: 2 problems\n  x: 1\n  y: 2"
    assert str(ScenarioError(None, ["x: 1"])) == "<scenario>: x: 1"


def test_all_problems_are_collected_from_a_dict():
    data = {
        "scenario": {"name": "ok"},
        "period": {"start": "2025-04-01", "end": datetime.date(2025, 9, 30)},
        "reservoir": {"initial_level_m": 346.0, "preset": "bakhri-tojk"},
        "inflow": {"preset": "mean-2001-2010", "decadal_m3s": [1.0] * 36},
        "regimes": {"a": {"rule": "level", "target_level_m": {"13-01": 346.0}}},
        "regime": {},
    }
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    assert info.value.problems == [
        'regime: unknown table; did you mean "regimes"?',
        'period.start: found the string "2025-04-01"; expected a TOML date, written without quotes: 2025-04-01',
        'reservoir.preset: "bakhri-tojk" is not a reservoir preset; did you mean "bakhri-tojik"? (choose one of "bakhri-tojik")',
        "inflow: preset and decadal_m3s are all given; expected exactly one of preset, constant_m3s, daily_m3s, decadal_m3s, monthly_m3s, csv",
    ]


def test_rule_keys_are_checked_per_rule():
    data = tomllib.loads((BAD_DIR / "base.toml").read_text())
    data["regimes"]["irrigation-first"]["target_mw"] = 100
    data["regimes"]["irrigation-first"]["hedging"] = {"trigger_level_m": 343.0, "factor": 1.2}
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, path="x.toml")
    assert info.value.problems == [
        'regimes.irrigation-first.target_mw: not used by rule "demand" (it is a key of rule "power")',
        "regimes.irrigation-first.hedging.factor: found 1.2; expected a number from 0 to 1",
    ]


def test_toml_syntax_error_message_names_line(tmp_path):
    bad = _write(tmp_path / "scen.toml", '[scenario]\nname = "x"\nvalue = = 3\n')
    with pytest.raises(ScenarioError, match=re.escape("scen.toml: TOML syntax error at line 3, column 9: Invalid value")):
        load_scenario(bad)


# ---------------------------------------------------------------------------------------
# series.guide_curve
# ---------------------------------------------------------------------------------------


def test_guide_curve_hits_points_and_interpolates_by_day():
    season = growing_season(2025)
    curve = guide_curve({"04-01": 346.0, "06-10": 347.5, "09-30": 342.0}, season)
    assert curve.shape == (183,)
    assert curve[season.index_of("2025-04-01")] == 346.0
    assert curve[season.index_of("2025-06-10")] == 347.5
    assert curve[-1] == 342.0
    days = (datetime.date(2025, 6, 10) - datetime.date(2025, 4, 1)).days
    assert curve[10] == pytest.approx(346.0 + 1.5 * 10 / days)


def test_guide_curve_is_cyclic_over_the_year_end():
    wy = water_year(2025)
    curve = guide_curve({"04-01": 346.0, "09-30": 342.0}, wy)
    # from 30 September 2024 (342) to 1 April 2025 (346): 183 days
    assert curve[0] == pytest.approx(342.0 + 4.0 / 183)
    assert guide_curve({"06-01": 345.0}, wy).tolist() == [345.0] * wy.n_days


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ({}, 'expected at least one "MM-DD" = level point, found none'),
        ({"13-01": 346.0}, '"13-01" has month 13; expected 01..12'),
        ({"04-31": 346.0}, '"04-31" has day 31; Apr has days 01..30'),
        ({"4-1": 346.0}, '"4-1" is not a month-day; expected MM-DD, e.g. "06-10"'),
        ({"02-29": 346.0}, '"02-29" exists only in leap years; use "02-28" or "03-01"'),
        ({"04-01": "high"}, '"04-01": expected a number, found "high"'),
        ({"04-01": float("nan")}, '"04-01": nan is not a finite number'),
    ],
)
def test_guide_curve_errors(points, message):
    with pytest.raises(SeriesError, match=re.escape(message)):
        guide_curve(points, growing_season(2025))


# -- issue 7: plausibility bounds, limits of size and depth ----------------------------------


def _numeric_keys():
    """(scenario file, key, bound) for every numeric key of every shipped scenario."""
    return [(path, key, bound) for path in SCENARIOS for key, bound in load_scenario(path).compiled.sweepable.items()]


def test_every_numeric_key_has_a_finite_plausibility_bound():
    keys = _numeric_keys()
    assert len({k for _, k, _ in keys}) >= 20  # the shipped files cover the numeric keys
    unbounded = sorted({k for _, k, b in keys if not (np.isfinite(b.lo) and np.isfinite(b.hi))})
    assert unbounded == []


@pytest.mark.parametrize("value", [1e9, 1e308, -1e9])
def test_sweep_values_get_the_same_bounds_as_the_file(value):
    # the values of --set and [sweep] reach the engine as overrides: each is checked
    seen = set()
    for path, key, bound in _numeric_keys():
        if key in seen:
            continue
        seen.add(key)
        s = load_scenario(path)
        with pytest.raises(ScenarioError) as info:
            s.build(overrides={key: [value]})
        assert info.value.problems == [f'overrides["{key}"]: {bound.problem(value)}']


@pytest.mark.parametrize(
    ("key", "value", "hint"),
    [
        ("inflow.scale", 86400, "looks like seconds per day"),
        ("inflow.scale", 120, "looks like a percentage"),
        ("regimes.irrigation-first.hedging.factor", 80, "looks like a percentage"),
        ("demand.downstream.scale", 1e308, "a dimensionless multiplier"),
        ("regimes.irrigation-first.min_release_m3s", 150 * 86400, "m³ per day instead of m³/s?"),
    ],
)
def test_out_of_range_values_name_the_likely_mistake(key, value, hint):
    s = load_scenario(BAD_DIR / "base.toml")
    with pytest.raises(ScenarioError) as info:
        s.build(overrides={key: [value]})
    assert hint in info.value.problems[0]


def test_values_inside_the_bounds_still_load():
    # the bounds reject unit mix-ups, not unusual scenarios: a flood of 8,000 m³/s, 20 units, scale 5
    base = str(BAD_DIR / "base.toml")
    s = scenario_from_dict({
        "scenario": {"extends": base, "name": "edge"},
        "inflow": {"constant_m3s": 8000.0, "scale": 5},
        "plant": {"units": 20, "efficiency": 1.0},
        "ensemble": {"members": 2, "inflow_cv": 3.0},
    }, path=BAD_DIR / "edge.toml")  # fmt: skip
    assert s.resolved["inflow"]["constant_m3s"] == 8000.0


def _chain(tmp_path, n_files):
    """n_files scenario files, each extending the previous; the first extends base.toml."""
    parent = BAD_DIR / "base.toml"
    for i in range(1, n_files):
        f = tmp_path / f"f{i}.toml"
        f.write_text(f'[scenario]\nextends = "{parent}"\n', encoding="utf-8")
        parent = f
    return parent


def test_extends_chain_at_the_cap_loads(tmp_path):
    top = _chain(tmp_path, sc.MAX_EXTENDS_DEPTH)
    assert len(load_scenario(top).sources) == sc.MAX_EXTENDS_DEPTH


@pytest.mark.parametrize("n_files", [sc.MAX_EXTENDS_DEPTH + 1, 1500])
def test_extends_chain_deeper_than_the_cap_is_refused(tmp_path, n_files):
    top = _chain(tmp_path, n_files)
    with pytest.raises(ScenarioError) as info:
        load_scenario(top)
    assert info.value.problems == [
        f"scenario.extends: the extends chain is more than 32 files deep (f{n_files - 1}.toml → f{n_files - 2}.toml → ...); "
        "expected at most 32"
    ]


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    text = (BAD_DIR / "base.toml").read_bytes()
    f = tmp_path / "base.toml"
    f.write_bytes(b"\xef\xbb\xbf" + text)
    assert load_scenario(f).resolved == load_scenario(BAD_DIR / "base.toml").resolved


def test_a_parent_problem_names_the_parent(tmp_path):
    (tmp_path / "parent.toml").write_bytes(b"\xff\xfe")
    child = tmp_path / "child.toml"
    child.write_text('[scenario]\nextends = "parent.toml"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert str(info.value) == f"{child}: scenario.extends: parent.toml: not a UTF-8 text file (byte 0)"


def test_validate_counts_a_sweep_without_building_it():
    import tracemalloc

    tracemalloc.start()
    try:
        for name in ("sweep-huge.toml", "sweep-step-huge.toml", "sweep-grid-huge.toml", "members-huge.toml"):
            assert validate(BAD_DIR / name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6  # bytes: 10⁹ values would be 8 GB


def test_sweep_size_problem_counts_settings_times_inflow_members():
    s = load_scenario(BAD_DIR / "base.toml")
    grid = {"inflow.scale": np.zeros(1000), "demand.downstream.scale": np.zeros(1000)}
    assert sc.sweep_size_problem(s, grid) is None  # 10⁶
    assert sc.sweep_size_problem(s, grid, inflow_members=10) is None  # 10⁷: the cap itself
    assert sc.sweep_size_problem(s, grid, inflow_members=11) == (
        "the sweep asks for 1,000,000 settings × 11 inflow members = 11,000,000 members; expected at most "
        '10,000,000: use fewer values of "inflow.scale" (1,000), fewer parameters, or sampling (lhs, sobol) '
        "with fewer samples"
    )
    assert sc.sweep_size_problem(s, {"inflow.scale": (0.0, 1.0)}, "lhs", 10**8) == (
        "the sweep asks for 100,000,000 settings; expected at most 10,000,000: use fewer samples"
    )


def test_the_smallest_step_is_refused_without_overflow():
    # (to - from) / 5e-324 is inf: math.floor(inf) raised OverflowError (exit 1)
    data = {"scenario": {"extends": str(BAD_DIR / "base.toml"), "name": "tiny"},
            "sweep": {"inflow.scale": {"from": 0.0, "to": 1.0, "step": 5e-324}}}
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, path=BAD_DIR / "tiny.toml")
    assert info.value.problems == [
        'sweep."inflow.scale".step: found 5e-324, which gives more than 10³⁰⁰ values from 0.0 to 1.0; '
        "expected at most 10,000,000 (a larger step)"
    ]


def test_a_dict_nested_5000_deep_is_refused():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    data = {"scenario": {"extends": str(BAD_DIR / "base.toml"), "name": "deep"}, "reservoir": {"x": deep}}
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    assert info.value.problems == ["arrays and tables nested more than 32 levels deep; expected at most 32"]


def test_validation_builds_the_engine_objects_as_run_does(monkeypatch):
    # whatever the engine refuses is a validation problem, not an error in the middle of a run
    def refuse(self, overrides=None, n_members=None):
        raise ValueError("reservoir: spillway_capacity_m3s is [nan]; expected a finite number")

    monkeypatch.setattr(sc.Scenario, "build", refuse)
    path = BAD_DIR / "base.toml"
    assert validate(path) == ["the engine refuses this scenario: reservoir: spillway_capacity_m3s is nan; expected a finite number"]
