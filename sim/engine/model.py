"""What a run needs except the regime: the `Model`, its members, and member selection for chunks.

The per-member protocol
-----------------------
An ensemble or a sweep is one run over members: any input may differ between members. Three
classes say which of their attributes may, in a class attribute of names:

- ``member_fields`` (`Model`, `sim.physics.hypsometry.Reservoir`, `sim.rules.regimes.Regime`):
  a scalar (the same for every member) or an array of shape ``(n_members,)``;
- ``daily_fields`` (`Model`): a daily series, shape ``(n_steps | 1, 1 | n_members)``;
- a rule's parameters (`sim.rules.base.Param`): numbers per member, series as daily fields.

`n_members_of` reads the member count from them (every non-scalar must agree) and
`select_members` cuts a chunk of members out of each; the engine broadcasts size-1 axes.
A new per-member input is one more name in the right tuple.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.physics import units
from sim.physics.calendar import Period
from sim.physics.hydropower import Plant
from sim.physics.hypsometry import Reservoir
from sim.rules.regimes import Regime

__all__ = ["Model", "n_members_of", "select_members", "realize"]


def _daily(x):
    """A daily input as a 2-D array (n_steps or 1, 1 or n_members)."""
    if x is None or hasattr(x, "materialize") or isinstance(x, _Deferred):
        return x
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a[:, None]
    if a.ndim == 2:
        return a
    raise ValueError(f"a daily input must be 1-D or 2-D (days × members), not {a.ndim}-D")


@dataclass(frozen=True, eq=False)
class Model:
    """Everything a run needs except the regime: the reservoir, the plant and the inputs.

    Daily inputs have shape ``(n_steps,)``, ``(n_steps, 1)`` or ``(n_steps, n_members)`` (a
    scalar is constant); per-member parameters are scalars or ``(n_members,)``.

    Parameters
    ----------
    period : Period
        The simulated days (one step per day).
    reservoir : Reservoir
        Table, operating levels, spillway, tailwater.
    plant : Plant
        The hydropower plant.
    initial_storage_m3 : float or ndarray
        Storage at the start of the first day. [m³]
    inflow_m3s : ndarray or generator
        Reservoir inflow; or an object with ``materialize(members: slice, n_total) ->
        ndarray (n_steps, k)`` (a stochastic ensemble, generated chunk by chunk). [m³/s]
    inflow_scale : float or ndarray
        Multiplier of the inflow, per member. [-]
    evaporation_mm_day, precipitation_mm_day : daily
        Depth rates over the water surface. [mm/day]
    evaporation_factor : float or ndarray
        Multiplier of evaporation (sensitivity, ±30 % in DATA.md). [-]
    seepage_m3s : daily
        Seepage and other losses from the reservoir. [m³/s]
    units_available : daily or None
        Units able to run on each day (None: all). [-]
    users : tuple of User
        Water users (downstream and reservoir).
    reach_loss_fraction : float or ndarray
        Share of the dam outflow lost before the downstream intakes. [-]
    lateral_inflow_m3s : daily
        Inflow between the dam and the intakes. [m³/s]
    extra_release_m3s : daily
        Release added on top of the rule's request, before the limits (a study's extra
        volume for a user, sim.studies.exchange); the limits still apply. Default 0. [m³/s]
    """

    period: Period
    reservoir: Reservoir
    plant: Plant
    initial_storage_m3: Any
    inflow_m3s: Any
    inflow_scale: Any = 1.0
    evaporation_mm_day: Any = 0.0
    evaporation_factor: Any = 1.0
    precipitation_mm_day: Any = 0.0
    seepage_m3s: Any = 0.0
    units_available: Any = None
    users: tuple = ()
    reach_loss_fraction: Any = 0.0
    lateral_inflow_m3s: Any = 0.0
    extra_release_m3s: Any = 0.0

    #: Inputs given per day (and per member): see the per-member protocol above.
    daily_fields = (
        "inflow_m3s", "evaporation_mm_day", "precipitation_mm_day", "seepage_m3s", "units_available",
        "lateral_inflow_m3s", "extra_release_m3s",
    )
    #: Inputs that may differ between members.
    member_fields = ("initial_storage_m3", "inflow_scale", "evaporation_factor", "reach_loss_fraction")

    def __post_init__(self):
        n = self.period.n_days
        for name in self.daily_fields:
            a = _daily(getattr(self, name))
            if isinstance(a, np.ndarray):
                if a.shape[0] not in (1, n):
                    raise ValueError(f"{name} has {a.shape[0]} days; the period has {n}")
                if not np.all(np.isfinite(a)):
                    raise ValueError(f"{name} has non-finite values")
                if name != "lateral_inflow_m3s" and np.any(a < 0):
                    raise ValueError(f"{name} has negative values")
            object.__setattr__(self, name, a)
        for name in self.member_fields:
            a = np.asarray(getattr(self, name), dtype=float)
            if a.ndim > 1 or not np.all(np.isfinite(a)):
                raise ValueError(f"{name} must be a finite number or a per-member 1-D array")
            object.__setattr__(self, name, a)
        if np.any(self.initial_storage_m3 < 0):
            raise ValueError("initial_storage_m3 must be >= 0")
        # Each member's own table when a storage factor transforms it.
        top = self.reservoir.max_storage_m3()
        over = self.initial_storage_m3 > top
        if np.any(over):
            top = float(np.min(np.broadcast_to(top, over.shape)[over]))
            raise ValueError(
                f"initial_storage_m3 is {np.max(self.initial_storage_m3) * units.HM3_PER_M3:g} hm³; expected at most the top of the "
                f"level–storage table ({top * units.HM3_PER_M3:g} hm³ at {self.reservoir.hypsometry.max_level_m:g} m)"
            )
        if np.any((self.reach_loss_fraction < 0) | (self.reach_loss_fraction >= 1)):
            raise ValueError("reach_loss_fraction must be in [0, 1)")
        object.__setattr__(self, "users", tuple(self.users))
        names = [u.name for u in self.users]
        if len(set(names)) != len(names):
            raise ValueError(f"user names must be unique: {names}")
        for u in self.users:
            if u.demand_m3s.shape[0] not in (1, n):
                raise ValueError(f"user {u.name}: demand has {u.demand_m3s.shape[0]} days; the period has {n}")


def _member_sizes(obj, fields):
    sizes = set()
    for name in fields:
        a = getattr(obj, name)
        if hasattr(a, "n_members"):
            sizes.add(a.n_members)
        elif isinstance(a, np.ndarray) and a.ndim >= 1 and a.shape[-1] > 1:
            sizes.add(a.shape[-1])
    return sizes


def n_members_of(model: Model, regime: Regime | None = None) -> int:
    """Number of members implied by the per-member arrays of a model and regime (1 if none).

    Raises ValueError when two arrays disagree.
    """
    sizes = _member_sizes(model, model.daily_fields + model.member_fields)
    sizes |= _member_sizes(model.reservoir, model.reservoir.member_fields)
    eff = np.asarray(model.plant.efficiency)
    if eff.ndim == 1 and eff.size > 1:
        sizes.add(eff.size)
    for u in model.users:
        sizes |= _member_sizes(u, ("demand_m3s", "scale"))
    if regime is not None:
        sizes |= _member_sizes(regime, tuple(f for f in regime.member_fields if getattr(regime, f) is not None))
        for v in regime.params.values():
            if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[-1] > 1:
                sizes.add(v.shape[-1])
    if len(sizes) > 1:
        raise ValueError(f"per-member arrays disagree on the number of members: {sorted(sizes)}")
    return sizes.pop() if sizes else 1


class _Deferred:
    """Members `sl` of a generated input, made where the chunk runs (e.g. in a worker)."""

    def __init__(self, source, sl, n):
        self.source, self.sl, self.n = source, sl, n

    def __call__(self):
        return self.source.materialize(self.sl, self.n)


def _take(a, sl, n, lazy=False):
    if hasattr(a, "materialize"):
        return _Deferred(a, sl, n) if lazy else a.materialize(sl, n)
    if isinstance(a, np.ndarray) and a.ndim >= 1 and a.shape[-1] == n and n > 1:
        return a[..., sl]
    return a


def select_members(model: Model, regime: Regime, sl: slice, n: int, lazy: bool = False):
    """The model and regime restricted to members `sl` of `n`.

    Generated inputs (stochastic inflow) are made for those members now, or, with `lazy`,
    when the chunk runs (`realize`), so that a task sent to another process stays small.
    """
    m = {f: _take(getattr(model, f), sl, n, lazy) for f in model.daily_fields + model.member_fields}
    m["reservoir"] = dataclasses.replace(
        model.reservoir, **{f: _take(getattr(model.reservoir, f), sl, n) for f in model.reservoir.member_fields}
    )
    eff = np.asarray(model.plant.efficiency)
    if eff.ndim == 1 and eff.size == n and n > 1:
        m["plant"] = dataclasses.replace(model.plant, efficiency=eff[sl])
    m["users"] = tuple(
        dataclasses.replace(u, demand_m3s=_take(u.demand_m3s, sl, n), scale=_take(u.scale, sl, n)) for u in model.users
    )
    r = {f: _take(getattr(regime, f), sl, n) for f in regime.member_fields if getattr(regime, f) is not None}
    r["params"] = {k: _take(v, sl, n) for k, v in regime.params.items()}
    return dataclasses.replace(model, **m), dataclasses.replace(regime, **r)


def realize(model: Model) -> Model:
    """The model with its deferred inputs made (in the process that runs the chunk)."""
    deferred = {f: getattr(model, f)() for f in model.daily_fields if isinstance(getattr(model, f), _Deferred)}
    return dataclasses.replace(model, **deferred) if deferred else model
