"""A plain-Python reference of the daily step: one member, one day at a time.

Written for clarity, straight from DESIGN.md's "One daily step", with no numpy in the loop.
It is the test oracle for the compiled engine (same inputs, same numbers to round-off) and
the baseline of the benchmarks (how fast the same model runs as a per-member Python loop).
It supports the built-in rules ``schedule`` and ``demand`` (with hedging) and every limit,
loss, spill, head, unit and allocation rule of the engine.
"""

from __future__ import annotations

import bisect

import numpy as np

from . import units
from .engine import Model, n_members_of
from .regimes import BINDING_CODE, Regime

__all__ = ["simulate_member"]


def _interp(xs, ys, slopes, x):
    """Piecewise-linear value at x; segment k starts at xs[k], the last extends its slope."""
    i = max(bisect.bisect_right(xs, x) - 1, 0)
    return ys[i] + slopes[i] * (x - xs[i])


def _value(a, t, j):
    a = np.asarray(a)
    if a.ndim == 0:
        return float(a)
    if a.ndim == 1:
        return float(a[j if a.shape[0] > 1 else 0])
    return float(a[t if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0])


def simulate_member(model: Model, regime: Regime, member: int = 0) -> dict:
    """Run one member with plain Python floats; returns daily lists and the main totals.

    Returns
    -------
    dict
        ``release_m3s``, ``turbine_flow_m3s``, ``storage_m3``, ``level_m``, ``power_w``,
        ``supply_m3s`` (total downstream), ``binding`` (names) as lists over days, and
        ``energy_gwh``, ``deficit_hm3``, ``storage_end_hm3``.
    """
    if not isinstance(regime.rule, str) or regime.rule not in ("schedule", "demand"):
        raise ValueError("the reference supports the schedule and demand rules")
    n_total = n_members_of(model, regime)
    j = member
    period = model.period
    dt = units.SECONDS_PER_DAY
    res, plant, hyps = model.reservoir, model.plant, model.reservoir.hypsometry
    by_s, tw = hyps._by_storage, res.tailwater._f
    hs, hl, ha = by_s.x.tolist(), by_s.ys[0].tolist(), by_s.ys[1].tolist()
    hl_sl, ha_sl = by_s._slopes[0].tolist(), by_s._slopes[1].tolist()
    tq, tl, tl_sl = tw.x.tolist(), tw.ys[0].tolist(), tw._slopes[0].tolist()
    inflow = model.inflow_m3s.materialize(slice(j, j + 1), n_total)[:, 0] if hasattr(model.inflow_m3s, "materialize") else None

    def storage_at(level):
        return max(float(hyps.storage_fast(level)), 0.0)

    s_min = storage_at(_value(res.min_level_m, 0, j))
    s_norm = storage_at(_value(res.normal_level_m, 0, j))
    eff = _value(plant.efficiency, 0, j)
    rge = units.WATER_DENSITY_KG_M3 * units.GRAVITY_M_S2 * eff
    spill_cap = _value(res.spillway_capacity_m3s, 0, j)
    loss_frac = _value(model.reach_loss_fraction, 0, j)
    lo = _value(regime.min_release_m3s, 0, j)
    hi = _value(regime.max_release_m3s, 0, j)
    ramp = _value(regime.max_change_m3s_day, 0, j)
    prev = None if regime.initial_release_m3s is None else _value(regime.initial_release_m3s, 0, j)
    params = regime.params
    users = list(model.users)
    downstream = [u for u in users if u.location == "downstream"]
    at_reservoir = [u for u in users if u.location == "reservoir"]

    def demand_of(u, t):
        return _value(u.demand_m3s, t, j) * _value(u.scale, 0, j)

    def allocate(water, group):
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
    out = {k: [] for k in ("release_m3s", "turbine_flow_m3s", "storage_m3", "level_m", "power_w", "supply_m3s", "binding")}
    energy_mwh = deficit = 0.0
    for t in range(period.n_days):
        x = max(s, hs[0])
        level = _interp(hs, hl, hl_sl, x)
        area = max(_interp(hs, ha, ha_sl, x), 0.0)
        q = (inflow[t] if inflow is not None else _value(model.inflow_m3s, t, j)) * _value(model.inflow_scale, 0, j)
        evap = _value(model.evaporation_mm_day, t, j) * _value(model.evaporation_factor, 0, j) * 1e-3 * area / dt
        precip = _value(model.precipitation_mm_day, t, j) * 1e-3 * area / dt
        water = s / dt + q + precip
        evap = min(evap, water)
        seep = min(_value(model.seepage_m3s, t, j), water - evap)
        withdrawal = min(sum(demand_of(u, t) for u in at_reservoir), water - evap - seep) if at_reservoir else 0.0
        net = evap + seep + withdrawal - precip
        demand_total = sum(demand_of(u, t) for u in downstream)
        lateral = _value(model.lateral_inflow_m3s, t, j)
        code = "rule"
        if regime.rule == "schedule":
            r = _value(params["release_m3s"], t, j) * _value(params.get("scale", 1.0), 0, j)
        else:
            r = max(demand_total - lateral, 0.0) / (1.0 - loss_frac) * _value(params.get("scale", 1.0), 0, j)
            trigger = params.get("hedging_trigger_level_m")
            if trigger is not None and level < _value(trigger, 0, j):
                factor = _value(params.get("hedging_factor", 1.0), 0, j)
                r *= factor
                code = "hedging" if factor < 1.0 else "rule"
        r = max(r, 0.0)
        if r < lo:
            r, code = lo, "min_release"
        if r > hi:
            r, code = hi, "max_release"
        if prev is not None and np.isfinite(ramp):
            if r > prev + ramp:
                r, code = prev + ramp, "ramp_up"
            if r < max(prev - ramp, 0.0):
                r, code = max(prev - ramp, 0.0), "ramp_down"
        units_on = plant.n_units if model.units_available is None else int(round(_value(model.units_available, t, j)))
        units_on = min(max(units_on, 0), plant.n_units)
        turb_max = float(plant.unit_max_flow_m3s[:units_on].sum())
        cap_w = float(plant.unit_capacity_w[:units_on].sum())
        cap = turb_max + spill_cap
        if r > cap:
            r, code = cap, "capacity"
        avail = max((s - s_min) / dt + q - net, 0.0)
        if r > avail:
            r, code = avail, "available"
        s1 = s + (q - net - r) * dt
        if s1 > s_norm:
            r += min((s1 - s_norm) / dt, max(cap - r, 0.0))
            s1 = s + (q - net - r) * dt
            code = "spill"
        s1 = max(s1, 0.0)
        level_mid = _interp(hs, hl, hl_sl, max(0.5 * (s + s1), hs[0]))
        head = max(level_mid - _interp(tq, tl, tl_sl, r), 0.0)
        qt = min(r, turb_max)
        if head < plant.min_head_m:
            qt = 0.0
        elif rge * qt * head > cap_w:
            qt = cap_w / (rge * head)
        power = rge * qt * head
        supply = allocate(r * (1.0 - loss_frac) + lateral, downstream)
        supplied = sum(supply.values())
        deficit += max(demand_total - supplied, 0.0) * units.HM3_PER_M3S_DAY
        energy_mwh += power * 24e-6
        for key, v in (("release_m3s", r), ("turbine_flow_m3s", qt), ("storage_m3", s1),
                       ("level_m", _interp(hs, hl, hl_sl, max(s1, hs[0]))), ("power_w", power),
                       ("supply_m3s", supplied), ("binding", code)):
            out[key].append(v)
        s, prev = s1, r
    assert all(c in BINDING_CODE for c in out["binding"])
    out.update(energy_gwh=energy_mwh * 1e-3, deficit_hm3=deficit, storage_end_hm3=s * 1e-6)
    return out
