"""Operating regimes: a rule plus the limits every rule shares.

The rule is a name in the registry (`RULES`; the built-in ``schedule``, ``demand``,
``power`` and ``level`` are one module each in sim.rules) or a Python callable
``rule(day, **params)`` (sim.rules.python). Every parameter may be a scalar or an array over
members, shape ``(n_members,)``; series parameters are daily arrays of shape
``(n_steps, 1)`` or ``(n_steps, n_members)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.rules.base import BINDING, BINDING_CODE, RULES, rule_names
from sim.rules.python import Day, python_step

__all__ = ["Regime", "Day", "RULES", "BINDING", "BINDING_CODE", "rule_names"]


@dataclass(frozen=True, eq=False)
class Regime:
    """An operating regime: a rule, its parameters, and the limits every rule shares.

    Parameters
    ----------
    rule : str or callable
        A name in `RULES` (sim.rules.base), or ``f(day, **params) -> release_m3s``
        (sim.rules.python).
    params : dict
        The rule's parameters (its `Rule.params`); scalars, per-member arrays
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

    #: Attributes that may differ between members (sim.engine.model, the per-member protocol).
    member_fields = ("min_release_m3s", "max_release_m3s", "max_change_m3s_day", "initial_release_m3s")

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
            spec = RULES[self.rule]
            names = [p.name for p in spec.params]
            missing = [p.name for p in spec.params if p.required and p.name not in self.params]
            unknown = [p for p in self.params if p not in names]
            if missing or unknown:
                raise ValueError(
                    f"rule {self.rule}: "
                    + "; ".join([f"missing parameter {p}" for p in missing] + [f"unknown parameter {p}" for p in unknown])
                )
            problems = spec.check(self.params)
            if problems:
                raise ValueError(f"rule {self.rule}: " + "; ".join(f"{k}: {p}" for k, p in problems))
        elif not callable(self.rule):
            raise TypeError(f"rule must be a name or a callable, not {type(self.rule).__name__}")
        if not self.name:
            object.__setattr__(self, "name", self.rule if isinstance(self.rule, str) else getattr(self.rule, "__name__", "custom"))
        series = {p.name for p in RULES[self.rule].params if p.series} if isinstance(self.rule, str) else set()
        params = {}
        for k, v in self.params.items():
            a = np.asarray(v, dtype=float) if not callable(v) and v is not None else v
            if isinstance(a, np.ndarray) and k in series and a.ndim == 1:
                a = a[:, None]
            params[k] = a
        object.__setattr__(self, "params", params)
        for name in self.member_fields:
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

    def prepare(self, model):
        """The registered rule's fields for its compiled step (a tuple, see sim.rules.base);
        for a callable rule, ``step(day) -> release_m3s`` instead."""
        if isinstance(self.rule, str):
            return tuple(RULES[self.rule].prepare(model, **self.params))
        return python_step(self.rule, self.params)
