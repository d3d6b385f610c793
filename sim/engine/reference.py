"""A plain-Python reference of the daily step: one member, one day at a time.

Written for clarity, straight from DESIGN.md's "One daily step", with no numpy in the loop.
It is the test oracle for the compiled engine (same inputs, same numbers to round-off;
tests/test_reference.py compares them on every shipped scenario and at the limits) and the
baseline of the benchmarks (how fast the same model runs as a per-member Python loop).
It runs every registered rule through its reference step (sim.rules.base) and every limit,
loss, spill, head, unit, allocation and overtopping rule of the engine.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from sim.engine.driver import Model, SimulationError, n_members_of
from sim.physics import units
from sim.physics.hydraulics import DayHydraulics, interp
from sim.physics.hypsometry import Hypsometry
from sim.rules.base import BINDING_CODE, RULES, ReferenceDay
from sim.rules.regimes import Regime

__all__ = ["simulate_member"]

_DT = units.SECONDS_PER_DAY


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
    m = _Member(model, regime, member)
    out = {k: [] for k in _DAILY}
    totals = _Totals()
    s, prev = m.initial_storage, m.initial_release
    for t in range(m.n_days):
        day = _day(m, t, s, prev)
        totals.add(m, day)
        for key in _DAILY:
            out[key].append(day[key])
        s, prev = day["storage_m3"], day["release_m3s"]
    assert all(c in BINDING_CODE for c in out["binding"])
    out.update(totals.counts)
    out.update(energy_gwh=totals.energy_mwh * 1e-3, demand_hm3=totals.demand_sum, deficit_hm3=totals.deficit,
               storage_end_hm3=s * 1e-6, reliability_time=1.0 - totals.fail_days / m.n_days,
               overtopping_hm3=totals.overtopping)
    return out


#: The daily series `simulate_member` returns, in the order of the engine's daily outputs.
_DAILY = ("release_m3s", "turbine_flow_m3s", "spill_m3s", "overtopping_m3s", "storage_m3", "level_m", "head_m", "power_w",
          "demand_m3s", "supply_m3s", "deficit_m3s", "binding")


def _own_table(res, j):
    """Member j's level–storage table, row by row from its definition (DESIGN.md, "Uncertain
    level–storage table"): V' = k·V_n·(V/V_n)^r, A' = k·r·(V/V_n)^(r−1)·A (k·A on an empty
    row), V_n the table's storage at j's normal level; the table itself when k = r = 1."""
    hyps = res.hypsometry
    k, r = _value(res.storage_factor, 0, j), _value(res.storage_exponent_factor, 0, j)
    if k == 1.0 and r == 1.0:
        return hyps
    vn = max(float(hyps.storage_fast(_value(res.normal_level_m, 0, j))), 0.0)
    storage, area = [], []
    for v, a in zip(hyps.storage_m3.tolist(), hyps.area_m2.tolist(), strict=True):
        if r == 1.0:
            storage.append(k * v)
            area.append(k * a)
        else:
            storage.append(k * vn * (v / vn) ** r)
            area.append(k * r * (v / vn) ** (r - 1.0) * a if v > 0.0 else k * a)
    return Hypsometry(hyps.level_m, np.array(storage), np.array(area), source=f"{hyps.source}, member {j}")


class _Member:
    """One member's constants (limits, efficiencies, tables, rule step) and its users, read once
    from the model and the regime."""

    def __init__(self, model: Model, regime: Regime, j: int):
        n_total = n_members_of(model, regime)
        self.model, self.j = model, j
        self.period = model.period
        self.n_days = model.period.n_days
        res, plant = model.reservoir, model.plant
        hyps = _own_table(res, j)
        if hyps is not res.hypsometry:  # the rule's reference reads the table from the model
            own = dataclasses.replace(res, hypsometry=hyps, storage_factor=1.0, storage_exponent_factor=1.0)
            model = dataclasses.replace(model, reservoir=own, initial_storage_m3=_value(model.initial_storage_m3, 0, j))
        self.plant, self.hyps = plant, hyps
        by_s, tw = hyps.by_storage, res.tailwater.curve
        self.hs, self.hl, self.ha = by_s.x.tolist(), by_s.ys[0].tolist(), by_s.ys[1].tolist()
        self.hl_sl, self.ha_sl = by_s.slopes[0].tolist(), by_s.slopes[1].tolist()
        shift = _value(res.tailwater_shift_m, 0, j)
        tl = [v + shift for v in tw.ys[0].tolist()] if shift != 0.0 else tw.ys[0].tolist()
        self.tables = (self.hs, self.hl, self.hl_sl, tw.x.tolist(), tl, tw.slopes[0].tolist())
        self.inflow_series = (model.inflow_m3s.materialize(slice(j, j + 1), n_total)[:, 0]
                              if hasattr(model.inflow_m3s, "materialize") else None)
        self.s_min = self.storage_at(_value(res.min_level_m, 0, j))
        self.s_norm = self.storage_at(_value(res.normal_level_m, 0, j))
        self.s_max = self.storage_at(_value(res.max_level_m, 0, j))
        self.rge = units.WATER_DENSITY_KG_M3 * units.GRAVITY_M_S2 * _value(plant.efficiency, 0, j)
        self.spill_cap = _value(res.spillway_capacity_m3s, 0, j)
        self.loss_frac = _value(model.reach_loss_fraction, 0, j)
        self.lo = _value(regime.min_release_m3s, 0, j)
        self.hi = _value(regime.max_release_m3s, 0, j)
        self.ramp = _value(regime.max_change_m3s_day, 0, j)
        self.initial_release = None if regime.initial_release_m3s is None else _value(regime.initial_release_m3s, 0, j)
        self.initial_storage = _value(model.initial_storage_m3, 0, j)
        rule = RULES[regime.rule]
        params = {}
        for p in rule.params:  # this member's values: lists over days for series
            v = regime.params.get(p.name, p.default)
            params[p.name] = [_value(v, t, j) for t in range(self.n_days)] if p.series else _value(v, 0, j)
        self.rule_step = rule.reference(model, params)
        users = list(model.users)
        self.downstream = [u for u in users if u.location == "downstream"]
        self.at_reservoir = [u for u in users if u.location == "reservoir"]

    def storage_at(self, level):
        return max(float(self.hyps.storage_fast(level)), 0.0)

    def value(self, a, t):
        """This member's value of a model input on day t."""
        return _value(a, t, self.j)

    def inflow(self, t):
        q = self.inflow_series[t] if self.inflow_series is not None else self.value(self.model.inflow_m3s, t)
        return q * self.value(self.model.inflow_scale, 0)

    def demand_of(self, u, t):
        return self.value(u.demand_m3s, t) * self.value(u.scale, 0)

    def allocate(self, water, group, t):
        """Share `water` among the users of `group` by priority; pro rata within a priority."""
        left = max(water, 0.0)
        supply = {}
        for p in sorted({u.priority for u in group}):
            members = [u for u in group if u.priority == p]
            total = sum(self.demand_of(u, t) for u in members)
            give = min(total, left)
            for u in members:
                want = self.demand_of(u, t)
                supply[u.name] = want * (give / total if total > 0 else 0.0) if len(members) > 1 else min(want, left)
            left -= give
        return supply

    def hydraulics(self, t, s, wn):
        """The day's `DayHydraulics` with the units available that day, and their turbine flow."""
        plant = self.plant
        available = self.model.units_available
        units_on = plant.n_units if available is None else int(round(self.value(available, t)))
        units_on = min(max(units_on, 0), plant.n_units)
        turb_max = float(plant.unit_max_flow_m3s[:units_on].sum())
        cap_w = float(plant.unit_capacity_w[:units_on].sum())
        return DayHydraulics(self.tables, s, wn, turb_max, cap_w, self.rge, plant.min_head_m, self.spill_cap), turb_max


