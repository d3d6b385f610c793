"""Which guesses matter: Sobol' indices of chosen metrics to the uncertain inputs, and how often
the ranking of the regimes changes.

The design is Saltelli's (SALib's Sobol' sampler, ``calc_second_order=False``, rebuilt from numpy
by `sim.studies.saltelli` to spare SALib's and scipy.stats' import): N base samples
over D inputs give N × (D + 2) settings, and every setting is one member of a sweep
(`sim.studies.sweep.chunk_model` with explicit `Settings`), so all of them run through the
compiled engine in chunks, and every regime meets the same settings (common random numbers).
With an ``[ensemble]`` each setting is crossed with the same inflow members and the analysed
value is the mean over them. First-order (S1) and total (ST) indices use SALib's estimators
(Saltelli et al. 2010) with bootstrap confidence intervals (`indices`), computed for every
input at once.

    >>> from sim import load_scenario
    >>> from sim.studies import sensitivity
    >>> res = sensitivity.run(load_scenario("scenarios/baseline.toml"), samples=256)
    >>> res.indices[0]                  # {"metric": ..., "regime": ..., "input": ..., "S1": ...}
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

from sim.engine import metrics as metric_registry
from sim.engine.driver import simulate
from sim.inputs.uncertain import Range, default_ranges, nominal_value, regime_keys
from sim.studies import saltelli, sweep
from sim.studies.settings import Settings
from sim.studies.workers import Progress, worker_pool

__all__ = ["ranges", "design", "indices", "ranking_stability", "run", "SensitivityResult", "RANKED_METRICS",
           "NUM_RESAMPLES", "CONF_LEVEL"]

#: The metrics whose regime ranking is checked for stability (those the issue names).
RANKED_METRICS = ("energy_gwh", "deficit_hm3", "level_end_m")
NUM_RESAMPLES = 100
CONF_LEVEL = 0.95


def ranges(scenario, spec=None) -> list[Range]:
    """The uncertain inputs of a scenario: the defaults that apply (`sim.inputs.uncertain`) unless
    ``defaults = false``, with the ``[sensitivity] inputs`` ranges replacing or adding to them."""
    spec = spec if spec is not None else scenario.compiled.sensitivity
    sweepable = scenario.compiled.sweepable
    out = {r.name: r for r in default_ranges(scenario.resolved, sweepable)} if spec.defaults else {}
    for key, (lo, hi) in spec.inputs.items():
        keys = regime_keys(key, sweepable)
        if key in out:
            r = out[key]
            out[key] = Range(key, r.keys, lo, hi, r.unit, r.what, r.label, "[sensitivity] inputs", r.nominal)
        else:
            nominal = nominal_value(scenario.resolved, keys[0])
            out[key] = Range(key, keys, lo, hi, _unit(keys[0]), key, "", "[sensitivity] inputs",
                             float(nominal) if isinstance(nominal, (int, float)) and not isinstance(nominal, bool) else None)
    return list(out.values())


def _unit(key: str) -> str:
    """The unit a key's name carries (``_m3s`` → m³/s), "-" for factors."""
    for suffix, unit in (("_m3s_day", "m³/s per day"), ("_m3s", "m³/s"), ("_hm3", "hm³"), ("_m", "m"), ("_mw", "MW"),
                         ("_days", "d")):
        if key.endswith(suffix):
            return unit
    return "-"


def design(rs: list[Range], n: int, seed: int = 0) -> np.ndarray:
    """Saltelli's design over the ranges: shape ``(n × (D + 2), D)``, rows in SALib's order
    (per base sample: A, then A with column i from B for each i, then B): SALib's Sobol' sampler
    (``calc_second_order=False``, scrambled), bit for bit, without its import (`sim.studies.saltelli`)."""
    return saltelli.design([[r.low, r.high] for r in rs], n, seed)


