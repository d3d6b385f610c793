"""Compiled inner loops of the engine (numba): the daily step over all members.

The engine's time loop calls these once per day (or, for the built-in rules, once per
season): each is a loop over members compiled to machine code, so one day of a
100,000-member ensemble costs about as much as a few numpy calls. The physics lives here
once; `sim.engine` prepares the arrays and `sim.regimes` the rule parameters.

Conventions: a *field* is a 2-D float64 array of shape ``(n_steps or 1, n_members or 1)``,
read with broadcasting by `_at`; per-member parameters are fields with one row. Tables are
the exact piecewise-linear tables of `sim._interp.PiecewiseLinear` (segment k starts at
x[k]; the last segment extends the slope before it), so compiled and numpy look-ups agree.
"""

from __future__ import annotations

import numpy as np
from sim._jit import njit

# Indices of the daily output array (N_DAILY, n_steps, n_members).
INFLOW, RELEASE, TURBINE, SPILL, EVAP, PRECIP, SEEP, WITHDRAWAL = 0, 1, 2, 3, 4, 5, 6, 7
STORAGE, LEVEL, HEAD, POWER, DEMAND, SUPPLY, DEFICIT, OVERTOP = 8, 9, 10, 11, 12, 13, 14, 15
N_DAILY = 16
DAILY_NAMES = (
    "inflow_m3s", "release_m3s", "turbine_flow_m3s", "spill_m3s", "evaporation_m3s", "precipitation_m3s",
    "seepage_m3s", "withdrawal_m3s", "storage_m3", "level_m", "head_m", "power_w", "demand_m3s",
    "supply_m3s", "deficit_m3s", "overtopping_m3s",
)

# Indices of the input fields tuple.
F_INFLOW, F_INFLOW_SCALE, F_EVAP_MM, F_EVAP_FACTOR, F_PRECIP_MM, F_SEEP, F_LATERAL = 0, 1, 2, 3, 4, 5, 6
F_TURB_MAX, F_CAP_W, F_S_MIN, F_S_NORM, F_SPILL_CAP, F_REACH_LOSS, F_RHO_G_ETA = 7, 8, 9, 10, 11, 12, 13
F_LO, F_HI, F_RAMP, F_S_MAX = 14, 15, 16, 17
N_FIELDS = 18

# Binding codes (sim.regimes.BINDING order).
RULE, HEDGING, MIN_RELEASE, MAX_RELEASE, RAMP_UP, RAMP_DOWN, CAPACITY, AVAILABLE, SPILLED, HEAD_LIMIT, OVERTOPPING = range(11)

# Built-in rule ids.
SCHEDULE, DEMAND_RULE, POWER_RULE, LEVEL_RULE = 0, 1, 2, 3

# Rows of the per-member summary array.
S_INFLOW, S_RELEASE, S_TURBINE, S_SPILL, S_EVAP, S_PRECIP, S_SEEP, S_WITHDRAWAL = 0, 1, 2, 3, 4, 5, 6, 7
S_STORAGE_MIN, S_STORAGE_MAX, S_RESIDUAL, S_ENERGY_MWH = 8, 9, 10, 11
S_BELOW_MIN, S_SPILL_DAYS, S_SURCHARGE, S_ABOVE_MAX, S_BELOW_MIN_LOSSES = 12, 13, 14, 15, 16
S_OVERTOP, S_OVERTOP_DAYS = 17, 18
N_SUMMARY = 19

# A member whose day cannot be simulated (a number that is not finite) stops there; `fail`
# (k, 4) records (day, FAIL_NONFINITE, release [m³/s], inflow [m³/s]) and the engine raises
# SimulationError.
FAIL_NONFINITE = 1

# Tolerances: deficits at or below DEFICIT_TOL are not failures [m³/s]; storage within
# STORAGE_TOL of a limit is at the limit [m³]; spill above SPILL_TOL counts as a spill day [m³/s].
DEFICIT_TOL = 1e-6
STORAGE_TOL = 1e-3
SPILL_TOL = 1e-6

