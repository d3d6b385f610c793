"""The daily mass-balance engine: one step per day, all members at once.

`simulate(model, regime)` runs a regime over every member of a `Model` (sim.engine.model). State and inputs are
arrays of shape ``(n_members,)`` per day; the loop runs over days, never over members.
Members are cut into chunks (bounded memory, cache-friendly arrays) that may run through any
`concurrent.futures.Executor`; the result does not depend on the chunking or the executor.

One day (DESIGN.md "One daily step"):

1. Area from the storage at the start of the day; evaporation and precipitation over it,
   then seepage and direct withdrawals, taken in that order from what the day holds, so
   that losses never take the reservoir below empty (a withdrawal that cannot be met is a
   deficit of its user). Seepage takes only water above the minimum operating level (it is
   a residual calibrated in the operating range; see sim.physics.losses).
2. The regime asks for a release; the model's extra release (`Model.extra_release_m3s`, a
   study's extra volume for a user; 0 by default) is added to the request.
3. Limits, in order, each recorded when it binds: the regime's minimum and maximum, ramping,
   release capacity (what the outlets pass that day: the spillway, plus the turbines of the
   available units only while the head at that release is at least the minimum; see
   `sim.physics.compiled.outlet_capacity`), and the water above the minimum operating level,
   ``max(0, (S − S_min)/dt + Q − L)``.
4. End storage ``S' = S + (Q − L − R)·dt``; storage above the normal level is spilled, up to
   the capacity left over; what cannot pass stays in the surcharge zone, and days above the
   maximum level are counted. Water that would still raise the storage above the top of the
   level–storage table (the dam crest) overtops the dam: the storage is held at the top
   (levels are never extrapolated past the table) and the excess joins the release R.
5. Turbine flow = min(outflow, flow of the available units, generator capacity / (ρgηH)),
   zero below the minimum head; the rest passes the spillway, up to its capacity; on a day
   at the crest what neither passes is overtopping (``overtopping_m3s``, part of
   ``spill_m3s``; binding ``overtopping``). Head = level at the mean of S and S' −
   tailwater(outflow). Power = ρgηQ_tH. A storage, release or power that is not finite
   stops the run with a `SimulationError` naming the day.
6. Downstream: outflow × (1 − reach loss) + lateral inflow, shared among users by priority.
   The totals (demand, supply, deficit, reliability) count every user, downstream and at
   the reservoir.

The water balance closes on every day: ``S' − S = (Q + P − E − seepage − W − R)·dt``.

Two paths run the same daily step (`engine`): the compiled kernel (numba; importing numba
and loading the cached kernel cost about a second, compiling it after an install 30 s or
more), and the same code as plain Python (sim.engine.dispatch.advance_python), which gives
identical numbers and starts at once but runs thousands of times slower per member-day.
``engine="auto"`` (the default; ``BAKHRI_ENGINE`` overrides it) takes the plain-Python path
for small runs, up to `PYTHON_MAX_MEMBER_DAYS`, unless the compiled kernel is loaded already.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Executor
from typing import Any

import numpy as np

from sim import _jit
from sim.engine import dispatch
from sim.engine import kernels as _kernels
from sim.engine import metrics as metric_registry
from sim.engine.model import Model, n_members_of, realize, select_members
from sim.engine.results import SimulationResult
from sim.physics import units
from sim.rules.regimes import Day, Regime

__all__ = [
    "Model", "simulate", "n_members_of", "select_members", "DEFAULT_CHUNK_SIZE", "SimulationError", "ENGINES",
    "ENGINE_ENV", "PYTHON_MAX_MEMBER_DAYS", "choose_engine",
]

#: Members per chunk: large enough to amortise the per-chunk set-up, small enough that memory
#: stays bounded when daily series are kept (16 series × days × members × 8 bytes).
DEFAULT_CHUNK_SIZE = 10_000


#: The engine's paths: "auto" chooses by size, "compiled" (numba) or "python" (plain Python).
ENGINES = ("auto", "compiled", "python")
#: The environment variable that overrides the choice (e.g. ``BAKHRI_ENGINE=compiled``).
ENGINE_ENV = "BAKHRI_ENGINE"
#: The largest run (members × days, summed over the regimes) that "auto" runs as plain Python.
#: MEASURED (benchmarks/bench_engine_paths.py, 2-core machine under load, 2026-12-03): plain
#: Python costs 100–230 µs per member-day (power rule the slowest), loading the compiled
#: engine from its cache 1.2–1.8 s (numba's import, the cached kernel, scipy's BLAS checks):
#: the two cost the same near 13,500 member-days. Set below that: a run this size costs
#: about a second either way, and the plain path never compiles (30 s after an install).
PYTHON_MAX_MEMBER_DAYS = 10_000


def choose_engine(member_days: int, engine: str | None = None) -> str:
    """The path for a run of `member_days` (members × days, over every regime the command
    runs): "compiled" or "python". `engine` (None: ``BAKHRI_ENGINE``, else "auto") forces
    one; "auto" takes plain Python up to `PYTHON_MAX_MEMBER_DAYS`, unless the compiled kernel
    is loaded in this process already. Raises ValueError for an unknown name."""
    if engine is None:
        engine = os.environ.get(ENGINE_ENV, "").strip().lower() or "auto"
        where = f"{ENGINE_ENV}={engine!r}"
    else:
        where = f"engine={engine!r}"
    if engine not in ENGINES:
        raise ValueError(f"{where}: expected one of {', '.join(ENGINES)}")
    if engine != "auto":
        return engine
    if dispatch.loaded() or member_days > PYTHON_MAX_MEMBER_DAYS:
        return "compiled"
    return "python"


class SimulationError(ValueError):
    """A day that cannot be simulated: a storage, release or power that is not a finite number.

    The message names the day, the member and the inflow of that day, which is nearly always
    the input to check (a unit mix-up in a scale or a flow). Callers that know the file add it.
    """


def _field(x):
    """A C-contiguous 2-D float field (1 | n_steps, 1 | k) from a scalar, (k,) or 2-D array."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        a = a[None, :]
    return np.ascontiguousarray(a)


