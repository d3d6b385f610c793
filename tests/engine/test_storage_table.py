"""The per-member level–storage table (``reservoir.storage_factor`` k and
``reservoir.storage_exponent_factor`` r, sim.physics.hypsometry.MemberHypsometry): against the
Python oracle under every rule, against siltation, by hand and against the power law."""

from __future__ import annotations

import dataclasses
import datetime

import numpy as np
import pytest

from sim import builtin
from sim.engine.driver import Model, simulate
from sim.engine.reference import simulate_member
from sim.physics.calendar import Period
from sim.physics.hydropower import TailwaterRating
from sim.physics.hypsometry import Hypsometry, MemberHypsometry, Reservoir, transform_table
from sim.rules.regimes import Regime
from sim.scenario import ScenarioError, scenario_from_dict

FACTORS = [1.0, 0.5, 0.8, 1.01, 1.0, 0.9]
EXPONENTS = [1.0, 1.0, 1.0, 0.7, 1.5, 1.2]
KEYS = {"reservoir.storage_factor": FACTORS, "reservoir.storage_exponent_factor": EXPONENTS}


def _scenario(**reservoir):
    base = {"initial_level_m": 345.0, **reservoir}
    return scenario_from_dict({
        "scenario": {"name": "t"},
        "period": {"start": datetime.date(2025, 4, 1), "end": datetime.date(2025, 9, 30)},
        "reservoir": base,
        "inflow": {"preset": "mean-2001-2010"},
        "demand": [{"name": "downstream", "preset": "baseline-2001-2010"},
                   {"name": "pumps", "constant_m3s": 30, "location": "reservoir"}],
        "regimes": {
            "irrigation-first": {"rule": "demand", "min_release_m3s": 150,
                                 "hedging": {"trigger_level_m": 343.0, "factor": 0.7}},
            "energy-first": {"rule": "power", "target_mw": 120, "min_release_m3s": 150},
            "guide-curve": {"rule": "level", "target_level_m": {"04-01": 346.0, "06-10": 347.5, "09-30": 342.0},
                            "approach_days": 5},
            "schedule": {"rule": "schedule", "constant_m3s": 700},
        },
    })


@pytest.mark.parametrize("regime", ["irrigation-first", "energy-first", "guide-curve", "schedule"])
def test_each_members_table_matches_the_oracle_under_every_rule(regime):
    model, regimes = _scenario().build(overrides=KEYS)
    res = simulate(model, regimes[regime])
    for j in range(len(FACTORS)):
        ref = simulate_member(model, regimes[regime], j)
        for k in ("storage_m3", "level_m", "head_m", "release_m3s", "spill_m3s", "power_w"):
            np.testing.assert_allclose(res.daily[k][:, j], ref[k], rtol=1e-9, atol=1e-6, err_msg=f"{j} {k}")
        assert res.binding_names(j) == ref["binding"], j
        for k in ("energy_gwh", "deficit_hm3", "storage_end_hm3"):
            assert res.metrics[k][j] == pytest.approx(ref[k], rel=1e-9, abs=1e-9), (j, k)
        # the level metrics read the member's own table
        assert res.metrics["level_end_m"][j] == pytest.approx(ref["level_m"][-1], rel=1e-12)
        assert res.metrics["level_min_m"][j] == pytest.approx(min(ref["level_m"] + [345.0]), rel=1e-12)
    # every member starts at the file's level in its own table
    start = model.reservoir.member_hypsometry().level_fast(np.broadcast_to(model.initial_storage_m3, (len(FACTORS),)))
    np.testing.assert_allclose(start, 345.0, rtol=0, atol=1e-9)
    # a smaller reservoir swings more for the same flows (the level rule and the release limits
    # of the others may pin both ends): member 1 (k = 0.5) against the table as given
    spread = res.metrics["level_max_m"] - res.metrics["level_min_m"]
    assert spread[1] >= spread[0]