# Rows of the per-user statistics array.
U_DEMAND, U_SUPPLY, U_DEFICIT, U_FAIL_DAYS, U_RECOVERIES, U_VULNERABILITY, U_EVENTS = 0, 1, 2, 3, 4, 5, 6
N_USER_STATS = 7

SECONDS_PER_DAY = 86_400.0
INV_DT = 1.0 / SECONDS_PER_DAY


@njit(inline="always", cache=True)
def _at(a, t, j):
    return a[t if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0]


@njit(inline="always", cache=True)
def _seg(x, xq, i):
    n = x.size
    if i < 0:
        i = 0
    elif i > n - 1:
        i = n - 1
    while i > 0 and xq < x[i]:
        i -= 1
    while i < n - 1 and xq >= x[i + 1]:
        i += 1
    return i


@njit(cache=True)
def level_area(hs, hl, hl_slope, ha, ha_slope, s, seg, level, area):
    """Level and area at storages `s` (clamped to the table bottom); updates `seg` guesses."""
    for j in range(s.size):
        x = max(s[j], hs[0])
        i = _seg(hs, x, seg[j])
        seg[j] = i
        level[j] = hl[i] + hl_slope[i] * (x - hs[i])
        area[j] = max(ha[i] + ha_slope[i] * (x - hs[i]), 0.0)


@njit(inline="always", cache=True)
def _allocate(water, demand, supply, order, group_end, t, j, td, jd):
    """Share `water` among users by priority groups (`order` sorted, groups end at `group_end`)."""
    left = max(water, 0.0)
    start = 0
    for g in range(group_end.size):
        end = group_end[g]
        if end - start == 1:
            u = order[start]
            d = demand[u, td, jd]
            give = min(d, left)
            supply[u, t, j] = give
            left -= give
        else:
            total = 0.0
            for p in range(start, end):
                total += demand[order[p], td, jd]
            give = min(total, left)
            share = give / total if total > 0 else 0.0
            for p in range(start, end):
                u = order[p]
                supply[u, t, j] = demand[u, td, jd] * share
            left -= give
        start = end


@njit(inline="always", cache=True)
def _demand_sum(dem, t, j):
    """Total demand of a block of users (n_users, 1 | n_steps, 1 | k) on day t, member j."""
    total = 0.0
    if dem.shape[0] > 0:
        td = t if dem.shape[1] > 1 else 0
        jd = j if dem.shape[2] > 1 else 0
        for u in range(dem.shape[0]):
            total += dem[u, td, jd]
    return total


@njit(inline="always", cache=True)
def _user_day(ustats, ufail, uevent, row, j, d, sup):
    deficit = max(d - sup, 0.0)
    fail = 1.0 if deficit > DEFICIT_TOL else 0.0
    was = ufail[j, row]
    recovered = was * (1.0 - fail)
    ustats[j, row, U_DEMAND] += d
    ustats[j, row, U_SUPPLY] += sup
    ustats[j, row, U_DEFICIT] += deficit
    ustats[j, row, U_FAIL_DAYS] += fail
    ustats[j, row, U_RECOVERIES] += recovered
    ustats[j, row, U_VULNERABILITY] += recovered * uevent[j, row]
    ustats[j, row, U_EVENTS] += recovered
    uevent[j, row] = fail * max(was * uevent[j, row], deficit)
    ufail[j, row] = fail


@njit(cache=True)
def close_events(ustats, ufail, uevent):
    """Count the failure events still open on the last day."""
    for row in range(ufail.shape[1]):
        for j in range(ufail.shape[0]):
            if ufail[j, row] > 0:
                ustats[j, row, U_VULNERABILITY] += uevent[j, row]
                ustats[j, row, U_EVENTS] += 1


# --- Head, outlet capacity and the power rule ----------------------------------------------
# All of them see a day through the same numbers: start storage s0, the day's net water
# wn = Q − losses [m³/s], and a release r; end storage s1 = s0 + (wn − r)·dt, kept between
# empty and the table's top (the crest: above it the water overtops, step 4 of `advance`).
# The head is the level at the mean of s0 and s1 minus the tailwater at the outflow r: the
# head that the energy of the day uses (step 5 of `advance`).
# Convergence: iterations stop at a relative change of REL_TOL, or after MAX_ITER.
REL_TOL = 1e-13
MAX_ITER = 200


