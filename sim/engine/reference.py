"""A plain-Python reference of the daily step: one member, one day at a time.

Written for clarity, straight from DESIGN.md's "One daily step", with no numpy in the loop.
It is the test oracle for the compiled engine (same inputs, same numbers to round-off;
tests/test_reference.py compares them on every shipped scenario and at the limits) and the
baseline of the benchmarks (how fast the same model runs as a per-member Python loop).
It supports every built-in rule (``schedule``, ``demand`` with hedging, ``power``, ``level``)
and every limit, loss, spill, head, unit, allocation and overtopping rule of the engine.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from sim.physics import units
from sim.engine.driver import Model, SimulationError, n_members_of
from sim.rules.regimes import BINDING_CODE, Regime

__all__ = ["simulate_member"]

REL_TOL = 1e-13  # convergence of the iterations, as in sim._kernels
MAX_ITER = 200
GOLDEN = 0.6180339887498949


def _interp(xs, ys, slopes, x):
    """Piecewise-linear value at x; segment k starts at xs[k], the last extends its slope."""
    i = _segment(xs, x)
    return ys[i] + slopes[i] * (x - xs[i])


def _segment(xs, x):
    return min(max(bisect.bisect_right(xs, x) - 1, 0), len(xs) - 1)


def _value(a, t, j):
    a = np.asarray(a)
    if a.ndim == 0:
        return float(a)
    if a.ndim == 1:
        return float(a[j if a.shape[0] > 1 else 0])
    return float(a[t if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0])


class _Day:
    """One day's hydraulics: start storage `s0`, net water `wn` = Q − losses [m³/s]."""

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
        i = _segment(self.hs, x)
        it = _segment(self.tq, r)
        h = self.hl[i] + self.hl_sl[i] * (x - self.hs[i]) - (self.tl[it] + self.tl_sl[it] * (r - self.tq[it]))
        dh = -self.tl_sl[it]
        if 0.0 < s1 < top and 0.5 * (self.s0 + s1) > self.hs[0]:
            dh -= 0.5 * dt * self.hl_sl[i]
        return (0.0, 0.0) if h <= 0.0 else (h, dh)

    def turbine_flow(self, r, h):
        if h < self.min_head:
            return 0.0
        qt = min(r, self.turb_max)
        if self.rge * qt * h > self.cap_w:
            qt = self.cap_w / (self.rge * h)
        return qt

    def power(self, r):
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

    def power_release(self, target, guess):
        """The power rule: smallest release giving the target, else the most power."""
        if not target > 0.0:
            return 0.0, "rule"
        if self.turb_max <= 0.0:
            return 0.0, "capacity"
        top, code = self.turb_max, "capacity"
        h, dh = self.head(top)
        if h < self.min_head:
            code = "head"
            if self.head(0.0)[0] < self.min_head:
                return 0.0, "head"
            top = self.last_runnable(0.0, top)
            h, dh = self.head(top)
        peak = top
        if h + top * dh < 0.0:
            code = "head"
            a, b = 0.0, top
            for _ in range(MAX_ITER):
                if b - a <= REL_TOL * b:
                    break
                m1, m2 = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
                if self.power(m1) < self.power(m2):
                    a = m1
                else:
                    b = m2
            peak = 0.5 * (a + b)
            h, dh = self.head(peak)
        p_max = min(self.rge * peak * h, self.cap_w)
        if p_max >= self.cap_w * (1.0 - REL_TOL):
            p_max = self.cap_w
            if target >= self.cap_w:
                code = "capacity"
        if target >= p_max:
            if p_max < self.cap_w:
                return peak, code
            target = p_max
        else:
            code = "rule"
        a, b = 0.0, peak
        r = guess if guess is not None and 0.0 < guess < peak else min(target / (self.rge * h), peak)
        for _ in range(MAX_ITER):
            h, dh = self.head(r)
            g = self.rge * r * h - target
            if abs(g) <= REL_TOL * target:
                return r, code
            if g > 0.0:
                b = r
            else:
                a = r
            if b - a <= REL_TOL * b:
                break
            d = self.rge * (h + r * dh)
            rn = r - g / d if d > 0.0 else -1.0
            if not a < rn < b:
                rn = 0.5 * (a + b)
            r = rn
        return b, code


