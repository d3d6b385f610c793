"""The exchange study (sim.studies.exchange, `bakhri exchange`) and the engine's extra release.

Hand-checked case: a wide reservoir with a linear level–storage table, a flat tailwater, no losses
and inflow = release, where the energy of each day is ρ g η Q H with H known by hand; the
engine's extra release against the reference oracle; the limits (an empty reservoir delivers
nothing, a nearly empty one part); season + winter = total; the spread of an ensemble.
"""

import dataclasses
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim.engine.driver import simulate
from sim.engine.reference import simulate_member
from sim.physics import units
from sim.rules.regimes import Regime
from sim.scenario import load_scenario, scenario_from_dict
from sim.studies import exchange as ex
from sim.studies.exchange_cli import answer

ROOT = Path(__file__).resolve().parents[2]
FLAT = Path(__file__).parent / "data" / "exchange-flat.toml"
DAY = units.SECONDS_PER_DAY
RHO_G_ETA = units.WATER_DENSITY_KG_M3 * units.GRAVITY_M_S2 * 0.9  # the "rehabilitated" plant: efficiency 0.9
AREA_M2 = 5000e6  # flat-hypsometry.csv: 5,000 hm³ per metre
HEAD_M = 20.0  # 345 m - 325 m


@pytest.fixture(scope="module")
def protocol():
    return load_scenario(ROOT / "scenarios" / "protocol-2025.toml")


@pytest.fixture(scope="module")
def protocol_result(protocol):
    return ex.run(protocol, "kazakhstan-protocol")


def _flat(**changes):
    """The flat scenario with some tables changed (dotted section.key → value)."""
    data = tomllib.loads(FLAT.read_text(encoding="utf-8"))
    for path, value in changes.items():
        section, key = path.split(".", 1)
        data.setdefault(section, {})[key] = value
    return scenario_from_dict(data, FLAT)


# ---------------------------------------------------------------------------------------------
# the engine's extra release
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("regime_name", ["irrigation-first", "energy-first", "agreed-schedule", "guide-curve"])
def test_extra_release_matches_the_reference(regime_name):
    """Engine and oracle agree with a daily extra release per member (limits binding included:
    the 2000 m³/s member hits the outlets and drains the reservoir)."""
    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    model, regimes = s.build()
    n = s.period.n_days
    rng = np.random.default_rng(3)
    extra = np.zeros((n, 3))
    extra[:, 1] = rng.uniform(0, 300, n)
    extra[40:60, 2] = 2000.0
    model = dataclasses.replace(model, extra_release_m3s=extra)
    result = simulate(model, regimes[regime_name])
    for j in range(3):
        ref = simulate_member(model, regimes[regime_name], j)
        for k in ("release_m3s", "storage_m3", "power_w", "supply_m3s"):
            np.testing.assert_allclose(result.daily[k][:, j], ref[k], rtol=1e-9, atol=1e-6, err_msg=k)
        assert result.binding_names(j) == ref["binding"]
    # more water out, less at the end (member 0 has no extra)
    assert np.all(result.metrics["release_hm3"][1:] > result.metrics["release_hm3"][0])


def test_zero_extra_release_changes_nothing():
    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    model, regimes = s.build()
    zero = dataclasses.replace(model, extra_release_m3s=np.zeros((s.period.n_days, 1)))
    for regime in regimes.values():
        a, b = simulate(model, regime), simulate(zero, regime)
        for k in a.daily:
            assert np.array_equal(a.daily[k], b.daily[k]), k


def test_extra_release_with_a_python_rule_is_on_top_of_its_request():
    """A Python rule runs the kernel in phases: the extra release is added there too."""
    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    model, regimes = s.build()
    model = dataclasses.replace(model, extra_release_m3s=np.full(s.period.n_days, 40.0))
    py = Regime(rule=lambda day: np.full(day.storage_m3.shape, 500.0), name="py", min_release_m3s=150)
    registered = Regime(rule="schedule", params={"release_m3s": np.full((s.period.n_days, 1), 500.0)}, name="reg",
                        min_release_m3s=150)
    a, b = simulate(model, py), simulate(model, registered)
    np.testing.assert_allclose(a.daily["release_m3s"], b.daily["release_m3s"], rtol=1e-12)
    assert a.daily["release_m3s"][0, 0] == pytest.approx(540.0)


def test_extra_release_must_not_be_negative():
    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    model, _ = s.build()
    with pytest.raises(ValueError, match="extra_release_m3s has negative values"):
        dataclasses.replace(model, extra_release_m3s=-1.0)


# ---------------------------------------------------------------------------------------------
# the hand-checked case
# ---------------------------------------------------------------------------------------------


