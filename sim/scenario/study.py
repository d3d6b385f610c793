"""Checks of the ``[ensemble]`` and ``[sweep]`` tables, and the sweep size limit."""

from __future__ import annotations

import json
import math

import numpy as np

from sim.inputs.inflow import DEFAULT_LAG1, lag1_lowest
from sim.physics.ranges import MAX_MEMBERS, MEMBERS, POSITIVE, Bound, number_text
from sim.scenario.errors import describe_value, quoted, unknown_name
from sim.scenario.keys import ENSEMBLE_KEYS, SAMPLING_METHODS, SWEEP_METHODS, SWEEP_OPTIONS, bound
from sim.scenario.model import Scenario
from sim.scenario.overrides import key_problem
from sim.scenario.specs import EnsembleSpec, SweepSpec


def check_ensemble(ck):
    """Check ``[ensemble]``; sets ``ck.ensemble`` (an `EnsembleSpec`, or None)."""
    if "ensemble" not in ck.data:
        ck.ensemble = None
        return
    ck.ensemble = None
    t = ck.table("ensemble", ck.data["ensemble"], ENSEMBLE_KEYS)
    if t is None:
        return
    out = {"members": t.get("members"), "seed": t.get("seed", 0), "inflow_cv": t.get("inflow_cv"),
           "inflow_lag1": t.get("inflow_lag1", DEFAULT_LAG1)}
    ck.out["ensemble"] = {k: v for k, v in out.items() if v is not None}
    ok = True
    for k in ("members", "inflow_cv"):
        if out[k] is None:
            ck.add(f"ensemble.{k}", "missing; expected " + ("a whole number >= 1" if k == "members" else "a number >= 0 (0.62: with inflow_lag1 = 0.8 it gives April–September volumes the observed CV 0.39, DATA.md)"))
            ok = False
    if out["members"] is not None and ck.number("ensemble.members", out["members"], bound("ensemble", "members")) is None:
        ok = False
    if ck.number("ensemble.seed", out["seed"], bound("ensemble", "seed")) is None:
        ok = False
    if out["inflow_cv"] is not None and ck.number("ensemble.inflow_cv", out["inflow_cv"], bound("ensemble", "inflow_cv")) is None:
        ok = False
    lag = ck.number("ensemble.inflow_lag1", out["inflow_lag1"], bound("ensemble", "inflow_lag1"))
    if lag is None:
        ok = False
    elif ok and out["inflow_cv"] > 0:
        cv = float(out["inflow_cv"])
        lowest = lag1_lowest(cv)
        if not lowest < lag < 1.0:
            ck.add("ensemble.inflow_lag1", f"found {number_text(lag)}; with inflow_cv = {number_text(cv)} expected a number > {lowest:.4g} "
                     "and < 1 (lognormal flows cannot be more negatively correlated)")
            ok = False
    if ok:
        ck.ensemble = EnsembleSpec(int(out["members"]), int(out["seed"]), float(out["inflow_cv"]), float(lag))
        # varied per member (sweeps, sensitivity) within what lognormal flows of this CV allow
        cv = float(out["inflow_cv"])
        low = lag1_lowest(cv) if cv > 0 else -1.0
        ck.c.sweepable["ensemble.inflow_lag1"] = Bound(low, 1.0, lo_open=True, hi_open=True, mistake=lambda v: (
            f"with inflow_cv = {number_text(cv)} lognormal flows cannot be more negatively correlated" if cv > 0 and v <= low
            else ""))


def check_sweep(ck):
    """Check ``[sweep]``: method, samples, seed and the swept keys; sets ``ck.sweep`` (a `SweepSpec`, or
    None)."""
    ck.sweep = None
    if "sweep" not in ck.data:
        return
    raw = ck.data["sweep"]
    if not isinstance(raw, dict):
        ck.add("sweep", f"found {describe_value(raw)}; expected a table of \"key.path\" = values")
        return
    method = _sweep_method(ck, raw)
    out: dict = {"method": method} if method else {}
    sampling_ok, samples, seed = _check_sampling(ck, raw, method, out)
    params = _sweep_parameters(ck, raw, method, out)
    ck.out["sweep"] = out
    if method is None or not sampling_ok or params is None or not _sweep_fits(ck, params, method, samples):
        return
    ck.sweep = SweepSpec(params, method, None if samples is None else int(samples),
                         None if method == "grid" else int(seed))


