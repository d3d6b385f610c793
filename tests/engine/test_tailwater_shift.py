"""The per-member tailwater shift (`Reservoir.tailwater_shift_m`, ``reservoir.tailwater_shift_m``):
the compiled engine against the Python oracle, against a rating shifted by hand, and by hand on one
day's head."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from sim.engine.driver import simulate
from sim.engine.reference import simulate_member
from sim.scenario import ScenarioError, scenario_from_dict

FLOWS = [0, 300, 1000, 4000]
LEVELS = [324.1, 325.0, 327.1, 336.1]  # the preset's GUESS rating


def _scenario(**reservoir):
    return scenario_from_dict({
        "scenario": {"name": "t"},
        "period": {"start": datetime.date(2025, 4, 1), "end": datetime.date(2025, 9, 30)},
        "reservoir": {"initial_storage_hm3": 3400, **reservoir},
        "inflow": {"preset": "mean-2001-2010"},
        "demand": [{"name": "downstream", "preset": "baseline-2001-2010"}],
        "regimes": {
            "irrigation-first": {"rule": "demand", "min_release_m3s": 150},
            "energy-first": {"rule": "power", "target_mw": 120, "min_release_m3s": 150},
            "guide-curve": {"rule": "level", "target_level_m": {"04-01": 346.0, "06-10": 347.5, "09-30": 342.0},
                            "approach_days": 5},
        },
    })


SHIFTS = [-1.0, 0.0, 0.5, 3.0]


@pytest.mark.parametrize("regime", ["irrigation-first", "energy-first", "guide-curve"])
def test_shift_matches_the_oracle_and_a_rating_shifted_by_hand(regime):
    s = _scenario()
    model, regimes = s.build(overrides={"reservoir.tailwater_shift_m": SHIFTS})
    res = simulate(model, regimes[regime])
    for j, shift in enumerate(SHIFTS):
        ref = simulate_member(model, regimes[regime], j)
        for k in ("energy_gwh", "deficit_hm3", "storage_end_hm3"):
            assert res.metrics[k][j] == pytest.approx(ref[k], rel=1e-9, abs=1e-9), (shift, k)
        np.testing.assert_allclose(res.daily["head_m"][:, j], ref["head_m"], rtol=1e-9, atol=1e-9)
        by_hand = _scenario(tailwater={"flow_m3s": FLOWS, "level_m": [v + shift for v in LEVELS]})
        m2, r2 = by_hand.build()
        want = simulate(m2, r2[regime])
        for k in ("energy_gwh", "deficit_hm3", "level_end_m", "spill_hm3"):
            assert res.metrics[k][j] == pytest.approx(want.metrics[k][0], rel=1e-12, abs=1e-12), (shift, k)
    # a higher tailwater is a smaller head: less energy for the same release (irrigation-first)
    if regime == "irrigation-first":
        assert np.all(np.diff(res.metrics["energy_gwh"]) < 0)
        np.testing.assert_allclose(res.daily["head_m"][:, 0] - res.daily["head_m"][:, 1], 1.0, atol=1e-9)


def test_zero_shift_leaves_the_run_as_it_was_and_the_key_is_checked():
    plain = _scenario()
    given = _scenario(tailwater_shift_m=0.0)
    a = simulate(*[plain.build()[0], plain.build()[1]["energy-first"]])
    b = simulate(*[given.build()[0], given.build()[1]["energy-first"]])
    for k in a.metrics:
        np.testing.assert_array_equal(a.metrics[k], b.metrics[k], err_msg=k)
    assert "tailwater_shift_m" not in plain.resolved["reservoir"] and given.resolved["reservoir"]["tailwater_shift_m"] == 0.0
    assert "reservoir.tailwater_shift_m" in plain.sweepable
    with pytest.raises(ScenarioError, match=r"reservoir.tailwater_shift_m: found 25; expected a number from -10 to 10 m"):
        _scenario(tailwater_shift_m=25)
