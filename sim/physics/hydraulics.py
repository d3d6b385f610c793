"""The hydraulics of one day in plain Python: the reference loop's and the reference rules' view.

The same physics as sim.physics.compiled, written independently for clarity (no numpy,
no numba): the test oracle of the compiled engine (sim.engine.reference).
"""

from __future__ import annotations

import bisect

from sim.physics import units
from sim.physics.compiled import MAX_ITER, REL_TOL

__all__ = ["DayHydraulics", "interp", "segment_index"]


def interp(xs, ys, slopes, x):
    """Piecewise-linear value at x; segment k starts at xs[k], the last extends its slope."""
    i = segment_index(xs, x)
    return ys[i] + slopes[i] * (x - xs[i])


def segment_index(xs, x):
    """Segment of the increasing table `xs` that holds x (the end segments extend outwards)."""
    return min(max(bisect.bisect_right(xs, x) - 1, 0), len(xs) - 1)


class DayHydraulics:
    """One day's hydraulics for one member, in plain Python floats: start storage `s0` [m³],
    net water `wn` = Q − losses [m³/s]; `tables` are the level–storage (level and slope) and
    tailwater tables as lists: (hs, hl, hl_slope, tq, tl, tl_slope)."""

    def __init__(self, tables, s0, wn, turb_max, cap_w, rge, min_head, spill_cap):
        self.hs, self.hl, self.hl_sl, self.tq, self.tl, self.tl_sl = tables
        self.s0, self.wn = s0, wn
        self.turb_max, self.cap_w, self.rge, self.min_head, self.spill_cap = turb_max, cap_w, rge, min_head, spill_cap

    def head(self, r):
        """Net head at release r (level at mid-day storage − tailwater at r) and dH/dr."""
        dt = units.SECONDS_PER_DAY
        top = self.hs[-1]  # the crest: above it the water overtops, the storage stays at the top
        s1 = min(max(self.s0 + (self.wn - r) * dt, 0.0), top)
        x = max(0.5 * (self.s0 + s1), self.hs[0])
        i = segment_index(self.hs, x)
        it = segment_index(self.tq, r)
        h = self.hl[i] + self.hl_sl[i] * (x - self.hs[i]) - (self.tl[it] + self.tl_sl[it] * (r - self.tq[it]))
        dh = -self.tl_sl[it]
        if 0.0 < s1 < top and 0.5 * (self.s0 + s1) > self.hs[0]:
            dh -= 0.5 * dt * self.hl_sl[i]
        return (0.0, 0.0) if h <= 0.0 else (h, dh)

    def turbine_flow(self, r, h):
        """Flow through the turbines at release r and head h [m³/s]."""
        if h < self.min_head:
            return 0.0
        qt = min(r, self.turb_max)
        if self.rge * qt * h > self.cap_w:
            qt = self.cap_w / (self.rge * h)
        return qt

    def power(self, r):
        """Power at release r [W]."""
        h = self.head(r)[0]
        return self.rge * self.turbine_flow(r, h) * h

    def last_runnable(self, lo, hi):
        """Largest release in [lo, hi] whose head is still at least the minimum (bisection)."""
        for _ in range(MAX_ITER):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi or hi - lo <= REL_TOL * hi:
                break
            if self.head(mid)[0] >= self.min_head:
                lo = mid
            else:
                hi = mid
        return lo

    def capacity(self):
        """What the outlets pass: the spillway, and the turbines while the head lets them run."""
        if self.turb_max <= 0.0:
            return self.spill_cap
        r = self.spill_cap + self.turb_max
        for _ in range(MAX_ITER):
            h = self.head(r)[0]
            qm = self.turb_max
            if self.rge * qm * h > self.cap_w:
                qm = self.cap_w / (self.rge * h)
            rn = self.spill_cap + qm
            done = abs(rn - r) <= REL_TOL * rn
            r = rn
            if done:
                break
        if self.head(r)[0] >= self.min_head:
            return max(r, self.spill_cap)
        if self.head(self.spill_cap)[0] < self.min_head:
            return self.spill_cap
        return self.last_runnable(self.spill_cap, r)