def _users_block(users, n, k):
    """Daily demands of users as one (n_users, 1 | n, 1 | k) array, scale applied."""
    if not users:
        return np.zeros((0, 1, 1))
    rows = n if any(u.demand_m3s.shape[0] > 1 for u in users) else 1
    cols = k if any(u.demand_m3s.shape[1] > 1 or u.scale.ndim == 1 and u.scale.size > 1 for u in users) else 1
    block = np.empty((len(users), rows, cols))
    for i, u in enumerate(users):
        block[i] = np.broadcast_to(u.demand_m3s * u.scale, (rows, cols))
    return block


def _groups(users):
    """User order by priority and the end index of each priority group, for the kernels."""
    order = sorted(range(len(users)), key=lambda i: (users[i].priority, i))
    ends, prios = [], [users[i].priority for i in order]
    for p_idx in range(len(order)):
        if p_idx + 1 == len(order) or prios[p_idx + 1] != prios[p_idx]:
            ends.append(p_idx + 1)
    return np.array(order, dtype=np.int64), np.array(ends, dtype=np.int64)


def _chunk(model: Model, regime: Regime, k: int, keep_daily: bool, compiled: bool = True) -> SimulationResult:
    """Run `k` members (model and regime already restricted to them), compiled or as plain Python."""
    t_start = time.perf_counter()
    period = model.period
    n = period.n_days
    res = model.reservoir
    hyps = res.hypsometry
    plant = model.plant
    by_s = hyps.by_storage
    hs, hl, ha = map(_readonly, (by_s.x, by_s.ys[0], by_s.ys[1]))
    hl_slope, ha_slope = map(_readonly, by_s.slopes[:2])
    tw = res.tailwater.curve
    tq, tl, tl_slope = map(_readonly, (tw.x, tw.ys[0], tw.slopes[0]))

    units_available = plant.n_units if model.units_available is None else np.rint(model.units_available)
    turb_max, cap_w = plant.available(units_available)
    rho_g_eta = units.WATER_DENSITY_KG_M3 * units.GRAVITY_M_S2 * np.asarray(plant.efficiency, dtype=float)
    # Each member's own table when a storage factor or exponent factor transforms it; every
    # level <-> storage conversion of the run goes through `tables` (the shared one otherwise).
    tables_of = res.member_hypsometry()
    member_tables = _member_tables(tables_of, (hs, hl_slope, ha, ha_slope), k)
    s_min = _field(tables_of.storage_fast(res.min_level_m))
    s_norm = _field(tables_of.storage_fast(res.normal_level_m))
    s_max = _field(tables_of.storage_fast(res.max_level_m))
    fields = [None] * _kernels.N_FIELDS
    fields[_kernels.F_INFLOW] = model.inflow_m3s
    fields[_kernels.F_INFLOW_SCALE] = model.inflow_scale
    fields[_kernels.F_EVAP_MM] = model.evaporation_mm_day
    fields[_kernels.F_EVAP_FACTOR] = model.evaporation_factor
    fields[_kernels.F_PRECIP_MM] = model.precipitation_mm_day
    fields[_kernels.F_SEEP] = model.seepage_m3s
    fields[_kernels.F_LATERAL] = model.lateral_inflow_m3s
    fields[_kernels.F_TURB_MAX] = turb_max
    fields[_kernels.F_CAP_W] = cap_w
    fields[_kernels.F_S_MIN] = s_min
    fields[_kernels.F_S_NORM] = s_norm
    fields[_kernels.F_SPILL_CAP] = res.spillway_capacity_m3s
    fields[_kernels.F_REACH_LOSS] = model.reach_loss_fraction
    fields[_kernels.F_RHO_G_ETA] = rho_g_eta
    fields[_kernels.F_LO] = regime.min_release_m3s
    fields[_kernels.F_HI] = regime.max_release_m3s
    fields[_kernels.F_RAMP] = regime.max_change_m3s_day
    fields[_kernels.F_S_MAX] = s_max
    fields[_kernels.F_EXTRA] = model.extra_release_m3s
    fields[_kernels.F_TW_SHIFT] = res.tailwater_shift_m
    # Daily inputs keep their (n | 1, k | 1) shapes: 2-D arrays are daily, 1-D are per member.
    daily_keys = {_kernels.F_INFLOW, _kernels.F_EVAP_MM, _kernels.F_PRECIP_MM, _kernels.F_SEEP, _kernels.F_LATERAL,
                  _kernels.F_TURB_MAX, _kernels.F_CAP_W, _kernels.F_EXTRA}
    f = tuple(
        _readonly(np.ascontiguousarray(np.asarray(x, dtype=float)) if i in daily_keys and np.ndim(x) == 2 else _field(x))
        for i, x in enumerate(fields)
    )
    use_lo = bool(np.any(regime.min_release_m3s > 0))
    use_hi = bool(np.any(np.isfinite(regime.max_release_m3s)))
    use_ramp = bool(np.any(np.isfinite(regime.max_change_m3s_day)))
    ramp_from = n + 1 if not use_ramp else (0 if regime.initial_release_m3s is not None else 1)

    downstream = [u for u in model.users if u.location == "downstream"]
    at_reservoir = [u for u in model.users if u.location == "reservoir"]
    down_dem, res_dem = _readonly(_users_block(downstream, n, k)), _readonly(_users_block(at_reservoir, n, k))
    down_order, down_end = map(_readonly, _groups(downstream))
    res_order, res_end = map(_readonly, _groups(at_reservoir))
    nd = n if keep_daily else 1  # days stored: all, or only the current one
    # Rows of a power-of-two length put the 16 series of a member in the same cache sets
    # (k = 8192 ran 30 % slower): pad the member axis of the stored arrays.
    kp = k + 8 if k % 256 == 0 else k
    down_sup = np.zeros((len(downstream), nd, kp))
    res_sup = np.zeros((len(at_reservoir), nd, kp))
    daily = np.empty((_kernels.N_DAILY, nd, kp))
    binding = np.zeros((nd, kp), dtype=np.int8)
    s = np.array(np.broadcast_to(np.asarray(model.initial_storage_m3, dtype=float), (k,)), dtype=float)
    s0 = s.copy()
    prev = np.full(k, np.nan) if regime.initial_release_m3s is None else np.array(
        np.broadcast_to(regime.initial_release_m3s, (k,)), dtype=float
    )
    acc = np.zeros((k, _kernels.N_SUMMARY))
    fail = np.full((k, 4), -1.0)
    acc[:, _kernels.S_STORAGE_MIN] = s0
    acc[:, _kernels.S_STORAGE_MAX] = s0
    n_rows = 1 + len(downstream) + len(at_reservoir)
    ustats = np.zeros((k, n_rows, _kernels.N_USER_STATS))
    ufail = np.zeros((k, n_rows))
    uevent = np.zeros((k, n_rows))
    seg = np.zeros(k, dtype=np.int64)
    level, area = np.empty(k), np.empty(k)
    kernel = (lambda fn: fn) if compiled else _jit.plain
    kernel(_kernels.level_area)(hs, hl, hl_slope, ha, ha_slope, s, seg, level, area)
    if tables_of is not hyps:
        level[:], area[:] = tables_of.level_area(s)
    min_head = float(plant.min_head_m)
    # tl's twin: the shifted tailwater; then the members' own level-storage tables.
    tables = (hs, hl, hl_slope, ha, ha_slope, tq, tl, tl_slope, np.empty_like(tl), *member_tables)
    prepared = regime.prepare(model)
    advance = dispatch.advance() if compiled else dispatch.advance_python()
    none = _readonly(np.zeros((1, 1)))
    net_loss = np.zeros(k)
    req = np.zeros(k)
    code = np.zeros(k, dtype=np.int8)
    arrays = (
        f, use_lo, use_hi, ramp_from, min_head, s, seg, level, area, prev, net_loss, req, code, daily, binding,
        np.empty((n, _kernels.N_DAY_FIELDS + len(downstream) + len(at_reservoir))),
        *tables, res_dem, res_sup, res_order, res_end, down_dem, down_sup, down_order, down_end,
        acc, ustats, ufail, uevent, fail,
    )
    if not callable(prepared):
        # Every rule's step gets the same number of fields (numba compiles one kernel for all).
        p = tuple(map(_readonly, prepared)) + (none,) * (dispatch.n_fields() - len(prepared))
        advance(0, n, _kernels.PHASE_ALL, dispatch.rule_number(regime.rule), p, *arrays)
        _raise_on_failure(fail, period, model)
    else:
        s_min_k = np.broadcast_to(s_min[0], (k,))
        reach_loss = np.broadcast_to(f[_kernels.F_REACH_LOSS][0], (k,))
        p = (none,) * dispatch.n_fields()
        for t in range(n):
            tk = t if keep_daily else 0
            advance(t, t + 1, _kernels.PHASE_PRE, -1, p, *arrays)
            day = Day(
                t, period.dates[t], s.copy(), level.copy(), daily[_kernels.INFLOW, tk].copy(), net_loss.copy(),
                daily[_kernels.DEMAND, tk].copy(), np.broadcast_to(_at_row(f[_kernels.F_LATERAL], t), (k,)),
                reach_loss, prev.copy(), np.broadcast_to(_at_row(f[_kernels.F_TURB_MAX], t), (k,)),
                np.broadcast_to(_at_row(f[_kernels.F_CAP_W], t), (k,)), s_min_k, model,
            )
            req[:] = np.broadcast_to(np.asarray(prepared(day), dtype=float), (k,))
            if not np.all(np.isfinite(req)):
                j = int(np.flatnonzero(~np.isfinite(req))[0])
                raise SimulationError(
                    f"on {period.dates[t]} (day {t + 1}, member {j}) the rule {regime.name!r} asked for a release "
                    f"of {req[j]} m³/s; expected a finite number"
                )
            code[:] = 0
            advance(t, t + 1, _kernels.PHASE_POST, -1, p, *arrays)
            _raise_on_failure(fail, period, model)
    kernel(_kernels.close_events)(ustats, ufail, uevent)

    context = metric_registry.Context(acc.T, ustats[:, 0].T, s0, s, level, tables_of, n)
    metrics = metric_registry.compute(context)
    users = downstream + at_reservoir
    user_metrics = {u.name: metric_registry.compute_user(context.for_user(ustats[:, 1 + i].T))
                    for i, u in enumerate(users)}
    order = [u.name for u in model.users]
    user_metrics = {name: user_metrics[name] for name in order}
    out = user_daily = None
    if keep_daily:
        out = {name: daily[i, :, :k] for i, name in enumerate(_kernels.DAILY_NAMES)}
        out["energy_mwh"] = units.w_day_to_mwh(out["power_w"])
        out["binding"] = binding[:, :k]
        user_daily = {}
        for group, dem, sup in ((downstream, down_dem, down_sup), (at_reservoir, res_dem, res_sup)):
            for i, u in enumerate(group):
                user_daily[u.name] = {"demand_m3s": np.array(np.broadcast_to(dem[i], (n, k))), "supply_m3s": sup[i, :, :k]}
        user_daily = {name: user_daily[name] for name in order}
    return SimulationResult(
        regime=regime.name,
        dates=period.dates,
        n_members=k,
        metrics=metrics,
        user_metrics=user_metrics,
        daily=out,
        user_daily=user_daily,
        users=[(u.name, u.location, u.priority) for u in model.users],
        storage_start_m3=s0,
        timings={"simulate_s": time.perf_counter() - t_start},
    )