def _flat_by_hand(first_day: int, n_days: int, volume_m3: float, n_season: int, n_winter: int):
    """Season and winter energy changes [GWh] of `volume_m3` released over days first_day.. of the
    season on top of 500 m³/s, level linear in storage, head 20 m less the drawdown at the day's
    mean storage; the winter follows a straight line back to the start storage."""
    q = volume_m3 / (n_days * DAY)
    drawn, season = 0.0, 0.0
    for t in range(n_season):
        extra = q if first_day <= t < first_day + n_days else 0.0
        before = drawn
        drawn += extra * DAY
        head = HEAD_M - 0.5 * (before + drawn) / AREA_M2
        season += RHO_G_ETA * ((500.0 + extra) * head - 500.0 * HEAD_M) * DAY
    winter = 0.0
    for t in range(n_winter):  # held on 1 October, then equal steps to 31 March
        before, after = drawn * (1 - max(t - 1, 0) / (n_winter - 1)), drawn * (1 - t / (n_winter - 1))
        release = 500.0 - (before - after) / DAY
        head = HEAD_M - 0.5 * (before + after) / AREA_M2
        winter += RHO_G_ETA * (release * head - 500.0 * HEAD_M) * DAY
    return season / 3.6e12, winter / 3.6e12


def test_hand_checked_flat_reservoir():
    s = load_scenario(FLAT)
    r = ex.run(s, "city")
    t = r.table
    n_winter = r.winter.n_days
    assert n_winter == 182  # 1 October 2025 - 31 March 2026
    first = 0
    for k, d in enumerate(s.period.decades()):
        season, winter = _flat_by_hand(first, d.n_days_in_period, 100e6, s.period.n_days, n_winter)
        first += d.n_days_in_period
        assert t["season_gwh"][k] == pytest.approx(season, rel=1e-6)
        assert t["winter_gwh"][k] == pytest.approx(winter, rel=1e-6)
    # ρ g ΔV H η: 4.905 GWh per 100 hm³ through the turbines at 20 m, lost again in the winter
    # (the Sep III water draws the level down for less than a decade: within 0.5 %)
    assert RHO_G_ETA * 100e6 * HEAD_M / 3.6e12 == pytest.approx(4.905, rel=1e-9)
    assert t["season_gwh"][-1] == pytest.approx(4.905, rel=5e-3)
    assert np.all(t["delivered_hm3"] == pytest.approx(100.0, rel=1e-9))
    assert np.all(np.abs(t["carried_hm3"]) < 1e-6)  # the winter refilled to the start level
    # the total is the head the missing water took: small and a loss
    assert np.all(t["total_gwh"] < 0) and np.all(t["total_gwh"] > -0.15 * 4.905)


def test_season_plus_winter_is_total(protocol_result):
    t = protocol_result.table
    np.testing.assert_allclose(t["season_gwh"] + t["winter_gwh"], t["total_gwh"], rtol=1e-12)
    c = protocol_result.demand_cost
    np.testing.assert_allclose(c["season_gwh"] + c["winter_gwh"], c["total_gwh"], rtol=1e-12)


def test_delivered_never_exceeds_requested(protocol_result):
    for t in (protocol_result.table, protocol_result.demand_cost):
        assert np.all(t["delivered_hm3"] <= t["requested_hm3"] * (1 + 1e-9))
        assert np.all(t["delivered_hm3"] >= -1e-6)


def test_protocol_volume_is_run_itself(protocol_result):
    """The user's own demand (491 hm³ in June-August) is a member pair, not 4.91 x the 100 hm³ rows."""
    c = protocol_result.demand_cost
    assert list(c["regime"]) == ["irrigation-first", "energy-first"]
    assert np.all(c["requested_hm3"] == pytest.approx(491.0, rel=1e-9))
    assert list(c["first_day"]) == ["2025-06-01"] * 2 and list(c["last_day"]) == ["2025-08-31"] * 2
    text = answer(protocol_result)
    assert text.startswith("491 hm³ for kazakhstan-protocol in June–August: under irrigation-first")
    assert "this season" in text and "next winter" in text and "kWh/m³" in text


# ---------------------------------------------------------------------------------------------
# limits
# ---------------------------------------------------------------------------------------------


def test_empty_reservoir_delivers_nothing():
    """At the minimum level with the whole release taken by the user, no extra water exists."""
    s = _flat(**{"reservoir.initial_level_m": 340.5})
    s = scenario_from_dict({**_toml(s), "demand": [{"name": "city", "constant_m3s": 500}]}, FLAT)
    r = ex.run(s, "city", horizon="season")
    t = r.table
    assert np.all(np.abs(t["delivered_hm3"]) < 1e-6)
    assert np.all(np.isnan(t["kwh_per_m3"]))  # no rate without water delivered
    assert np.all(np.abs(t["season_gwh"]) < 1e-9)