def indices(y, d: int, *, num_resamples: int = NUM_RESAMPLES, conf_level: float = CONF_LEVEL, seed: int | None = 0) -> dict:
    """First-order and total Sobol' indices of model outputs `y` over a `design` of `d` inputs.

    The estimators are SALib's (`SALib.analyze.sobol.first_order`, `total_order`; `_estimates`
    applies their formulas to every input at once, and the tests hold the results equal to
    `SALib.analyze.sobol.analyze`'s); the confidence half-widths are the normal quantile times the standard
    deviation over `num_resamples` bootstrap resamples of the base samples, as
    `SALib.analyze.sobol.analyze` computes them (same resamples for the same seed). A constant
    output has every index 0 (nothing to apportion).

    Returns
    -------
    dict with ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (arrays of shape (d,)) and ``constant``.
    """
    from statistics import NormalDist

    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or y.size % (d + 2):
        raise ValueError(f"{y.size} outputs for {d} inputs; expected N × {d + 2} (a Saltelli design without second order)")
    n = y.size // (d + 2)
    if not np.all(np.isfinite(y)):
        raise ValueError("outputs must be finite")
    if np.ptp(y) == 0:
        zero = np.zeros(d)
        return {"S1": zero, "S1_conf": zero, "ST": zero, "ST_conf": zero, "constant": True}
    y = (y - y.mean()) / y.std()
    # SALib's `separate_output_values` without its import (2-3 s): rows of a base sample are A, AB_1..AB_d, B
    rows = y.reshape(n, d + 2)
    a, b, ab = rows[:, 0], rows[:, d + 1], np.ascontiguousarray(rows[:, 1 : d + 1])
    s1, st = _estimates(a, b, ab)
    r = np.random.default_rng(seed).integers(n, size=(n, num_resamples))
    s1_boot, st_boot = _estimates(a[r], b[r], ab[r])
    z = NormalDist().inv_cdf(0.5 + conf_level / 2)
    s1_conf, st_conf = z * s1_boot.std(axis=0, ddof=1), z * st_boot.std(axis=0, ddof=1)
    return {"S1": s1, "S1_conf": s1_conf, "ST": st, "ST_conf": st_conf, "constant": False}


def _estimates(a, b, ab):
    """SALib's first-order and total estimators (`SALib.analyze.sobol.first_order`, `total_order`:
    Saltelli et al. 2010, normalised by the variance of A and B) for every input at once; `a`, `b`
    of shape (n, ...) and `ab` (n, ..., d). The variance is worked out once, not once per input
    (SALib's functions need A shaped as AB), which makes the bootstrap ten times faster."""
    var = np.var(np.concatenate([a, b]), axis=0)[..., None]
    ok = var > np.finfo(float).eps
    safe = np.where(ok, var, 1.0)
    s1 = np.where(ok, np.mean(b[..., None] * (ab - a[..., None]), axis=0) / safe, 0.0)
    st = np.where(ok, 0.5 * np.mean((a[..., None] - ab) ** 2, axis=0) / safe, 0.0)
    return s1, st


def _tie_step(metric: str) -> float:
    """Values closer than half the metric's printed precision are equal for a ranking."""
    m = re.search(r"\.(\d+)[fe]", metric_registry.get(metric).fmt)
    return 0.5 * 10.0 ** -int(m.group(1)) if m else 0.0


def _orders(values: np.ndarray, direction: str | None, step: float) -> np.ndarray:
    """Per sample (column), the regimes (rows) best first; ties keep the scenario's order."""
    v = values if direction != "min" else -values
    if step > 0:
        v = np.round(v / (2 * step))
    return np.argsort(-v, axis=0, kind="stable")


def ranking_stability(nominal: dict, outputs: dict, metrics=RANKED_METRICS) -> list[dict]:
    """How often the ranking of the regimes differs from the nominal run's, per metric.

    Parameters
    ----------
    nominal : dict regime → dict metric → float
        The scenario as given.
    outputs : dict regime → dict metric → ndarray (n_samples,)
        The sampled settings (any rows of the design: each is a draw of the inputs).

    Returns
    -------
    list of dict: ``metric``, ``unit``, ``nominal_order`` ("a > b > c", best first),
    ``best_changes`` and ``order_changes`` (shares of samples), ``samples``, and
    ``best.<regime>`` (share of samples where that regime is best).
    """
    names = list(nominal)
    out = []
    for m in metrics:
        meta = metric_registry.get(m)
        step = _tie_step(m)
        nom = _orders(np.array([[nominal[r][m]] for r in names]), meta.direction, step)[:, 0]
        order = _orders(np.stack([outputs[r][m] for r in names]), meta.direction, step)
        row = {
            "metric": m, "unit": meta.unit, "nominal_order": " > ".join(names[i] for i in nom),
            "best_changes": float(np.mean(order[0] != nom[0])),
            "order_changes": float(np.mean(np.any(order != nom[:, None], axis=0))),
            "samples": int(order.shape[1]),
        }
        for i, r in enumerate(names):
            row[f"best.{r}"] = float(np.mean(order[0] == i))
        out.append(row)
    return out