def _member_tables(tables_of, shared, k):
    """The kernel's per-member tables: (row of each member or -1, storages, level slopes,
    areas, area slopes), read-only (`_readonly`); one-row stand-ins of the `shared` tables
    (storages, level slopes, areas, area slopes), never read, when no member has its own."""
    if not hasattr(tables_of, "kernel_tables"):
        return tuple(map(_readonly, (np.full(k, -1, dtype=np.int64), *(a[None, :] for a in shared))))
    rows, hs, ha = tables_of.kernel_tables(k)
    return tuple(map(_readonly, (rows, hs, tables_of.hl_slope, ha, tables_of.ha_slope)))


def _readonly(a):
    """A read-only view of the input array `a` (never a copy).

    numba compiles the kernel once per combination of argument types, and a read-only array
    is another type: tables frozen in this process but writable once unpickled in a worker,
    member rows fresh on one call and reused (read-only) on the next, each made another
    signature, that is another 30 s or more of compiling (in every worker of a sweep). Every
    array the kernel only reads is passed read-only, so that one signature serves them all."""
    v = a.view()
    v.flags.writeable = False
    return v


def _raise_on_failure(fail, period, model):
    """Raise SimulationError for the earliest day a member could not be simulated."""
    days = fail[:, 0]
    if not np.any(days >= 0):
        return
    j = int(np.argmin(np.where(days >= 0, days, np.inf)))
    t, r, q = int(days[j]), fail[j, 2], fail[j, 3]
    raise SimulationError(
        f"on {period.dates[t]} (day {t + 1}, member {j}) the storage, release or power is not a finite number "
        f"(release {r:g} m³/s); the inflow that day was {q:.6g} m³/s (after the inflow scale): "
        "check the inflow and its scale for a unit mix-up"
    )


