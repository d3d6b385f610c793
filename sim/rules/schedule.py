"""The ``schedule`` rule: release a prescribed series (e.g. an agreed decadal schedule), times ``scale``."""

from __future__ import annotations

from sim._jit import njit
from sim.physics.compiled import field_at
from sim.physics.ranges import FACTOR, FLOW
from sim.rules.base import FLOW_SERIES, RULE, Param, Rule, as_field, register

__all__ = ["SCHEDULE"]

# Fields of the compiled step, in the order of the parameters.
RELEASE, SCALE = 0, 1


def _prepare(model, release_m3s, scale=1.0):
    return as_field(release_m3s, rows=model.period.n_days), as_field(scale)


@njit(inline="always", cache=True)  # inlined into the kernel's daily loop (sim.engine.dispatch)
def _step(p, t, j, s0, sg, lev, pv, q, wn, dsum, lateral, reach_loss, turb_max, cap_w, rge, min_head, use_hi,
          hs, hl, hl_slope, tq, tl, tl_slope):
    return field_at(p[RELEASE], t, j) * field_at(p[SCALE], 0, j), RULE


def _reference(model, params):
    release, scale = params["release_m3s"], params["scale"]

    def step(day):
        return release[day.t] * scale, "rule"

    return step


def _describe(given) -> str:
    return f"schedule ({given['release_m3s']})"


SCHEDULE = register(Rule(
    name="schedule",
    doc="Release a prescribed series (e.g. an agreed decadal schedule), times scale.",
    params=(
        Param("release_m3s", "", FLOW_SERIES, FLOW, sweep_key="constant_m3s", unit="m³/s",
              doc="The release: constant_m3s, daily_m3s, decadal_m3s, monthly_m3s or csv."),
        Param("scale", "scale", bound=FACTOR, default=1.0, doc="Multiplier of the release."),
    ),
    prepare=_prepare, step=_step, reference=_reference, describe=_describe,
))
