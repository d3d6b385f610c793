"""Parameter sweeps and stochastic ensembles: many members, one compiled engine call per regime.

A sweep is an ensemble: every swept value becomes a member, and `sim.engine.driver.simulate` runs all
members of a regime at once, in chunks. Crossed with a stochastic inflow ensemble of N members
(``[ensemble]``), every parameter setting meets the *same* N inflow series (common random
numbers), so differences between settings are not sampling noise:

    member = setting × N + inflow member

Settings come from a full grid, from explicit lists, or from samples of ranges (Latin
hypercube or Sobol' via `scipy.stats.qmc`, seeded). Chunks run in this process, in local
processes (``workers=N``) or through any `concurrent.futures.Executor` (e.g. a Dask
``distributed.Client(...).get_executor()``); the result is the same whichever ran it.

    >>> from sim import load_scenario, sweep
    >>> s = load_scenario("scenarios/sweep-hedging.toml")
    >>> result = sweep.run(s)                           # the file's [sweep] table
    >>> result.table["energy_gwh"]                      # one value per member and regime
"""

from __future__ import annotations

import dataclasses
import math
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from sim.engine import memory
from sim.engine import metrics as metric_registry
from sim.engine.driver import DEFAULT_CHUNK_SIZE, simulate
from sim.engine.results import SimulationResult
from sim.physics.ranges import MAX_MEMBERS
from sim.scenario.overrides import grid  # one implementation: the scenario's SweepSpec.grid uses it too
from sim.studies.sampling import Sample
from sim.studies.settings import Settings
from sim.studies.workers import Progress, worker_pool

__all__ = ["grid", "sample", "parse_set", "run", "load", "rows", "check_memory", "chunk_model", "SweepResult", "CrossedInflow"]


def sample(bounds: Mapping[str, tuple[float, float]], n: int, method: str = "lhs", seed: int | None = None):
    """Samples of parameter ranges: path → values, shape ``(n,)``.

    Parameters
    ----------
    bounds : mapping of path → (low, high)
    n : int
        Number of samples.
    method : {"lhs", "sobol", "random"}
        Latin hypercube (`scipy.stats.qmc.LatinHypercube`), scrambled Sobol'
        (`scipy.stats.qmc.Sobol`; balance is best when n is a power of two) or plain uniform.
    seed : int, optional
        Seed of the sampler: the same seed gives the same samples.
    """
    from scipy.stats import qmc

    if n < 1:
        raise ValueError(f"samples is {n}; expected >= 1")
    d = len(bounds)
    if method == "lhs":
        unit = qmc.LatinHypercube(d=d, seed=seed).random(n)
    elif method == "sobol":
        sampler = qmc.Sobol(d=d, scramble=True, seed=seed)
        m = int(np.ceil(np.log2(n)))
        unit = sampler.random_base2(m)[:n]
    elif method == "random":
        unit = np.random.default_rng(seed).random((n, d))
    else:
        raise ValueError(f'method is "{method}"; expected "grid", "lhs", "sobol" or "random"')
    lo = np.array([b[0] for b in bounds.values()], dtype=float)
    hi = np.array([b[1] for b in bounds.values()], dtype=float)
    values = qmc.scale(unit, lo, hi) if np.all(hi > lo) else lo + unit * (hi - lo)
    return {path: values[:, i] for i, path in enumerate(bounds)}