def simulate_member(model: Model, regime: Regime, member: int = 0) -> dict:
    """Run one member with plain Python floats; returns daily lists and the main totals.

    Water that would raise the storage above the table's top (the dam crest) overtops: the
    storage stays at the top. Raises `sim.engine.SimulationError` on the day a number is not
    finite, as the engine does.

    Returns
    -------
    dict
        ``release_m3s``, ``turbine_flow_m3s``, ``spill_m3s``, ``overtopping_m3s``, ``storage_m3``, ``level_m``,
        ``head_m``, ``power_w``, ``demand_m3s``, ``supply_m3s``, ``deficit_m3s`` (totals of
        every user), ``binding`` (names) as lists over days, and ``energy_gwh``,
        ``demand_hm3``, ``deficit_hm3``, ``reliability_time``, ``storage_end_hm3``,
        ``days_below_min_level``, ``days_below_min_by_losses``, ``spill_days``,
        ``surcharge_days``, ``days_above_max_level``, ``overtopping_days``, ``overtopping_hm3``.
    """
    if not isinstance(regime.rule, str):
        raise ValueError("the reference supports the built-in rules only")
    n_total = n_members_of(model, regime)
    j = member
    period = model.period
    dt = units.SECONDS_PER_DAY
    res, plant, hyps = model.reservoir, model.plant, model.reservoir.hypsometry
    by_s, tw = hyps._by_storage, res.tailwater._f
    hs, hl, ha = by_s.x.tolist(), by_s.ys[0].tolist(), by_s.ys[1].tolist()
    hl_sl, ha_sl = by_s._slopes[0].tolist(), by_s._slopes[1].tolist()
    tables = (hs, hl, hl_sl, tw.x.tolist(), tw.ys[0].tolist(), tw._slopes[0].tolist())
    inflow = model.inflow_m3s.materialize(slice(j, j + 1), n_total)[:, 0] if hasattr(model.inflow_m3s, "materialize") else None

    def storage_at(level):
        return max(float(hyps.storage_fast(level)), 0.0)

    s_min = storage_at(_value(res.min_level_m, 0, j))
    s_norm = storage_at(_value(res.normal_level_m, 0, j))
    s_max = storage_at(_value(res.max_level_m, 0, j))
    eff = _value(plant.efficiency, 0, j)
    rge = units.WATER_DENSITY_KG_M3 * units.GRAVITY_M_S2 * eff
    spill_cap = _value(res.spillway_capacity_m3s, 0, j)
    loss_frac = _value(model.reach_loss_fraction, 0, j)
    lo = _value(regime.min_release_m3s, 0, j)
    hi = _value(regime.max_release_m3s, 0, j)
    ramp = _value(regime.max_change_m3s_day, 0, j)
    prev = None if regime.initial_release_m3s is None else _value(regime.initial_release_m3s, 0, j)
    params = regime.params
    if regime.rule == "level":
        target_storage = [storage_at(_value(params["target_level_m"], t, j)) for t in range(period.n_days)]
        approach = _value(params.get("approach_days", 1.0), 0, j)
    users = list(model.users)
    downstream = [u for u in users if u.location == "downstream"]
    at_reservoir = [u for u in users if u.location == "reservoir"]

    def demand_of(u, t):
        return _value(u.demand_m3s, t, j) * _value(u.scale, 0, j)

    def allocate(water, group, t):
        left = max(water, 0.0)
        supply = {}
        for p in sorted({u.priority for u in group}):
            members = [u for u in group if u.priority == p]
            total = sum(demand_of(u, t) for u in members)
            give = min(total, left)
            for u in members:
                supply[u.name] = demand_of(u, t) * (give / total if total > 0 else 0.0) if len(members) > 1 else min(
                    demand_of(u, t), left
                )
            left -= give
        return supply

    s = _value(model.initial_storage_m3, 0, j)
    keys = ("release_m3s", "turbine_flow_m3s", "spill_m3s", "overtopping_m3s", "storage_m3", "level_m", "head_m", "power_w",
            "demand_m3s", "supply_m3s", "deficit_m3s", "binding")
    out = {k: [] for k in keys}
    counts = dict.fromkeys(
        ("days_below_min_level", "days_below_min_by_losses", "spill_days", "surcharge_days", "days_above_max_level",
         "overtopping_days"), 0
    )
    energy_mwh = deficit = demand_sum = overtopping = 0.0
    fail_days = 0
    for t in range(period.n_days):
        x = max(s, hs[0])
        level = _interp(hs, hl, hl_sl, x)
        area = max(_interp(hs, ha, ha_sl, x), 0.0)
        q = (inflow[t] if inflow is not None else _value(model.inflow_m3s, t, j)) * _value(model.inflow_scale, 0, j)
        # 1. Losses, in order, from what the day holds; seepage from the water above S_min.
        evap = _value(model.evaporation_mm_day, t, j) * _value(model.evaporation_factor, 0, j) * 1e-3 * area / dt
        precip = _value(model.precipitation_mm_day, t, j) * 1e-3 * area / dt
        water = s / dt + q + precip
        evap = min(evap, water)
        seep = min(_value(model.seepage_m3s, t, j), max(water - evap - s_min / dt, 0.0))
        w_demand = sum(demand_of(u, t) for u in at_reservoir)
        withdrawal = min(w_demand, water - evap - seep) if at_reservoir else 0.0
        net = evap + seep + withdrawal - precip
        demand_down = sum(demand_of(u, t) for u in downstream)
        lateral = _value(model.lateral_inflow_m3s, t, j)
        units_on = plant.n_units if model.units_available is None else int(round(_value(model.units_available, t, j)))
        units_on = min(max(units_on, 0), plant.n_units)
        turb_max = float(plant.unit_max_flow_m3s[:units_on].sum())
        cap_w = float(plant.unit_capacity_w[:units_on].sum())
        day = _Day(tables, s, q - net, turb_max, cap_w, rge, plant.min_head_m, spill_cap)
        # 2. The rule.
        code = "rule"
        if regime.rule == "schedule":
            r = _value(params["release_m3s"], t, j) * _value(params.get("scale", 1.0), 0, j)
        elif regime.rule == "demand":
            r = max(demand_down - lateral, 0.0) / (1.0 - loss_frac) * _value(params.get("scale", 1.0), 0, j)
            trigger = params.get("hedging_trigger_level_m")
            if trigger is not None and level < _value(trigger, 0, j):
                factor = _value(params.get("hedging_factor", 1.0), 0, j)
                r *= factor
                code = "hedging" if factor < 1.0 else "rule"
        elif regime.rule == "power":
            r, code = day.power_release(_value(params["target_mw"], t, j) * 1e6, prev)
        else:  # level: end the day on the curve, less (1 − 1/approach) of the start-of-day gap
            aim = target_storage[t] + (s - target_storage[max(t - 1, 0)]) * (1.0 - 1.0 / approach)
            r = (s - aim) / dt + q - net
            if not math.isfinite(hi) and r > turb_max:
                r, code = turb_max, "max_release"
        # 3. Limits.
        r = max(r, 0.0)
        if r < lo:
            r, code = lo, "min_release"
        if r > hi:
            r, code = hi, "max_release"
        if prev is not None and math.isfinite(ramp):
            if r > prev + ramp:
                r, code = prev + ramp, "ramp_up"
            if r < max(prev - ramp, 0.0):
                r, code = max(prev - ramp, 0.0), "ramp_down"
        cap = day.capacity() if r > spill_cap else None  # only needed above the spillway's share
        if cap is not None and r > cap:
            r, code = cap, "capacity"
        avail = max((s - s_min) / dt + q - net, 0.0)
        if r > avail:
            r, code = avail, "available"
        # 4. End storage; spill above the normal level, up to the capacity left over.
        s1 = s + (q - net - r) * dt
        if s1 > s_norm:
            cap = day.capacity() if cap is None else cap
            r += min((s1 - s_norm) / dt, max(cap - r, 0.0))
            s1 = s + (q - net - r) * dt
            code = "spill"
        # Above the table's top (the dam crest) the water overtops; the storage stays at the top.
        topped = s1 > hs[-1]
        if topped:
            r += (s1 - hs[-1]) / dt
            s1 = hs[-1]
        s1 = max(s1, 0.0)
        # 5. Head at mid-day storage, tailwater at the outflow; turbines; power.
        head = day.head(r)[0]
        qt = day.turbine_flow(r, head)
        power = rge * qt * head
        if not (math.isfinite(s1) and math.isfinite(r) and math.isfinite(power)):
            raise SimulationError(f"on {period.dates[t]} (day {t + 1}, member {j}) a number is not finite")
        # What neither the turbines nor the spillway pass goes over the crest.
        over = r - qt - spill_cap if topped and r - qt > spill_cap else 0.0
        if over > 0.0:
            code = "overtopping"
            counts["overtopping_days"] += 1
            overtopping += over * units.HM3_PER_M3S_DAY
        # 6. Every user; totals count them all.
        supply = allocate(r * (1.0 - loss_frac) + lateral, downstream, t)
        supplied = sum(supply.values()) + withdrawal
        demand_total = demand_down + w_demand
        day_deficit = max(demand_down - sum(supply.values()), 0.0) + max(w_demand - withdrawal, 0.0)
        deficit += day_deficit * units.HM3_PER_M3S_DAY
        demand_sum += demand_total * units.HM3_PER_M3S_DAY
        fail_days += day_deficit > 1e-6
        energy_mwh += power * 24e-6
        if s1 < s_min - 1e-3:
            counts["days_below_min_level"] += 1
            counts["days_below_min_by_losses"] += q - net < 0.0
        counts["spill_days"] += r - qt > 1e-6
        counts["surcharge_days"] += s1 > s_norm + 1e-3
        counts["days_above_max_level"] += s1 > s_max + 1e-3
        for key, v in (("release_m3s", r), ("turbine_flow_m3s", qt), ("spill_m3s", r - qt), ("overtopping_m3s", over),
                       ("storage_m3", s1),
                       ("level_m", _interp(hs, hl, hl_sl, max(s1, hs[0]))), ("head_m", head), ("power_w", power),
                       ("demand_m3s", demand_total), ("supply_m3s", supplied), ("deficit_m3s", day_deficit),
                       ("binding", code)):
            out[key].append(v)
        s, prev = s1, r
    assert all(c in BINDING_CODE for c in out["binding"])
    out.update(counts)
    out.update(energy_gwh=energy_mwh * 1e-3, demand_hm3=demand_sum, deficit_hm3=deficit, storage_end_hm3=s * 1e-6,
               reliability_time=1.0 - fail_days / period.n_days, overtopping_hm3=overtopping)
    return out