@njit(inline="always", cache=True)
def _head(r, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope):
    """Net head [m] (never negative) with release r, and its slope dH/dr [m per m³/s]."""
    top = hs[hs.size - 1]
    s1 = min(max(s0 + (wn - r) * SECONDS_PER_DAY, 0.0), top)
    x = max(0.5 * (s0 + s1), hs[0])
    i = _seg(hs, x, sg)
    it = _seg(tq, r, 0)
    h = hl[i] + hl_slope[i] * (x - hs[i]) - (tl[it] + tl_slope[it] * (r - tq[it]))
    dh = -tl_slope[it]
    if 0.0 < s1 < top and 0.5 * (s0 + s1) > hs[0]:
        dh -= 0.5 * SECONDS_PER_DAY * hl_slope[i]
    if h <= 0.0:
        return 0.0, 0.0
    return h, dh


@njit(inline="always", cache=True)
def _turbine_flow(r, h, turb_max, cap_w, rge, min_head):
    """Flow through the turbines at release r and head h: the units' flow, the generators'
    capacity over ρgηH, nothing below the minimum head. [m³/s]"""
    if h < min_head:
        return 0.0
    qt = min(r, turb_max)
    if rge * qt * h > cap_w:
        qt = cap_w / (rge * h)
    return qt


