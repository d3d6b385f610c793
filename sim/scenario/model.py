"""`Scenario`: a checked scenario, and `Scenario.build` turning it into the engine's model and regimes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.physics import units
from sim.physics.calendar import Period
from sim.scenario.errors import ScenarioError
from sim.scenario.overrides import key_problem, override_problem
from sim.scenario.regimes import build_regimes
from sim.scenario.resolved import resolved_toml
from sim.scenario.specs import Compiled, EnsembleSpec, OptimiseSpec, SweepSpec


@dataclass(frozen=True)
class Scenario:
    """A checked scenario: the question, the period, and everything after presets.

    Attributes
    ----------
    name : str
        Plain name ``[a-z0-9-]+``; names the output folder.
    title, description : str
        A short title, and the question the file answers.
    path : str or None
        The file it was loaded from.
    period : Period
        The simulated days.
    resolved : dict
        The whole scenario after inheritance and presets, as plain TOML data (see `to_toml`).
    regimes_spec : dict
        Regime name → its resolved table, in run order.
    ensemble : EnsembleSpec or None
        Stochastic inflow ensemble.
    sweep : SweepSpec or None
        Parameter sweep.
    optimise : OptimiseSpec or None
        The search of ``bakhri optimise`` (`sim.studies.optimise`).
    sources : tuple of str
        Every file read, the scenario file first, then its ``extends`` chain.
    """

    name: str
    title: str
    description: str
    path: str | None
    period: Period
    resolved: dict
    regimes_spec: dict
    ensemble: EnsembleSpec | None = None
    sweep: SweepSpec | None = None
    optimise: OptimiseSpec | None = None
    sources: tuple = ()
    _compiled: Compiled = field(default=None, repr=False, compare=False)

    @property
    def regime_names(self) -> list[str]:
        """Regime names, in run order."""
        return list(self.regimes_spec)

    @property
    def compiled(self) -> Compiled:
        """The daily arrays and engine objects the checks compiled (one member), for reports."""
        return self._compiled

    @property
    def sweepable(self) -> list[str]:
        """Dotted paths of the numeric keys that `build` accepts as overrides (and ``[sweep]``)."""
        return sorted(self._compiled.sweepable)

    def override_problem(self, key: str, values) -> str | None:
        """Why ``values`` cannot override the dotted ``key`` (see `sweepable`), or None."""
        return override_problem(key, values, self._compiled.sweepable)

    def build(self, overrides: Mapping[str, Any] | None = None, n_members: int | None = None):
        """The engine's model and regimes, optionally with per-member parameter values.

        Parameters
        ----------
        overrides : Mapping of str to array_like, optional
            Dotted key path (see `sweepable`) → one value per member, shape ``(n_members,)``
            (a scalar applies to every member). Each maps to a per-member field of the
            engine (``inflow.scale`` → ``Model.inflow_scale``, ``reservoir.initial_level_m``
            → ``Model.initial_storage_m3``, ``demand.<name>.volume_hm3`` → ``User.scale``,
            ``regimes.<name>.hedging.factor`` → the regime's ``hedging_factor``, constant
            series → shape ``(1, n_members)``), so no ``(n_steps, n_members)`` array is made,
            except for a swept ``volume_hm3`` of a demand that also has ``extra_m3s``.
        n_members : int, optional
            Number of members; default: the length of the override arrays, else
            ``ensemble.members`` with an ``[ensemble]``, else 1. With an ``[ensemble]`` the
            inflow is a `sim.inflow.StochasticInflow` of this many members (tile sweep values
            to cross them with the inflow members).

        Returns
        -------
        model : sim.engine.Model
        regimes : dict of str to sim.regimes.Regime
            In run order.

        Raises
        ------
        ScenarioError
            An override path that is not a numeric key of the scenario, a value out of its
            range, or arrays of different lengths.
        """
        from sim.engine.model import Model  # not the driver: validation builds too, and runs nothing
        from sim.physics.demand import User

        c = self._compiled
        ov, n = self._check_overrides(overrides, n_members)

        def get(path, base):
            return ov.get(path, base)

        def series_override(path, base):
            """A constant series swept: shape (1, n) instead of the (n_steps,) base."""
            return ov[path][None, :] if path in ov else base

        res = c.reservoir
        changed = {k: ov[f"reservoir.{k}"] for k in res.member_fields if f"reservoir.{k}" in ov}
        if changed:
            res = dataclasses.replace(res, **changed)
        # Levels turn into storages in each member's own table (the file's table unless a
        # storage factor or exponent factor is swept: sim.physics.hypsometry.MemberHypsometry).
        tables = res.member_hypsometry()
        # A storage is a figure of the table as given: each member starts at its level.
        if "reservoir.initial_level_m" in ov:
            initial = tables.storage_fast(ov["reservoir.initial_level_m"])
        elif "reservoir.initial_storage_hm3" in ov:
            initial = units.hm3_to_m3(ov["reservoir.initial_storage_hm3"])
            if tables is not c.hypsometry:
                initial = tables.rebase(initial)
        elif changed and tables is not c.hypsometry:
            initial = (tables.storage_fast(c.initial_level_m) if c.initial_level_m is not None
                       else tables.rebase(c.initial_in_table_m3))
        else:
            initial = c.initial_storage_m3
        plant = c.plant
        if "plant.efficiency" in ov:
            plant = dataclasses.replace(plant, efficiency=ov["plant.efficiency"])
        inflow = c.inflow_m3s
        if self.ensemble is not None:
            from sim.inputs.inflow import StochasticInflow

            e = self.ensemble
            lag1 = ov["ensemble.inflow_lag1"] if "ensemble.inflow_lag1" in ov else e.inflow_lag1
            inflow = StochasticInflow(c.inflow_m3s, self.period, n, e.seed, e.inflow_cv, lag1)
        users = []
        for u in c.users:
            scale = get(f"demand.{u.name}.scale", u.scale)
            demand = u.demand_m3s
            vol_path, const_path = f"demand.{u.name}.volume_hm3", f"demand.{u.name}.constant_m3s"
            if vol_path in ov:
                if np.any(u.extra_m3s):
                    demand = u.unit_m3s[:, None] * ov[vol_path][None, :] + u.extra_m3s[:, None]
                else:
                    demand, scale = u.unit_m3s, scale * ov[vol_path]
            elif const_path in ov:
                demand, scale = np.ones(self.period.n_days), scale * ov[const_path]
            users.append(User(u.name, demand, priority=u.priority, location=u.location, scale=scale))
        model = Model(
            period=self.period,
            reservoir=res,
            plant=plant,
            initial_storage_m3=initial,
            inflow_m3s=inflow,
            inflow_scale=get("inflow.scale", c.inflow_scale),
            evaporation_mm_day=c.evaporation_mm_day,
            evaporation_factor=get("losses.evaporation_factor", c.evaporation_factor),
            precipitation_mm_day=c.precipitation_mm_day,
            seepage_m3s=self._seepage(ov),
            units_available=series_override("plant.units_available", c.units_available),
            users=tuple(users),
            reach_loss_fraction=get("downstream.reach_loss_fraction", c.reach_loss_fraction),
            lateral_inflow_m3s=series_override("downstream.lateral_inflow_m3s", c.lateral_inflow_m3s),
        )
        return model, build_regimes(c.regimes, ov)

    def _seepage(self, ov):
        """The daily seepage field: the series (or its swept constant, shape (1, n)) times
        ``seepage_factor`` (per member when swept: shape (n_steps, n)); untouched at factor 1."""
        c = self._compiled
        seep = ov["losses.seepage_m3s"][None, :] if "losses.seepage_m3s" in ov else c.seepage_m3s
        if "losses.seepage_factor" in ov:
            a = np.asarray(seep, dtype=float)
            return (a if a.ndim == 2 else a.reshape(-1, 1)) * ov["losses.seepage_factor"][None, :]
        if c.seepage_factor != 1.0:
            return np.asarray(seep, dtype=float) * c.seepage_factor
        return seep

    def _check_overrides(self, overrides, n_members):
        c = self._compiled
        ov: dict[str, np.ndarray] = {}
        problems = []
        sizes = set()
        for path, values in (overrides or {}).items():
            where = f"overrides[{json.dumps(path)}]"
            problem = key_problem(path, c.sweepable)
            if problem is not None:
                problems.append(f"{where}: {problem}")
                continue
            a = np.asarray(values, dtype=float)
            if a.ndim > 1:
                problems.append(f"{where}: found an array of shape {a.shape}; expected one value per member, shape (n_members,)")
                continue
            problem = override_problem(path, a, c.sweepable)
            if problem is not None:
                problems.append(f"{where}: {problem}")
                continue
            if a.ndim == 1:
                sizes.add(a.size)
            ov[path] = a
        if len(sizes) > 1:
            problems.append(f"overrides: arrays of different lengths {sorted(sizes)}; expected one value per member each")
        n = n_members if n_members is not None else (sizes.pop() if len(sizes) == 1 else (
            self.ensemble.members if self.ensemble is not None else 1))
        if sizes and n_members is not None and sizes != {n_members}:
            problems.append(f"overrides: {sorted(sizes)[0]} values per key but n_members={n_members}")
        if problems:
            raise ScenarioError(self.path, problems)
        ov = {k: (np.full(n, float(v)) if v.ndim == 0 else v) for k, v in ov.items()}
        return ov, int(n)

    def to_toml(self) -> str:
        """The resolved scenario as TOML (``scenario.resolved.toml``); loads back to the same.

        Paths are absolute; presets are kept by name next to the values they filled in.
        """
        return resolved_toml(self.name, self.sources, self.resolved)