def test_nearly_empty_reservoir_delivers_part():
    """50 hm³ above the minimum level: the first decade gets 50 of the 100 hm³ asked for."""
    level = 340.5 + 50.0 / 5000.0  # 5,000 hm³ per metre
    s = _flat(**{"reservoir.initial_level_m": level})
    s = scenario_from_dict({**_toml(s), "demand": [{"name": "city", "constant_m3s": 500}]}, FLAT)
    t = ex.run(s, "city", horizon="season").table
    assert t["delivered_hm3"][0] == pytest.approx(50.0, rel=1e-6)
    assert t["kwh_per_m3"][0] == pytest.approx(t["total_gwh"][0] / 50.0, rel=1e-6)


def _toml(scenario):
    return tomllib.loads(scenario.to_toml())


def test_demand_rule_follows_demand_others_release_on_top(protocol):
    model, regimes = protocol.build()
    assert ex.follows_demand(regimes["irrigation-first"], "downstream")
    assert not ex.follows_demand(regimes["energy-first"], "downstream")
    assert ex.follows_demand(regimes["energy-first"], "reservoir")  # taken from the reservoir itself


def test_season_horizon_has_no_winter(protocol):
    r = ex.run(protocol, "kazakhstan-protocol", horizon="season", regimes=["energy-first"])
    assert r.winter is None
    assert np.all(r.table["winter_gwh"] == 0.0)
    assert "next winter not simulated" in answer(r)


def test_winter_ignores_the_season_studies():
    """A file with an [optimise] table (as every solutions/<k>.toml extends one) still gets its
    winter: the winter scenario is the season's inputs without the season's studies."""
    s = load_scenario(ROOT / "scenarios" / "optimise-schedule.toml")
    assert s.optimise is not None
    r = ex.run(s, "downstream-baseline", regimes=["agreed-schedule"])
    assert r.winter is not None
    # less water on 1 October, or the same when the schedule meets the minimum level anyway
    assert np.all(r.table["winter_gwh"] <= 0.0) and np.any(r.table["winter_gwh"] < 0.0)


def test_volumes_are_members_and_checked(protocol):
    r = ex.run(protocol, "kazakhstan-protocol", volumes=[50, 200], horizon="season", regimes=["irrigation-first"])
    assert r.info["members_per_engine_call"] == 1 + 18 * 2 + 2
    assert sorted(set(r.table["requested_hm3"])) == [50.0, 200.0]
    with pytest.raises(ex.ExchangeError, match=r"--volume-hm3: found 0; expected a volume > 0"):
        ex.run(protocol, "kazakhstan-protocol", volumes=[0])


def test_unknown_user_did_you_mean(protocol):
    with pytest.raises(ex.ExchangeError, match='did you mean "kazakhstan-protocol"'):
        ex.run(protocol, "kazakstan")


# ---------------------------------------------------------------------------------------------
# ensemble, prices, winter rule
# ---------------------------------------------------------------------------------------------


def test_ensemble_spread_and_common_inflow():
    s = load_scenario(ROOT / "scenarios" / "ensemble-dry.toml")
    user = s.compiled.users[0].name
    r = ex.run(s, user, horizon="season", inflow_members=8, regimes=[s.regime_names[0]])
    t = r.table
    assert r.n_inflow == 8 and r.info["members_per_engine_call"] == 8 * (1 + 18 + 2)
    for k in ex.SPREAD_COLUMNS:
        p10, p50, p90 = t[f"{k}_p10"], t[f"{k}_p50"], t[f"{k}_p90"]
        ok = np.isfinite(p10)
        assert np.all(p10[ok] <= p50[ok] + 1e-12) and np.all(p50[ok] <= p90[ok] + 1e-12)
    assert np.any(t["total_gwh_p90"] - t["total_gwh_p10"] > 1e-3)  # dry and wet members differ
    # every case met the same inflow members: a negligible volume changes nothing (with other
    # inflow members per case the dry-year spread would show as GWh)
    one = ex.run(s, user, volumes=[1e-9], horizon="season", inflow_members=8, regimes=[s.regime_names[0]]).table
    assert np.all(np.abs(one["season_gwh"]) < 1e-6)


def test_prices_give_money_columns():
    data = tomllib.loads(FLAT.read_text(encoding="utf-8"))
    data["prices"] = {"usd_per_mwh_summer": 20.0, "usd_per_mwh_winter": 50.0}
    s = scenario_from_dict(data, FLAT)
    t = ex.run(s, "city").table
    np.testing.assert_allclose(t["season_usd"], t["season_gwh"] * 1e3 * 20.0)
    np.testing.assert_allclose(t["winter_usd"], t["winter_gwh"] * 1e3 * 50.0)
    np.testing.assert_allclose(t["usd_per_1000m3"], t["total_usd"] / (t["delivered_hm3"] * 1e3))
    # the winter's energy is dearer here: the water lost for the winter costs money overall
    assert np.all(t["total_usd"] < 0)