def parse_set(text: str, sampling: bool = False) -> tuple[str, Any]:
    """Parse a command-line ``KEY=from:to:num`` (a range), ``KEY=a,b,c`` (a list) or ``KEY=v``.

    With ``sampling=True`` (``--method lhs|sobol|random``) a range may also be ``from:to``
    and ``num`` is ignored (any whole number >= 0): the values are ``[from, to]``.

    Returns ``(key, values)`` with values a numpy array; raises ValueError with a one-line
    message naming what was expected.
    """
    if "=" not in text:
        raise ValueError(f'--set "{text}": expected KEY=from:to:num or KEY=v1,v2,...')
    key, _, spec = text.partition("=")
    key = key.strip()
    try:
        if ":" in spec:
            parts = spec.split(":")
            if len(parts) != 3 and not (sampling and len(parts) == 2):
                raise ValueError
            lo, hi = float(parts[0]), float(parts[1])
            num = int(parts[2]) if len(parts) == 3 else 0
            if sampling:
                if num < 0 or not (np.isfinite(lo) and np.isfinite(hi)):
                    raise ValueError
                return key, np.array([lo, hi])
            if num < 1:
                raise ValueError
            if num <= MAX_MEMBERS:  # more is refused below, before numpy allocates it
                # the least any sweep of num settings needs, before allocating the values
                memory.require(memory.sweep_bytes(num, 1, 0, 1, n_days=1, chunk_size=1),
                               f'--set "{text}" ({num:,} values)', SWEEP_ADVICE)
                return key, np.linspace(lo, hi, num)
            values = None
        else:
            values = np.array([float(v) for v in spec.split(",")])
    except ValueError:
        raise ValueError(f'--set "{text}": expected KEY=from:to:num (num a whole number >= 1) or KEY=v1,v2,...') from None
    if values is None:
        raise ValueError(f'--set "{text}": {num:,} values; expected at most {MAX_MEMBERS:,} (a smaller num)')
    if not np.all(np.isfinite(values)):
        raise ValueError(f'--set "{text}": values must be finite numbers')
    return key, values


@dataclass(frozen=True, eq=False)
class CrossedInflow:
    """A stochastic inflow ensemble of N members repeated for every parameter setting.

    Member m of the sweep gets inflow member ``m % N``; generated chunk by chunk (the engine
    calls `materialize`), so memory stays bounded whatever the number of settings.
    """

    base: Any
    n_settings: int
    first_member: int = 0  # the sweep's member that is member 0 here (a chunk's model)
    #: Each member's inflow correlation (``ensemble.inflow_lag1`` swept), shape (n members here,), or None
    member_lag1: Any = None

    @property
    def n_members(self) -> int:
        """Members of the sweep: settings × inflow members."""
        return self.n_settings * self.base.n_members

    def materialize(self, sl: slice, n_total: int | None = None) -> np.ndarray:
        """Daily inflow of members `sl`, shape ``(n_steps, k)``. [m³/s]"""
        n = self.base.n_members
        idx = np.arange(self.first_member + sl.start, self.first_member + sl.stop) % n
        if self.member_lag1 is not None:
            return self.base.materialize_members(idx, self.member_lag1[sl])
        lo, hi = int(idx.min()), int(idx.max()) + 1
        if hi - lo == idx.size:  # one run of consecutive inflow members
            return self.base.materialize(slice(lo, hi), n)
        block = self.base.materialize(slice(lo, hi), n)
        return block[:, idx - lo]


