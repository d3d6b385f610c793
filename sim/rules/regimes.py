"""Operating regimes: the rules that decide each day's release.

A regime is a rule plus the limits every rule shares. The built-in rules, registered by name
in `RULES`, are

``schedule``
    Release a prescribed series (e.g. an agreed decadal schedule).
``demand``
    Release what downstream needs at the dam — total downstream demand less lateral inflow,
    grossed up for reach losses — cut to ``hedging_factor`` of it while the level is below
    ``hedging_trigger_level_m`` (standard hedging: accept a small deficit now to keep water
    for later).
``power``
    Release the smallest flow that generates ``target_mw`` with the head the energy of the
    day uses: the level at the mean of the day's start and end storage, less the tailwater
    at that flow (solved by Newton's method in a bracket). When no flow reaches the target,
    release the flow of the most power the limits allow: the turbines of the available
    units, the generators, the minimum head, and the tailwater (power ρgηQ·H(Q) can peak
    below the turbines' full flow because the tailwater rises with Q). The binding code says
    what limited it: ``capacity`` (units, generators) or ``head``. More target never gives
    less power.
``level``
    Follow a guide curve: the day's target is the guide-curve level for that date, reached at
    the end of the day (the level the results show for it). With ``approach_days`` a > 1 the
    rule closes 1/a of the start-of-day gap to the curve each day, measured from the curve's
    moving value, so it follows a moving curve without lag once on it. ``approach_days``
    must be >= 1 (`check_level_rule`): less than a day's step overshoots and oscillates.
    Without a regime ``max_release_m3s`` the rule asks at most the turbines' flow of the
    available units (its default maximum: following a curve opens no spillway; storage
    above the normal level still spills).

A Python callable serves as a rule too: ``rule(day, **params)`` returns the release
[m³/s], a scalar or an array of shape ``(n_members,)``; `day` is the `Day` of the engine.

Every parameter may be a scalar or an array over members, shape ``(n_members,)``; series
parameters are daily arrays of shape ``(n_steps, 1)`` or ``(n_steps, n_members)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from sim.engine import kernels as _kernels
from sim.physics import units

__all__ = [
    "Regime",
    "Day",
    "RULES",
    "BINDING",
    "BINDING_CODE",
    "rule_names",
    "check_level_rule",
    "MIN_APPROACH_DAYS",
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


@dataclass(frozen=True)
class Day:
    """What a rule knows when it decides a day's release (all arrays shape (n_members,)).

    Attributes
    ----------
    t : int
        Day index in the period (0-based).
    date : numpy.datetime64
        The day.
    storage_m3 : ndarray
        Storage at the start of the day. [m³]
    level_m : ndarray
        Level at the start of the day. [m a.s.l.]
    inflow_m3s : ndarray
        Today's inflow. [m³/s]
    net_loss_m3s : ndarray
        Today's losses as taken: evaporation + seepage + withdrawals − precipitation. [m³/s]
    demand_m3s : ndarray
        Today's total downstream demand. [m³/s]
    lateral_inflow_m3s : ndarray
        Today's lateral inflow between the dam and the intakes. [m³/s]
    reach_loss_fraction : ndarray
        Share of the outflow lost in the reach. [-]
    previous_release_m3s : ndarray
        Yesterday's release (NaN on the first day unless the regime gives one). [m³/s]
    turbine_max_flow_m3s : ndarray
        Maximum flow of today's available units. [m³/s]
    capacity_w : ndarray
        Generator capacity of today's available units. [W]
    min_storage_m3 : ndarray
        Storage at the minimum operating level. [m³]
    model : object
        The engine's model (hypsometry, tailwater, plant), for rules that need them.
    """

    t: int
    date: Any
    storage_m3: np.ndarray
    level_m: np.ndarray
    inflow_m3s: np.ndarray
    net_loss_m3s: np.ndarray
    demand_m3s: np.ndarray
    lateral_inflow_m3s: np.ndarray
    reach_loss_fraction: np.ndarray
    previous_release_m3s: np.ndarray
    turbine_max_flow_m3s: np.ndarray
    capacity_w: np.ndarray
    min_storage_m3: np.ndarray
    model: Any = field(repr=False)


def _field(x, rows=1):
    """A parameter as a C-contiguous 2-D field: (1 | rows, 1 | n_members)."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        a = a[None, :] if rows == 1 else a[:, None]
    return np.ascontiguousarray(a)


_NONE = np.zeros((1, 1))


def _schedule(model, n_members, release_m3s, scale=1.0):
    return _kernels.SCHEDULE, _field(release_m3s, rows=model.period.n_days), _field(scale), _NONE


def _demand(model, n_members, hedging_trigger_level_m=None, hedging_factor=1.0, scale=1.0):
    trigger = -np.inf if hedging_trigger_level_m is None else hedging_trigger_level_m
    return _kernels.DEMAND_RULE, _field(trigger), _field(hedging_factor), _field(scale)


def _power(model, n_members, target_mw):
    target_w = units.mw_to_w(_field(target_mw, rows=model.period.n_days))
    return _kernels.POWER_RULE, target_w, _NONE, _NONE


#: The level rule closes the gap to its guide curve over at least one day, the model's step.
MIN_APPROACH_DAYS = 1.0


def check_level_rule(approach_days) -> list[str]:
    """Problems with the level rule's ``approach_days`` (empty list if none); the scenario
    loader reports them under the key, `Regime` as ``rule level: approach_days: ...``."""
    a = np.atleast_1d(np.asarray(approach_days, dtype=float))
    bad = a[~(np.isfinite(a) & (a >= MIN_APPROACH_DAYS))]
    if bad.size:
        return [f"found {bad[0]:g}; expected a number of days >= {MIN_APPROACH_DAYS:g} "
                "(the model steps one day: closing the gap in less overshoots the guide curve and oscillates)"]
    return []


