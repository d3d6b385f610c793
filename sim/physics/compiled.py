"""Compiled (numba) hydraulics of one day, shared by the engine's kernel and the rules' steps.

Physics, not rules: the net head at a release (the level at the mean of the day's start and
end storage, less the tailwater at that outflow), the turbines' flow, the largest release
the head lets the turbines run at, and what the outlets pass. `sim.engine.kernels.advance`
and the compiled steps of the rules (`sim.rules`) import them from here.

Conventions: a *field* is a 2-D float64 array of shape ``(n_steps or 1, n_members or 1)``,
read with broadcasting by `field_at`. Tables are the exact piecewise-linear tables of
`sim.physics._interp.PiecewiseLinear` (segment k starts at x[k]; the last segment extends
the slope before it, see `PiecewiseLinear.slopes`), so compiled and numpy look-ups agree.
"""

from __future__ import annotations

import numpy as np

from sim._jit import njit
from sim.physics.units import SECONDS_PER_DAY

__all__ = [
    "SECONDS_PER_DAY", "INV_DT", "REL_TOL", "MAX_ITER", "field_at", "segment", "net_head", "turbine_flow",
    "last_runnable", "outlet_capacity",
]

INV_DT = 1.0 / SECONDS_PER_DAY


@njit(inline="always", cache=True)
def field_at(a, t, j):
    """Value of field `a` on day t for member j (a row or column of one broadcasts)."""
    return a[t if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0]


@njit(inline="always", cache=True)
def segment(x, xq, i):
    """Segment of table `x` that holds `xq`, searched from the guess `i`."""
    n = x.size
    if i < 0:
        i = 0
    elif i > n - 1:
        i = n - 1
    # Indices as unsigned (they are in range): numba then skips the wraparound of negative ones.
    while i > 0 and xq < x[np.uint64(i)]:
        i -= 1
    while i < n - 1 and xq >= x[np.uint64(i + 1)]:
        i += 1
    return i


# All of them see a day through the same numbers: start storage s0, the day's net water
# wn = Q − losses [m³/s], and a release r; end storage s1 = s0 + (wn − r)·dt, kept between
# empty and the table's top (the crest: above it the water overtops, step 4 of the kernel,
# sim.engine.kernels). The head is the level at the mean of s0 and s1 minus the tailwater at
# the outflow r: the head that the energy of the day uses (step 5 of the kernel).
# Convergence: iterations stop at a relative change of REL_TOL, or after MAX_ITER.
REL_TOL = 1e-13
MAX_ITER = 200


@njit(inline="always", cache=True)
def net_head(r, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope):
    """Net head [m] (never negative) with release r, and its slope dH/dr [m per m³/s]."""
    top = hs[hs.size - 1]
    s1 = min(max(s0 + (wn - r) * SECONDS_PER_DAY, 0.0), top)
    x = max(0.5 * (s0 + s1), hs[0])
    i = np.uint64(segment(hs, x, sg))
    it = np.uint64(segment(tq, r, 0))
    h = hl[i] + hl_slope[i] * (x - hs[i]) - (tl[it] + tl_slope[it] * (r - tq[it]))
    dh = -tl_slope[it]
    if 0.0 < s1 < top and 0.5 * (s0 + s1) > hs[0]:
        dh -= 0.5 * SECONDS_PER_DAY * hl_slope[i]
    if h <= 0.0:
        return 0.0, 0.0
    return h, dh


@njit(inline="always", cache=True)
def turbine_flow(r, h, turb_max, cap_w, rge, min_head):
    """Flow through the turbines at release r and head h: the units' flow, the generators'
    capacity over ρgηH, nothing below the minimum head. [m³/s]"""
    if h < min_head:
        return 0.0
    qt = min(r, turb_max)
    if rge * qt * h > cap_w:
        qt = cap_w / (rge * h)
    return qt


@njit(cache=True)
def last_runnable(lo, hi, s0, wn, sg, min_head, hs, hl, hl_slope, tq, tl, tl_slope):
    """The largest release in [lo, hi] at which the head is still >= min_head, by bisection;
    the caller knows H(lo) >= min_head > H(hi) (the head falls as the release grows)."""
    for _ in range(MAX_ITER):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi or hi - lo <= REL_TOL * hi:
            break
        h, _ = net_head(mid, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
        if h >= min_head:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True)
def outlet_capacity(s0, wn, sg, spill_cap, turb_max, cap_w, rge, min_head, hs, hl, hl_slope, tq, tl, tl_slope):
    """What the outlets can pass on the day [m³/s]: the spillway, plus the turbines while they run.

    The turbines pass q_max(r) = min(units' flow, capacity / ρgηH(r)) while H(r) >= min_head.
    The largest release they keep within the spillway's share is the largest fixed point
    r* = spill_cap + q_max(r*) (iterated down from spill_cap + units' flow). If the head at r*
    is below the minimum, the turbines trip: the capacity is the release r_h at which the head
    reaches the minimum, or the spillway alone if that is more.
    """
    if turb_max <= 0.0:
        return spill_cap
    r = spill_cap + turb_max
    for _ in range(MAX_ITER):
        h, _ = net_head(r, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
        qm = turb_max
        if rge * qm * h > cap_w:
            qm = cap_w / (rge * h)
        rn = spill_cap + qm
        done = abs(rn - r) <= REL_TOL * rn
        r = rn
        if done:
            break
    h, _ = net_head(r, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
    if h >= min_head:
        return max(r, spill_cap)
    h, _ = net_head(spill_cap, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
    if h < min_head:
        return spill_cap
    return last_runnable(spill_cap, r, s0, wn, sg, min_head, hs, hl, hl_slope, tq, tl, tl_slope)