def test_storage_factor_is_the_siltation_adjustment():
    """k = 1 − f gives what siltation_fraction f gives, to the bit: both multiply the table's
    storage and area columns by the same number, and the slopes are the same quotients."""
    for f in (0.1, 1 / 3):
        silted = _scenario(siltation_fraction=f)
        factor = _scenario(storage_factor=1.0 - f)
        swept = _scenario()
        m1, r1 = silted.build()
        m2, r2 = factor.build()
        m3, r3 = swept.build(overrides={"reservoir.storage_factor": [1.0 - f, 1.0]})
        assert float(m2.initial_storage_m3) == float(m1.initial_storage_m3) == float(m3.initial_storage_m3[0])
        for name in r1:
            a, b, c = simulate(m1, r1[name]), simulate(m2, r2[name]), simulate(m3, r3[name])
            for k in a.metrics:
                np.testing.assert_array_equal(a.metrics[k], b.metrics[k], err_msg=f"{f} {name} {k}")
                np.testing.assert_array_equal(a.metrics[k][0], c.metrics[k][0], err_msg=f"{f} {name} {k}")
            for k in ("storage_m3", "level_m", "release_m3s", "power_w"):
                np.testing.assert_array_equal(a.daily[k][:, 0], b.daily[k][:, 0], err_msg=f"{f} {name} {k}")


# --- by hand: a prism (constant area) --------------------------------------------------------

LEVELS = np.arange(300.0, 311.0)
PRISM = Hypsometry(LEVELS, (LEVELS - 300.0) * 10e6, np.full(LEVELS.size, 10e6))  # 10 km², 10 hm³ per m
WEEK = Period(datetime.date(2025, 6, 1), datetime.date(2025, 6, 7))


def _prism_run(k, inflow_m3s, level=304.0):
    res = Reservoir(PRISM, 300.0, 310.0, 310.0, 0.0, TailwaterRating([0.0, 1000.0], [295.0, 295.0]),
                    storage_factor=np.array([1.0, k]))
    start = res.member_hypsometry().storage_fast(np.array([level, level]))
    model = Model(period=WEEK, reservoir=res, plant=builtin.plant("rehabilitated"), initial_storage_m3=start,
                  inflow_m3s=np.full(WEEK.n_days, float(inflow_m3s)))
    return simulate(model, Regime("schedule", params={"release_m3s": 0.0})), start


def test_a_half_size_reservoir_by_hand():
    # still water keeps its level, whatever the table
    res, start = _prism_run(0.5, 0.0)
    np.testing.assert_allclose(start, [40e6, 20e6])
    np.testing.assert_allclose(res.daily["level_m"], 304.0, rtol=0, atol=1e-12)
    # 10 m³/s for 7 days is 6.048 hm³: 0.6048 m on 10 km², 1.2096 m on the half-size table
    res, _ = _prism_run(0.5, 10.0)
    rise = res.metrics["level_end_m"] - 304.0
    np.testing.assert_allclose(rise, [0.6048, 1.2096], rtol=1e-12)
    # the area (evaporation surface) is halved too: 5 km² at every level
    mh = MemberHypsometry(PRISM, [1.0, 0.5], 1.0, [100e6, 100e6])
    _, area = mh.level_area(np.array([40e6, 20e6]))
    np.testing.assert_allclose(area, [10e6, 5e6])


