"""Dotted override keys (``inflow.scale``, ``regimes.<name>.hedging.factor`` ...): one
validator for the three ways of giving them, a TOML ``[sweep]`` table,
``Scenario.build(overrides=...)`` and the command line's ``--set``; and the full factorial grid
a sweep's values make.

The numeric keys a scenario accepts, with their bounds, are collected while it is checked
(``Compiled.sweepable``: dotted path → `sim.physics.ranges.Bound`); each caller prefixes the
problem with where the key was written (``sweep."inflow.scale"``, ``overrides["inflow.scale"]``,
``--set "inflow.scale=..."``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.physics.ranges import Bound
from sim.scenario.errors import did_you_mean


def key_problem(key: str, sweepable: Mapping[str, Bound]) -> str | None:
    """Why ``key`` is not a numeric key of the scenario (with a did-you-mean), or None."""
    if key in sweepable:
        return None
    choices = sorted(sweepable)
    hint = did_you_mean(key, choices)
    if hint:
        return f"not a numeric key of this scenario{hint}"
    return f"not a numeric key of this scenario; expected one of {', '.join(choices)}"


def override_problem(key: str, values, sweepable: Mapping[str, Bound]) -> str | None:
    """Why ``values`` (a number or an array of them) cannot override ``key``, or None: an
    unknown key (`key_problem`), else the first value outside the key's bound."""
    problem = key_problem(key, sweepable)
    if problem is not None:
        return problem
    a = np.atleast_1d(np.asarray(values, dtype=float))
    bound = sweepable[key]
    bad = a[~bound.ok_all(a)]
    return bound.problem(float(bad[0])) if bad.size else None


def grid(parameters: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Full factorial grid: path → values, each of shape ``(n_settings,)``; first varies slowest."""
    if not parameters:
        return {}
    mesh = np.meshgrid(*[np.asarray(v, dtype=float) for v in parameters.values()], indexing="ij")
    return {path: m.ravel() for path, m in zip(parameters, mesh, strict=True)}
