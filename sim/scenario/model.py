"""`Scenario`: a checked scenario, and `Scenario.build` turning it into the engine's model and regimes."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
from typing import Any
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from sim.physics import units
from sim.physics.calendar import Period
from sim.physics.ranges import number_text
from sim.scenario.errors import did_you_mean, key_text, ScenarioError
from sim.scenario.keys import SECTIONS
from sim.scenario.regimes import build_regimes
from sim.scenario.specs import Compiled, EnsembleSpec, SweepSpec


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
    sources: tuple = ()
    _compiled: Compiled = field(default=None, repr=False, compare=False)

    # -- engine objects -----------------------------------------------------------------

    @property
    def regime_names(self) -> list[str]:
        """Regime names, in run order."""
        return list(self.regimes_spec)

    @property
    def sweepable(self) -> list[str]:
        """Dotted paths of the numeric keys that `build` accepts as overrides (and ``[sweep]``)."""
        return sorted(self._compiled.sweepable)

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
        from sim.physics.demand import User
        from sim.engine.driver import Model

        c = self._compiled
        ov, n = self._check_overrides(overrides, n_members)

        def get(path, base):
            return ov.get(path, base)

        def series_override(path, base):
            """A constant series swept: shape (1, n) instead of the (n_steps,) base."""
            return ov[path][None, :] if path in ov else base

        res = c.reservoir
        changed = {k: ov[f"reservoir.{k}"] for k in res._member_fields if f"reservoir.{k}" in ov}
        if changed:
            res = dataclasses.replace(res, **changed)
        if "reservoir.initial_level_m" in ov:
            initial = c.hypsometry.storage_fast(ov["reservoir.initial_level_m"])
        elif "reservoir.initial_storage_hm3" in ov:
            initial = units.hm3_to_m3(ov["reservoir.initial_storage_hm3"])
        else:
            initial = c.initial_storage_m3
        plant = c.plant
        if "plant.efficiency" in ov:
            plant = dataclasses.replace(plant, efficiency=ov["plant.efficiency"])
        inflow = c.inflow_m3s
        if self.ensemble is not None:
            from sim.inputs.inflow import StochasticInflow

            e = self.ensemble
            inflow = StochasticInflow(c.inflow_m3s, self.period, n, e.seed, e.inflow_cv, e.inflow_lag1)
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
            seepage_m3s=series_override("losses.seepage_m3s", c.seepage_m3s),
            units_available=series_override("plant.units_available", c.units_available),
            users=tuple(users),
            reach_loss_fraction=get("downstream.reach_loss_fraction", c.reach_loss_fraction),
            lateral_inflow_m3s=series_override("downstream.lateral_inflow_m3s", c.lateral_inflow_m3s),
        )
        return model, build_regimes(c.regimes, ov)

    def _check_overrides(self, overrides, n_members):
        c = self._compiled
        ov: dict[str, np.ndarray] = {}
        problems = []
        sizes = set()
        for path, values in (overrides or {}).items():
            where = f"overrides[{json.dumps(path)}]"
            if path not in c.sweepable:
                hint = did_you_mean(path, sorted(c.sweepable))
                problems.append(f"{where}: not a numeric key of this scenario{hint}")
                continue
            a = np.asarray(values, dtype=float)
            if a.ndim > 1:
                problems.append(f"{where}: found an array of shape {a.shape}; expected one value per member, shape (n_members,)")
                continue
            b = c.sweepable[path]
            bad = np.atleast_1d(a)[~b.ok_all(np.atleast_1d(a))]
            if bad.size:
                problems.append(f"{where}: {b.problem(float(bad[0]))}")
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

    def plot_kwargs(self, model=None, regimes=None) -> dict:
        """Keyword arguments for `sim.plotting.save_all` / `plot_comparison` / `plot_level`.

        ``limits`` (minimum, normal and maximum levels [m a.s.l.]), ``title``, ``question``
        (the file's description), a data-source ``footnote``, and ``guide_curves``: the daily
        target level of every ``level`` regime [m a.s.l.], shape ``(n_steps,)``.
        """
        from sim import __version__

        if model is None or regimes is None:
            model, regimes = self.build()
        r = model.reservoir
        limits = {"min": float(np.min(r.min_level_m)), "normal": float(np.min(r.normal_level_m)),
                  "max": float(np.min(r.max_level_m))}
        n = self.period.n_days
        guide = {}
        for name, reg in regimes.items():
            if reg.rule == "level":
                target = np.asarray(reg.params["target_level_m"], dtype=float)
                column = target.reshape(target.shape[0], -1)[:, 0] if target.ndim else target.reshape(1)
                guide[name] = np.broadcast_to(column, (n,)).copy() if column.size in (1, n) else column[:n].copy()
        footnote = ("Data: built-in Bakhri Tojik presets (DATA.md); hypsometry and tailwater are DERIVED/GUESS "
                    f"placeholders. Tool: bakhri {__version__}")
        return {"limits": limits, "title": self.title or self.name, "footnote": footnote,
                "guide_curves": guide or None, "question": self.description or None}

    # -- text -------------------------------------------------------------------------------

    def to_toml(self) -> str:
        """The resolved scenario as TOML (``scenario.resolved.toml``); loads back to the same.

        Paths are absolute; presets are kept by name next to the values they filled in.
        """
        from sim import __version__

        lines = [
            f"# Scenario \"{self.name}\" after inheritance and presets (sim {__version__}).",
            *(f"# read from {s}" for s in self.sources),
        ]
        r = self.resolved
        for section in SECTIONS:
            if section not in r:
                continue
            value = r[section]
            if section == "demand":
                for item in value:
                    lines += ["", "[[demand]]"] + _toml_pairs(item)
            elif section == "regimes":
                for name, table in value.items():
                    lines += ["", f"[regimes.{key_text(name)}]"] + _toml_pairs(table)
            else:
                lines += ["", f"[{section}]"] + _toml_pairs(value)
        return "\n".join(lines) + "\n"

    def summary_text(self) -> str:
        """A readable view of the resolved scenario, for ``bakhri show``."""
        c, r = self._compiled, self.resolved
        hm3 = units.HM3_PER_M3S_DAY

        def vol(a):
            return float(np.sum(a)) * hm3 if a is not None else 0.0

        lines = [f"{self.name}: {self.title}"]
        if self.description:
            lines += [f"  {line}" for line in self.description.strip().splitlines()]
        if self.sources:
            lines.append("  files: " + " → ".join(self.sources))
        lines.append(f"period      {self.period} ({self.period.n_days} days)")
        rv = r["reservoir"]
        init = c.initial_storage_m3
        lines.append(
            f"reservoir   {rv['preset']}: start {float(c.hypsometry.level_m_at(init)):.2f} m "
            f"({units.m3_to_hm3(init):.0f} hm³); levels min {rv['min_level_m']}, normal {rv['normal_level_m']}, "
            f"max {rv['max_level_m']} m; spillway {rv['spillway_capacity_m3s']} m³/s; table {c.hypsometry.source}"
            + (f", silted {rv['siltation_fraction']}" if rv["siltation_fraction"] else "")
        )
        p = c.plant
        ua = "all units" if c.units_available is None else f"units available {c.units_available.min():g}–{c.units_available.max():g}"
        lines.append(
            f"plant       {r['plant']['preset']}: {p.n_units} units, {p.installed_w * 1e-6:g} MW, "
            f"{p.unit_max_flow_m3s.sum():g} m³/s, efficiency {p.efficiency}, head {p.min_head_m:g}–{p.max_head_m:g} m; {ua}"
        )
        lines.append(
            f"inflow      {c.inflow_source} × {c.inflow_scale:g}: {vol(c.inflow_m3s) * c.inflow_scale:.0f} hm³ "
            f"(mean {float(np.mean(c.inflow_m3s)) * c.inflow_scale:.0f} m³/s)"
        )
        evap = r["losses"]["evaporation_mm_month"]
        evap_txt = f'preset "{evap["preset"]}"' if isinstance(evap, dict) else "12 monthly values"
        lines.append(
            f"losses      evaporation {evap_txt} × {c.evaporation_factor:g} "
            f"({float(np.sum(c.evaporation_mm_day)) * c.evaporation_factor:.0f} mm over the period); "
            f"precipitation {float(np.sum(c.precipitation_mm_day)):.0f} mm; seepage {vol(c.seepage_m3s):.0f} hm³"
        )
        lines.append(
            f"downstream  reach loss {c.reach_loss_fraction:g}; lateral inflow {vol(c.lateral_inflow_m3s):.0f} hm³"
        )
        if c.users:
            lines.append("demand")
            for u in c.users:
                lines.append(
                    f"  {u.name}: priority {u.priority}, {u.location}; {u.source}"
                    + (f" × {u.scale:g}" if u.scale != 1 else "")
                    + f"; {vol(u.demand_m3s) * u.scale:.0f} hm³ in the period"
                )
        else:
            lines.append("demand      none")
        lines.append("regimes")
        for name, spec in c.regimes.items():
            lim = ", ".join(f"{k.removesuffix('_m3s').removesuffix('_m3s_day').replace('_', ' ')} {number_text(v)}"
                            for k, v in spec.limits.items() if not (k == "min_release_m3s" and v == 0))
            lines.append(f"  {name}: {spec.describe}" + (f" ({lim} m³/s)" if lim else ""))
        if self.ensemble is not None:
            e = self.ensemble
            lines.append(
                f"ensemble    {e.members} members, seed {e.seed}, inflow cv {e.inflow_cv:g}, lag-1 {e.inflow_lag1:g}"
            )
        if self.sweep is not None:
            s = self.sweep
            lines.append(f"sweep       {s.method}, {s.n_members} members")
            for k, v in s.parameters.items():
                shown = ", ".join(f"{x:g}" for x in v) if s.method == "grid" else f"{v[0]:g}..{v[1]:g}"
                lines.append(f"  {k}: {shown}")
        return "\n".join(lines) + "\n"


def _toml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (datetime.date, datetime.datetime, datetime.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_toml_scalar(x) for x in v) + "]"
    if isinstance(v, Mapping):
        if not v:
            return "{}"
        return "{ " + ", ".join(f"{key_text(k)} = {_toml_scalar(x)}" for k, x in v.items()) + " }"
    if isinstance(v, np.generic):
        return _toml_scalar(v.item())
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _toml_pairs(table: Mapping) -> list[str]:
    lines = []
    for k, v in table.items():
        text = _toml_scalar(v)
        if isinstance(v, list) and len(text) > 96 and not any(isinstance(x, (list, Mapping)) for x in v):
            items = [_toml_scalar(x) for x in v]
            rows = [", ".join(items[i : i + 12]) for i in range(0, len(items), 12)]
            text = "[\n" + ",\n".join(f"    {row}" for row in rows) + ",\n]"
        lines.append(f"{key_text(k)} = {text}")
    return lines