def test_the_exponent_factor_on_the_power_law_by_formula():
    base = builtin.hypsometry()
    pivot = float(base.storage_m3_at(347.5))
    assert pivot == pytest.approx(4160e6, rel=1e-12)
    for r in (0.7, 1.2, 1.5):
        mh = MemberHypsometry(base, 1.0, r, pivot)
        # On table points; the shipped table is rounded to 0.0001 hm³ and km² (1e-5 of the
        # storage at 325 m), so the formula holds to 2e-5 there and to 1e-6 from 330 m up.
        for h, tol in ((325.0, 2e-5), (330.0, 2e-6), (340.5, 1e-6), (347.5, 1e-9), (351.5, 1e-6)):
            b = 3.08 * r
            d = (h - 322.5) / 25.0
            assert float(mh.storage_fast(h)[0]) == pytest.approx(4160e6 * d**b, rel=tol), (r, h)
            level, area = mh.level_area(mh.storage_fast(h))
            assert float(level[0]) == pytest.approx(h, abs=1e-9)
            assert float(area[0]) == pytest.approx(4160e6 * b / 25.0 * d ** (b - 1.0), rel=tol), (r, h)
    # the volume at the normal level is held; the active volume (340.5–347.5 m) changes
    mh = MemberHypsometry(base, 1.0, [0.9, 1.0, 1.1], pivot)
    v = mh.storage_fast(np.array([[347.5], [340.5]]))
    np.testing.assert_allclose(v[0], 4160e6, rtol=1e-12)
    active = (v[0] - v[1]) / 1e6
    assert active[0] < active[1] < active[2]
    assert active[1] == pytest.approx(2648, abs=1)


def test_the_empty_row_and_the_identity_stay_finite_and_exact():
    v = np.array([0.0, 1.0, 4.0])
    a = np.array([2.0, 3.0, 5.0])
    for r in (0.5, 2.0):
        vr, ar = transform_table(v, a, 1.0, r, 4.0)
        assert vr[0] == 0.0 and ar[0] == 2.0 and np.all(np.isfinite(ar))
    vr, ar = transform_table(v, a, 0.5, 1.0, 4.0)
    np.testing.assert_array_equal(vr, v * 0.5)
    np.testing.assert_array_equal(ar, a * 0.5)
    res = builtin.reservoir()
    assert res.member_hypsometry() is res.hypsometry  # k = r = 1: the shared table, no copies
    with pytest.raises(ValueError, match="storage_factor is .*expected a finite number > 0"):
        dataclasses.replace(res, storage_factor=0.0)


def test_the_keys_are_checked_and_a_file_may_give_them():
    assert {"reservoir.storage_factor", "reservoir.storage_exponent_factor"} <= set(_scenario().sweepable)
    with pytest.raises(ScenarioError, match=r"reservoir.storage_factor: found 5; expected a number from 0.2 to 2"):
        _scenario(storage_factor=5)
    with pytest.raises(ScenarioError, match=r"reservoir.storage_exponent_factor: found 0.1; expected a number from 0.5 to 2"):
        _scenario(storage_exponent_factor=0.1)
    with pytest.raises(ScenarioError, match=r"storage_factor.*found 3(\.0)?; expected a number from 0.2 to 2"):
        _scenario().build(overrides={"reservoir.storage_factor": [1.0, 3.0]})
    # a storage is a figure of the table as given: each member starts at the level it gives there
    data = {"scenario": {"name": "t"}, "period": {"start": datetime.date(2025, 4, 1), "end": datetime.date(2025, 4, 30)},
            "reservoir": {"initial_storage_hm3": 3400}, "inflow": {"preset": "mean-2001-2010"},
            "regimes": {"s": {"rule": "schedule", "constant_m3s": 700}}}
    base = builtin.hypsometry()
    h = float(base.level_m_at(3400e6))
    m, _ = scenario_from_dict(data).build(overrides={"reservoir.storage_factor": [1.0, 0.5],
                                                     "reservoir.storage_exponent_factor": [1.0, 1.3]})
    assert m.initial_storage_m3[0] == 3400e6  # the table as given: the storage to the bit
    assert float(m.reservoir.member_hypsometry().level_fast(m.initial_storage_m3)[1]) == pytest.approx(h, abs=1e-9)
    m, _ = scenario_from_dict(data).build(overrides={"reservoir.storage_factor": [0.5],
                                                     "reservoir.initial_storage_hm3": [4000.0]})
    assert float(m.initial_storage_m3[0]) == pytest.approx(0.5 * 4000e6, rel=1e-12)
    data["reservoir"]["storage_factor"] = 0.5
    m, _ = scenario_from_dict(data).build()
    assert float(m.initial_storage_m3) == pytest.approx(1700e6, rel=1e-12)
    given = _scenario(storage_factor=0.8, storage_exponent_factor=1.2)
    model, regimes = given.build()
    assert given.resolved["reservoir"]["storage_factor"] == 0.8
    assert float(model.reservoir.member_hypsometry().level_fast(np.atleast_1d(model.initial_storage_m3))[0]) == \
        pytest.approx(345.0, abs=1e-9)
    swept, sr = _scenario().build(overrides={"reservoir.storage_factor": [0.8], "reservoir.storage_exponent_factor": [1.2]})
    a, b = simulate(model, regimes["guide-curve"]), simulate(swept, sr["guide-curve"])
    for k in a.metrics:
        np.testing.assert_array_equal(a.metrics[k], b.metrics[k], err_msg=k)