def _sweep_method(ck, raw: dict) -> str | None:
    """The sweep method (``grid`` when absent), or None after saying it is not one."""
    method = raw.get("method", "grid")
    if isinstance(method, str) and method in SWEEP_METHODS:
        return method
    ck.add("sweep.method", unknown_name("a sweep method", method, SWEEP_METHODS) if isinstance(method, str)
           else f"found {describe_value(method)}; expected one of {quoted(SWEEP_METHODS)}")
    return None


def _check_sampling(ck, raw: dict, method: str | None, out: dict):
    """Check ``samples`` and ``seed``: needed by the sampling methods, refused by the grid →
    (ok, samples, seed), the two None for a grid."""
    ok = True
    samples = seed = None
    if method in SAMPLING_METHODS:
        if "samples" not in raw:
            ck.add("sweep.samples", f'missing; method "{method}" needs the number of samples')
            ok = False
        else:
            samples = ck.number("sweep.samples", raw["samples"], bound("sweep", "samples"))
            ok = samples is not None
        seed = raw.get("seed", 0)
        if ck.number("sweep.seed", seed, bound("sweep", "seed")) is None:
            ok = False
        out["samples"], out["seed"] = raw.get("samples"), seed
    elif method == "grid":
        for k in ("samples", "seed"):
            if k in raw:
                ck.add(f"sweep.{k}", 'only used with method "lhs", "sobol" or "random"; the method is "grid"')
                ok = False
    return ok, samples, seed


def _sweep_parameters(ck, raw: dict, method: str | None, out: dict) -> dict | None:
    """The swept keys (written dotted or as nested tables) → path → values, or None after saying
    which key or values are wrong."""
    entries = {}
    _flatten_sweep({k: v for k, v in raw.items() if k not in SWEEP_OPTIONS}, "", entries)
    ok = True
    if not entries:
        ck.add("sweep", 'no parameter given; expected "key.path" = values, e.g. "inflow.scale" = [0.8, 1.0, 1.2]')
        ok = False
    sweepable = ck.c.sweepable
    params = {}
    for key, spec in entries.items():
        path = f"sweep.{json.dumps(key)}"
        out[key] = spec
        problem = key_problem(key, sweepable)
        if problem is not None:
            ck.add(path, problem)
            ok = False
            continue
        values = sweep_values(ck, path, spec, sweepable[key], method)
        if values is None:
            ok = False
        else:
            params[key] = values
    return params if ok else None


def _sweep_fits(ck, params: dict, method: str, samples) -> bool:
    """Whether the sweep (settings × inflow members) is within `MAX_MEMBERS`; says so if not."""
    n_settings = math.prod(len(v) for v in params.values()) if method == "grid" else int(samples)
    n_inflow = ck.ensemble.members if ck.ensemble is not None else 1
    if n_settings * n_inflow > MAX_MEMBERS:
        ck.add("sweep", _too_many(n_settings, n_inflow, params if method == "grid" else None))
        return False
    return True


def sweep_values(ck, path, spec, bound: Bound, method):
    """The values of one swept key: a list, or a range ``{ from, to, num | step }`` → a tuple; ``(lo, hi)``
    for sampling methods."""
    if isinstance(spec, list):
        return _listed_values(ck, path, spec, bound, method)
    if not isinstance(spec, dict):
        ck.add(path, f"found {describe_value(spec)}; expected a list of values or {{ from, to, num }} / {{ from, to, step }}")
        return None
    ends = _range_ends(ck, path, spec, bound, method)
    if ends is None or method in SAMPLING_METHODS:
        return ends
    values = _range_values(ck, path, spec, *ends)
    if values is None:
        return None
    if bound.integer and not np.all(values == np.round(values)):
        ck.add(path, f"gives values that are not whole numbers; expected {bound.expected()}")
        return None
    return tuple(float(round(v, 12)) for v in values)


def _listed_values(ck, path, spec: list, bound: Bound, method):
    """The values of a swept key given as a list (not for sampling methods), or None after saying why."""
    if method in SAMPLING_METHODS:
        ck.add(path, f'method "{method}" samples a range; expected {{ from = ..., to = ... }}')
        return None
    if not spec:
        ck.add(path, "found an empty list; expected at least one value")
        return None
    ok = True
    for i, v in enumerate(spec):
        if ck.number(f"{path}[{i + 1}]", v, bound) is None:
            ok = False
    return tuple(float(v) for v in spec) if ok else None


