"""Adding a rule is one new module plus a registration: a rule defined in this file alone runs
through a scenario file, a sweep, the compiled engine and the reference loop.

The rule ``inflow-fraction`` releases ``fraction`` × the day's inflow. With a constant inflow
of 600 m³/s, no losses and a reservoir far from its limits, fraction 0.5 releases 300 m³/s
every day and the storage rises by 300 m³/s × 86,400 s = 25.92 hm³ a day (hand-checked).
"""

from pathlib import Path

import numpy as np
import pytest

from sim import sweep
from sim._jit import njit
from sim.engine.driver import simulate
from sim.engine.reference import simulate_member
from sim.physics.compiled import field_at
from sim.physics.ranges import FRACTION
from sim.rules import RULES, Param, Rule, register, unregister
from sim.rules.base import RULE, as_field
from sim.rules.regimes import Regime
from sim.scenario import ScenarioError, load_scenario

INFLOW = 600.0  # m³/s
N_DAYS = 30
HM3_PER_M3S_DAY = 0.0864


def _prepare(model, fraction):
    return (as_field(fraction),)


@njit(cache=True)
def _step(p, t, j, s0, sg, lev, pv, q, wn, dsum, lateral, reach_loss, turb_max, cap_w, rge, min_head, use_hi,
          hs, hl, hl_slope, tq, tl, tl_slope):
    return field_at(p[0], 0, j) * q, RULE


def _reference(model, params):
    fraction = params["fraction"]

    def step(day):
        return fraction * day.inflow_m3s, "rule"

    return step


INFLOW_FRACTION = Rule(
    name="inflow-fraction",
    doc="Release a fraction of the day's inflow.",
    params=(Param("fraction", "fraction", bound=FRACTION, doc="Share of the inflow released."),),
    prepare=_prepare, step=_step, reference=_reference,
)


@pytest.fixture
def inflow_fraction():
    """The rule registered for one test; the built-in registry again afterwards."""
    register(INFLOW_FRACTION)
    try:
        yield INFLOW_FRACTION
    finally:
        unregister(INFLOW_FRACTION.name)


def _scenario_file(tmp_path, fraction="0.5", extra=""):
    path = tmp_path / "fraction.toml"
    path.write_text(f"""
[scenario]
name = "fraction"

[period]
start = 2025-04-01
end = 2025-04-30

[reservoir]
preset = "bakhri-tojik"
initial_storage_hm3 = 2600

[plant]
preset = "rehabilitated"

[inflow]
constant_m3s = {INFLOW}

[losses]
evaporation_mm_month = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
seepage_m3s = 0

[regimes.half]
rule = "inflow-fraction"
fraction = {fraction}
{extra}""")
    return path


def test_the_registry_is_the_built_in_one_outside_the_fixture():
    assert sorted(RULES) == ["demand", "level", "power", "schedule"]


def test_a_rule_defined_here_runs_from_a_scenario_file_in_both_engines(tmp_path, inflow_fraction):
    scenario = load_scenario(_scenario_file(tmp_path))
    model, regimes = scenario.build()
    regime = regimes["half"]
    assert regime.rule == "inflow-fraction" and float(regime.params["fraction"]) == 0.5
    result = simulate(model, regime)
    release = result.daily["release_m3s"][:, 0]
    np.testing.assert_allclose(release, np.full(N_DAYS, 300.0), rtol=1e-12)
    assert result.binding_names(0) == ["rule"] * N_DAYS
    storage = result.daily["storage_m3"][:, 0]
    np.testing.assert_allclose(np.diff(storage), 300.0 * 86_400.0, rtol=1e-9)  # 25.92 hm³ a day
    np.testing.assert_allclose(result.metrics["release_hm3"], 300.0 * N_DAYS * HM3_PER_M3S_DAY, rtol=1e-12)
    # The reference loop runs the rule's reference step: the same days to 1e-9.
    ref = simulate_member(model, regime)
    np.testing.assert_allclose(release, ref["release_m3s"], rtol=1e-9)
    np.testing.assert_allclose(storage, ref["storage_m3"], rtol=1e-9)
    np.testing.assert_allclose(result.daily["power_w"][:, 0], ref["power_w"], rtol=1e-9)
    assert ref["binding"] == result.binding_names(0)