@njit(cache=True)
def _last_runnable(lo, hi, s0, wn, sg, min_head, hs, hl, hl_slope, tq, tl, tl_slope):
    """The largest release in [lo, hi] at which the head is still >= min_head, by bisection;
    the caller knows H(lo) >= min_head > H(hi) (the head falls as the release grows)."""
    for _ in range(MAX_ITER):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi or hi - lo <= REL_TOL * hi:
            break
        h, _ = _head(mid, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
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
        h, _ = _head(r, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
        qm = turb_max
        if rge * qm * h > cap_w:
            qm = cap_w / (rge * h)
        rn = spill_cap + qm
        done = abs(rn - r) <= REL_TOL * rn
        r = rn
        if done:
            break
    h, _ = _head(r, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
    if h >= min_head:
        return max(r, spill_cap)
    h, _ = _head(spill_cap, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
    if h < min_head:
        return spill_cap
    return _last_runnable(spill_cap, r, s0, wn, sg, min_head, hs, hl, hl_slope, tq, tl, tl_slope)


@njit(cache=True)
def _rule_power(r, s0, wn, sg, turb_max, cap_w, rge, min_head, hs, hl, hl_slope, tq, tl, tl_slope):
    h, _ = _head(r, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
    return rge * _turbine_flow(r, h, turb_max, cap_w, rge, min_head) * h


@njit(cache=True)
def power_release(target, guess, s0, wn, sg, turb_max, cap_w, rge, min_head, hs, hl, hl_slope, tq, tl, tl_slope):
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
    h, dh = _head(top, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
    if h < min_head:
        code = HEAD_LIMIT
        h0, _ = _head(0.0, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
        if h0 < min_head:
            return 0.0, HEAD_LIMIT
        top = _last_runnable(0.0, top, s0, wn, sg, min_head, hs, hl, hl_slope, tq, tl, tl_slope)
        h, dh = _head(top, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
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
        h, dh = _head(peak, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
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
        h, dh = _head(r, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
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

# Phases of `advance`: losses (PHASE_PRE), the built-in rule (PHASE_RULE), limits to metrics
# (PHASE_POST); built-in rules run them all (PHASE_ALL).
PHASE_PRE, PHASE_RULE, PHASE_POST = 1, 2, 4
PHASE_ALL = PHASE_PRE | PHASE_RULE | PHASE_POST


@njit(cache=True)
def advance(
    t0, t1, phase, rule, p0, p1, p2, f, use_lo, use_hi, ramp_from, min_head,
    s_arr, seg_arr, level_arr, area_arr, prev_arr, net_arr, req, code, daily, binding,
    hs, hl, hl_slope, ha, ha_slope, tq, tl, tl_slope, res_dem, res_sup, res_order, res_end,
    down_dem, down_sup, down_order, down_end, acc, ustats, ufail, uevent, fail,
):
    """Advance every member over days t0..t1−1: the whole daily step, or some of its phases.

    With ``phase == PHASE_ALL`` (built-in rules) each member runs the whole period in turn,
    its state in registers; a Python rule runs the same code one day at a time: ``PHASE_PRE``
    (losses, leaving ``net_arr`` and the day's inputs in `daily`), the rule in Python
    (``req``, ``code``), then ``PHASE_POST``. Steps, in the order of DESIGN.md:

    1. (PRE) losses over the start-of-day area, capped by the water the day holds (seepage
       by the water above the minimum operating level);
    2. (RULE) the built-in rule's request (see sim.regimes);
    3. (POST) limits: regime min/max, ramping, outlet capacity, water above the minimum level;
    4. end storage, spill above the normal level (never below empty); water that would
       still raise the storage above the table's top (the dam crest) overtops it: the
       storage is held at the top and the excess joins the release;
    5. head at the mean storage of the day, tailwater at the outflow, turbine flow, power;
       the spillway passes the rest up to its capacity, and on a day at the crest what
       neither passes is the overtopping flow (part of the spill);
    6. allocation to every user; then the day's contribution to every metric.

    A member with a number that is not finite stops on that day, recorded in `fail`; the
    caller raises.
    """
    k = s_arr.size
    dt = SECONDS_PER_DAY
    scale_mm = 1.0e-3 * INV_DT
    n_res = res_dem.shape[0]
    n_down = down_dem.shape[0]
    keep = daily.shape[1] > 1
    for j in range(k):
        s0 = s_arr[j]
        sg = seg_arr[j]
        lev = level_arr[j]
        ar = area_arr[j]
        pv = prev_arr[j]
        for t in range(t0, t1):
            tk = t if keep else 0
            # 1. Losses.
            if phase & PHASE_PRE:
                q = _at(f[F_INFLOW], t, j) * _at(f[F_INFLOW_SCALE], 0, j)
                evap = _at(f[F_EVAP_MM], t, j) * _at(f[F_EVAP_FACTOR], 0, j) * ar * scale_mm
                precip = _at(f[F_PRECIP_MM], t, j) * ar * scale_mm
                water = s0 * INV_DT + q + precip
                evap = min(evap, water)
                left = water - evap
                # Seepage (and the other losses of a calibrated residual) takes only water above
                # the minimum operating level: below it the residual is not known (sim.losses).
                seep = min(_at(f[F_SEEP], t, j), max(left - _at(f[F_S_MIN], 0, j) * INV_DT, 0.0))
                left -= seep
                wdem = _demand_sum(res_dem, t, j)
                w = min(wdem, left)
                if n_res > 0:
                    td = t if res_dem.shape[1] > 1 else 0
                    jd = j if res_dem.shape[2] > 1 else 0
                    _allocate(w, res_dem, res_sup, res_order, res_end, tk, j, td, jd)
                dsum = _demand_sum(down_dem, t, j)
                net = evap + seep + w - precip
                daily[INFLOW, tk, j] = q
                daily[EVAP, tk, j] = evap
                daily[PRECIP, tk, j] = precip
                daily[SEEP, tk, j] = seep
                daily[WITHDRAWAL, tk, j] = w
                daily[DEMAND, tk, j] = dsum
                net_arr[j] = net
            else:
                q = daily[INFLOW, tk, j]
                evap = daily[EVAP, tk, j]
                precip = daily[PRECIP, tk, j]
                seep = daily[SEEP, tk, j]
                w = daily[WITHDRAWAL, tk, j]
                dsum = daily[DEMAND, tk, j]
                net = net_arr[j]
                wdem = _demand_sum(res_dem, t, j)
            if not phase & PHASE_POST:
                continue
            wn = q - net
            turb_max = _at(f[F_TURB_MAX], t, j)
            cap_w = _at(f[F_CAP_W], t, j)
            rge = _at(f[F_RHO_G_ETA], 0, j)
            spill_cap = _at(f[F_SPILL_CAP], 0, j)
            # 2. The rule's request.
            if phase & PHASE_RULE:
                c = RULE
                if rule == SCHEDULE:
                    r = _at(p0, t, j) * _at(p1, 0, j)
                elif rule == DEMAND_RULE:
                    need = max(dsum - _at(f[F_LATERAL], t, j), 0.0)
                    loss = _at(f[F_REACH_LOSS], 0, j)
                    if loss > 0.0:
                        need = need / (1.0 - loss)
                    r = need * _at(p2, 0, j)
                    if lev < _at(p0, 0, j):
                        factor = _at(p1, 0, j)
                        r = r * factor
                        if factor < 1.0:
                            c = HEDGING
                elif rule == POWER_RULE:
                    r, c = power_release(
                        _at(p0, t, j), pv, s0, wn, sg, turb_max, cap_w, rge, min_head, hs, hl, hl_slope, tq, tl, tl_slope
                    )
                else:  # LEVEL_RULE: end the day on the curve, less (1 − 1/approach) of the gap
                    days = _at(p1, 0, j)
                    aim = _at(p0, t, j) + (s0 - _at(p0, t - 1 if t > 0 else 0, j)) * (1.0 - 1.0 / days)
                    r = (s0 - aim) * INV_DT + wn
                    if not use_hi and r > turb_max:  # the default maximum: the turbines' flow
                        r = turb_max
                        c = MAX_RELEASE
            else:
                r = req[j]
                c = code[j]
            # 3. Limits, in order; the last that binds names the day.
            r = max(r, 0.0)
            if use_lo:
                lo = _at(f[F_LO], 0, j)
                if r < lo:
                    c = MIN_RELEASE
                    r = lo
            if use_hi:
                hi = _at(f[F_HI], 0, j)
                if r > hi:
                    c = MAX_RELEASE
                    r = hi
            if t >= ramp_from:
                ramp = _at(f[F_RAMP], 0, j)
                up = pv + ramp
                if r > up:
                    c = RAMP_UP
                    r = up
                down = max(pv - ramp, 0.0)
                if r < down:
                    c = RAMP_DOWN
                    r = down
            # The outlets' capacity (spillway, and turbines while they can run) is only
            # worked out when the day may need more than the spillway.
            cap = -1.0
            if r > spill_cap:
                cap = outlet_capacity(s0, wn, sg, spill_cap, turb_max, cap_w, rge, min_head,
                                      hs, hl, hl_slope, tq, tl, tl_slope)
                if r > cap:
                    c = CAPACITY
                    r = cap
            avail = max((s0 - _at(f[F_S_MIN], 0, j)) * INV_DT + wn, 0.0)
            if r > avail:
                c = AVAILABLE
                r = avail
            # 4. End storage and spill above the normal level, up to the capacity left over.
            s1 = s0 + (wn - r) * dt
            excess = s1 - _at(f[F_S_NORM], 0, j)
            if excess > 0:
                if cap < 0.0:
                    cap = outlet_capacity(s0, wn, sg, spill_cap, turb_max, cap_w, rge, min_head,
                                          hs, hl, hl_slope, tq, tl, tl_slope)
                r += min(excess * INV_DT, max(cap - r, 0.0))
                s1 = s0 + (wn - r) * dt
                c = SPILLED
            # Above the table's top (the dam crest) the water overtops: storage stays at the top.
            top = hs[hs.size - 1]
            topped = s1 > top
            if topped:
                r += (s1 - top) * INV_DT
                s1 = top
            # Emptying the reservoir exactly can leave -1e-8 m³ of round-off: never below empty.
            s1 = max(s1, 0.0)
            # 5. Head at the mean storage of the day, tailwater at the outflow.
            head, _ = _head(r, s0, wn, sg, hs, hl, hl_slope, tq, tl, tl_slope)
            qt = _turbine_flow(r, head, turb_max, cap_w, rge, min_head)
            power = rge * qt * head
            if not (np.isfinite(s1) and np.isfinite(r) and np.isfinite(power)):
                fail[j, 0] = t
                fail[j, 1] = FAIL_NONFINITE
                fail[j, 2] = r
                fail[j, 3] = q
                break
            # What neither the turbines (at the day's head) nor the spillway pass overtops.
            over = 0.0
            if topped and r - qt > spill_cap:
                over = r - qt - spill_cap
                c = OVERTOPPING
            # 6. Downstream, and each user's day.
            supplied = 0.0
            if n_down > 0:
                td = t if down_dem.shape[1] > 1 else 0
                jd = j if down_dem.shape[2] > 1 else 0
                water = r * (1.0 - _at(f[F_REACH_LOSS], 0, j)) + _at(f[F_LATERAL], t, j)
                _allocate(water, down_dem, down_sup, down_order, down_end, tk, j, td, jd)
                for u in range(n_down):
                    sup = down_sup[u, tk, j]
                    supplied += sup
                    _user_day(ustats, ufail, uevent, 1 + u, j, down_dem[u, td, jd], sup)
            if n_res > 0:
                td = t if res_dem.shape[1] > 1 else 0
                jd = j if res_dem.shape[2] > 1 else 0
                for u in range(n_res):
                    _user_day(ustats, ufail, uevent, 1 + n_down + u, j, res_dem[u, td, jd], res_sup[u, tk, j])
            # The totals: every user, downstream and at the reservoir.
            _user_day(ustats, ufail, uevent, 0, j, dsum + wdem, supplied + w)
            # Metrics of the day.
            acc[j, S_INFLOW] += q
            acc[j, S_RELEASE] += r
            acc[j, S_TURBINE] += qt
            acc[j, S_SPILL] += r - qt
            acc[j, S_EVAP] += evap
            acc[j, S_PRECIP] += precip
            acc[j, S_SEEP] += seep
            acc[j, S_WITHDRAWAL] += w
            acc[j, S_ENERGY_MWH] += power * 24.0e-6
            resid = abs(s1 - s0 - (q + precip - evap - seep - w - r) * dt)
            if resid > acc[j, S_RESIDUAL]:
                acc[j, S_RESIDUAL] = resid
            if s1 < acc[j, S_STORAGE_MIN]:
                acc[j, S_STORAGE_MIN] = s1
            if s1 > acc[j, S_STORAGE_MAX]:
                acc[j, S_STORAGE_MAX] = s1
            if s1 < _at(f[F_S_MIN], 0, j) - STORAGE_TOL:
                acc[j, S_BELOW_MIN] += 1
                if wn < 0.0:  # the losses drew it down (releases never take it below the minimum)
                    acc[j, S_BELOW_MIN_LOSSES] += 1
            if r - qt > SPILL_TOL:
                acc[j, S_SPILL_DAYS] += 1
            if s1 > _at(f[F_S_NORM], 0, j) + STORAGE_TOL:
                acc[j, S_SURCHARGE] += 1
            if s1 > _at(f[F_S_MAX], 0, j) + STORAGE_TOL:
                acc[j, S_ABOVE_MAX] += 1
            if over > 0.0:
                acc[j, S_OVERTOP] += over
                acc[j, S_OVERTOP_DAYS] += 1
            # State for tomorrow.
            x = max(s1, hs[0])
            sg = _seg(hs, x, sg)
            lev = hl[sg] + hl_slope[sg] * (x - hs[sg])
            ar = max(ha[sg] + ha_slope[sg] * (x - hs[sg]), 0.0)
            daily[RELEASE, tk, j] = r
            daily[TURBINE, tk, j] = qt
            daily[SPILL, tk, j] = r - qt
            daily[OVERTOP, tk, j] = over
            daily[STORAGE, tk, j] = s1
            daily[LEVEL, tk, j] = lev
            daily[HEAD, tk, j] = head
            daily[POWER, tk, j] = power
            daily[DEMAND, tk, j] = dsum + wdem
            daily[SUPPLY, tk, j] = supplied + w
            daily[DEFICIT, tk, j] = max(dsum - supplied, 0.0) + max(wdem - w, 0.0)
            binding[tk, j] = c
            s0 = s1
            pv = r
        s_arr[j] = s0
        seg_arr[j] = sg
        level_arr[j] = lev
        area_arr[j] = ar
        prev_arr[j] = pv