@dataclass
class SensitivityResult:
    """What `run` computed.

    Attributes
    ----------
    inputs : list of Range
    samples : int
        Base samples N.
    x : ndarray (N × (D + 2), D)
        The design (input values of every setting).
    outputs : dict regime → dict metric → ndarray (N × (D + 2),)
        Each setting's value (the mean over inflow members with an ensemble).
    nominal : dict regime → dict metric → float
        The scenario as given.
    indices : list of dict
        ``metric``, ``regime``, ``input``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (sensitivity.csv).
    ranking : list of dict
        `ranking_stability` (empty with one regime).
    """

    inputs: list
    samples: int
    seed: int
    metrics: tuple
    x: np.ndarray
    outputs: dict
    nominal: dict
    indices: list = field(default_factory=list)
    ranking: list = field(default_factory=list)
    n_inflow_members: int = 1
    timings: dict = field(default_factory=dict)

    @property
    def n_settings(self) -> int:
        return self.x.shape[0]

    def top_inputs(self, metric: str, regime: str, k: int = 3) -> list[dict]:
        """The `k` inputs with the largest total index for a metric and regime, largest first."""
        rows = [r for r in self.indices if r["metric"] == metric and r["regime"] == regime]
        return sorted(rows, key=lambda r: -r["ST"])[:k]


def _means(result, metrics, n_settings: int, n_inflow: int) -> dict:
    return {m: result.metrics[m].reshape(n_settings, n_inflow).mean(axis=1) for m in metrics}


def samples_name(scenario) -> str:
    """The folder of a streamed run's samples (``out=``): ``<scenario-name>-sensitivity-samples``."""
    return f"{scenario.name}-sensitivity-samples"


def run(scenario, *, samples: int | None = None, metrics=None, seed: int | None = None, regimes=None,
        inflow_members: int | None = None, workers: int | None = None, chunk_size: int | None = None,
        progress=False, spec=None, out=None, resume: bool = False, on_indices=None) -> SensitivityResult:
    """Run a scenario's sensitivity analysis (``[sensitivity]``, overridden by the arguments).

    Parameters
    ----------
    samples : int, optional
        Base samples N (a power of two); N × (D + 2) settings per regime.
    metrics : sequence of str, optional
        Metrics analysed (default the table's, else energy, deficit and end level).
    seed : int, optional
        Seed of the sampler and the bootstrap.
    regimes : list of str, optional
        Regimes (default all).
    inflow_members : int, optional
        Inflow members per setting with an ``[ensemble]`` (default its members).
    workers, chunk_size, progress
        As `sim.studies.sweep.run`.
    out : path-like, optional
        Stream the samples to ``out/<scenario-name>-sensitivity-samples/`` (`samples_name`), a
        sweep folder (`sim.studies.stream`: sweep.parquet with every sample's inputs and
        metrics, one row per sample and regime), chunk by chunk, and read the metrics back;
        without it the samples are held in memory.
    resume : bool
        With `out`: continue an interrupted run from the chunks on disk (same inputs only).
    on_indices : callable, optional
        Called with the rows of `SensitivityResult.indices`, the inputs and N as soon as the
        indices are known, before the nominal runs and the ranking (``bakhri sensitivity`` hands them to the process drawing the plot).
    """
    t0 = time.perf_counter()
    spec = spec if spec is not None else scenario.compiled.sensitivity
    n = int(samples if samples is not None else spec.samples)
    seed = int(seed if seed is not None else spec.seed)
    metrics = tuple(metrics or spec.metrics)
    unknown = [m for m in metrics if m not in metric_registry.names()]
    if unknown:
        raise ValueError(f"unknown metric {unknown[0]!r}; expected one of {', '.join(metric_registry.names())}")
    if n < 2 or n & (n - 1):
        raise ValueError(f"samples is {n}; expected a power of two >= 2 (Sobol' points balance only then)")
    rs = ranges(scenario, spec)
    if not rs:
        raise ValueError("no uncertain input applies to this scenario; add [sensitivity] inputs")
    names = list(regimes or scenario.regime_names)
    bad = [r for r in names if r not in scenario.regime_names]
    if bad:
        raise ValueError(f"unknown regime {bad[0]!r}; the scenario has {scenario.regime_names}")
    n_inflow = 1
    if scenario.ensemble is not None:
        n_inflow = max(int(inflow_members if inflow_members is not None else scenario.ensemble.members), 1)
    x = design(rs, n, seed)
    settings = Settings(values={k: x[:, i] for i, r in enumerate(rs) for k in r.keys})
    sweep.check_memory(scenario, x.shape[0], n_inflow, len(names), len(settings.parameters),
                       chunk_size=chunk_size, workers=workers, streamed=out is not None)
    t_design = time.perf_counter() - t0
    wanted = metrics + tuple(m for m in RANKED_METRICS if m not in metrics)
    pooled = bool(workers and workers > 1)
    if pooled:  # first, compiled: worker processes forked after it inherit the loaded engine (1-2 s each)
        nominal = _nominal(scenario, names, wanted, n_inflow, engine="compiled")
    if out is not None:
        outputs = _streamed(scenario, settings, n_inflow, names, wanted, out=out, resume=resume, chunk_size=chunk_size,
                            workers=workers, progress=progress)
    else:
        outputs = _in_memory(scenario, settings, n_inflow, names, wanted, chunk_size=chunk_size, workers=workers,
                             progress=progress)
    t_sim = time.perf_counter() - t0 - t_design
    d = len(rs)
    rows = []
    for m in metrics:
        for name in names:
            ind = indices(outputs[name][m], d, seed=seed)
            for i, r in enumerate(rs):
                rows.append({"metric": m, "regime": name, "input": r.name, "S1": float(ind["S1"][i]),
                             "S1_conf": float(ind["S1_conf"][i]), "ST": float(ind["ST"][i]),
                             "ST_conf": float(ind["ST_conf"][i])})
    if on_indices is not None:
        on_indices(rows, rs, n)
    if not pooled:
        t_nominal = time.perf_counter()
        nominal = _nominal(scenario, names, wanted, n_inflow)
        t_sim += time.perf_counter() - t_nominal
    # The ranking over the independent draws A and B of each base sample (rows 0 and D + 1).
    draws = np.concatenate([np.arange(0, x.shape[0], d + 2), np.arange(d + 1, x.shape[0], d + 2)])
    ranking = ranking_stability(nominal, {r: {m: v[draws] for m, v in outputs[r].items()} for r in names}) \
        if len(names) > 1 else []
    result = SensitivityResult(rs, n, seed, metrics, x, outputs, nominal, rows, ranking, n_inflow)
    total = time.perf_counter() - t0
    result.timings = {"design_s": t_design, "simulate_s": t_sim, "analyse_s": total - t_design - t_sim, "total_s": total,
                      "member_seasons": x.shape[0] * n_inflow * len(names)}
    return result