def _level(model, n_members, target_level_m, approach_days=1.0):
    target_storage_m3 = model.reservoir.hypsometry.storage_fast(_field(target_level_m, rows=model.period.n_days))
    return _kernels.LEVEL_RULE, np.ascontiguousarray(target_storage_m3), _field(approach_days), _NONE


#: Built-in rules by name: each ``factory(model, n_members, **params)`` returns the compiled
#: rule's id and its parameter fields ``(rule_id, p0, p1, p2)`` (see
#: `sim._kernels.advance`, where the rules' arithmetic lives).
RULES: dict[str, Callable] = {
    "schedule": _schedule,
    "demand": _demand,
    "power": _power,
    "level": _level,
}

#: Parameters each built-in rule takes (required ones first), for validation.
RULE_PARAMS = {
    "schedule": {"required": ("release_m3s",), "optional": ("scale",)},
    "demand": {"required": (), "optional": ("hedging_trigger_level_m", "hedging_factor", "scale")},
    "power": {"required": ("target_mw",), "optional": ()},
    "level": {"required": ("target_level_m",), "optional": ("approach_days",)},
}

#: Series (daily) parameters of each rule, shape (n_steps, 1 | n_members).
SERIES_PARAMS = {"release_m3s", "target_mw", "target_level_m"}


def rule_names() -> list[str]:
    """Names of the built-in rules."""
    return sorted(RULES)


@dataclass(frozen=True, eq=False)
class Regime:
    """An operating regime: a rule, its parameters, and the limits every rule shares.

    Parameters
    ----------
    rule : str or callable
        A name in `RULES`, or ``f(day, **params) -> release_m3s``.
    params : dict
        The rule's parameters (see `RULE_PARAMS`); scalars, per-member arrays
        ``(n_members,)`` or daily series ``(n_steps, 1 | n_members)``.
    name : str
        Name in results and plots.
    min_release_m3s : float or ndarray
        Minimum (sanitary) release; like every release, it cannot take water that is not
        there. [m³/s]
    max_release_m3s : float or ndarray
        Maximum release by the regime (not the dam's capacity). [m³/s]
    max_change_m3s_day : float or ndarray
        Largest day-to-day change of the release (ramping). [m³/s per day]
    initial_release_m3s : float or ndarray or None
        Release on the day before the period, for ramping on the first day; None: no ramping
        limit on the first day. [m³/s]
    """

    rule: Any
    params: dict = field(default_factory=dict)
    name: str = ""
    min_release_m3s: Any = 0.0
    max_release_m3s: Any = np.inf
    max_change_m3s_day: Any = np.inf
    initial_release_m3s: Any = None

    _member_fields = ("min_release_m3s", "max_release_m3s", "max_change_m3s_day", "initial_release_m3s")

    def __post_init__(self):
        if isinstance(self.rule, str):
            if self.rule not in RULES:
                import difflib

                close = difflib.get_close_matches(self.rule, RULES, n=1)
                hint = f'; did you mean "{close[0]}"?' if close else ""
                raise ValueError(
                    f'"{self.rule}" is not a rule{hint} (choose one of '
                    + ", ".join(f'"{r}"' for r in rule_names())
                    + ")"
                )
            spec = RULE_PARAMS[self.rule]
            missing = [p for p in spec["required"] if p not in self.params]
            unknown = [p for p in self.params if p not in spec["required"] + spec["optional"]]
            if missing or unknown:
                raise ValueError(
                    f"rule {self.rule}: "
                    + "; ".join([f"missing parameter {p}" for p in missing] + [f"unknown parameter {p}" for p in unknown])
                )
            if self.rule == "level" and "approach_days" in self.params:
                problems = check_level_rule(self.params["approach_days"])
                if problems:
                    raise ValueError("rule level: approach_days: " + "; ".join(problems))
        elif not callable(self.rule):
            raise TypeError(f"rule must be a name or a callable, not {type(self.rule).__name__}")
        if not self.name:
            object.__setattr__(self, "name", self.rule if isinstance(self.rule, str) else getattr(self.rule, "__name__", "custom"))
        params = {}
        for k, v in self.params.items():
            a = np.asarray(v, dtype=float) if not callable(v) and v is not None else v
            if isinstance(a, np.ndarray) and k in SERIES_PARAMS and a.ndim == 1:
                a = a[:, None]
            params[k] = a
        object.__setattr__(self, "params", params)
        for name in self._member_fields:
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, np.asarray(v, dtype=float))
        lo, hi = self.min_release_m3s, self.max_release_m3s
        if np.any(lo < 0) or np.any(~np.isfinite(lo)):
            raise ValueError(f"min_release_m3s is {lo}; expected a finite number >= 0")
        if np.any(hi < lo):
            raise ValueError(f"max_release_m3s {hi} is below min_release_m3s {lo}")
        if np.any(self.max_change_m3s_day <= 0):
            raise ValueError(f"max_change_m3s_day is {self.max_change_m3s_day}; expected > 0")

    def prepare(self, model, n_members):
        """The compiled rule's ``(rule_id, p0, p1, p2)``; for a callable rule,
        ``step(day) -> release_m3s`` instead."""
        if isinstance(self.rule, str):
            return RULES[self.rule](model, n_members, **self.params)
        rule, params = self.rule, self.params

        def step(day):
            return rule(day, **params)

        return step
