"""Checks of the ``[optimise]`` table: the search of ``bakhri optimise`` (run by `sim.studies.optimise`).

::

    [optimise]
    regime = "agreed-schedule"
    variables = { "regimes.agreed-schedule.decadal_m3s" = { min = 150, max = 1100, max_step_m3s = 200 } }
    objectives = { energy_gwh = "max", deficit_hm3 = "min" }
    constraints = { level_end_m = { min = 342.0 } }

Decision variables are the numeric keys a sweep may vary (`Scenario.sweepable`) of the searched
regime or of the scenario's single tables, and a schedule regime's whole decadal release as one
vector (``regimes.<regime>.decadal_m3s``: one value per decade of the period). Objectives and
constraints name metrics of the registry (`sim.engine.metrics`), or ``<user>.<metric>`` for a
per-user metric. Every problem is one line with its key path, like the other sections.
"""

from __future__ import annotations

import json
import re

from sim.physics.ranges import FLOW, FLOW_POSITIVE, MAX_MEMBERS, number_text
from sim.rules.base import FLOW_SERIES, RULES
from sim.scenario.errors import describe_value, did_you_mean, is_number, quoted
from sim.scenario.keys import OPTIMISE_AGGREGATES, OPTIMISE_KEYS, bound
from sim.scenario.specs import OptimiseSpec, Variable

__all__ = ["check_optimise", "metric_names", "AGGREGATE_RE"]

#: ``"pNN"``: the NN % worst case over the inflow members (0 < NN < 100).
AGGREGATE_RE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")
#: Sections whose numeric keys a solution file can set (the [[demand]] list is replaced whole by
#: ``extends``, and other regimes do not change the searched one).
_SECTIONS = ("reservoir", "plant", "inflow", "losses", "downstream", "demand")
DEFAULTS = {"aggregate": "mean", "population": 100, "generations": 100, "seed": 0}


def metric_names(users) -> list[str]:
    """Names an objective or constraint may take: every metric, and ``<user>.<metric>`` of each
    user for the per-user metrics."""
    from sim.engine import metrics as metric_registry

    return list(metric_registry.names()) + [f"{u}.{m}" for u in users for m in metric_registry.user_names()]


def check_optimise(ck):
    """Check ``[optimise]``; sets ``ck.optimise`` (an `OptimiseSpec`, or None)."""
    ck.optimise = None
    if "optimise" not in ck.data:
        return
    t = ck.table("optimise", ck.data["optimise"], OPTIMISE_KEYS, default_empty=False)
    if t is None:
        return
    out = {**t, **{k: v for k, v in DEFAULTS.items() if k not in t}}
    ck.out["optimise"] = out
    regime = _regime(ck, t)
    numbers = {k: ck.number(f"optimise.{k}", out[k], bound("optimise", k)) for k in ("population", "generations", "seed")}
    aggregate = _aggregate(ck, out["aggregate"])
    variables = _variables(ck, t.get("variables"), regime)
    names = metric_names([u.name for u in ck.c.users])
    objectives = _objectives(ck, t.get("objectives"), names)
    constraints = _constraints(ck, t.get("constraints"), names)
    if None in (regime, aggregate, variables, objectives, constraints) or None in numbers.values():
        return
    n_inflow = ck.ensemble.members if ck.ensemble is not None else 1
    if numbers["population"] * n_inflow > MAX_MEMBERS:
        ck.add("optimise.population", f"{numbers['population']:,} candidates × {n_inflow:,} inflow members is more than "
               f"{MAX_MEMBERS:,} members a generation; expected a smaller population or fewer [ensemble] members")
        return
    ck.optimise = OptimiseSpec(regime, tuple(variables), objectives, constraints, aggregate,
                               int(numbers["population"]), int(numbers["generations"]), int(numbers["seed"]))


def _regime(ck, t: dict) -> str | None:
    """The searched regime: one of the scenario's (checked) regimes."""
    if "regime" not in t:
        ck.add("optimise.regime", "missing; expected the name of the regime whose parameters are searched")
        return None
    name = ck.string("optimise.regime", t["regime"], "the name of a regime of this scenario")
    if name is None:
        return None
    run = list(ck.out.get("regimes") or {})
    if name not in run:
        ck.add("optimise.regime", f'"{name}" is not a regime of this scenario{did_you_mean(name, run)} '
               f"(choose one of {quoted(run)})")
        return None
    return name if name in ck.c.regimes else None  # a regime with problems of its own: said already


def _aggregate(ck, value) -> str | None:
    if isinstance(value, str) and (value in OPTIMISE_AGGREGATES or _percent(value) is not None):
        return value
    ck.add("optimise.aggregate", f"found {describe_value(value)}; expected {quoted(OPTIMISE_AGGREGATES)} or "
           '"pNN", the NN % worst case over the inflow members (e.g. "p10")')
    return None