def test_the_top_of_each_table_without_building_the_tables():
    res = dataclasses.replace(builtin.reservoir(), storage_factor=np.array(FACTORS),
                              storage_exponent_factor=np.array(EXPONENTS))
    top = res.max_storage_m3()  # before the tables exist: the top row alone
    np.testing.assert_array_equal(top, res.member_hypsometry().max_storage_m3)
    assert float(builtin.reservoir().max_storage_m3()) == builtin.hypsometry().max_storage_m3
    # r = 1: k times the table's top (members 0-2); r != 1 lifts the top above V_n less than 1:1
    np.testing.assert_allclose(top[:3], np.array(FACTORS[:3]) * builtin.hypsometry().max_storage_m3, rtol=1e-15)
    assert top[3] < 1.01 * builtin.hypsometry().max_storage_m3 and top[4] > builtin.hypsometry().max_storage_m3


def test_a_reservoir_with_the_same_members_reuses_their_tables():
    """A chunk's reservoir is built for its initial state and again for the engine
    (`select_members` makes a new one): the second finds the first's tables; other members
    get their own."""
    res = builtin.reservoir()
    k = np.array([0.7, 1.0, 0.9])
    a = dataclasses.replace(res, storage_factor=k).member_hypsometry()
    b = dataclasses.replace(res, storage_factor=k.copy()).member_hypsometry()
    c = dataclasses.replace(res, storage_factor=np.array([0.7, 1.0, 0.8])).member_hypsometry()
    assert b is a and c is not a
    assert not np.array_equal(c.hs[-1], a.hs[-1]) and np.array_equal(c.hs[0], a.hs[0])


def test_one_level_for_every_member_is_looked_up_as_member_by_member():
    """A guide curve (days × 1) takes the per-day path of `MemberHypsometry.storage_fast`: the
    same bits as the same levels given member by member, below, inside and above the table,
    for members with and without their own table."""
    base = builtin.reservoir().hypsometry
    rng = np.random.default_rng(3)
    n = 50
    k, r = rng.uniform(0.67, 1.01, n), rng.uniform(0.8, 1.0, n)
    k[::5] = r[::5] = 1.0  # members on the base table (row -1)
    mh = MemberHypsometry(base, k, r, np.full(n, base.storage_fast(347.5)))
    days = np.concatenate([[200.0, 322.5, 322.6], np.linspace(330.0, 351.5, 40), [352.0, 400.0]])[:, None]
    one = mh.storage_fast(days)
    each = mh.storage_fast(np.repeat(days, n, axis=1))
    assert one.shape == (days.size, n) and one.tobytes() == each.tobytes()
    assert np.all(one >= 0) and np.array_equal(one[:, ::5], np.repeat(base.storage_fast(days[:, 0])[:, None], 10, axis=1))
