"""Compiled inner loops of the engine (numba): the daily step over all members.

The engine's time loop calls `advance` once per day (a Python rule) or once per season (a
registered rule): a loop over members compiled to machine code, so one day of a
100,000-member ensemble costs about as much as a few numpy calls. The physics of a day lives
in sim.physics.compiled, each rule's request in its module of sim.rules; `sim.engine.driver`
prepares the arrays.

`advance` is compiled from a generated module (sim.engine.dispatch) that joins `advance_py`
below with a dispatch over the registered rules' compiled steps, so a rule registered later
(in a test file, say) runs compiled too. Reading ``kernels.advance`` builds it.

Conventions: a *field* is a 2-D float64 array of shape ``(n_steps or 1, n_members or 1)``,
read with broadcasting by `field_at`; per-member parameters are fields with one row. The
fields read every day and the users' demands are laid out a row a day in `tin` before a
member's days run (`_fill_day_inputs`), so the day reads them from one place. Table indices
found by `segment` are used unsigned, which spares numba's wraparound of negative indices.
"""

from __future__ import annotations

import numpy as np

from sim._jit import njit
from sim.engine.metrics.hashimoto import DEFICIT_TOLERANCE_M3S
from sim.physics.compiled import INV_DT, SECONDS_PER_DAY, field_at, net_head, outlet_capacity, segment, turbine_flow
from sim.rules.base import (
    AVAILABLE,
    CAPACITY,
    MAX_RELEASE,
    MIN_RELEASE,
    OVERTOPPING,
    RAMP_DOWN,
    RAMP_UP,
    SPILLED,
)

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
F_LO, F_HI, F_RAMP, F_S_MAX, F_EXTRA, F_TW_SHIFT = 14, 15, 16, 17, 18, 19
N_FIELDS = 20
# The fields read every day, in the order of the columns of `tin`, the day's inputs of one
# member laid out one row a day (`advance`).
DAY_FIELDS = (F_INFLOW, F_EVAP_MM, F_PRECIP_MM, F_SEEP, F_LATERAL, F_TURB_MAX, F_CAP_W, F_EXTRA)
I_INFLOW, I_EVAP_MM, I_PRECIP_MM, I_SEEP, I_LATERAL, I_TURB_MAX, I_CAP_W, I_EXTRA = range(len(DAY_FIELDS))
N_DAY_FIELDS = len(DAY_FIELDS)

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

# Tolerances: deficits at or below DEFICIT_TOL (the metrics' definition) are not failures
# [m³/s]; storage within STORAGE_TOL of a limit is at the limit [m³]; spill above SPILL_TOL
# counts as a spill day [m³/s].
DEFICIT_TOL = DEFICIT_TOLERANCE_M3S
STORAGE_TOL = 1e-3
SPILL_TOL = 1e-6

# Rows of the per-user statistics array.
U_DEMAND, U_SUPPLY, U_DEFICIT, U_FAIL_DAYS, U_RECOVERIES, U_VULNERABILITY, U_EVENTS = 0, 1, 2, 3, 4, 5, 6
N_USER_STATS = 7


@njit(cache=True)
def level_area(hs, hl, hl_slope, ha, ha_slope, s, seg, level, area):
    """Level and area at storages `s` (clamped to the table bottom); updates `seg` guesses."""
    for j in range(s.size):
        x = max(s[j], hs[0])
        i = segment(hs, x, seg[j])
        seg[j] = i
        level[j] = hl[i] + hl_slope[i] * (x - hs[i])
        area[j] = max(ha[i] + ha_slope[i] * (x - hs[i]), 0.0)


@njit(inline="always", cache=True)
def _allocate(water, din, base, supply, order, group_end, t, j):
    """Share `water` among users by priority groups (`order` sorted, groups end at `group_end`);
    user u's demand is ``din[base + u]`` (the day's inputs, a row of `tin`), its supply goes
    to ``supply[u, t, j]``."""
    left = max(water, 0.0)
    start = 0
    for g in range(group_end.size):
        end = group_end[g]
        if end - start == 1:
            u = order[start]
            d = din[base + u]
            give = min(d, left)
            supply[u, t, j] = give
            left -= give
        else:
            total = 0.0
            for p in range(start, end):
                total += din[base + order[p]]
            give = min(total, left)
            share = give / total if total > 0 else 0.0
            for p in range(start, end):
                u = order[p]
                supply[u, t, j] = din[base + u] * share
            left -= give
        start = end


