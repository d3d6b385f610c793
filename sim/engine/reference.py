"""A plain-Python reference of the daily step: one member, one day at a time.

Written for clarity, straight from DESIGN.md's "One daily step", with no numpy in the loop.
It is the test oracle for the compiled engine (same inputs, same numbers to round-off;
tests/test_reference.py compares them on every shipped scenario and at the limits) and the
baseline of the benchmarks (how fast the same model runs as a per-member Python loop).
It runs every registered rule through its reference step (sim.rules.base) and every limit,
loss, spill, head, unit, allocation and overtopping rule of the engine.
"""

from __future__ import annotations

import math

import numpy as np

from sim.engine.driver import Model, SimulationError, n_members_of
from sim.physics import units
from sim.physics.hydraulics import DayHydraulics, interp
from sim.rules.base import BINDING_CODE, RULES, ReferenceDay
from sim.rules.regimes import Regime

__all__ = ["simulate_member"]

def _value(a, t, j):
    a = np.asarray(a)
    if a.ndim == 0:
        return float(a)
    if a.ndim == 1:
        return float(a[j if a.shape[0] > 1 else 0])
    return float(a[t if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0])


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
        raise ValueError("the reference supports the registered rules only")
    n_total = n_members_of(model, regime)
    j = member
    period = model.period
    dt = units.SECONDS_PER_DAY
    res, plant, hyps = model.reservoir, model.plant, model.reservoir.hypsometry
    by_s, tw = hyps.by_storage, res.tailwater.curve
    hs, hl, ha = by_s.x.tolist(), by_s.ys[0].tolist(), by_s.ys[1].tolist()
    hl_sl, ha_sl = by_s.slopes[0].tolist(), by_s.slopes[1].tolist()
    tables = (hs, hl, hl_sl, tw.x.tolist(), tw.ys[0].tolist(), tw.slopes[0].tolist())
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
    rule = RULES[regime.rule]
    params = {}
    for p in rule.params:  # this member's values: lists over days for series
        v = regime.params.get(p.name, p.default)
        params[p.name] = [_value(v, t, j) for t in range(period.n_days)] if p.series else _value(v, 0, j)
    rule_step = rule.reference(model, params)
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
        level = interp(hs, hl, hl_sl, x)
        area = max(interp(hs, ha, ha_sl, x), 0.0)
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
        hydraulics = DayHydraulics(tables, s, q - net, turb_max, cap_w, rge, plant.min_head_m, spill_cap)
        # 2. The rule.
        r, code = rule_step(ReferenceDay(t, s, level, prev, q, q - net, demand_down, lateral, loss_frac, turb_max, hi,
                                         hydraulics))
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
        cap = hydraulics.capacity() if r > spill_cap else None  # only needed above the spillway's share
        if cap is not None and r > cap:
            r, code = cap, "capacity"
        avail = max((s - s_min) / dt + q - net, 0.0)
        if r > avail:
            r, code = avail, "available"
        # 4. End storage; spill above the normal level, up to the capacity left over.
        s1 = s + (q - net - r) * dt
        if s1 > s_norm:
            cap = hydraulics.capacity() if cap is None else cap
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
        head = hydraulics.head(r)[0]
        qt = hydraulics.turbine_flow(r, head)
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
                       ("level_m", interp(hs, hl, hl_sl, max(s1, hs[0]))), ("head_m", head), ("power_w", power),
                       ("demand_m3s", demand_total), ("supply_m3s", supplied), ("deficit_m3s", day_deficit),
                       ("binding", code)):
            out[key].append(v)
        s, prev = s1, r
    assert all(c in BINDING_CODE for c in out["binding"])
    out.update(counts)
    out.update(energy_gwh=energy_mwh * 1e-3, demand_hm3=demand_sum, deficit_hm3=deficit, storage_end_hm3=s * 1e-6,
               reliability_time=1.0 - fail_days / period.n_days, overtopping_hm3=overtopping)
    return out