def _percent(value: str) -> float | None:
    m = AGGREGATE_RE.match(value)
    return float(m.group(1)) if m and 0 < float(m.group(1)) < 100 else None


def _variables(ck, raw, regime) -> list | None:
    if raw is None:
        ck.add("optimise.variables", 'missing; expected "key.path" = { min = ..., max = ... } for each decision variable')
        return None
    if not isinstance(raw, dict) or not raw:
        ck.add("optimise.variables", f"found {describe_value(raw)}; expected a table of \"key.path\" = {{ min = ..., max = ... }}")
        return None
    out, ok = [], True
    for key, spec in _flatten(raw).items():
        v = _variable(ck, f"optimise.variables.{json.dumps(key)}", key, spec, regime) if regime is not None else None
        ok = ok and v is not None
        out.append(v)
    return out if ok else None


def _flatten(table: dict, prefix: str = "") -> dict:
    """Unquoted dotted keys are nested tables in TOML; down to the tables with min or max."""
    out = {}
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and v and not any(x in v for x in ("min", "max", "max_step_m3s")):
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


def _schedule_key(ck, regime: str) -> str | None:
    """``regimes.<regime>.decadal_m3s`` if the regime's rule releases a flow series given at the
    regime's level (the schedule rule), else None."""
    spec = ck.c.regimes[regime]
    if any(p.kind == FLOW_SERIES and p.key == "" for p in RULES[spec.rule].params):
        return f"regimes.{regime}.decadal_m3s"
    return None


def _variable(ck, path: str, key: str, spec, regime: str) -> Variable | None:
    prefix = f"regimes.{regime}."
    schedule = _schedule_key(ck, regime)
    if key.startswith("regimes.") and not key.startswith(prefix):
        ck.add(path, f'a key of another regime; [optimise] searches the regime "{regime}" (keys "{prefix}*") '
               "and the scenario's tables")
        return None
    if key != schedule and key.split(".")[0] not in _SECTIONS + ("regimes",):
        ck.add(path, f"not a key a solution can set; expected a numeric key of {quoted(_SECTIONS)} or of the regime")
        return None
    if key == schedule:
        return _schedule_variable(ck, path, key, spec)
    if key.endswith(".decadal_m3s") and key.startswith(prefix):
        ck.add(path, f'the regime "{regime}" has rule "{ck.c.regimes[regime].rule}"; a decadal release schedule is '
               'searched for a regime with rule "schedule"')
        return None
    if key not in ck.c.sweepable:
        choices = sorted(k for k in ck.c.sweepable if not k.startswith("regimes.") or k.startswith(prefix))
        choices += [schedule] if schedule else []
        hint = did_you_mean(key, choices)
        ck.add(path, f"not a numeric key of this scenario{hint}" if hint else
               f"not a numeric key of this scenario; expected one of {', '.join(choices)}")
        return None
    initial = ("reservoir.initial_level_m", "reservoir.initial_storage_hm3")
    given = [k for k in initial if k.split(".")[1] in (ck.out.get("reservoir") or {})]
    if key in initial and given and key not in given:
        ck.add(path, f"the scenario gives {given[0]}, and a solution file cannot replace it with {key.split('.')[1]}; "
               f'expected "{given[0]}"')
        return None
    got = _range(ck, path, spec, ck.c.sweepable[key], 1, allowed=("min", "max"))
    return None if got is None else Variable(key, *got)


def _schedule_variable(ck, path: str, key: str, spec) -> Variable | None:
    n = len(ck.period.decades()) if ck.period is not None else None
    if n is None:
        return None
    got = _range(ck, path, spec, FLOW, n, allowed=("min", "max", "max_step_m3s"))
    if got is None:
        return None
    lo, hi = got
    step = None
    if "max_step_m3s" in spec:
        step = ck.number(f"{path}.max_step_m3s", spec["max_step_m3s"], FLOW_POSITIVE)
        if step is None:
            return None
        step = float(step)
        # the repair walks forward from decade to decade: each decade's range must stay within a
        # step of the previous one's, or no schedule meets both
        for i in range(1, n):
            if lo[i] > lo[i - 1] + step or hi[i] < hi[i - 1] - step:
                ck.add(f"{path}.max_step_m3s", f"{number_text(step)} m³/s is less than the bounds change from decade {i} "
                       f"({number_text(lo[i - 1])}–{number_text(hi[i - 1])}) to decade {i + 1} "
                       f"({number_text(lo[i])}–{number_text(hi[i])}); expected a larger step or closer bounds")
                return None
    return Variable(key, lo, hi, step)