@njit(inline="always", cache=True)
def _demand_sum(din, base, n):
    """Total demand of users 0..n-1 (``din[base + u]``, the day's inputs)."""
    total = 0.0
    for u in range(n):
        total += din[base + u]
    return total


@njit(inline="always", cache=True)
def _fill_day_inputs(tin, f, res_dem, down_dem, t0, t1, j):
    """Write member j's inputs of days t0..t1-1 into `tin`, a row a day: the `DAY_FIELDS`,
    then each downstream user's demand, then each reservoir user's [m³/s]. What does not vary
    by member is written for the first member only (j == 0)."""
    for i in range(N_DAY_FIELDS):
        a = f[DAY_FIELDS[i]]
        if j == 0 or a.shape[1] > 1:
            for t in range(t0, t1):
                tin[t, i] = field_at(a, t, j)
    col = N_DAY_FIELDS
    for dem in (down_dem, res_dem):
        for u in range(dem.shape[0]):
            if j == 0 or dem.shape[2] > 1:
                jd = j if dem.shape[2] > 1 else 0
                for t in range(t0, t1):
                    tin[t, col + u] = dem[u, t if dem.shape[1] > 1 else 0, jd]
        col += dem.shape[0]


@njit(inline="always", cache=True)
def _user_day(ustats, ufail, uevent, row, j, d, sup):
    row, j = np.uint64(row), np.uint64(j)  # never negative: no wraparound
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
    uevent[j, row] = fail * max(was * uevent[j, row], deficit)
    ufail[j, row] = fail


@njit(cache=True)
def close_events(ustats, ufail, uevent):
    """Count the failure events: every recovery ended one, and one may still be open on the
    last day (counted here rather than every day: the counts are whole numbers, exact)."""
    for row in range(ufail.shape[1]):
        for j in range(ufail.shape[0]):
            ustats[j, row, U_EVENTS] = ustats[j, row, U_RECOVERIES]
            if ufail[j, row] > 0:
                ustats[j, row, U_VULNERABILITY] += uevent[j, row]
                ustats[j, row, U_EVENTS] += 1


# Phases of `advance`: losses (PHASE_PRE), the registered rule (PHASE_RULE), limits to metrics
# (PHASE_POST); registered rules run them all (PHASE_ALL).
PHASE_PRE, PHASE_RULE, PHASE_POST = 1, 2, 4
PHASE_ALL = PHASE_PRE | PHASE_RULE | PHASE_POST


#: The dispatch over the registered rules' compiled steps: ``rule_step(rule, *step args)``;
#: defined in the generated module that compiles `advance_py` (sim.engine.dispatch).
rule_step = None


