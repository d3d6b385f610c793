"""Checks of the ``[sensitivity]`` table (`bakhri sensitivity`): samples, seed, metrics, inputs.

The table is optional: without it `bakhri sensitivity` uses `DEFAULT_SAMPLES`, `DEFAULT_METRICS`
and the default uncertain inputs (`sim.inputs.uncertain`). ``inputs`` overrides a default's
range or adds any sweepable key; ``regimes.*.<key>`` stands for that key of every regime (one
value for all of them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sim.inputs.uncertain import regime_keys
from sim.physics.ranges import number_text
from sim.scenario.errors import describe_value, unknown_name
from sim.scenario.keys import SECTION_KEYS, bound
from sim.scenario.overrides import key_problem

__all__ = ["SensitivitySpec", "check_sensitivity", "DEFAULT_SAMPLES", "DEFAULT_METRICS", "input_problem"]

DEFAULT_SAMPLES = 1024
DEFAULT_METRICS = ("energy_gwh", "deficit_hm3", "level_end_m")


@dataclass(frozen=True)
class SensitivitySpec:
    """The ``[sensitivity]`` table, checked.

    Attributes
    ----------
    samples : int
        Base samples N (a power of two). [-]
    seed : int
    metrics : tuple of str
        Metric names (`sim.engine.metrics.names`).
    inputs : dict
        Key (or ``regimes.*.<key>``) → (min, max) given in the file.
    defaults : bool
        Keep the default uncertain inputs.
    """

    samples: int = DEFAULT_SAMPLES
    seed: int = 0
    metrics: tuple = DEFAULT_METRICS
    inputs: dict = field(default_factory=dict)
    defaults: bool = True


def is_power_of_two(n: int) -> bool:
    return n >= 2 and n & (n - 1) == 0


def input_problem(key: str, lo, hi, sweepable) -> str | None:
    """Why ``key`` with the range ``lo``..``hi`` cannot be an uncertain input, or None."""
    keys = regime_keys(key, sweepable)
    if key.startswith("regimes.*."):
        if not keys:
            return f"no regime of this scenario has the key {key[len('regimes.*.'):]}; expected regimes.*.<a numeric regime key>"
    else:
        problem = key_problem(key, sweepable)
        if problem is not None:
            return problem
    b = sweepable[keys[0]]
    for which, v in (("min", lo), ("max", hi)):
        if not b.ok(float(v)):
            return f"{which}: {b.problem(v)}"
    if not lo < hi:
        return f"min {number_text(lo)} is not below max {number_text(hi)}; expected min < max"
    return None


def check_sensitivity(ck) -> None:
    """Check ``[sensitivity]``; sets ``ck.c.sensitivity`` (a `SensitivitySpec`; defaults without the table)."""
    ck.c.sensitivity = None
    if "sensitivity" not in ck.data:
        ck.c.sensitivity = SensitivitySpec()
        return
    t = ck.table("sensitivity", ck.data["sensitivity"], tuple(SECTION_KEYS["sensitivity"]))
    if t is None:
        return
    ck.out["sensitivity"] = dict(t)
    ok = all(k in SECTION_KEYS["sensitivity"] for k in t)
    samples = t.get("samples", DEFAULT_SAMPLES)
    if ck.number("sensitivity.samples", samples, bound("sensitivity", "samples")) is None:
        ok = False
    elif not is_power_of_two(int(samples)):
        ck.add("sensitivity.samples", f"found {samples}; expected a power of two (Sobol' points balance only then), "
               f"e.g. {1 << max(int(samples).bit_length() - 1, 1)} or {1 << int(samples).bit_length()}")
        ok = False
    seed = t.get("seed", 0)
    if ck.number("sensitivity.seed", seed, bound("sensitivity", "seed")) is None:
        ok = False
    defaults = t.get("defaults", True)
    if not isinstance(defaults, bool):
        ck.add("sensitivity.defaults", f"found {describe_value(defaults)}; expected true or false")
        ok = False
    metrics = _metrics(ck, t.get("metrics", list(DEFAULT_METRICS)))
    inputs = _inputs(ck, t.get("inputs", {}))
    if ok and metrics is not None and inputs is not None:
        if not defaults and not inputs:
            ck.add("sensitivity", "defaults = false and no inputs given; expected at least one uncertain input")
            return
        ck.c.sensitivity = SensitivitySpec(int(samples), int(seed), metrics, inputs, defaults)


def _metrics(ck, value):
    """The metric names, or None after saying which is not one."""
    from sim.engine import metrics as registry

    names = registry.names()
    if not isinstance(value, list) or not value:
        ck.add("sensitivity.metrics", f"found {describe_value(value)}; expected a list of metric names, e.g. [\"energy_gwh\"]")
        return None
    ok = True
    for i, m in enumerate(value):
        if not isinstance(m, str) or m not in names:
            what = unknown_name("a metric", m, names) if isinstance(m, str) else f"found {describe_value(m)}; expected a metric name"
            ck.add(f"sensitivity.metrics[{i + 1}]", what)
            ok = False
    if ok and len(set(value)) != len(value):
        ck.add("sensitivity.metrics", "a metric is named twice; expected each once")
        ok = False
    return tuple(value) if ok else None


def _inputs(ck, value):
    """key → (min, max), or None after saying what is wrong with each."""
    if not isinstance(value, dict):
        ck.add("sensitivity.inputs", f'found {describe_value(value)}; expected a table {{ "key.path" = {{ min = .., max = .. }} }}')
        return None
    sweepable = ck.c.sweepable
    out, ok = {}, True
    for key, rng in value.items():
        path = f"sensitivity.inputs.{json.dumps(key)}"
        if not isinstance(rng, dict) or set(rng) != {"min", "max"} or not all(
                isinstance(rng[k], (int, float)) and not isinstance(rng[k], bool) for k in rng):
            ck.add(path, f"found {describe_value(rng)}; expected {{ min = <number>, max = <number> }}")
            ok = False
            continue
        problem = input_problem(key, rng["min"], rng["max"], sweepable)
        if problem is not None:
            ck.add(path, problem)
            ok = False
            continue
        out[key] = (float(rng["min"]), float(rng["max"]))
    return out if ok else None
