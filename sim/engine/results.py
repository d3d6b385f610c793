"""Results of a simulation: daily series and per-member metrics.

`SimulationResult` holds, for one regime, the daily series of DESIGN.md (SI units, unit in
every name, shape ``(n_steps, n_members)``) when they were kept, and the per-member metrics
(shape ``(n_members,)``, in the units their names state: hm³, GWh, m, days, or [-]) that the
metric registry (`sim.engine.metrics`) describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.physics import units
from sim.rules.regimes import BINDING

__all__ = ["SimulationResult", "DAILY_FIELDS"]

#: Daily series kept by the engine, with their units. Storage and level are end of day;
#: fluxes are day means. `release_m3s` is all water leaving through the dam; `spill_m3s` is
#: the part that does not pass the turbines, `overtopping_m3s` the part of it over the crest.
DAILY_FIELDS = {
    "inflow_m3s": "m³/s",
    "release_m3s": "m³/s",
    "turbine_flow_m3s": "m³/s",
    "spill_m3s": "m³/s",
    "evaporation_m3s": "m³/s",
    "precipitation_m3s": "m³/s",
    "seepage_m3s": "m³/s",
    "withdrawal_m3s": "m³/s",
    "storage_m3": "m³",
    "level_m": "m a.s.l.",
    "head_m": "m",
    "power_w": "W",
    "energy_mwh": "MWh",
    "demand_m3s": "m³/s",
    "supply_m3s": "m³/s",
    "deficit_m3s": "m³/s",
    "overtopping_m3s": "m³/s",
    "binding": "code (see sim.regimes.BINDING)",
}

@dataclass
class SimulationResult:
    """One regime run over all members.

    Attributes
    ----------
    regime : str
        Regime name.
    dates : ndarray of datetime64[D], shape (n_steps,)
        The simulated days.
    n_members : int
        Number of members.
    metrics : dict of str → ndarray, shape (n_members,)
        Every registered metric (`sim.engine.metrics.names()`, in summary order), units in
        the names ([-] for ratios, days for counts).
    user_metrics : dict of str → dict of str → ndarray, shape (n_members,)
        For each user (by name), the per-user metrics (`sim.engine.metrics.user_names()`).
    daily : dict of str → ndarray, shape (n_steps, n_members), or None
        `DAILY_FIELDS` when kept (``keep_daily=True``); `binding` is int8 codes into
        `sim.regimes.BINDING`.
    user_daily : dict of str → dict with "demand_m3s", "supply_m3s", or None
        Each user's daily demand and supply when kept. [m³/s]
    users : list of (name, location, priority)
        The users, in model order.
    storage_start_m3 : ndarray, shape (n_members,)
        Storage at the start of the first day. [m³]
    timings : dict
        Wall-clock seconds of the run (``"simulate_s"``).
    """

    regime: str
    dates: np.ndarray
    n_members: int
    metrics: dict
    user_metrics: dict
    daily: dict | None
    user_daily: dict | None
    users: list
    storage_start_m3: np.ndarray
    timings: dict = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        """Number of days."""
        return len(self.dates)

    def binding_names(self, member: int = 0) -> list[str]:
        """What set the release on each day, for one member."""
        if self.daily is None:
            raise ValueError("daily series were not kept (simulate with keep_daily=True)")
        return [BINDING[c] for c in self.daily["binding"][:, member]]

    def balance_residual_m3(self):
        """Daily water-balance residual S' − S − (Q + P − E − seepage − W − R)·dt, shape (n_steps, n_members). [m³]"""
        if self.daily is None:
            raise ValueError("daily series were not kept (simulate with keep_daily=True)")
        d = self.daily
        start = np.vstack([self.storage_start_m3[None, :], d["storage_m3"][:-1]])
        net = (
            d["inflow_m3s"] + d["precipitation_m3s"] - d["evaporation_m3s"] - d["seepage_m3s"]
            - d["withdrawal_m3s"] - d["release_m3s"]
        )
        return d["storage_m3"] - start - net * units.SECONDS_PER_DAY

    def member(self, i: int) -> "SimulationResult":
        """The result of member `i` alone (a 1-member result)."""
        sl = slice(i, i + 1)
        return SimulationResult(
            regime=self.regime,
            dates=self.dates,
            n_members=1,
            metrics={k: v[sl] for k, v in self.metrics.items()},
            user_metrics={u: {k: v[sl] for k, v in m.items()} for u, m in self.user_metrics.items()},
            daily=None if self.daily is None else {k: v[:, sl] for k, v in self.daily.items()},
            user_daily=None
            if self.user_daily is None
            else {u: {k: v[:, sl] for k, v in m.items()} for u, m in self.user_daily.items()},
            users=self.users,
            storage_start_m3=self.storage_start_m3[sl],
            timings=dict(self.timings),
        )

    @staticmethod
    def concatenate(parts: list["SimulationResult"]) -> "SimulationResult":
        """Join results of consecutive member chunks (same regime and period)."""
        first = parts[0]
        if len(parts) == 1:
            return first

        def cat(key_fn, axis):
            return np.concatenate([key_fn(p) for p in parts], axis=axis)

        keep = first.daily is not None
        return SimulationResult(
            regime=first.regime,
            dates=first.dates,
            n_members=sum(p.n_members for p in parts),
            metrics={k: cat(lambda p, k=k: p.metrics[k], 0) for k in first.metrics},
            user_metrics={
                u: {k: cat(lambda p, u=u, k=k: p.user_metrics[u][k], 0) for k in m} for u, m in first.user_metrics.items()
            },
            daily={k: cat(lambda p, k=k: p.daily[k], 1) for k in first.daily} if keep else None,
            user_daily={
                u: {k: cat(lambda p, u=u, k=k: p.user_daily[u][k], 1) for k in m} for u, m in first.user_daily.items()
            }
            if keep
            else None,
            users=first.users,
            storage_start_m3=cat(lambda p: p.storage_start_m3, 0),
            timings={"simulate_s": sum(p.timings.get("simulate_s", 0.0) for p in parts)},
        )