@dataclass
class SweepResult:
    """Results of a sweep: one row per member and regime.

    Attributes
    ----------
    parameters : list of str
        Swept dotted key paths.
    settings : dict of str → ndarray, shape (n_settings,)
        The value of each parameter in each setting.
    n_inflow_members : int
        Inflow members per setting (1 without an ensemble).
    results : dict of str → SimulationResult
        Per regime, every member (daily series only when kept).
    table : dict of str → ndarray
        Columns ``regime``, ``member``, ``setting``, ``inflow_member``, the parameters, every
        metric of `sim.engine.metrics.names()` (units in the names) and ``<user>.<metric>``.
    timings : dict
        Wall-clock seconds.
    """

    parameters: list
    settings: dict
    n_inflow_members: int
    results: dict
    table: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    @property
    def n_settings(self) -> int:
        """Number of parameter settings."""
        return len(next(iter(self.settings.values()))) if self.settings else 1

    @property
    def n_members(self) -> int:
        """Members per regime (settings × inflow members)."""
        return self.n_settings * self.n_inflow_members

    def columns(self) -> list[str]:
        """Column names of the table, in order."""
        return list(self.table)

    def to_csv(self, path) -> None:
        """Write the table as CSV (units in the metric names), formatted column by column."""
        from sim.studies.chunkfiles import write_csv

        with open(path, "wb") as fh:
            write_csv(fh, self.table)

    def to_parquet(self, path) -> None:
        """Write the table as Parquet (pyarrow): columnar, compressed, read by pandas, polars, xarray."""
        import pyarrow.parquet as pq

        from sim.studies.chunkfiles import PARQUET, arrow_table

        pq.write_table(arrow_table(self.table), path, **PARQUET)

    def to_pandas(self):
        """The table as a `pandas.DataFrame` (needs pandas: ``pip install bakhri-sim[pandas]``)."""
        try:
            import pandas as pd
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("to_pandas needs pandas: pip install 'bakhri-sim[pandas]'") from err
        return pd.DataFrame(self.table)

    def to_xarray(self):
        """The metrics as an `xarray.Dataset` with dims (regime, setting, inflow_member) and the
        parameters as coordinates along ``setting`` (needs xarray)."""
        try:
            import xarray as xr
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("to_xarray needs xarray: pip install 'bakhri-sim[xarray]'") from err
        regimes = list(self.results)
        shape = (len(regimes), self.n_settings, self.n_inflow_members)
        data = {}
        for col in self.table:
            if col in ("regime", "member", "setting", "inflow_member") or col in self.parameters:
                continue
            data[col] = (("regime", "setting", "inflow_member"), np.asarray(self.table[col], float).reshape(shape))
        coords = {"regime": regimes, "setting": np.arange(self.n_settings), "inflow_member": np.arange(self.n_inflow_members)}
        for p in self.parameters:
            coords[p] = ("setting", self.settings[p])
        return xr.Dataset(data, coords=coords)

    def by_setting(self, metric: str, regime: str, q=(10, 50, 90)) -> np.ndarray:
        """Percentiles of a metric across inflow members, per setting: shape (len(q), n_settings)."""
        v = self.results[regime].metrics[metric].reshape(self.n_settings, self.n_inflow_members)
        return np.percentile(v, q, axis=1)


SWEEP_ADVICE = ("Use fewer settings (fewer values per parameter, or fewer --samples), fewer inflow members "
                "(--members N) or fewer regimes (--regime NAME), or split the sweep into several runs.")


def _n_settings(parameters: Mapping[str, Any], method: str, samples: int | None) -> int:
    """Settings a sweep will have, counted without building them."""
    if method != "grid":
        return int(samples or 0)
    return math.prod(int(np.size(v)) for v in parameters.values()) if parameters else 1


def check_memory(scenario, n_settings: int, n_inflow: int, n_regimes: int, n_parameters: int, *,
                 chunk_size: int | None = None, workers: int | None = None, streamed: bool = False) -> int:
    """Refuse (`sim.engine.memory.MemoryLimitError`) a sweep that will not fit in memory; return the
    estimate [bytes]. Counts only: nothing is allocated. A `streamed` sweep (``out=``) holds no
    member's rows: its memory hardly grows with its size."""
    n = n_settings * n_inflow
    users = scenario.resolved.get("demand") or []
    need = memory.sweep_bytes(n, n_regimes, len(users), n_parameters, n_days=scenario.period.n_days,
                              chunk_size=chunk_size or DEFAULT_CHUNK_SIZE, workers=workers or 1, streamed=streamed)
    memory.require(need, f"{scenario.path or scenario.name}: the sweep of {n_settings:,} settings × {n_inflow:,} "
                   f"inflow members × {n_regimes} regimes", SWEEP_ADVICE)
    return need


def _setup(scenario, parameters, *, method, samples, seed, inflow_members, regimes, chunk_size, workers, streamed):
    """The settings (`Settings`: a grid is not expanded), inflow members per setting and the
    regime names of a sweep; refuses (before allocating) a sweep that will not fit in memory."""
    spec = scenario.sweep
    method = method or (spec.method if spec is not None and parameters is None else "grid")
    if parameters is None:
        parameters = dict(spec.parameters) if spec is not None else {}
        samples = samples or (spec.samples if spec is not None else None)
        seed = seed if seed is not None else (spec.seed if spec is not None else None)
    ensemble = scenario.ensemble
    n_inflow = inflow_members if inflow_members is not None else (ensemble.members if ensemble is not None else 1)
    n_inflow = max(int(n_inflow), 1)
    if n_inflow > 1 and ensemble is None:
        raise ValueError("inflow_members > 1 needs an [ensemble] table (seed, inflow_cv) in the scenario")
    check_memory(scenario, _n_settings(parameters, method, samples), n_inflow,
                 len(regimes or scenario.regime_names), len(parameters), chunk_size=chunk_size,
                 workers=workers, streamed=streamed)
    if method == "grid":
        settings = Settings(axes=dict(parameters))
    else:
        if not samples:
            raise ValueError(f'method "{method}" needs samples >= 1')
        # (low, high) of each parameter; a list of values (e.g. a grid [sweep] table) gives its range
        bounds = {k: (float(np.min(v)), float(np.max(v))) for k, v in parameters.items()}
        settings = Settings(sample=Sample(bounds, samples, method, seed))  # made chunk by chunk: sim.studies.sampling
    _, built = chunk_model(scenario, settings, n_inflow, slice(0, 1))
    names = regimes or list(built)
    unknown = [r for r in names if r not in built]
    if unknown:
        raise ValueError(f"unknown regime {unknown[0]!r}; the scenario has {list(built)}")
    return settings, n_inflow, names


