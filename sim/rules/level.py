"""The ``level`` rule: follow a guide curve.

The day's target is the guide-curve level for that date, reached at the end of the day (the
level the results show for it). With ``approach_days`` a > 1 the rule closes 1/a of the
start-of-day gap to the curve each day, measured from the curve's moving value, so it
follows a moving curve without lag once on it. ``approach_days`` must be >= 1
(`check_level_rule`): less than a day's step overshoots and oscillates. Without a regime
``max_release_m3s`` the rule asks at most the turbines' flow of the available units (its
default maximum: following a curve opens no spillway; storage above the normal level still
spills).
"""

from __future__ import annotations

import math

import numpy as np

from sim._jit import njit
from sim.physics import units
from sim.physics.compiled import INV_DT, field_at
from sim.physics.ranges import APPROACH_DAYS, Bound, number_text
from sim.rules.base import GUIDE, MAX_RELEASE, RESERVOIR_LEVELS, RULE, Param, Rule, as_field, register

__all__ = ["LEVEL", "MIN_APPROACH_DAYS", "check_level_rule"]

#: The level rule closes the gap to its guide curve over at least one day, the model's step.
MIN_APPROACH_DAYS = 1.0

# Fields of the compiled step: the target as a storage [m³], and approach_days.
TARGET, APPROACH = 0, 1


def check_level_rule(approach_days) -> list[str]:
    """Problems with the level rule's ``approach_days`` (empty list if none); the scenario
    loader reports them under the key, `Regime` as ``rule level: approach_days: ...``."""
    a = np.atleast_1d(np.asarray(approach_days, dtype=float))
    bad = a[~(np.isfinite(a) & (a >= MIN_APPROACH_DAYS))]
    if bad.size:
        return [f"found {bad[0]:g}; expected a number of days >= {MIN_APPROACH_DAYS:g} "
                "(the model steps one day: closing the gap in less overshoots the guide curve and oscillates)"]
    return []


def _check(params) -> list:
    if "approach_days" not in params:
        return []
    return [("approach_days", problem) for problem in check_level_rule(params["approach_days"])]


def _prepare(model, target_level_m, approach_days=1.0):
    # The member's own table (sim.physics.hypsometry.MemberHypsometry) when a storage factor sets it.
    target_storage_m3 = model.reservoir.member_hypsometry().storage_fast(as_field(target_level_m, rows=model.period.n_days))
    return np.ascontiguousarray(target_storage_m3), as_field(approach_days)


@njit(inline="always", cache=True)  # inlined into the kernel's daily loop (sim.engine.dispatch)
def _step(p, t, j, s0, sg, lev, pv, q, wn, dsum, lateral, reach_loss, turb_max, cap_w, rge, min_head, use_hi,
          hs, hl, hl_slope, tq, tl, tl_slope):
    # End the day on the curve, less (1 − 1/approach) of the start-of-day gap.
    c = RULE
    days = field_at(p[APPROACH], 0, j)
    aim = field_at(p[TARGET], t, j) + (s0 - field_at(p[TARGET], t - 1 if t > 0 else 0, j)) * (1.0 - 1.0 / days)
    r = (s0 - aim) * INV_DT + wn
    if not use_hi and r > turb_max:  # the default maximum: the turbines' flow
        r = turb_max
        c = MAX_RELEASE
    return r, c


def _reference(model, params):
    hyps = model.reservoir.hypsometry
    target = [max(float(hyps.storage_fast(level)), 0.0) for level in params["target_level_m"]]
    approach = params["approach_days"]

    def step(day):
        aim = target[day.t] + (day.storage_m3 - target[max(day.t - 1, 0)]) * (1.0 - 1.0 / approach)
        r = (day.storage_m3 - aim) / units.SECONDS_PER_DAY + day.net_m3s
        if not math.isfinite(day.max_release_m3s) and r > day.turb_max:
            return day.turb_max, "max_release"
        return r, "rule"

    return step


def _describe(given) -> str:
    v = given["target_level_m"]
    return "follow a guide curve" if isinstance(v, dict) else f"hold {number_text(v)} m"


LEVEL = register(Rule(
    name="level",
    doc=__doc__.split("\n\n", 1)[1].strip(),
    params=(
        Param("target_level_m", "target_level_m", GUIDE, RESERVOIR_LEVELS, unit="m a.s.l.",
              doc='The guide curve: a level, or { "04-01" = 346.0, ... }.'),
        Param("approach_days", "approach_days", bound=APPROACH_DAYS, default=1, unit="days",
              sweep_bound=Bound(MIN_APPROACH_DAYS, APPROACH_DAYS.hi, unit="days"),
              doc="Days over which the rule closes the gap to the curve (>= 1)."),
    ),
    prepare=_prepare, step=_step, reference=_reference, check=_check, describe=_describe,
))
