"""The ``power`` rule: release the smallest flow that generates ``target_mw``.

The head is the one the energy of the day uses: the level at the mean of the day's start and
end storage, less the tailwater at that flow (the compiled step solves for the flow by
Newton's method in a bracket; the reference by Brent's method). When no flow reaches the
target, it releases the flow of the most power the limits allow: the turbines of the
available units, the generators, the minimum head, and the tailwater (power ρgηQ·H(Q) can
peak below the turbines' full flow because the tailwater rises with Q). The binding code says
what limited it: ``capacity`` (units, generators) or ``head``. More target never gives less
power.
"""

from __future__ import annotations

from sim._jit import njit
from sim.physics import units
from sim.physics.compiled import MAX_ITER, REL_TOL, field_at, last_runnable, net_head, turbine_flow
from sim.physics.ranges import POWER, number_text
from sim.rules.base import CAPACITY, HEAD_LIMIT, RULE, SERIES, Param, Rule, as_field, register

__all__ = ["POWER_RULE", "power_release"]

GOLDEN = 0.6180339887498949


def _prepare(model, target_mw):
    return (units.mw_to_w(as_field(target_mw, rows=model.period.n_days)),)


@njit(cache=True)
def _rule_power(r, s0, wn, sg, turb_max, cap_w, rge, min_head, hs, hl, hl_slope, tq, tl, tl_slope):
    h, _ = net_head(r, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
    return rge * turbine_flow(r, h, turb_max, cap_w, rge, min_head) * h


# C901 waived below: one bracketed Newton solve that numba compiles and inlines into the daily loop.
@njit(cache=True)
def power_release(target, guess, s0, wn, sg, turb_max, cap_w, rge, min_head, hs, hl, hl_slope, tq, tl, tl_slope):  # noqa: C901
    """The power rule: the smallest release whose power (mid-day head, tailwater at that
    release) is the target; when no release reaches it, the release of the most power.
    `guess` (yesterday's release, or NaN) starts the search.

    Returns (release [m³/s], binding code): RULE when the target is met, CAPACITY when the
    units' flow or the generators limit it, HEAD_LIMIT when the head does (the minimum head,
    or the tailwater rising faster with the flow than the power grows).
    """
    if not target > 0.0:
        return 0.0, RULE
    if turb_max <= 0.0:
        return 0.0, CAPACITY
    # Top of the turbines' range: their full flow, or where the head falls to the minimum.
    top = turb_max
    code = CAPACITY
    h, dh = net_head(top, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
    if h < min_head:
        code = HEAD_LIMIT
        h0, _ = net_head(0.0, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
        if h0 < min_head:
            return 0.0, HEAD_LIMIT
        top = last_runnable(0.0, top, s0, wn, sg, min_head, hs, hl, hl_slope, tq, tl, tl_slope)
        h, dh = net_head(top, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
    # The most power: rge·r·H(r) grows with r until the tailwater eats the head; its peak is
    # at `top` unless the slope there is negative (then a golden-section search finds it).
    peak = top
    if h + top * dh < 0.0:
        code = HEAD_LIMIT
        a, b = 0.0, top
        g = 0.6180339887498949
        for _ in range(MAX_ITER):
            if b - a <= REL_TOL * b:
                break
            m1 = b - g * (b - a)
            m2 = a + g * (b - a)
            f1 = _rule_power(m1, s0, wn, sg, turb_max, cap_w, rge, min_head, hs, hl, hl_slope, tq, tl, tl_slope)
            f2 = _rule_power(m2, s0, wn, sg, turb_max, cap_w, rge, min_head, hs, hl, hl_slope, tq, tl, tl_slope)
            if f1 < f2:
                a = m1
            else:
                b = m2
        peak = 0.5 * (a + b)
        h, dh = net_head(peak, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
    p_max = min(rge * peak * h, cap_w)  # the head at `peak` is at least the minimum
    if p_max >= cap_w * (1.0 - REL_TOL):
        p_max = cap_w
        if target >= cap_w:
            code = CAPACITY
    if target >= p_max:
        if p_max < cap_w:
            return peak, code  # the flow of the most power
        target = p_max  # the generators' capacity: the least water that gives it
    else:
        code = RULE
    # Smallest r in [0, peak] with rge·r·H(r) = target: Newton's method kept in a bracket,
    # from yesterday's release, else from target / (ρgη H(peak)) (>= the answer: H falls with r).
    a, b = 0.0, peak
    r = guess if 0.0 < guess < peak else min(target / (rge * h), peak)
    for _ in range(MAX_ITER):
        h, dh = net_head(r, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
        g = rge * r * h - target
        if abs(g) <= REL_TOL * target:
            return r, code
        if g > 0.0:
            b = r
        else:
            a = r
        if b - a <= REL_TOL * b:
            break
        d = rge * (h + r * dh)
        rn = r - g / d if d > 0.0 else -1.0
        if not (a < rn < b):
            rn = 0.5 * (a + b)
        r = rn
    return b, code


@njit(inline="always", cache=True)  # inlined into the kernel's daily loop (sim.engine.dispatch)
def _step(p, t, j, s0, sg, lev, pv, q, wn, dsum, lateral, reach_loss, turb_max, cap_w, rge, min_head, use_hi,
          hs, hl, hl_slope, tq, tl, tl_slope):
    return power_release(field_at(p[0], t, j), pv, s0, wn, sg, turb_max, cap_w, rge, min_head,
                         hs, hl, hl_slope, tq, tl, tl_slope)


def _reference(model, params):
    """The same rule in plain Python: the peak by golden section, the flow by Brent's method."""
    target_w = [units.mw_to_w(mw) for mw in params["target_mw"]]

    def step(day):
        return _reference_release(day.hydraulics, target_w[day.t])

    return step


def _reference_release(hyd, target):
    if not target > 0.0:
        return 0.0, "rule"
    if hyd.turb_max <= 0.0:
        return 0.0, "capacity"
    top, code = hyd.turb_max, "capacity"
    h, dh = hyd.head(top)
    if h < hyd.min_head:
        code = "head"
        if hyd.head(0.0)[0] < hyd.min_head:
            return 0.0, "head"
        top = hyd.last_runnable(0.0, top)
        h, dh = hyd.head(top)
    peak = top
    if h + top * dh < 0.0:  # the tailwater eats the head before the top: find the peak
        code = "head"
        lo, hi = 0.0, top
        while hi - lo > REL_TOL * hi:
            left, right = hi - GOLDEN * (hi - lo), lo + GOLDEN * (hi - lo)
            lo, hi = (left, hi) if hyd.power(left) < hyd.power(right) else (lo, right)
        peak = 0.5 * (lo + hi)
        h = hyd.head(peak)[0]
    p_max = min(hyd.rge * peak * h, hyd.cap_w)
    if p_max >= hyd.cap_w * (1.0 - REL_TOL):
        p_max = hyd.cap_w
        if target >= hyd.cap_w:
            code = "capacity"
    if target >= p_max:
        if p_max < hyd.cap_w:
            return peak, code
        target = p_max
    else:
        code = "rule"

    from scipy.optimize import brentq  # only the reference needs scipy: not imported by a run

    def excess(r):
        return hyd.rge * r * hyd.head(r)[0] - target

    if excess(peak) <= 0.0:
        return peak, code
    return brentq(excess, 0.0, peak, xtol=1e-12, rtol=1e-15, maxiter=MAX_ITER), code


def _describe(given) -> str:
    v = given["target_mw"]
    return f"generate {number_text(v)} MW" if isinstance(v, (int, float)) else "generate a power target"


POWER_RULE = register(Rule(
    name="power",
    doc=__doc__.split("\n\n", 1)[0].split(": ", 1)[1].strip(),
    params=(
        Param("target_mw", "target_mw", SERIES, POWER, unit="MW", doc="The power to generate: a number or a series."),
    ),
    prepare=_prepare, step=_step, reference=_reference, describe=_describe,
))