def _range_ends(ck, path, spec: dict, bound: Bound, method):
    """``(from, to)`` of a range table, both within `bound` and in order, or None after saying why."""
    allowed = ("from", "to") if method in SAMPLING_METHODS else ("from", "to", "num", "step")
    if ck.known_table(path, spec, allowed) is None:
        return None
    ends = [_range_end(ck, path, spec, k, bound) for k in ("from", "to")]
    if None in ends:
        return None
    lo, hi = float(spec["from"]), float(spec["to"])
    if hi < lo:
        ck.add(f"{path}.to", f"{number_text(spec['to'])} is below from {number_text(spec['from'])}; expected from <= to")
        return None
    return (lo, hi)


def _range_end(ck, path, spec: dict, k: str, bound: Bound):
    """One end (``from`` or ``to``) of a range table as given, or None after saying why."""
    if k not in spec:
        ck.add(f"{path}.{k}", "missing; a range needs from and to")
        return None
    return ck.number(f"{path}.{k}", spec[k], bound)


def _range_values(ck, path, spec: dict, lo: float, hi: float):
    """The values from `lo` to `hi` by ``num`` or by ``step`` (exactly one given), or None after
    saying why."""
    if ("num" in spec) == ("step" in spec):
        ck.add(path, "expected exactly one of num and step" + ("; found both" if "num" in spec else "; found neither"))
        return None
    # The number of values is counted before any is made: a range of 10⁹ values is
    # refused here, not after allocating it.
    if "num" in spec:
        num = ck.number(f"{path}.num", spec["num"], MEMBERS)
        if num is None:
            return None
        return np.linspace(lo, hi, int(num)) if num > 1 else np.array([lo])
    step = ck.number(f"{path}.step", spec["step"], POSITIVE)
    if step is None:
        return None
    span = (hi - lo) / step  # inf for a step of 5e-324
    if not span < MAX_MEMBERS:
        many = f"{math.floor(span) + 1:,}" if math.isfinite(span) else "more than 10³⁰⁰"
        ck.add(f"{path}.step", f"found {number_text(step)}, which gives {many} values from {number_text(lo)} to {number_text(hi)}; "
               f"expected at most {MAX_MEMBERS:,} (a larger step)")
        return None
    n = math.floor(span + 1e-9) + 1
    return lo + step * np.arange(n)


def _too_many(n_settings: int, n_inflow: int, grid: dict | None, what: str = "the [sweep] table") -> str:
    """The message for a sweep larger than `MAX_MEMBERS`, with how to make it smaller."""
    count = f"{n_settings:,} settings" + (f" × {n_inflow:,} inflow members = {n_settings * n_inflow:,} members" if n_inflow > 1 else "")
    if grid:
        largest = max(grid, key=lambda k: len(grid[k]))
        how = f'fewer values of "{largest}" ({len(grid[largest]):,}), fewer parameters, or sampling (lhs, sobol) with fewer samples'
    else:
        how = "fewer samples" + (" or fewer [ensemble] members" if n_inflow > 1 else "")
    return f"{what} asks for {count}; expected at most {MAX_MEMBERS:,}: use {how}"


def sweep_size_problem(scenario: "Scenario", parameters=None, method=None, samples=None, inflow_members=None):
    """Why a sweep of ``scenario`` is too large to run, or None: counted, never built.

    The arguments are those of `sim.sweep.run` (``parameters``: path → values; ``None``
    takes the file's ``[sweep]``). The count is settings × inflow members, against
    `MAX_MEMBERS`.
    """
    spec = scenario.sweep
    if parameters is None and spec is not None:
        parameters, method = spec.parameters, method or spec.method
        samples = samples or spec.samples
    method = method or "grid"
    grid = method == "grid"
    n_settings = math.prod(len(v) for v in (parameters or {}).values()) if grid else int(samples or 0)
    n_inflow = inflow_members if inflow_members is not None else (scenario.ensemble.members if scenario.ensemble else 1)
    n_inflow = max(int(n_inflow), 1)
    if n_settings * n_inflow <= MAX_MEMBERS:
        return None
    return _too_many(n_settings, n_inflow, parameters if grid else None, "the sweep")


def _flatten_sweep(table: dict, prefix: str, out: dict) -> None:
    """``inflow.scale = [...]`` written unquoted is a nested table; flatten it to dotted paths."""
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and not any(x in v for x in ("from", "to", "num", "step")) and v:
            _flatten_sweep(v, key, out)
        else:
            out[key] = v