def _range(ck, path: str, spec, b, n: int, allowed) -> tuple | None:
    """``(lo, hi)`` tuples of `n` values from ``{ min, max }`` (each a number, or a list of `n`
    for a schedule), within bound `b` and lo <= hi, or None after saying why."""
    if not isinstance(spec, dict):
        ck.add(path, f"found {describe_value(spec)}; expected {{ min = ..., max = ... }}")
        return None
    if ck.known_table(path, spec, allowed) is None:
        return None
    ends = {}
    for k in ("min", "max"):
        if k not in spec:
            ck.add(f"{path}.{k}", "missing; a decision variable needs min and max")
            return None
        ends[k] = _values(ck, f"{path}.{k}", spec[k], b, n)
    if None in ends.values():
        return None
    lo, hi = ends["min"], ends["max"]
    for i, (a, z) in enumerate(zip(lo, hi, strict=True)):
        if a > z:
            where = f" (decade {i + 1})" if n > 1 else ""
            ck.add(f"{path}.max", f"{number_text(z)} is below min {number_text(a)}{where}; expected min <= max")
            return None
    return lo, hi


def _values(ck, path: str, value, b, n: int) -> tuple | None:
    if is_number(value):
        v = ck.number(path, value, b)
        return None if v is None else (float(v),) * n
    if isinstance(value, list) and n > 1:
        if len(value) != n:
            ck.add(path, f"found {len(value)} values; expected one number, or {n} (one per decade of {ck.period})")
            return None
        got = [ck.number(f"{path}[{i + 1}]", v, b) for i, v in enumerate(value)]
        return None if any(v is None for v in got) else tuple(float(v) for v in got)
    more = f", or a list of {n} (one per decade)" if n > 1 else ""
    ck.add(path, f"found {describe_value(value)}; expected {b.expected()}{more}")
    return None


def _objectives(ck, raw, names) -> dict | None:
    if raw is None or raw == {}:
        ck.add("optimise.objectives", 'no objective given; expected metric = "max" or "min", e.g. { energy_gwh = "max" }')
        return None
    if not isinstance(raw, dict):
        ck.add("optimise.objectives", f'found {describe_value(raw)}; expected a table of metric = "max" or "min"')
        return None
    out, ok = {}, True
    for name, sense in _flatten_metrics(raw).items():
        path = f"optimise.objectives.{json.dumps(name)}"
        if not _metric(ck, path, name, names):
            ok = False
        elif sense not in ("max", "min"):
            ck.add(path, f'found {describe_value(sense)}; expected "max" or "min"')
            ok = False
        else:
            out[name] = sense
    return out if ok else None


def _constraints(ck, raw, names) -> dict | None:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        ck.add("optimise.constraints", f"found {describe_value(raw)}; expected a table of metric = {{ min = ..., max = ... }}")
        return None
    out, ok = {}, True
    for name, spec in _flatten_metrics(raw, tables=True).items():
        path = f"optimise.constraints.{json.dumps(name)}"
        if not _metric(ck, path, name, names):
            ok = False
            continue
        if not isinstance(spec, dict) or not spec:
            ck.add(path, f"found {describe_value(spec)}; expected {{ min = ... }}, {{ max = ... }} or both")
            ok = False
            continue
        if ck.known_table(path, spec, ("min", "max")) is None:
            ok = False
            continue
        ends = [ck.number(f"{path}.{k}", spec[k]) if k in spec else None for k in ("min", "max")]
        if any(k in spec and e is None for k, e in zip(("min", "max"), ends, strict=True)):
            ok = False
        elif ends[0] is not None and ends[1] is not None and ends[1] < ends[0]:
            ck.add(f"{path}.max", f"{number_text(ends[1])} is below min {number_text(ends[0])}; expected min <= max")
            ok = False
        else:
            out[name] = tuple(None if e is None else float(e) for e in ends)
    return out if ok else None


def _flatten_metrics(raw: dict, tables: bool = False) -> dict:
    """``user.deficit_hm3 = "min"`` written unquoted is a nested table: flatten it (a user name)."""
    out = {}
    for k, v in raw.items():
        nested = isinstance(v, dict) and v and not (tables and any(x in v for x in ("min", "max")))
        if nested:
            out.update({f"{k}.{m}": w for m, w in v.items()})
        else:
            out[k] = v
    return out


def _metric(ck, path: str, name: str, names) -> bool:
    if name in names:
        return True
    hint = did_you_mean(name, names)
    plain = [n for n in names if "." not in n]
    ck.add(path, f'"{name}" is not a metric{hint}' if hint else
           f'"{name}" is not a metric (choose one of {quoted(plain)}, or "<user>.<metric>")')
    return False