def chunk_model(scenario, settings: Settings, n_inflow: int, members: slice):
    """The built model and regimes of members `members` of a sweep (member = setting ×
    `n_inflow` + inflow member), made from those members' settings only: a chunk of a sweep
    of any size costs the same memory."""
    first, last = members.start // n_inflow, (members.stop - 1) // n_inflow + 1
    local = slice(members.start - first * n_inflow, members.stop - first * n_inflow)
    overrides = {p: np.repeat(v, n_inflow)[local] for p, v in settings.rows(first, last).items()}
    model, built = scenario.build(overrides=overrides, n_members=members.stop - members.start)
    if scenario.ensemble is not None:
        base = model.inflow_m3s
        if n_inflow > 1 or hasattr(base, "materialize"):
            lag1 = getattr(base, "lag1", None)
            member_lag1 = lag1 if np.ndim(lag1) == 1 else None  # swept: one correlation per member of the chunk
            if hasattr(base, "materialize"):
                base = dataclasses.replace(base, n_members=n_inflow, **(
                    {"lag1": scenario.ensemble.inflow_lag1} if member_lag1 is not None else {}))
            model = dataclasses.replace(model, inflow_m3s=CrossedInflow(base, settings.n_settings, members.start,
                                                                        member_lag1))
    return model, built


