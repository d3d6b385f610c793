"""The ``demand`` rule: release what downstream needs at the dam, hedged below a trigger level.

What downstream needs at the dam is the total downstream demand less the lateral inflow,
grossed up for reach losses, times ``scale``. While the level is below
``hedging.trigger_level_m`` the release is cut to ``hedging.factor`` of it (standard
hedging: accept a small deficit now to keep water for later).
"""

from __future__ import annotations

import math

from sim._jit import njit
from sim.physics.compiled import field_at
from sim.physics.ranges import FACTOR, FRACTION, number_text
from sim.rules.base import HEDGING, RESERVOIR_LEVELS, RULE, Param, Rule, as_field, register

__all__ = ["DEMAND"]

# Fields of the compiled step, in the order of the parameters.
TRIGGER, FACTOR_, SCALE = 0, 1, 2


def _prepare(model, hedging_trigger_level_m=None, hedging_factor=1.0, scale=1.0):
    trigger = -math.inf if hedging_trigger_level_m is None else hedging_trigger_level_m
    return as_field(trigger), as_field(hedging_factor), as_field(scale)


@njit(inline="always", cache=True)  # inlined into the kernel's daily loop (sim.engine.dispatch)
def _step(p, t, j, s0, sg, lev, pv, q, wn, dsum, lateral, reach_loss, turb_max, cap_w, rge, min_head, use_hi,
          hs, hl, hl_slope, tq, tl, tl_slope):
    c = RULE
    need = max(dsum - lateral, 0.0)
    if reach_loss > 0.0:
        need = need / (1.0 - reach_loss)
    r = need * field_at(p[SCALE], 0, j)
    if lev < field_at(p[TRIGGER], 0, j):
        factor = field_at(p[FACTOR_], 0, j)
        r = r * factor
        if factor < 1.0:
            c = HEDGING
    return r, c


def _reference(model, params):
    trigger, factor, scale = params["hedging_trigger_level_m"], params["hedging_factor"], params["scale"]

    def step(day):
        r = max(day.demand_m3s - day.lateral_m3s, 0.0) / (1.0 - day.reach_loss) * scale
        if day.level_m < trigger:
            return r * factor, "hedging" if factor < 1.0 else "rule"
        return r, "rule"

    return step


def _describe(given) -> str:
    text = "release what downstream needs"
    if "hedging_factor" in given:
        factor, trigger = given["hedging_factor"], given["hedging_trigger_level_m"]
        text += f"; × {number_text(factor)} below {number_text(trigger)} m (hedging)"
    return text


DEMAND = register(Rule(
    name="demand",
    doc=__doc__.split("\n\n", 1)[1].strip(),
    params=(
        Param("hedging_trigger_level_m", "hedging.trigger_level_m", bound=RESERVOIR_LEVELS, default=-math.inf,
              group="hedging", unit="m a.s.l.", doc="Below this level the release is hedged."),
        Param("hedging_factor", "hedging.factor", bound=FRACTION, default=1.0, group="hedging",
              doc="Share of the need released below the trigger level."),
        Param("scale", "scale", bound=FACTOR, default=1.0, doc="Multiplier of the need."),
    ),
    prepare=_prepare, step=_step, reference=_reference, describe=_describe, follows_demand=True,
))
