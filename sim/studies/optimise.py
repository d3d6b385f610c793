"""Optimised operation: an evolutionary search over a regime's parameters (``bakhri optimise``).

The scenario's ``[optimise]`` table (`sim.scenario.specs.OptimiseSpec`) names the searched regime,
the decision variables (numeric keys with bounds, and a schedule regime's whole decadal release
as one vector), the objectives and constraints (metrics of the registry) and how they are summed
up over the ``[ensemble]``'s inflow members. A generation is one sweep: every candidate becomes
members (candidate × N + inflow member, every candidate meeting the same N inflow series:
common random numbers), built by `sim.studies.sweep.chunk_model` and run by one `simulate` call.

NSGA-II (pymoo) searches with two objectives or more, a genetic algorithm with one; both are
seeded and reproducible. The initial population holds the scenario's own regimes where they
can be written as the variables (each regime's realised decadal mean releases, as a schedule),
so the front starts at least as good as they are. Every candidate ever evaluated goes through an
archive of the non-dominated feasible ones: that archive is the front. After each generation the
whole state (the algorithm, its random generator, the archive) is saved, so an interrupted search
continues with ``resume=True`` to the same result as an uninterrupted one.

    >>> from sim import load_scenario
    >>> from sim.studies import optimise
    >>> s = load_scenario("scenarios/optimise-schedule.toml")
    >>> result = optimise.run(s, population=20, generations=5)
    >>> result.front["energy_gwh"]                      # objective values of the front
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pymoo.core.repair import Repair

from sim.engine.driver import choose_engine, simulate
from sim.scenario.optimise import AGGREGATE_RE
from sim.studies.settings import Settings
from sim.studies.sweep import chunk_model
from sim.studies.workers import Progress

__all__ = ["run", "partial_folder", "Evaluator", "OptimiseResult", "aggregate", "repair", "ResumeError", "CHECKPOINT"]

#: The saved state of an unfinished search, in ``DIR/.<name>-optimise.partial/``.
CHECKPOINT = "checkpoint.pkl"
#: Largest daily release field of searched schedules one engine call is given [bytes] (pop 100 × 50
#: members × 183 days is 7 MB; a population crossed with 10⁴ members would be 1.5 GB).
FIELD_BYTES = 256 * 2**20
#: Resolution of the searched schedules [m³/s]: candidates are rounded to it, so that a solution's
#: releases read plainly in its scenario file (and far below what a gauge resolves).
SCHEDULE_RESOLUTION_DECIMALS = 1


class ResumeError(ValueError):
    """A search cannot be resumed: no checkpoint, or one of another search (other inputs)."""


def aggregate(values: np.ndarray, how: str, better: str) -> np.ndarray:
    """A metric over the inflow members, per candidate: ``values`` shape (n_candidates, N).

    ``better`` says which way is good ("max" or "min"): ``"worst"`` is the least good member and
    ``"pNN"`` the NN % worst case (for "max" the NN-th percentile, for "min" the (100 − NN)-th),
    so that every aggregate but the mean and median is pessimistic whatever the metric.
    """
    if how == "mean":
        return values.mean(axis=1)
    if how == "median":
        return np.median(values, axis=1)
    if how == "worst":
        return values.min(axis=1) if better == "max" else values.max(axis=1)
    q = float(AGGREGATE_RE.match(how).group(1))
    return np.percentile(values, q if better == "max" else 100.0 - q, axis=1)


def _grid_up(v):
    """The smallest multiple of the resolution (0.1 m³/s) not below `v` (the float np.round gives)."""
    return np.ceil(np.asarray(v) * 10.0 - 1e-6) / 10.0


def _grid_down(v):
    return np.floor(np.asarray(v) * 10.0 + 1e-6) / 10.0


def repair(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, step: float | None) -> np.ndarray:
    """Schedules (rows of `x`) made feasible: rounded to 0.1 m³/s, within the bounds of each
    decade, and, walking forward, within `step` of the previous decade. Every value stays on the
    0.1 m³/s grid, so repairing twice changes nothing."""
    lo_g, hi_g = _grid_up(lo), _grid_down(hi)
    hi_g = np.maximum(hi_g, lo_g)  # a range narrower than the grid: its lower end
    x = np.clip(np.round(x, SCHEDULE_RESOLUTION_DECIMALS), lo_g, hi_g)
    if step is not None:
        for i in range(1, x.shape[1]):
            a = np.maximum(lo_g[i], _grid_up(x[:, i - 1] - step))
            b = np.maximum(np.minimum(hi_g[i], _grid_down(x[:, i - 1] + step)), a)
            x[:, i] = np.clip(x[:, i], a, b)
    return x


def repair_vectors(x, lo, hi, schedules) -> np.ndarray:
    """Decision vectors within their bounds, each schedule part (start, stop, max_step) `repair`ed."""
    x = np.clip(np.array(x, dtype=float, ndmin=2), lo, hi)
    for a, b, step in schedules:
        x[:, a:b] = repair(x[:, a:b], lo[a:b], hi[a:b], step)
    return x


@dataclass
class OptimiseResult:
    """The outcome of a search.

    Attributes
    ----------
    front : dict of str → ndarray
        The non-dominated feasible candidates (or, when none met the constraints, the least
        infeasible one), one row each, ordered along the first objective: ``solution`` (1, 2, ...),
        every scalar variable by its key, each decade of a schedule as ``<key>[<decade label>]``,
        the objectives and the constraint metrics (aggregated over the inflow members).
    x : ndarray, shape (n_front, n_var)
        The decision vectors of the front.
    feasible : bool
        Whether the front meets every constraint.
    regimes : dict of str → dict
        The scenario's own regimes on the same inflow members: their objective and constraint
        values, ``feasible`` and ``schedule_m3s`` (their realised decadal mean releases).
    generations : int
        Generations run (including those before a resume).
    n_evaluated : int
        Candidates evaluated (member-seasons: times the inflow members).
    timings : dict
        Wall-clock seconds.
    folder : Path or None
        The output folder, when written (``run(..., out=...)``).
    """

    spec: object
    scenario: object
    front: dict
    x: np.ndarray
    feasible: bool
    regimes: dict
    generations: int
    n_evaluated: int
    n_inflow: int
    timings: dict = field(default_factory=dict)
    folder: Path | None = None

    @property
    def metrics(self) -> list[str]:
        """The objectives, then the constraint metrics that are not objectives."""
        return list(dict.fromkeys([*self.spec.objectives, *self.spec.constraints]))


class Evaluator:
    """Candidates → their metrics, all candidates × inflow members in one engine call.

    Parameters
    ----------
    scenario : Scenario
        With an ``[optimise]`` table (or `spec`).
    spec : OptimiseSpec
    n_inflow : int
        Inflow members per candidate (the ensemble's members; 1 without one).
    engine : {"compiled", "python"}, optional
        The engine's path for every call of the search (`sim.engine.driver.choose_engine` on the
        whole search's size, not on one generation's: a search of many small generations is a
        large run); None: chosen by each call's size.
    """

    def __init__(self, scenario, spec, n_inflow: int, engine: str | None = None):
        self.scenario, self.spec, self.n_inflow, self.engine = scenario, spec, int(n_inflow), engine
        self.lo = np.concatenate([np.asarray(v.lo, float) for v in spec.variables])
        self.hi = np.concatenate([np.asarray(v.hi, float) for v in spec.variables])
        edges = np.cumsum([0] + [v.size for v in spec.variables])
        self.slices = {v.key: slice(int(a), int(b)) for v, a, b in zip(spec.variables, edges[:-1], edges[1:], strict=True)}
        self.schedules = [(self.slices[v.key].start, self.slices[v.key].stop, v.max_step)
                          for v in spec.variables if v.is_schedule]
        self.day_decade = scenario.period.period_decade_ordinal
        self.evaluations = 0

    def repair(self, x: np.ndarray) -> np.ndarray:
        """Decision vectors within their bounds (schedules: rounded, and `repair`)."""
        return repair_vectors(x, self.lo, self.hi, self.schedules)

    def schedule_daily(self, values: np.ndarray) -> np.ndarray:
        """Decadal values (n_candidates, n_decades) → daily field (n_steps, n_candidates)."""
        return np.ascontiguousarray(values[:, self.day_decade].T)

    def metrics(self, x: np.ndarray) -> dict:
        """Every objective and constraint metric of each candidate and inflow member: name →
        ndarray, shape (n_candidates, N). One engine call for them all, unless a searched schedule's
        daily field (days × candidates × N) would pass `FIELD_BYTES`: then one call per group of
        candidates that fits (a population crossed with a large ensemble)."""
        x = np.array(x, dtype=float, ndmin=2)
        per_candidate = self.n_inflow * len(self.day_decade) * 8 if self.schedules else 0
        group = max(1, FIELD_BYTES // per_candidate) if per_candidate else len(x)
        parts = [self._metrics(x[a:a + group]) for a in range(0, len(x), group)]
        return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}

    def _metrics(self, x: np.ndarray) -> dict:
        n_cand, n_inflow = x.shape[0], self.n_inflow
        scalars = {v.key: x[:, self.slices[v.key]][:, 0] for v in self.spec.variables if not v.is_schedule}
        # without a scalar key the candidates are settings that override nothing
        settings = Settings(values=scalars) if scalars else _Count(n_cand)
        n = n_cand * n_inflow
        model, built = chunk_model(self.scenario, settings, n_inflow, slice(0, n))
        regime = built[self.spec.regime]
        for v in self.spec.variables:
            if v.is_schedule:
                daily = self.schedule_daily(x[:, self.slices[v.key]])
                daily = np.repeat(daily, n_inflow, axis=1) if n_inflow > 1 else daily
                regime = dataclasses.replace(regime, params={**regime.params, "release_m3s": daily})
        result = simulate(model, regime, n_members=n, keep_daily=False, engine=self.engine)
        self.evaluations += n
        return {name: _metric(result, name).reshape(n_cand, n_inflow) for name in _needed(self.spec)}

    def evaluate(self, x: np.ndarray):
        """``(values, F, G)``: the aggregated metrics (name → (n_candidates,)), the objectives to
        minimise (n_candidates, n_obj) and the constraints, feasible when <= 0 (n_candidates, n_constr)."""
        raw = self.metrics(x)
        return objectives_and_constraints(self.spec, raw)


class _Count(Settings):
    """Settings of `n` candidates that override no scenario key (only a schedule is searched)."""

    def __init__(self, n: int):
        super().__init__(values={})
        self.n = n

    @property
    def n_settings(self) -> int:
        return self.n

    def rows(self, start: int, stop: int) -> dict:
        return {}


def _needed(spec) -> list[str]:
    return list(dict.fromkeys([*spec.objectives, *spec.constraints]))


def _metric(result, name: str) -> np.ndarray:
    """A metric of every member of `result`: ``name`` or ``<user>.<metric>``."""
    if name in result.metrics:
        return np.asarray(result.metrics[name], dtype=float)
    user, _, metric = name.rpartition(".")
    return np.asarray(result.user_metrics[user][metric], dtype=float)


def objectives_and_constraints(spec, raw: dict):
    """Aggregate raw metrics (name → (n, N)) as `Evaluator.evaluate` does → (values, F, G)."""
    values, f, g = {}, [], []
    for name, sense in spec.objectives.items():
        values[name] = aggregate(raw[name], spec.aggregate, sense)
        f.append(-values[name] if sense == "max" else values[name])
    for name, (lo, hi) in spec.constraints.items():
        if lo is not None:
            low = aggregate(raw[name], spec.aggregate, "max")
            values.setdefault(name, low)
            g.append(lo - low)
        if hi is not None:
            high = aggregate(raw[name], spec.aggregate, "min")
            values.setdefault(name, high)
            g.append(high - hi)
    n = next(iter(values.values())).size
    return values, np.column_stack(f), (np.column_stack(g) if g else np.zeros((n, 0)))


# --------------------------------------------------------------------------------------
# The scenario's own regimes
# --------------------------------------------------------------------------------------


#: Inflow members whose daily releases make a regime's realised schedule (daily series of every
#: member of a large ensemble would take gigabytes; the mean of this many is plenty for a seed).
SCHEDULE_MEMBERS = 200


def own_regimes(scenario, spec, n_inflow: int, evaluator: Evaluator) -> dict:
    """The scenario's regimes on the same inflow members: name → their aggregated objective and
    constraint values, ``feasible``, and ``schedule_m3s`` (realised decadal mean releases, the
    mean over the first `SCHEDULE_MEMBERS` members: how the regime would read as a decadal schedule)."""
    model, built = chunk_model(scenario, _Count(1), n_inflow, slice(0, n_inflow))
    k = min(n_inflow, SCHEDULE_MEMBERS)
    few, few_built = chunk_model(scenario, _Count(1), n_inflow, slice(0, k)) if k < n_inflow else (model, built)
    ordinal = scenario.period.period_decade_ordinal
    counts = np.bincount(ordinal)
    out = {}
    for name in scenario.regime_names:
        r = simulate(model, built[name], n_members=n_inflow, keep_daily=False, engine=evaluator.engine)
        raw = {m: _metric(r, m).reshape(1, n_inflow) for m in _needed(spec)}
        values, _, g = objectives_and_constraints(spec, raw)
        release = simulate(few, few_built[name], n_members=k, keep_daily=True,
                           engine=evaluator.engine).daily["release_m3s"].mean(axis=1)
        out[name] = {**{k: float(v[0]) for k, v in values.items()}, "feasible": bool(np.all(g <= 0)),
                     "schedule_m3s": np.bincount(ordinal, weights=release) / counts}
    return out


def initial_population(scenario, spec, evaluator: Evaluator, regimes: dict) -> np.ndarray:
    """The first generation: the scenario's own regimes as candidates where the variables can
    express them (their realised schedules; scalar keys at the scenario's values), then random
    candidates within the bounds (seeded), all repaired."""
    rng = np.random.default_rng(spec.seed)
    base = np.array([_current(scenario, v) for v in spec.variables for _ in range(v.size)], dtype=float)
    base = np.where(np.isfinite(base), base, (evaluator.lo + evaluator.hi) / 2)
    seeds = []
    schedules = [v for v in spec.variables if v.is_schedule]
    for name in regimes if schedules else [spec.regime]:
        x = base.copy()
        for v in schedules:
            sl = evaluator.slices[v.key]
            asked = _current_schedule(scenario, spec.regime, v.size) if name == spec.regime else None
            x[sl] = asked if asked is not None else regimes[name]["schedule_m3s"]
        seeds.append(x)
    seeds = seeds[: spec.population]
    n_random = spec.population - len(seeds)
    random = evaluator.lo + rng.random((n_random, evaluator.lo.size)) * (evaluator.hi - evaluator.lo)
    return evaluator.repair(np.vstack([np.array(seeds), random]) if n_random else np.array(seeds))


def _lookup(table, parts):
    """The value at a dotted path in the resolved scenario (``demand.<name>`` finds the user)."""
    for p in parts:
        if isinstance(table, list):
            table = next((d for d in table if isinstance(d, dict) and d.get("name") == p), None)
        elif isinstance(table, dict):
            table = table.get(p)
        else:
            return None
    return table


def _current(scenario, v) -> float:
    """The scenario's value of a scalar key (NaN if it does not give one: the middle is used)."""
    if v.is_schedule:
        return np.nan
    parts = v.key.split(".")
    value = _lookup(scenario.resolved, parts)
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _current_schedule(scenario, regime: str, n: int):
    """The searched regime's own decadal schedule when it gives one value per decade of the period."""
    table = scenario.resolved["regimes"][regime]
    values = table.get("decadal_m3s")
    if isinstance(values, list) and len(values) == n and table.get("scale", 1.0) == 1.0:
        return np.asarray(values, dtype=float)
    return None


# --------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------


def _problem(spec, evaluator: Evaluator):
    from pymoo.core.problem import Problem

    n_constr = sum((lo is not None) + (hi is not None) for lo, hi in spec.constraints.values())
    return Problem(n_var=evaluator.lo.size, n_obj=len(spec.objectives), n_ieq_constr=n_constr,
                   xl=evaluator.lo, xu=evaluator.hi)


class CandidateRepair(Repair):
    """pymoo's repair step: `Evaluator.repair` (plain data, so that a checkpoint pickles it)."""

    def __init__(self, lo, hi, schedules):
        super().__init__()
        self.lo, self.hi, self.schedules = lo, hi, schedules  # schedules: (start, stop, max_step)

    def _do(self, problem, X, **kwargs):
        return repair_vectors(X, self.lo, self.hi, self.schedules)


def _algorithm(spec, x0: np.ndarray, evaluator: Evaluator):
    """NSGA-II for several objectives, a genetic algorithm for one: simulated binary crossover and
    polynomial mutation (pymoo's defaults), the initial population `x0`."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.algorithms.soo.nonconvex.ga import GA

    repair = CandidateRepair(evaluator.lo, evaluator.hi, evaluator.schedules)
    if len(spec.objectives) > 1:
        return NSGA2(pop_size=spec.population, sampling=x0, eliminate_duplicates=True, repair=repair)
    from pymoo.operators.selection.tournament import TournamentSelection

    return GA(pop_size=spec.population, sampling=x0, eliminate_duplicates=True, repair=repair,
              selection=TournamentSelection(func_comp=by_violation_then_fitness))


def by_violation_then_fitness(pop, P, random_state=None, **kwargs):
    """Binary tournament of the genetic algorithm: the smaller constraint violation wins, then the
    better objective, ties at random. pymoo's own (``comp_by_cv_and_fitness``) is wrapped by a
    decorator that cannot be pickled, and the checkpoint pickles the algorithm."""
    from pymoo.operators.selection.tournament import compare

    s = np.full(P.shape[0], np.nan)
    for i, (a, b) in enumerate(P[:, :2]):
        by_cv = pop[a].CV > 0.0 or pop[b].CV > 0.0
        va, vb = (pop[a].CV, pop[b].CV) if by_cv else (pop[a].F, pop[b].F)
        s[i] = compare(a, va, b, vb, method="smaller_is_better", return_random_if_equal=True, random_state=random_state)
    return s[:, None].astype(int)


def _archive_merge(archive: dict, x, values: dict, f, g) -> dict:
    """The non-dominated feasible candidates of the archive and `x` (or, while none is feasible, the
    least infeasible one); duplicates (same decision vector) kept once, the earlier."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    cv = np.maximum(g, 0).sum(axis=1) if g.shape[1] else np.zeros(len(f))
    keys = list(values)
    allx = np.vstack([archive["x"], x]) if archive else x
    allf = np.vstack([archive["f"], f]) if archive else f
    allcv = np.concatenate([archive["cv"], cv]) if archive else cv
    allv = {k: np.concatenate([archive["values"][k], values[k]]) if archive else values[k] for k in keys}
    _, first = np.unique(allx, axis=0, return_index=True)
    keep = np.sort(first)
    feasible = keep[allcv[keep] <= 0]
    if feasible.size:
        front = feasible[NonDominatedSorting().do(allf[feasible], only_non_dominated_front=True)]
    else:
        front = keep[[int(np.argmin(allcv[keep]))]]
    front = np.sort(front)
    return {"x": allx[front], "f": allf[front], "cv": allcv[front], "values": {k: v[front] for k, v in allv.items()}}


def input_hash(scenario, spec, n_inflow: int) -> str:
    """SHA-256 of everything that decides a search's result."""
    h = hashlib.sha256(scenario.to_toml().encode("utf-8"))
    h.update(json.dumps({"spec": repr(spec), "n_inflow": int(n_inflow)}).encode("utf-8"))
    return h.hexdigest()


def _save(path: Path, state: dict) -> None:
    """The checkpoint, whole or not at all (a temporary file renamed into place)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _load(path: Path, key: str) -> dict:
    if not path.is_file():
        raise ResumeError(f"no interrupted search to resume in {path.parent}; run without --resume")
    with open(path, "rb") as fh:
        state = pickle.load(fh)  # noqa: S301 - our own file, in our own partial folder
    if state.get("input_sha256") != key:
        raise ResumeError(f"the interrupted search in {path.parent} had other inputs (scenario or [optimise] "
                          "settings); run without --resume to start again")
    return state


def run(scenario, *, population: int | None = None, generations: int | None = None, seed: int | None = None,
        inflow_members: int | None = None, progress=False, checkpoint=None, resume: bool = False, out=None,
        plots: bool = True) -> OptimiseResult:
    """Search the scenario's ``[optimise]`` table; return the front (`OptimiseResult`).

    Parameters
    ----------
    scenario : Scenario
        With an ``[optimise]`` table.
    population, generations, seed : int, optional
        Override the table's (e.g. a small search for a test or a notebook).
    inflow_members : int, optional
        Inflow members per candidate (default: the ``[ensemble]``'s; 1 without one).
    progress : bool or callable
        True: a tqdm bar on stderr (member-seasons); or ``progress(n_done)``.
    checkpoint : path-like, optional
        A folder where the state is saved after each generation (`CHECKPOINT`).
    resume : bool
        Continue the search saved in `checkpoint` (its inputs must be the same: `ResumeError`).
    out : path-like, optional
        Write ``out/<name>-optimise/`` (`sim.studies.optimise_output`; ``result.folder``), keeping
        the checkpoint in ``out/.<name>-optimise.partial/`` until it is written (`partial_folder`).
    plots : bool
        With `out`: write the plots too.
    """
    t0 = time.perf_counter()
    spec = scenario.optimise
    if spec is None:
        raise ValueError("the scenario has no [optimise] table; expected regime, variables and objectives")
    spec = dataclasses.replace(spec, **{k: int(v) for k, v in
                                        (("population", population), ("generations", generations), ("seed", seed))
                                        if v is not None})
    if spec.population < 4:
        raise ValueError(f"population is {spec.population}; expected at least 4")
    n_inflow = inflow_members if inflow_members is not None else (scenario.ensemble.members if scenario.ensemble else 1)
    n_inflow = max(int(n_inflow), 1)
    if n_inflow > 1 and scenario.ensemble is None:
        raise ValueError("inflow_members > 1 needs an [ensemble] table (seed, inflow_cv) in the scenario")
    # one path for the whole search: its size is every generation's and the own regimes' runs
    runs = spec.population * spec.generations + 2 * len(scenario.regime_names)
    evaluator = Evaluator(scenario, spec, n_inflow, engine=choose_engine(runs * n_inflow * scenario.period.n_days))
    key = input_hash(scenario, spec, n_inflow)
    if out is not None:
        from sim.report import output
        from sim.studies.optimise_output import folder_name

        output.prepare(Path(out), folder_name(scenario))
        checkpoint = partial_folder(out, scenario)
        checkpoint.mkdir(parents=True, exist_ok=True)
    path = None if checkpoint is None else Path(checkpoint) / CHECKPOINT
    if resume:
        if path is None:
            raise ValueError("resume needs the checkpoint folder")
        state = _load(path, key)
    else:
        regimes = own_regimes(scenario, spec, n_inflow, evaluator)
        x0 = initial_population(scenario, spec, evaluator, regimes)
        algorithm = _algorithm(spec, x0, evaluator)
        algorithm.setup(_problem(spec, evaluator), termination=("n_gen", spec.generations), seed=spec.seed,
                        verbose=False)
        state = {"input_sha256": key, "algorithm": algorithm, "archive": {}, "generation": 0, "regimes": regimes,
                 "n_evaluated": 0}
    per_gen = spec.population * n_inflow
    t_search = time.perf_counter()
    with Progress(progress, spec.generations * per_gen, scenario.name, initial=state["generation"] * per_gen) as report:
        _search(state, evaluator, spec, path, report, per_gen)
    search_s = time.perf_counter() - t_search
    result = _result(scenario, spec, state, n_inflow, evaluator, {"search_s": search_s})
    if out is not None:
        from sim.studies.optimise_output import write

        result.timings["total_s"] = time.perf_counter() - t0  # before writing: run.json records it
        result.folder = write(result, out, plots=plots)
        shutil.rmtree(checkpoint, ignore_errors=True)
    result.timings["total_s"] = time.perf_counter() - t0
    return result


def partial_folder(out, scenario) -> Path:
    """Where an unfinished search keeps its checkpoint: ``out/.<name>-optimise.partial``."""
    return Path(out) / f".{scenario.name}-optimise.partial"


def _search(state, evaluator, spec, path, report, per_gen) -> None:
    from pymoo.core.evaluator import Evaluator as PymooEvaluator
    from pymoo.problems.static import StaticProblem

    algorithm = state["algorithm"]
    while state["generation"] < spec.generations and algorithm.has_next():
        pop = algorithm.ask()
        x = evaluator.repair(pop.get("X"))
        pop.set("X", x)
        values, f, g = evaluator.evaluate(x)
        kwargs = {"F": f, "G": g} if g.shape[1] else {"F": f}
        PymooEvaluator().eval(StaticProblem(algorithm.problem, **kwargs), pop)
        algorithm.tell(infills=pop)
        state["archive"] = _archive_merge(state["archive"], x, values, f, g)
        state["generation"] += 1
        state["n_evaluated"] += len(x) * evaluator.n_inflow
        if path is not None:
            _save(path, state)
            _progress(path.parent, state, spec)
        report(state["generation"] * per_gen)


def _progress(folder: Path, state: dict, spec) -> None:
    """``progress.json`` beside the checkpoint: which generation it holds (for people and scripts)."""
    from sim.report import output

    doc = {"written_by": output.WRITTEN_BY, "kind": "optimise-partial", "input_sha256": state["input_sha256"],
           "generation": state["generation"], "generations": spec.generations, "population": spec.population,
           "member_seasons": state["n_evaluated"], "checkpoint": CHECKPOINT}
    tmp = folder / "progress.json.tmp"
    output.write_json(tmp, doc)
    os.replace(tmp, folder / "progress.json")


def _result(scenario, spec, state, n_inflow, evaluator, timings) -> OptimiseResult:
    arch = state["archive"]
    first = next(iter(spec.objectives))
    order = np.argsort(arch["f"][:, 0], kind="stable")  # along the first objective, best first
    x = arch["x"][order]
    front = {"solution": np.arange(1, len(order) + 1)}
    labels = [d.label for d in scenario.period.decades()]
    for v in spec.variables:
        sl = evaluator.slices[v.key]
        if v.is_schedule:
            for i, label in enumerate(labels):
                front[f"{v.key}[{label}]"] = x[:, sl.start + i]
        else:
            front[v.key] = x[:, sl.start]
    for name in dict.fromkeys([first, *spec.objectives, *spec.constraints]):
        front[name] = arch["values"][name][order]
    return OptimiseResult(spec, scenario, front, x, bool(np.all(arch["cv"] <= 0)), state["regimes"],
                          state["generation"], state["n_evaluated"], n_inflow, timings)