def _day(m: _Member, t: int, s: float, prev):
    """One day of one member: losses, the rule, the limits, the end storage, head and power,
    the users. Returns the day's values (the keys of `_DAILY` and what the totals count)."""
    x = max(s, m.hs[0])
    level = interp(m.hs, m.hl, m.hl_sl, x)
    area = max(interp(m.hs, m.ha, m.ha_sl, x), 0.0)
    q = m.inflow(t)
    # 1. Losses, in order, from what the day holds.
    evap, seep, precip, withdrawal, w_demand = _losses(m, t, s, q, area)
    net = evap + seep + withdrawal - precip
    demand_down = sum(m.demand_of(u, t) for u in m.downstream)
    lateral = m.value(m.model.lateral_inflow_m3s, t)
    hydraulics, turb_max = m.hydraulics(t, s, q - net)
    # 2. The rule.
    r, code = m.rule_step(ReferenceDay(t, s, level, prev, q, q - net, demand_down, lateral, m.loss_frac, turb_max, m.hi,
                                       hydraulics))
    # The extra release (a study's extra volume) on top of the rule's request, before the limits.
    extra = m.value(m.model.extra_release_m3s, t)
    if extra > 0.0:
        r = max(r, 0.0) + extra
    # 3. Limits.
    r, code, cap = _limits(m, r, code, prev, (s - m.s_min) / _DT + q - net, hydraulics)
    # 4. End storage; spill and overtopping.
    s1, r, code, topped = _end_storage(m, s, q - net, r, code, cap, hydraulics)
    # 5. Head at mid-day storage, tailwater at the outflow; turbines; power.
    head = hydraulics.head(r)[0]
    qt = hydraulics.turbine_flow(r, head)
    power = m.rge * qt * head
    if not (math.isfinite(s1) and math.isfinite(r) and math.isfinite(power)):
        raise SimulationError(f"on {m.period.dates[t]} (day {t + 1}, member {m.j}) a number is not finite")
    # What neither the turbines nor the spillway pass goes over the crest.
    over = r - qt - m.spill_cap if topped and r - qt > m.spill_cap else 0.0
    if over > 0.0:
        code = "overtopping"
    # 6. Every user; totals count them all.
    supply = m.allocate(r * (1.0 - m.loss_frac) + lateral, m.downstream, t)
    day_deficit = max(demand_down - sum(supply.values()), 0.0) + max(w_demand - withdrawal, 0.0)
    return {
        "release_m3s": r, "turbine_flow_m3s": qt, "spill_m3s": r - qt, "overtopping_m3s": over, "storage_m3": s1,
        "level_m": interp(m.hs, m.hl, m.hl_sl, max(s1, m.hs[0])), "head_m": head, "power_w": power,
        "demand_m3s": demand_down + w_demand, "supply_m3s": sum(supply.values()) + withdrawal,
        "deficit_m3s": day_deficit, "binding": code, "net_m3s": q - net,
    }  # fmt: skip