def test_the_limits_every_regime_shares_apply_to_the_new_rule(inflow_fraction, tmp_path):
    scenario = load_scenario(_scenario_file(tmp_path, extra="max_release_m3s = 250"))
    model, regimes = scenario.build()
    result = simulate(model, regimes["half"])
    np.testing.assert_allclose(result.daily["release_m3s"][:, 0], 250.0)
    assert set(result.binding_names(0)) == {"max_release"}
    ref = simulate_member(model, regimes["half"])
    assert ref["binding"] == result.binding_names(0)


def test_a_sweep_over_the_new_rules_parameter(tmp_path, inflow_fraction):
    scenario = load_scenario(_scenario_file(tmp_path))
    assert "regimes.half.fraction" in scenario.sweepable
    fractions = [0.25, 0.5, 1.0]
    result = sweep.run(scenario, {"regimes.half.fraction": fractions})
    np.testing.assert_array_equal(result.settings["regimes.half.fraction"], fractions)
    expected = np.array(fractions) * INFLOW * N_DAYS * HM3_PER_M3S_DAY  # 388.8, 777.6, 1555.2 hm³
    np.testing.assert_allclose(result.results["half"].metrics["release_hm3"], expected, rtol=1e-12)
    # Each setting as a member of one run: engine and reference agree member by member.
    model, regimes = scenario.build(overrides={"regimes.half.fraction": np.array(fractions)})
    run = simulate(model, regimes["half"])
    for j, fraction in enumerate(fractions):
        ref = simulate_member(model, regimes["half"], j)
        np.testing.assert_allclose(run.daily["release_m3s"][:, j], fraction * INFLOW, rtol=1e-12)
        np.testing.assert_allclose(run.daily["release_m3s"][:, j], ref["release_m3s"], rtol=1e-9)


def test_a_bad_value_of_the_new_key_gets_the_standard_message(tmp_path, inflow_fraction):
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario_file(tmp_path, fraction="80"))
    assert "regimes.half.fraction: found 80; expected a number from 0 to 1" in str(err.value)
    with pytest.raises(ScenarioError, match="regimes.half.fraction: missing; expected a number"):
        load_scenario(_missing_fraction(tmp_path))
    with pytest.raises(ValueError, match="rule inflow-fraction: missing parameter fraction"):
        Regime("inflow-fraction")


def _missing_fraction(tmp_path):
    path = _scenario_file(tmp_path)
    path.write_text(path.read_text().replace("fraction = 0.5\n", ""))
    return path


def test_an_unregistered_rule_is_unknown_again(tmp_path):
    with pytest.raises(ScenarioError, match='regimes.half.rule: "inflow-fraction" is not a rule'):
        load_scenario(_scenario_file(tmp_path))


def test_a_name_registers_once(inflow_fraction):
    with pytest.raises(ValueError, match='a rule named "inflow-fraction" is already registered'):
        register(INFLOW_FRACTION)


def test_the_scenario_keys_of_the_built_in_rules_come_from_their_parameters():
    from sim.scenario.keys import FLOW_FORMS, FORM_OPTIONS
    from sim.scenario.regimes import RULE_KEYS

    assert dict(RULE_KEYS) == {
        "demand": ("hedging", "scale"),
        "level": ("target_level_m", "approach_days"),
        "power": ("target_mw",),
        "schedule": FLOW_FORMS + FORM_OPTIONS + ("scale",),
    }


def test_the_compiled_kernel_follows_the_registry():
    from sim.engine import dispatch

    built_in = dispatch.advance()
    register(INFLOW_FRACTION)
    try:
        with_new = dispatch.advance()
        assert with_new is not built_in  # generated again, with a branch for the new rule
        assert dispatch.rule_number("inflow-fraction") == len(RULES) - 1
        assert Path(with_new.py_func.__code__.co_filename).name != Path(built_in.py_func.__code__.co_filename).name
    finally:
        unregister(INFLOW_FRACTION.name)
    assert dispatch.advance() is built_in