def advance_py(  # noqa: C901 - one fused daily loop, compiled whole by numba: splitting it costs speed
    t0, t1, phase, rule, p, f, use_lo, use_hi, ramp_from, min_head,
    s_arr, seg_arr, level_arr, area_arr, prev_arr, net_arr, req, code, daily, binding, tin,
    hs, hl, hl_slope, ha, ha_slope, tq, tl, tl_slope, tl_work, hrow, hs_m, hl_slope_m, ha_m, ha_slope_m,
    res_dem, res_sup, res_order, res_end, down_dem, down_sup, down_order, down_end, acc, ustats, ufail, uevent, fail,
):
    """Advance every member over days t0..t1−1: the whole daily step, or some of its phases.

    The source of `advance` (never run as Python). ``rule`` is the registered rule's number
    in the dispatch and ``p`` its fields (sim.rules.base).

    With ``phase == PHASE_ALL`` (registered rules) each member runs the whole period in turn,
    its state in registers; a Python rule runs the same code one day at a time: ``PHASE_PRE``
    (losses, leaving ``net_arr`` and the day's inputs in `daily`), the rule in Python
    (``req``, ``code``), then ``PHASE_POST``. Steps, in the order of DESIGN.md:

    1. (PRE) losses over the start-of-day area, capped by the water the day holds (seepage
       by the water above the minimum operating level);
    2. (RULE) the registered rule's request (its compiled step, sim.rules), plus the model's
       extra release (`Model.extra_release_m3s`, 0 unless a study gives it);
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
    down_base = N_DAY_FIELDS  # columns of `tin`: the users' demands
    res_base = N_DAY_FIELDS + n_down
    keep = daily.shape[1] > 1
    # A registered rule's run without daily series reads nothing back from `daily`: skip its
    # writes. It is told by a one-day buffer for a longer run (a one-day run keeps its day).
    store = daily.shape[1] >= t1 - t0 or phase != PHASE_ALL
    for j in range(k):
        # The member's parameters (fields with one row), read once rather than every day.
        inflow_scale = field_at(f[F_INFLOW_SCALE], 0, j)
        evap_factor = field_at(f[F_EVAP_FACTOR], 0, j)
        s_min = field_at(f[F_S_MIN], 0, j)
        s_norm = field_at(f[F_S_NORM], 0, j)
        s_max = field_at(f[F_S_MAX], 0, j)
        rge = field_at(f[F_RHO_G_ETA], 0, j)
        spill_cap = field_at(f[F_SPILL_CAP], 0, j)
        reach_loss = field_at(f[F_REACH_LOSS], 0, j)
        lo = field_at(f[F_LO], 0, j)
        hi = field_at(f[F_HI], 0, j)
        ramp = field_at(f[F_RAMP], 0, j)
        # A member's shift of the tailwater rating: the shifted levels in `tl_work` (no copy at
        # 0, so that an unshifted run does exactly the arithmetic it did before the shift existed).
        tw_shift = field_at(f[F_TW_SHIFT], 0, j)
        tlj = tl
        if tw_shift != 0.0:
            for i in range(tl.size):
                tl_work[i] = tl[i] + tw_shift
            tlj = tl_work
        # A member's own level–storage table (storage factor or exponent factor not 1): row
        # `hrow[j]` of the transformed tables (sim.physics.hypsometry.MemberHypsometry); -1
        # keeps the shared table, so a run without them does exactly the arithmetic it did.
        hsj, hlsj, haj, hasj = hs, hl_slope, ha, ha_slope
        row = hrow[j]
        if row >= 0:
            hsj, hlsj, haj, hasj = hs_m[row], hl_slope_m[row], ha_m[row], ha_slope_m[row]
        # The member's daily inputs, a row a day: what the days read most, at one place.
        _fill_day_inputs(tin, f, res_dem, down_dem, t0, t1, j)
        s0 = s_arr[j]
        sg = seg_arr[j]
        lev = level_arr[j]
        ar = area_arr[j]
        pv = prev_arr[j]
        for t in range(t0, t1):
            tk = t if keep else 0
            din = tin[t]  # the day's inputs
            # 1. Losses.
            if phase & PHASE_PRE:
                q = din[I_INFLOW] * inflow_scale
                evap = din[I_EVAP_MM] * evap_factor * ar * scale_mm
                precip = din[I_PRECIP_MM] * ar * scale_mm
                water = s0 * INV_DT + q + precip
                evap = min(evap, water)
                left = water - evap
                # Seepage (and the other losses of a calibrated residual) takes only water above
                # the minimum operating level: below it the residual is not known (sim.losses).
                seep = min(din[I_SEEP], max(left - s_min * INV_DT, 0.0))
                left -= seep
                wdem = _demand_sum(din, res_base, n_res)
                w = min(wdem, left)
                if n_res > 0:
                    _allocate(w, din, res_base, res_sup, res_order, res_end, tk, j)
                dsum = _demand_sum(din, down_base, n_down)
                net = evap + seep + w - precip
                if store:
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
                wdem = _demand_sum(din, res_base, n_res)
            if not phase & PHASE_POST:
                continue
            wn = q - net
            turb_max = din[I_TURB_MAX]
            cap_w = din[I_CAP_W]
            # 2. The rule's request.
            if phase & PHASE_RULE:
                r, c = rule_step(
                    rule, p, t, j, s0, sg, lev, pv, q, wn, dsum, din[I_LATERAL], reach_loss,
                    turb_max, cap_w, rge, min_head, use_hi, hsj, hl, hlsj, tq, tlj, tl_slope,
                )
            else:
                r = req[j]
                c = code[j]
            # 3. Limits, in order; the last that binds names the day.
            r = max(r, 0.0)
            # A study's extra release goes on top of the request, before the limits (added only
            # where given, so that a run without one keeps every output byte).
            extra = din[I_EXTRA]
            if extra > 0.0:
                r += extra
            if use_lo:
                if r < lo:
                    c = MIN_RELEASE
                    r = lo
            if use_hi:
                if r > hi:
                    c = MAX_RELEASE
                    r = hi
            if t >= ramp_from:
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
                                      hsj, hl, hlsj, tq, tlj, tl_slope)
                if r > cap:
                    c = CAPACITY
                    r = cap
            avail = max((s0 - s_min) * INV_DT + wn, 0.0)
            if r > avail:
                c = AVAILABLE
                r = avail
            # 4. End storage and spill above the normal level, up to the capacity left over.
            s1 = s0 + (wn - r) * dt
            excess = s1 - s_norm
            if excess > 0:
                if cap < 0.0:
                    cap = outlet_capacity(s0, wn, sg, spill_cap, turb_max, cap_w, rge, min_head,
                                          hsj, hl, hlsj, tq, tlj, tl_slope)
                r += min(excess * INV_DT, max(cap - r, 0.0))
                s1 = s0 + (wn - r) * dt
                c = SPILLED
            # Above the table's top (the dam crest) the water overtops: storage stays at the top.
            top = hsj[hsj.size - 1]
            topped = s1 > top
            if topped:
                r += (s1 - top) * INV_DT
                s1 = top
            # Emptying the reservoir exactly can leave -1e-8 m³ of round-off: never below empty.
            s1 = max(s1, 0.0)
            # 5. Head at the mean storage of the day, tailwater at the outflow.
            head, _ = net_head(r, s0, wn, sg, hsj, hl, hlsj, tq, tlj, tl_slope)
            qt = turbine_flow(r, head, turb_max, cap_w, rge, min_head)
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
                water = r * (1.0 - reach_loss) + din[I_LATERAL]
                _allocate(water, din, down_base, down_sup, down_order, down_end, tk, j)
                for u in range(n_down):
                    sup = down_sup[u, tk, j]
                    supplied += sup
                    _user_day(ustats, ufail, uevent, 1 + u, j, din[down_base + u], sup)
            if n_res > 0:
                for u in range(n_res):
                    _user_day(ustats, ufail, uevent, 1 + n_down + u, j, din[res_base + u], res_sup[u, tk, j])
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
            if s1 < s_min - STORAGE_TOL:
                acc[j, S_BELOW_MIN] += 1
                if wn < 0.0:  # the losses drew it down (releases never take it below the minimum)
                    acc[j, S_BELOW_MIN_LOSSES] += 1
            if r - qt > SPILL_TOL:
                acc[j, S_SPILL_DAYS] += 1
            if s1 > s_norm + STORAGE_TOL:
                acc[j, S_SURCHARGE] += 1
            if s1 > s_max + STORAGE_TOL:
                acc[j, S_ABOVE_MAX] += 1
            if over > 0.0:
                acc[j, S_OVERTOP] += over
                acc[j, S_OVERTOP_DAYS] += 1
            # State for tomorrow.
            x = max(s1, hsj[0])
            sg = segment(hsj, x, sg)
            ks = np.uint64(sg)  # in range: no wraparound (sim.physics.compiled.segment)
            lev = hl[ks] + hlsj[ks] * (x - hsj[ks])
            ar = max(haj[ks] + hasj[ks] * (x - hsj[ks]), 0.0)
            if store:
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


def __getattr__(name):
    if name == "advance":  # built (generated, compiled or loaded from the cache) on first use
        from sim.engine import dispatch

        return dispatch.advance()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