def test_winter_rule_from_the_exchange_table():
    data = tomllib.loads(FLAT.read_text(encoding="utf-8"))
    data["exchange"] = {"winter_end_level_m": 345.5, "winter_min_release_m3s": 100.0, "winter_approach_days": 2}
    s = scenario_from_dict(data, FLAT)
    rule = ex.winter_rule_of(s)
    assert rule == ex.WinterRule(345.5, 100.0, 2.0)
    r = ex.run(s, "city")
    assert r.info["winter_rule"]["end_level_m"] == 345.5
    assert np.all(np.abs(r.table["carried_hm3"]) < 1e-6)  # both end at 345.5 m


def test_winter_minimum_release_leaves_water_short():
    """A winter that cannot refill (inflow 150 m³/s, minimum 150): the missing water is carried."""
    data = tomllib.loads(FLAT.read_text(encoding="utf-8"))
    data["inflow"] = {"constant_m3s": 500}
    data["exchange"] = {"winter_min_release_m3s": 500.0}
    s = scenario_from_dict(data, FLAT)
    t = ex.run(s, "city").table
    assert np.all(t["carried_hm3"] == pytest.approx(-100.0, rel=1e-6))


def test_extra_release_is_grossed_up_for_the_reach_loss():
    """With 20 % lost in the reach, 125 hm³ leave the dam so that 100 reach the user: the season
    gains the energy of 125 hm³ at 20 m (less the small drawdown)."""
    data = tomllib.loads(FLAT.read_text(encoding="utf-8"))
    data["downstream"] = {"reach_loss_fraction": 0.2}
    s = scenario_from_dict(data, FLAT)
    t = ex.run(s, "city", horizon="season").table
    assert np.all(t["delivered_hm3"] == pytest.approx(100.0, rel=1e-9))
    first = sum(d.n_days_in_period for d in s.period.decades()[:-1])
    season, _ = _flat_by_hand(first, s.period.decades()[-1].n_days_in_period, 125e6, s.period.n_days, 2)
    assert t["season_gwh"][-1] == pytest.approx(season, rel=1e-6)


def test_a_user_at_the_reservoir_takes_it_without_an_extra_release():
    """Pumped from the reservoir: no turbine gains, only the head the lower level costs."""
    data = tomllib.loads(FLAT.read_text(encoding="utf-8"))
    data["demand"] = [{"name": "city", "constant_m3s": 100, "location": "reservoir"}]
    s = scenario_from_dict(data, FLAT)
    t = ex.run(s, "city", horizon="season").table
    assert np.all(t["delivered_hm3"] == pytest.approx(100.0, rel=1e-9))
    assert np.all(t["season_gwh"] < 0)
    # the Apr I water lowers the level by about 2 cm for the rest of the season: 500 m³/s × 2 cm
    assert t["season_gwh"][0] == pytest.approx(-RHO_G_ETA * 500 * 0.02 * 173 * DAY / 3.6e12, rel=0.05)


@pytest.mark.parametrize(("regimes", "expected"), [(["irrigation-first"], "python"), (None, "compiled")])
def test_one_engine_path_for_the_whole_study(protocol, engine_paths, regimes, expected):
    """The engine's path is chosen on the whole study (every regime's season and winter), not
    per call: 2 regimes × 21 cases × 365 days is past the plain-Python threshold, one is not."""
    seen = engine_paths(ex)
    r = ex.run(protocol, "kazakhstan-protocol", regimes=regimes)
    assert set(seen) == {expected}
    assert r.winter is not None


def test_winter_line_is_read_in_the_files_own_table():
    """A file's storage factor changes the table every level is read in: the winter's guide line
    must start at each member's own storage, read back through that table (else the level rule
    starts by catching up with a line drawn in another table)."""
    import copy

    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    data = copy.deepcopy(s.resolved)
    data["reservoir"]["storage_factor"] = 0.8
    silted = scenario_from_dict(data, s.path)
    model, regime = ex._winter_model(silted, ex.winter_period(silted.period), ex.winter_rule_of(silted))
    start = np.array([2.0e9, 2.5e9])
    seen = {}
    real = ex.simulate

    def spy(m, r, **kwargs):
        seen["target"] = r.params["target_level_m"]
        return real(m, r, **kwargs)

    ex.simulate, saved = spy, ex.simulate
    try:
        ex._run_winter((model, regime), ex.winter_rule_of(silted), start, 3.0e9)
    finally:
        ex.simulate = saved
    tables = model.reservoir.member_hypsometry()
    assert tables is not model.reservoir.hypsometry
    assert np.allclose(np.ravel(tables.storage_fast(seen["target"][0])), start, rtol=1e-9)