def _nominal(scenario, names, wanted, n_inflow, engine=None) -> dict:
    """regime → metric → the scenario's value as given (the mean over its inflow members)."""
    model, built = scenario.build(n_members=n_inflow)
    out = {}
    for name in names:
        res = simulate(model, built[name], n_members=n_inflow, keep_daily=False, engine=engine)
        out[name] = {m: float(v[0]) for m, v in _means(res, wanted, 1, n_inflow).items()}
    return out


def _in_memory(scenario, settings, n_inflow, names, wanted, *, chunk_size, workers, progress) -> dict:
    """regime → metric → each setting's value: every setting a member of one engine call per regime."""
    n_members = settings.n_settings * n_inflow
    model, built = sweep.chunk_model(scenario, settings, n_inflow, slice(0, n_members))
    outputs = {}
    with Progress(progress, n_members * len(names), scenario.name) as report, worker_pool(workers, None) as pool:
        for i, name in enumerate(names):
            res = simulate(model, built[name], n_members=n_members, keep_daily=False, chunk_size=chunk_size,
                           executor=pool, progress=lambda k, before=i * n_members: report(before + k))
            outputs[name] = _means(res, wanted, settings.n_settings, n_inflow)
    return outputs


def _streamed(scenario, settings, n_inflow, names, wanted, *, out, resume, chunk_size, workers, progress) -> dict:
    """As `_in_memory`, through a streamed, resumable sweep folder (`sim.studies.stream`)."""
    from sim.studies import stream

    folder = stream.run(scenario, settings, n_inflow, names, out=out, name=samples_name(scenario), resume=resume,
                        chunk_size=chunk_size, workers=workers, progress=progress)
    loaded = stream.load(folder, columns=list(wanted))
    return {name: _means(loaded.results[name], wanted, settings.n_settings, n_inflow) for name in names}


def summary_lines(result: SensitivityResult, k: int = 3) -> list[str]:
    """The printed summary: per metric and regime, the `k` inputs that matter most (total index
    with its confidence, and the metric's spread over the samples, with units)."""
    lines = []
    units = {r.name: r.unit for r in result.inputs}
    for m in result.metrics:
        meta = metric_registry.get(m)
        lines.append(f"{meta.label} [{meta.unit}]:")
        for name in result.outputs:
            v = result.outputs[name][m]
            lo, hi = np.percentile(v, [5, 95])
            top = [r for r in result.top_inputs(m, name, k) if r["ST"] > 0]
            spread = f"5-95 % {meta.fmt.format(lo)}–{meta.fmt.format(hi)} {meta.unit} (nominal {meta.fmt.format(result.nominal[name][m])})"
            if not top:
                lines.append(f"  {name}: {spread}; no input changes it")
                continue
            parts = [f"{r['input']} [{units.get(r['input'], '-')}] ST {r['ST']:.2f}±{r['ST_conf']:.2f}" for r in top]
            lines.append(f"  {name}: {spread}; most: " + ", ".join(parts))
    return lines