def _losses(m: _Member, t: int, s: float, q: float, area: float):
    """(evaporation, seepage, precipitation, withdrawal, withdrawal demand) [m³/s], taken in that
    order from what the day holds; seepage from the water above S_min."""
    evap = m.value(m.model.evaporation_mm_day, t) * m.value(m.model.evaporation_factor, 0) * 1e-3 * area / _DT
    precip = m.value(m.model.precipitation_mm_day, t) * 1e-3 * area / _DT
    water = s / _DT + q + precip
    evap = min(evap, water)
    seep = min(m.value(m.model.seepage_m3s, t), max(water - evap - m.s_min / _DT, 0.0))
    w_demand = sum(m.demand_of(u, t) for u in m.at_reservoir)
    withdrawal = min(w_demand, water - evap - seep) if m.at_reservoir else 0.0
    return evap, seep, precip, withdrawal, w_demand


def _limits(m: _Member, r, code, prev, avail_rate, hydraulics):
    """The rule's release within the regime's limits, the ramp, the outlets' capacity and the
    water above S_min (`avail_rate`, before the floor at 0) → (release, binding, capacity or None)."""
    r = max(r, 0.0)
    if r < m.lo:
        r, code = m.lo, "min_release"
    if r > m.hi:
        r, code = m.hi, "max_release"
    if prev is not None and math.isfinite(m.ramp):
        if r > prev + m.ramp:
            r, code = prev + m.ramp, "ramp_up"
        if r < max(prev - m.ramp, 0.0):
            r, code = max(prev - m.ramp, 0.0), "ramp_down"
    cap = hydraulics.capacity() if r > m.spill_cap else None  # only needed above the spillway's share
    if cap is not None and r > cap:
        r, code = cap, "capacity"
    avail = max(avail_rate, 0.0)
    if r > avail:
        r, code = avail, "available"
    return r, code, cap


def _end_storage(m: _Member, s, wn, r, code, cap, hydraulics):
    """End storage from the net water `wn` and release `r`; spill above the normal level up to
    the capacity left over; above the table's top (the dam crest) the water overtops and the
    storage stays at the top → (storage, release, binding, overtopped)."""
    s1 = s + (wn - r) * _DT
    if s1 > m.s_norm:
        cap = hydraulics.capacity() if cap is None else cap
        r += min((s1 - m.s_norm) / _DT, max(cap - r, 0.0))
        s1 = s + (wn - r) * _DT
        code = "spill"
    topped = s1 > m.hs[-1]
    if topped:
        r += (s1 - m.hs[-1]) / _DT
        s1 = m.hs[-1]
    return max(s1, 0.0), r, code, topped


class _Totals:
    """What the member's summary counts and sums over its days."""

    def __init__(self):
        self.counts = dict.fromkeys(
            ("days_below_min_level", "days_below_min_by_losses", "spill_days", "surcharge_days", "days_above_max_level",
             "overtopping_days"), 0
        )
        self.energy_mwh = self.deficit = self.demand_sum = self.overtopping = 0.0
        self.fail_days = 0

    def add(self, m: _Member, day: dict) -> None:
        counts = self.counts
        over, s1 = day["overtopping_m3s"], day["storage_m3"]
        if over > 0.0:
            counts["overtopping_days"] += 1
            self.overtopping += over * units.HM3_PER_M3S_DAY
        self.deficit += day["deficit_m3s"] * units.HM3_PER_M3S_DAY
        self.demand_sum += day["demand_m3s"] * units.HM3_PER_M3S_DAY
        self.fail_days += day["deficit_m3s"] > 1e-6
        self.energy_mwh += day["power_w"] * 24e-6
        if s1 < m.s_min - 1e-3:
            counts["days_below_min_level"] += 1
            counts["days_below_min_by_losses"] += day["net_m3s"] < 0.0
        counts["spill_days"] += day["spill_m3s"] > 1e-6
        counts["surcharge_days"] += s1 > m.s_norm + 1e-3
        counts["days_above_max_level"] += s1 > m.s_max + 1e-3