def _at_row(a, t):
    return a[t if a.shape[0] > 1 else 0]




def run_chunk(args):
    """Run one chunk: (model, regime, k, keep_daily[, compiled]), already restricted to its
    members; compiled unless the fifth item says otherwise."""
    model, regime, k, keep_daily, *rest = args
    return _chunk(realize(model), regime, k, keep_daily, *rest)


def simulate(
    model: Model,
    regime: Regime,
    *,
    n_members: int | None = None,
    keep_daily: bool = True,
    chunk_size: int | None = None,
    executor: Executor | None = None,
    progress: Any = None,
    engine: str | None = None,
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
    engine : str, optional
        "compiled", "python" or "auto" (`choose_engine` by this run's members × days); None:
        ``BAKHRI_ENGINE``, else "auto". Both paths give identical numbers.

    Returns
    -------
    SimulationResult
    """
    inferred = n_members_of(model, regime)
    if n_members is None:
        n_members = inferred
    elif inferred not in (1, n_members):
        raise ValueError(f"n_members={n_members} but the inputs have {inferred} members")
    size = DEFAULT_CHUNK_SIZE if chunk_size is None else int(chunk_size)
    if size < 1:
        raise ValueError("chunk_size must be >= 1")
    slices = [slice(a, min(a + size, n_members)) for a in range(0, n_members, size)]
    compiled = choose_engine(n_members * model.period.n_days, engine) == "compiled"

    def tasks():
        for sl in slices:
            sub_model, sub_regime = select_members(model, regime, sl, n_members, lazy=True)
            yield sub_model, sub_regime, sl.stop - sl.start, keep_daily, compiled

    t0 = time.perf_counter()
    if executor is None:
        parts = []
        for task in tasks():
            parts.append(run_chunk(task))
            if progress is not None:
                progress(sum(p.n_members for p in parts))
    else:
        parts = []
        # A list, not a generator: Dask's executor refuses iterators; tasks are small (sliced views).
        for part in executor.map(run_chunk, list(tasks())):
            parts.append(part)
            if progress is not None:
                progress(sum(p.n_members for p in parts))
    result = SimulationResult.concatenate(parts)
    result.timings["wall_s"] = time.perf_counter() - t0
    return result