def run(
    scenario,
    parameters: Mapping[str, Any] | None = None,
    *,
    method: str | None = None,
    samples: int | None = None,
    seed: int | None = None,
    inflow_members: int | None = None,
    regimes: list[str] | None = None,
    keep_daily: bool = False,
    chunk_size: int | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: bool | Any = False,
    out=None,
    name: str | None = None,
    format: str = "parquet",
    resume: bool = False,
    plots: bool = False,
):
    """Run a sweep of a scenario: every setting (× inflow member) is a member of one ensemble.

    Parameters
    ----------
    scenario : sim.scenario.Scenario
        The scenario; its ``[sweep]`` table is used when `parameters` is None.
    parameters : mapping, optional
        Dotted key path → list of values (``method="grid"``, crossed as a full grid) or
        ``(low, high)`` (``method="lhs" | "sobol" | "random"``, sampled `samples` times).
    method, samples, seed
        Override the scenario's ``[sweep]`` method, sample count and sampler seed.
    inflow_members : int, optional
        Stochastic inflow members per setting; default: the scenario's ``[ensemble]``
        members (1 without an ensemble). 0 or 1 without an ensemble means deterministic.
    regimes : list of str, optional
        Regimes to run (default: all of the scenario's).
    keep_daily : bool
        Keep daily series (memory grows with members × days); default metrics only.
    chunk_size : int, optional
        Members per chunk (`sim.engine.driver.DEFAULT_CHUNK_SIZE`).
    workers : int, optional
        Local worker processes (ignored when `executor` is given).
    executor : concurrent.futures.Executor, optional
        Any executor, e.g. ``distributed.Client(...).get_executor()``.
    progress : bool or callable
        True: a tqdm progress bar on stderr; or a callable ``progress(n_done)``.
    out : path-like, optional
        Stream the rows to ``out/<name>/`` chunk by chunk as they are computed (memory does
        not grow with the sweep's size) instead of holding them: see `sim.studies.stream`. Read the
        folder back with `load`.
    name : str, optional
        Name of the result folder (default ``<scenario-name>-sweep``); with `out` only.
    format : {"parquet", "csv"}
        File of the streamed rows: ``sweep.parquet`` or ``sweep.csv``; with `out` only.
    resume : bool
        Continue an interrupted streamed sweep from the chunks it completed (its inputs must
        be the same: `sim.studies.stream.ResumeError` otherwise); with `out` only.
    plots : bool
        Write the sweep's plots into the folder; with `out` only.

    Returns
    -------
    SweepResult, or with `out` the result folder (Path)
    """
    t0 = time.perf_counter()
    plan, n_inflow, names = _setup(
        scenario, parameters, method=method, samples=samples, seed=seed, inflow_members=inflow_members,
        regimes=regimes, chunk_size=chunk_size, workers=workers if executor is None else 1, streamed=out is not None)
    n = plan.n_settings * n_inflow
    if out is not None:
        from sim.studies import stream

        return stream.run(scenario, plan, n_inflow, names, out=out, name=name, format=format,
                          resume=resume, chunk_size=chunk_size, workers=workers, executor=executor,
                          progress=progress, plots=plots, t0=t0)

    settings = plan.all()
    model, built = chunk_model(scenario, plan, n_inflow, slice(0, n))
    results: dict[str, SimulationResult] = {}
    with Progress(progress, n * len(names), scenario.name) as report, worker_pool(workers, executor) as pool:
        for i, name in enumerate(names):
            results[name] = simulate(
                model, built[name], n_members=n, keep_daily=keep_daily, chunk_size=chunk_size,
                executor=pool, progress=lambda k, done_before=i * n: report(done_before + k),
                engine="compiled",  # a sweep is many runs of one model: always worth compiling
            )

    out = SweepResult(list(settings), settings, n_inflow, results)
    out.table = _table(out, names)
    total = time.perf_counter() - t0
    simulate_s = {name: r.timings.get("wall_s", 0.0) for name, r in results.items()}
    out.timings = {
        "total_s": total,
        "simulate_s": simulate_s,
        "member_seasons_per_s": n * len(names) / max(sum(simulate_s.values()), 1e-12),
    }
    return out


def _table(sr: SweepResult, names) -> dict:
    metrics = {m: np.concatenate([sr.results[r].metrics[m] for r in names]) for m in metric_registry.names()}
    users = {user: {m: np.concatenate([sr.results[r].user_metrics[user][m] for r in names]) for m in metric_registry.user_names()}
             for user in sr.results[names[0]].user_metrics}
    return rows(names, slice(0, sr.n_members), sr.settings, sr.n_inflow_members, metrics, users)


def rows(names, members: slice, settings: Mapping[str, np.ndarray], n_inflow: int, metrics, user_metrics,
         first_setting: int = 0) -> dict:
    """Table columns of members `members` of each regime in `names` (regime-major, as
    `SweepResult.table`): ``regime``, ``member``, ``setting``, ``inflow_member``, the
    parameters, the metrics and ``<user>.<metric>``; `metrics` and `user_metrics` hold those
    rows already, `settings` the values of settings from `first_setting` on."""
    member = np.arange(members.start, members.stop)
    k = len(names)
    cols: dict[str, np.ndarray] = {
        "regime": np.repeat(np.array(names, dtype=object), member.size),
        "member": np.tile(member, k),
        "setting": np.tile(member // n_inflow, k),
        "inflow_member": np.tile(member % n_inflow, k),
    }
    for p, values in settings.items():
        cols[p] = np.tile(np.asarray(values)[member // n_inflow - first_setting], k)
    for m in metric_registry.names():
        cols[m] = metrics[m]
    for user, ms in user_metrics.items():
        for m in metric_registry.user_names():
            cols[f"{user}.{m}"] = ms[m]
    return cols


def load(path, columns=None) -> SweepResult:
    """Read a sweep's result folder (``bakhri sweep`` or ``run(..., out=...)``) back: the same
    table, row for row, as the run returned; ``results`` hold each regime's metrics. With
    `columns`, only those and the parameters. See `sim.studies.stream.load`."""
    from sim.studies import stream

    return stream.load(path, columns)
