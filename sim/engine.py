"""The daily mass-balance engine: one step per day, all members at once.

`simulate(model, regime)` runs a regime over every member of a `Model`. State and inputs are
arrays of shape ``(n_members,)`` per day; the loop runs over days, never over members.
Members are cut into chunks (bounded memory, cache-friendly arrays) that may run through any
`concurrent.futures.Executor`; the result does not depend on the chunking or the executor.

One day (DESIGN.md "One daily step"):

1. Area from the storage at the start of the day; evaporation and precipitation over it,
   then seepage and direct withdrawals, taken in that order from what the day holds, so
   that losses never take the reservoir below empty (a withdrawal that cannot be met is a
   deficit of its user).
2. The regime asks for a release.
3. Limits, in order, each recorded when it binds: the regime's minimum and maximum, ramping,
   release capacity (turbines of the available units + spillway), and the water above the
   minimum operating level, ``max(0, (S − S_min)/dt + Q − L)``.
4. End storage ``S' = S + (Q − L − R)·dt``; storage above the normal level is spilled, up to
   the capacity left over; what cannot pass stays in the surcharge zone, and days above the
   maximum level are counted.
5. Turbine flow = min(outflow, flow of the available units, generator capacity / (ρgηH)),
   zero below the minimum head; the rest passes the spillway. Head = level at the mean of S
   and S' − tailwater(outflow). Power = ρgηQ_tH.
6. Downstream: outflow × (1 − reach loss) + lateral inflow, shared among users by priority.

The water balance closes on every day: ``S' − S = (Q + P − E − seepage − W − R)·dt``.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import demand as _demand
from . import metrics as _metrics
from . import units
from .calendar import Period
from .hydropower import Plant
from .hypsometry import Reservoir
from .regimes import BINDING_CODE, Day, Regime
from .results import SimulationResult

__all__ = ["Model", "simulate", "n_members_of", "select_members", "DEFAULT_CHUNK_SIZE"]

#: Members per chunk: large enough to amortise numpy's per-call cost, small enough that a
#: chunk's daily arrays stay in cache-friendly sizes and memory stays bounded.
DEFAULT_CHUNK_SIZE = 8192

_LIMIT = {name: np.int8(code) for name, code in BINDING_CODE.items()}


def _daily(x):
    """A daily input as a 2-D array (n_steps or 1, 1 or n_members)."""
    if x is None or hasattr(x, "materialize"):
        return x
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a[:, None]
    if a.ndim == 2:
        return a
    raise ValueError(f"a daily input must be 1-D or 2-D (days × members), not {a.ndim}-D")


@dataclass(frozen=True, eq=False)
class Model:
    """Everything a run needs except the regime: the reservoir, the plant and the inputs.

    Daily inputs have shape ``(n_steps,)``, ``(n_steps, 1)`` or ``(n_steps, n_members)`` (a
    scalar is constant); per-member parameters are scalars or ``(n_members,)``.

    Parameters
    ----------
    period : Period
        The simulated days (one step per day).
    reservoir : Reservoir
        Table, operating levels, spillway, tailwater.
    plant : Plant
        The hydropower plant.
    initial_storage_m3 : float or ndarray
        Storage at the start of the first day. [m³]
    inflow_m3s : ndarray or generator
        Reservoir inflow; or an object with ``materialize(members: slice, n_total) ->
        ndarray (n_steps, k)`` (a stochastic ensemble, generated chunk by chunk). [m³/s]
    inflow_scale : float or ndarray
        Multiplier of the inflow, per member. [-]
    evaporation_mm_day, precipitation_mm_day : daily
        Depth rates over the water surface. [mm/day]
    evaporation_factor : float or ndarray
        Multiplier of evaporation (sensitivity, ±30 % in DATA.md). [-]
    seepage_m3s : daily
        Seepage and other losses from the reservoir. [m³/s]
    units_available : daily or None
        Units able to run on each day (None: all). [-]
    users : tuple of User
        Water users (downstream and reservoir).
    reach_loss_fraction : float or ndarray
        Share of the dam outflow lost before the downstream intakes. [-]
    lateral_inflow_m3s : daily
        Inflow between the dam and the intakes. [m³/s]
    """

    period: Period
    reservoir: Reservoir
    plant: Plant
    initial_storage_m3: Any
    inflow_m3s: Any
    inflow_scale: Any = 1.0
    evaporation_mm_day: Any = 0.0
    evaporation_factor: Any = 1.0
    precipitation_mm_day: Any = 0.0
    seepage_m3s: Any = 0.0
    units_available: Any = None
    users: tuple = ()
    reach_loss_fraction: Any = 0.0
    lateral_inflow_m3s: Any = 0.0

    _daily_fields = (
        "inflow_m3s", "evaporation_mm_day", "precipitation_mm_day", "seepage_m3s", "units_available",
        "lateral_inflow_m3s",
    )
    _member_fields = ("initial_storage_m3", "inflow_scale", "evaporation_factor", "reach_loss_fraction")

    def __post_init__(self):
        n = self.period.n_days
        for name in self._daily_fields:
            a = _daily(getattr(self, name))
            if isinstance(a, np.ndarray):
                if a.shape[0] not in (1, n):
                    raise ValueError(f"{name} has {a.shape[0]} days; the period has {n}")
                if not np.all(np.isfinite(a)):
                    raise ValueError(f"{name} has non-finite values")
                if name != "lateral_inflow_m3s" and np.any(a < 0):
                    raise ValueError(f"{name} has negative values")
            object.__setattr__(self, name, a)
        for name in self._member_fields:
            a = np.asarray(getattr(self, name), dtype=float)
            if a.ndim > 1 or not np.all(np.isfinite(a)):
                raise ValueError(f"{name} must be a finite number or a per-member 1-D array")
            object.__setattr__(self, name, a)
        if np.any(self.initial_storage_m3 < 0):
            raise ValueError("initial_storage_m3 must be >= 0")
        if np.any((self.reach_loss_fraction < 0) | (self.reach_loss_fraction >= 1)):
            raise ValueError("reach_loss_fraction must be in [0, 1)")
        object.__setattr__(self, "users", tuple(self.users))
        names = [u.name for u in self.users]
        if len(set(names)) != len(names):
            raise ValueError(f"user names must be unique: {names}")
        for u in self.users:
            if u.demand_m3s.shape[0] not in (1, n):
                raise ValueError(f"user {u.name}: demand has {u.demand_m3s.shape[0]} days; the period has {n}")


def _member_sizes(obj, fields):
    sizes = set()
    for name in fields:
        a = getattr(obj, name)
        if hasattr(a, "n_members"):
            sizes.add(a.n_members)
        elif isinstance(a, np.ndarray) and a.ndim >= 1 and a.shape[-1] > 1:
            sizes.add(a.shape[-1])
    return sizes


def n_members_of(model: Model, regime: Regime | None = None) -> int:
    """Number of members implied by the per-member arrays of a model and regime (1 if none).

    Raises ValueError when two arrays disagree.
    """
    sizes = _member_sizes(model, model._daily_fields + model._member_fields)
    sizes |= _member_sizes(model.reservoir, model.reservoir._member_fields)
    eff = np.asarray(model.plant.efficiency)
    if eff.ndim == 1 and eff.size > 1:
        sizes.add(eff.size)
    for u in model.users:
        sizes |= _member_sizes(u, ("demand_m3s", "scale"))
    if regime is not None:
        sizes |= _member_sizes(regime, tuple(f for f in regime._member_fields if getattr(regime, f) is not None))
        for v in regime.params.values():
            if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[-1] > 1:
                sizes.add(v.shape[-1])
    if len(sizes) > 1:
        raise ValueError(f"per-member arrays disagree on the number of members: {sorted(sizes)}")
    return sizes.pop() if sizes else 1


def _take(a, sl, n):
    if hasattr(a, "materialize"):
        return a.materialize(sl, n)
    if isinstance(a, np.ndarray) and a.ndim >= 1 and a.shape[-1] == n and n > 1:
        return a[..., sl]
    return a


def select_members(model: Model, regime: Regime, sl: slice, n: int):
    """The model and regime restricted to members `sl` of `n` (inputs generated for them)."""
    m = {f: _take(getattr(model, f), sl, n) for f in model._daily_fields + model._member_fields}
    m["reservoir"] = dataclasses.replace(
        model.reservoir, **{f: _take(getattr(model.reservoir, f), sl, n) for f in model.reservoir._member_fields}
    )
    eff = np.asarray(model.plant.efficiency)
    if eff.ndim == 1 and eff.size == n and n > 1:
        m["plant"] = dataclasses.replace(model.plant, efficiency=eff[sl])
    m["users"] = tuple(
        dataclasses.replace(u, demand_m3s=_take(u.demand_m3s, sl, n), scale=_take(u.scale, sl, n)) for u in model.users
    )
    r = {f: _take(getattr(regime, f), sl, n) for f in regime._member_fields if getattr(regime, f) is not None}
    r["params"] = {k: _take(v, sl, n) for k, v in regime.params.items()}
    return dataclasses.replace(model, **m), dataclasses.replace(regime, **r)


def _chunk(model: Model, regime: Regime, k: int, keep_daily: bool) -> SimulationResult:
    """Run `k` members (model and regime already restricted to them)."""
    t_start = time.perf_counter()
    period = model.period
    n = period.n_days
    dt = units.SECONDS_PER_DAY
    res = model.reservoir
    hyps = res.hypsometry
    plant = model.plant

    def daily(a):
        return np.broadcast_to(a, (n, k)) if a is not None else None

    inflow = daily(model.inflow_m3s * model.inflow_scale)
    evap_mm = daily(model.evaporation_mm_day * model.evaporation_factor)
    precip_mm = daily(model.precipitation_mm_day)
    seep_req = daily(model.seepage_m3s)
    lateral = daily(model.lateral_inflow_m3s)
    if model.units_available is None:
        turb_max, cap_w = plant.available(plant.n_units)
        turb_max, cap_w = np.full((n, k), turb_max), np.full((n, k), cap_w)
    else:
        turb_max, cap_w = plant.available(np.rint(daily(model.units_available)))
        turb_max, cap_w = np.broadcast_to(turb_max, (n, k)), np.broadcast_to(cap_w, (n, k))
    eff = np.broadcast_to(np.asarray(plant.efficiency, dtype=float), (k,))
    rho_g_eta = units.WATER_DENSITY_KG_M3 * units.GRAVITY_M_S2 * eff
    spill_cap = np.broadcast_to(res.spillway_capacity_m3s, (k,))
    release_cap = turb_max + spill_cap[None, :]
    s_min = np.broadcast_to(hyps.storage_fast(res.min_level_m), (k,))
    s_norm = np.broadcast_to(hyps.storage_fast(res.normal_level_m), (k,))
    s_max = np.broadcast_to(hyps.storage_fast(res.max_level_m), (k,))
    reach_loss = np.broadcast_to(model.reach_loss_fraction, (k,))
    downstream = [u for u in model.users if u.location == "downstream"]
    at_reservoir = [u for u in model.users if u.location == "reservoir"]
    down_demand = [daily(u.demand_m3s) * u.scale for u in downstream]
    res_demand = [daily(u.demand_m3s) * u.scale for u in at_reservoir]
    down_groups = _demand.priority_groups(u.priority for u in downstream)
    res_groups = _demand.priority_groups(u.priority for u in at_reservoir)
    total_down = np.zeros((n, k))
    for d in down_demand:
        total_down = total_down + d
    total_res = np.zeros((n, k))
    for d in res_demand:
        total_res = total_res + d

    lo = np.broadcast_to(regime.min_release_m3s, (k,))
    hi = np.broadcast_to(regime.max_release_m3s, (k,))
    ramp = np.broadcast_to(regime.max_change_m3s_day, (k,))
    use_hi = bool(np.any(np.isfinite(hi)))
    use_lo = bool(np.any(lo > 0))
    use_ramp = bool(np.any(np.isfinite(ramp)))
    step = regime.prepare(model, k)
    dates = period.dates

    # Outputs (days × members); storage/level end of day.
    out = {name: np.empty((n, k)) for name in (
        "inflow_m3s", "release_m3s", "turbine_flow_m3s", "spill_m3s", "evaporation_m3s", "precipitation_m3s",
        "seepage_m3s", "withdrawal_m3s", "storage_m3", "level_m", "head_m", "power_w", "demand_m3s",
        "supply_m3s", "deficit_m3s",
    )}
    binding = np.zeros((n, k), dtype=np.int8)
    down_supply = np.empty((len(downstream), n, k))
    res_supply = np.empty((len(at_reservoir), n, k))

    s = np.array(np.broadcast_to(np.asarray(model.initial_storage_m3, dtype=float), (k,)), dtype=float)
    s0 = s.copy()
    prev = np.full(k, np.nan) if regime.initial_release_m3s is None else np.array(
        np.broadcast_to(regime.initial_release_m3s, (k,)), dtype=float
    )
    level, area = hyps.level_and_area(s)
    for t in range(n):
        q = inflow[t]
        # 1. Losses, capped by the water the day holds.
        evap = evap_mm[t] * area * (1e-3 / dt)
        precip = precip_mm[t] * area * (1e-3 / dt)
        water = s / dt + q + precip
        evap = np.minimum(evap, water)
        left = water - evap
        seep = np.minimum(seep_req[t], left)
        left -= seep
        w_demand = total_res[t]
        withdrawal = np.minimum(w_demand, left) if at_reservoir else w_demand
        net_loss = evap + seep + withdrawal - precip
        # 2. The regime's request.
        day = Day(
            t, dates[t], s, level, q, net_loss, total_down[t], lateral[t], reach_loss, prev,
            turb_max[t], cap_w[t], s_min, model,
        )
        r, code = step(day)
        r = np.array(np.broadcast_to(r, (k,)), dtype=float)
        code = np.array(np.broadcast_to(np.asarray(code, dtype=np.int8), (k,)))
        np.maximum(r, 0.0, out=r)
        # 3. Limits, in order; the last that binds names the day.
        if use_lo:
            m = r < lo
            r[m] = lo[m]
            code[m] = _LIMIT["min_release"]
        if use_hi:
            m = r > hi
            r[m] = hi[m]
            code[m] = _LIMIT["max_release"]
        if use_ramp and t > 0 or use_ramp and regime.initial_release_m3s is not None:
            up = prev + ramp
            m = r > up
            r[m] = up[m]
            code[m] = _LIMIT["ramp_up"]
            down = np.maximum(prev - ramp, 0.0)
            m = r < down
            r[m] = down[m]
            code[m] = _LIMIT["ramp_down"]
        m = r > release_cap[t]
        if m.any():
            r[m] = release_cap[t][m]
            code[m] = _LIMIT["capacity"]
        avail = np.maximum((s - s_min) / dt + q - net_loss, 0.0)
        m = r > avail
        r[m] = avail[m]
        code[m] = _LIMIT["available"]
        # 4. End storage and spill above the normal level.
        s1 = s + (q - net_loss - r) * dt
        excess = s1 - s_norm
        m = excess > 0
        if m.any():
            forced = np.minimum(excess[m] / dt, np.maximum(release_cap[t][m] - r[m], 0.0))
            r[m] += forced
            s1[m] = s[m] + (q[m] - net_loss[m] - r[m]) * dt
            code[m] = _LIMIT["spill"]
        # 5. Head, turbine flow and power.
        level_mid = hyps.level_fast(0.5 * (s + s1))
        head = np.maximum(level_mid - res.tailwater(r), 0.0)
        with np.errstate(divide="ignore"):
            power_limited = cap_w[t] / (rho_g_eta * head)
        qt = np.minimum(np.minimum(r, turb_max[t]), power_limited)
        qt[head < plant.min_head_m] = 0.0
        power = rho_g_eta * qt * head
        # 6. Downstream allocation.
        water_down = _demand.downstream_water_m3s(r, reach_loss, lateral[t])
        supplies = _demand.allocate(water_down, [d[t] for d in down_demand], down_groups)
        for i, sup in enumerate(supplies):
            down_supply[i, t] = sup
        if at_reservoir:
            for i, sup in enumerate(_demand.allocate(withdrawal, [d[t] for d in res_demand], res_groups)):
                res_supply[i, t] = sup

        out["inflow_m3s"][t] = q
        out["release_m3s"][t] = r
        out["turbine_flow_m3s"][t] = qt
        out["spill_m3s"][t] = r - qt
        out["evaporation_m3s"][t] = evap
        out["precipitation_m3s"][t] = precip
        out["seepage_m3s"][t] = seep
        out["withdrawal_m3s"][t] = withdrawal
        out["storage_m3"][t] = s1
        out["head_m"][t] = head
        out["power_w"][t] = power
        binding[t] = code
        s = s1
        prev = r
        level, area = hyps.level_and_area(s)
        out["level_m"][t] = level

    out["demand_m3s"][:] = total_down
    out["supply_m3s"][:] = down_supply.sum(axis=0) if downstream else 0.0
    out["deficit_m3s"][:] = np.maximum(out["demand_m3s"] - out["supply_m3s"], 0.0)
    out["energy_mwh"] = units.w_day_to_mwh(out["power_w"])
    out["binding"] = binding

    user_daily = {}
    for i, u in enumerate(downstream):
        user_daily[u.name] = {"demand_m3s": np.ascontiguousarray(down_demand[i]), "supply_m3s": down_supply[i]}
    for i, u in enumerate(at_reservoir):
        user_daily[u.name] = {"demand_m3s": np.ascontiguousarray(res_demand[i]), "supply_m3s": res_supply[i]}
    user_daily = {u.name: user_daily[u.name] for u in model.users}

    metrics = _summarise(out, s0, s_min, s_norm, s_max, hyps)
    user_metrics = {name: _user_metrics(d["demand_m3s"], d["supply_m3s"]) for name, d in user_daily.items()}
    elapsed = time.perf_counter() - t_start
    return SimulationResult(
        regime=regime.name,
        dates=period.dates,
        n_members=k,
        metrics=metrics,
        user_metrics=user_metrics,
        daily=out if keep_daily else None,
        user_daily=user_daily if keep_daily else None,
        users=[(u.name, u.location, u.priority) for u in model.users],
        storage_start_m3=s0,
        timings={"simulate_s": elapsed},
    )


def _volume_hm3(flow_m3s):
    return flow_m3s.sum(axis=0) * units.HM3_PER_M3S_DAY


def _user_metrics(demand_m3s, supply_m3s):
    deficit = np.maximum(demand_m3s - supply_m3s, 0.0)
    return {
        "demand_hm3": _volume_hm3(demand_m3s),
        "supply_hm3": _volume_hm3(supply_m3s),
        "deficit_hm3": _volume_hm3(deficit),
        "reliability_time": _metrics.reliability_time(deficit),
        "reliability_volume": _metrics.reliability_volume(supply_m3s, demand_m3s),
        "resilience": _metrics.resilience(deficit),
        "vulnerability_hm3": _metrics.vulnerability(deficit, deficit * units.HM3_PER_M3S_DAY),
    }


def _summarise(out, s0, s_min, s_norm, s_max, hyps):
    storage = out["storage_m3"]
    start = np.vstack([s0[None, :], storage[:-1]])
    net = (
        out["inflow_m3s"] + out["precipitation_m3s"] - out["evaporation_m3s"] - out["seepage_m3s"]
        - out["withdrawal_m3s"] - out["release_m3s"]
    )
    residual_m3 = storage - start - net * units.SECONDS_PER_DAY
    tol = 1e-9 * units.M3_PER_HM3
    m = {
        "inflow_hm3": _volume_hm3(out["inflow_m3s"]),
        "release_hm3": _volume_hm3(out["release_m3s"]),
        "turbine_hm3": _volume_hm3(out["turbine_flow_m3s"]),
        "spill_hm3": _volume_hm3(out["spill_m3s"]),
        "evaporation_hm3": _volume_hm3(out["evaporation_m3s"]),
        "precipitation_hm3": _volume_hm3(out["precipitation_m3s"]),
        "seepage_hm3": _volume_hm3(out["seepage_m3s"]),
        "withdrawal_hm3": _volume_hm3(out["withdrawal_m3s"]),
        "storage_start_hm3": units.m3_to_hm3(s0),
        "storage_end_hm3": units.m3_to_hm3(storage[-1]),
        "balance_error_hm3": units.m3_to_hm3(np.abs(residual_m3).max(axis=0)),
        "level_min_m": hyps.level_fast(np.minimum(storage.min(axis=0), s0)),
        "level_max_m": hyps.level_fast(np.maximum(storage.max(axis=0), s0)),
        "level_end_m": out["level_m"][-1].copy(),
        "energy_gwh": out["energy_mwh"].sum(axis=0) * 1e-3,
    }
    m.update(_user_metrics(out["demand_m3s"], out["supply_m3s"]))
    m["days_below_min_level"] = (storage < s_min - tol).sum(axis=0).astype(float)
    m["spill_days"] = (out["spill_m3s"] > 1e-6).sum(axis=0).astype(float)
    m["surcharge_days"] = (storage > s_norm + tol).sum(axis=0).astype(float)
    m["days_above_max_level"] = (storage > s_max + tol).sum(axis=0).astype(float)
    return m


def _run_chunk(args):
    model, regime, sl, n, keep_daily = args
    sub_model, sub_regime = select_members(model, regime, sl, n)
    return _chunk(sub_model, sub_regime, sl.stop - sl.start, keep_daily)


def simulate(
    model: Model,
    regime: Regime,
    *,
    n_members: int | None = None,
    keep_daily: bool = True,
    chunk_size: int | None = None,
    executor: Executor | None = None,
    progress: Any = None,
) -> SimulationResult:
    """Run a regime over all members of a model, one step per day.

    Parameters
    ----------
    model : Model
        Reservoir, plant and inputs.
    regime : Regime
        The operating regime.
    n_members : int, optional
        Number of members; inferred from the per-member arrays when omitted (members that
        share every input may be asked for explicitly, e.g. to measure throughput).
    keep_daily : bool
        Keep the daily series (``n_steps × n_members`` per series); False keeps metrics
        only, so memory is bounded by the chunk size.
    chunk_size : int, optional
        Members per chunk (default `DEFAULT_CHUNK_SIZE`).
    executor : concurrent.futures.Executor, optional
        Runs the chunks (e.g. a ProcessPoolExecutor, or a Dask client's executor); the result
        is the same whichever executor ran it. Default: in this process.
    progress : callable, optional
        Called as ``progress(n_done_members)`` after each chunk.

    Returns
    -------
    SimulationResult
    """
    inferred = n_members_of(model, regime)
    if n_members is None:
        n_members = inferred
    elif inferred not in (1, n_members):
        raise ValueError(f"n_members={n_members} but the inputs have {inferred} members")
    size = int(chunk_size or DEFAULT_CHUNK_SIZE)
    if size < 1:
        raise ValueError("chunk_size must be >= 1")
    slices = [slice(a, min(a + size, n_members)) for a in range(0, n_members, size)]
    tasks = [(model, regime, sl, n_members, keep_daily) for sl in slices]
    t0 = time.perf_counter()
    if executor is None:
        parts = []
        for task in tasks:
            parts.append(_run_chunk(task))
            if progress is not None:
                progress(task[2].stop)
    else:
        parts = []
        for part in executor.map(_run_chunk, tasks):
            parts.append(part)
            if progress is not None:
                progress(sum(p.n_members for p in parts))
    result = SimulationResult.concatenate(parts)
    result.timings["wall_s"] = time.perf_counter() - t0
    return result
