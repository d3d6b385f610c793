"""The rule registry: what an operating rule is, and the rules registered by name.

An operating rule decides each day's release before the limits every regime shares (sim.rules
.regimes). A rule is one module that builds a `Rule` and registers it: its parameters
(`Param`: TOML key, kind, bound, default, sweepable), its cross-key checks, how its
parameters become the compiled step's fields (`prepare`), its compiled step and its
reference step. The scenario loader, the sweep, the engine and the reference loop read
everything about a rule from here; nothing else names a rule's parameters.

The compiled step (a numba function) has one signature for every rule::

    step(p, t, j, s0, sg, lev, pv, q, wn, dsum, lateral, reach_loss,
         turb_max, cap_w, rge, min_head, use_hi, hs, hl, hl_slope, tq, tl, tl_slope)
        -> (release [m³/s] as a float, binding code as an int)

``p`` is the tuple of the rule's fields (2-D float arrays ``(1 | n_steps, 1 | n_members)``
read with `sim.physics.compiled.field_at`, in the order `prepare` returns them), ``t`` the
day, ``j`` the member; then the start-of-day storage [m³], its table segment and level
[m a.s.l.], yesterday's release (NaN on the first day unless the regime gives one) [m³/s],
the day's inflow and net water (inflow less losses) [m³/s], the downstream demand and the
lateral inflow [m³/s], the reach-loss fraction, the available units' flow [m³/s] and
capacity [W], ρgη [W per m³/s per m], the minimum head [m], whether the regime has a
maximum release, and the level–storage and tailwater tables (see sim.physics.compiled).
The engine's kernel calls it through a dispatch generated over the registry
(sim.engine.dispatch), so a rule registered anywhere, a test file included, runs compiled.

The reference step is plain Python: ``reference(model, params) -> step(day) -> (release,
binding name)``, where ``params`` holds one member's values (floats, or lists over days for
series) and ``day`` is a `ReferenceDay`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from sim.physics.ranges import Bound

__all__ = [
    "BINDING", "BINDING_CODE", "RULE", "HEDGING", "MIN_RELEASE", "MAX_RELEASE", "RAMP_UP", "RAMP_DOWN", "CAPACITY",
    "AVAILABLE", "SPILLED", "HEAD_LIMIT", "OVERTOPPING", "NUMBER", "SERIES", "FLOW_SERIES", "GUIDE",
    "RESERVOIR_LEVELS", "Param", "Rule", "ReferenceDay", "RULES", "register", "unregister", "rule_names", "as_field",
]

#: Names of what set a day's release, in code order (int8 codes in results).
BINDING = (
    "rule",  # the regime's own request
    "hedging",  # demand rule, cut by hedging below the trigger level
    "min_release",  # the regime's minimum (sanitary) release
    "max_release",  # the regime's maximum release
    "ramp_up",  # maximum day-to-day increase
    "ramp_down",  # maximum day-to-day decrease
    "capacity",  # what the outlets pass (spillway + turbines while they run); power rule: units, generators
    "available",  # water above the minimum operating level
    "spill",  # the reservoir was full: forced spill above normal level
    "head",  # power rule: the head (minimum head, or tailwater) limits the power
    "overtopping",  # the reservoir was at the dam crest and water flowed over it
)
BINDING_CODE = {name: i for i, name in enumerate(BINDING)}
# The codes as constants, for compiled code (numba reads module-level ints as constants).
RULE, HEDGING, MIN_RELEASE, MAX_RELEASE, RAMP_UP, RAMP_DOWN, CAPACITY, AVAILABLE, SPILLED, HEAD_LIMIT, OVERTOPPING = range(11)

# Kinds of parameter, i.e. how a scenario file gives it.
NUMBER = "number"  # a number; per member in a sweep
SERIES = "series"  # a number or a series table ({ monthly = [...] }, ...): a daily series
FLOW_SERIES = "flow series"  # a flow in one of the forms of the inflow (constant_m3s, monthly_m3s, csv, ...)
GUIDE = "guide"  # a level, or a guide curve { "04-01" = 346.0, ... }: a daily series of levels

#: The bound of a level parameter: the scenario's level–storage table, known only with the
#: reservoir (the loader puts the table's range in its place).
RESERVOIR_LEVELS = Bound(unit="m a.s.l.")


@dataclass(frozen=True)
class Param:
    """One parameter of a rule.

    Attributes
    ----------
    name : str
        Its name in `Regime.params` and in the rule's `prepare`, e.g. ``hedging_factor``.
    key : str
        Its key in the scenario file, below ``[regimes.<name>]``, dotted for a sub-table,
        e.g. ``hedging.factor``; a ``FLOW_SERIES`` parameter is read from the flow forms.
    kind : str
        `NUMBER`, `SERIES`, `FLOW_SERIES` or `GUIDE`.
    bound : Bound
        The values it accepts (`RESERVOIR_LEVELS`: the reservoir's level range).
    default : float or None
        Its value when not given; None: required (unless `group` names it).
    sweepable : bool
        Whether a sweep may vary it (``regimes.<name>.<sweep key>``); a series only when
        the file gives a constant.
    sweep_key : str
        The key a sweep names (default: `key`).
    sweep_bound : Bound or None
        The values a sweep may give (default: `bound`), when the rule's `check` is narrower.
    group : str
        A sub-table whose keys come together (``hedging``): all or none of them.
    unit, doc : str
        For messages, the schema and the documentation.
    """

    name: str
    key: str
    kind: str = NUMBER
    bound: Bound = field(default_factory=Bound)
    default: Any = None
    sweepable: bool = True
    sweep_key: str = ""
    sweep_bound: Bound | None = None
    group: str = ""
    unit: str = ""
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is None and not self.group

    @property
    def series(self) -> bool:
        """A daily series (shape (n_steps, 1 | n_members)), not a number per member."""
        return self.kind != NUMBER

    @property
    def sweep_name(self) -> str:
        return self.sweep_key or self.key


@dataclass(frozen=True, eq=False)
class Rule:
    """An operating rule (see the module's docstring for the steps' signatures).

    Attributes
    ----------
    name : str
        The value of ``rule`` in a scenario file and in `Regime`.
    doc : str
        What it does, for people.
    params : tuple of Param
        Its parameters, required ones first.
    prepare : callable
        ``prepare(model, **params) -> tuple of fields``: the compiled step's ``p``.
    step : sim._jit.Kernel (or a numba dispatcher)
        The compiled step: ``@njit`` from sim._jit, compiled when the engine's compiled path
        first needs it; the plain-Python path runs its Python function (``step.py_func``).
    reference : callable
        ``reference(model, params) -> step(day) -> (release, binding name)``.
    check : callable
        ``check(params) -> list of (parameter name, problem)``: checks beyond each
        parameter's bound (e.g. between keys); empty when all is well.
    describe : callable
        ``describe(given) -> str``: one line for summaries, from what the scenario file gave
        for each parameter (by name: the number or series as written; the form of a flow
        series); None: the rule's name.
    follows_demand : bool
        Whether the rule's request grows with the downstream demand (the ``demand`` rule):
        a study that adds demand (sim.studies.exchange) then needs no extra release on top.
    """

    name: str
    doc: str
    params: tuple
    prepare: Callable
    step: Any
    reference: Callable
    check: Callable = lambda params: []
    describe: Callable = None
    follows_demand: bool = False

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def describe_params(self, given: dict) -> str:
        return self.describe(given) if self.describe is not None else self.name


@dataclass
class ReferenceDay:
    """One day as the reference loop shows it to a rule's reference step (one member, floats).

    ``hydraulics`` is the day's `sim.physics.hydraulics.DayHydraulics` (head, turbine flow,
    power at any release); ``prev`` is None on the first day unless the regime gives one.
    """

    t: int
    storage_m3: float
    level_m: float
    prev: float | None
    inflow_m3s: float
    net_m3s: float  # inflow less losses
    demand_m3s: float  # downstream
    lateral_m3s: float
    reach_loss: float
    turb_max: float
    max_release_m3s: float
    hydraulics: Any


#: Registered rules by name, in registration order (the compiled dispatch's order).
RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Add a rule to the registry (its name must be new); returns it."""
    if rule.name in RULES:
        raise ValueError(f'a rule named "{rule.name}" is already registered')
    names = [p.name for p in rule.params]
    if len(set(names)) != len(names):
        raise ValueError(f"rule {rule.name}: parameter names repeat: {names}")
    RULES[rule.name] = rule
    return rule


def unregister(name: str) -> None:
    """Remove a rule from the registry (tests that register their own)."""
    del RULES[name]


def rule_names() -> list[str]:
    """Names of the registered rules, sorted."""
    return sorted(RULES)


def as_field(x, rows=1):
    """A parameter as a C-contiguous 2-D field: (1 | rows, 1 | n_members)."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        a = a[None, :] if rows == 1 else a[:, None]
    return np.ascontiguousarray(a)
