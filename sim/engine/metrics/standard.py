"""The metrics every run reports, registered in summary order (DESIGN.md summary.csv columns).

Each entry computes its value from the kernel's sums (`Context`); volumes in hm³ are the sums
of daily mean flows times `units.HM3_PER_M3S_DAY`. The per-user entries follow Hashimoto et
al. (1982): `sim.engine.metrics.hashimoto` holds their definitions on daily series, which the
tests check these sums against.
"""

from __future__ import annotations

import numpy as np

# kernels may import DEFICIT_TOLERANCE_M3S from this package: read its constants only inside
# the functions, so either module can be imported first.
from sim.engine import kernels as K
from sim.engine.metrics.registry import Metric, register
from sim.physics import units

__all__ = ["storage_energy_change_gwh"]

_HM3 = units.HM3_PER_M3S_DAY


def _volume(index):
    """Sum of a daily flow [m³/s·day] as a volume [hm³]."""
    return lambda c: c.acc[getattr(K, index)] * _HM3


def _count(index):
    return lambda c: c.acc[getattr(K, index)]


def _user_volume(index):
    return lambda c: c.user[getattr(K, index)] * _HM3


def storage_energy_change_gwh(c):
    """Energy equivalent of the season's change in storage [GWh] (DERIVED, an indication).

    ``(S_end − S_start) × E / V_t``: the change in stored water valued at the season's own
    energy per turbined volume (E generated, V_t turbined). Negative when the season drew the
    reservoir down: water that later releases will not turn into energy. 0 where nothing was
    turbined.
    """
    turbined = c.acc[K.S_TURBINE]
    per_m3s_day = np.divide(c.acc[K.S_ENERGY_MWH] * units.GWH_PER_MWH, turbined, out=np.zeros_like(turbined), where=turbined > 0)
    return (c.storage_end_m3 - c.storage_start_m3) / units.SECONDS_PER_DAY * per_m3s_day


def _reliability_time(c):
    return 1.0 - c.user[K.U_FAIL_DAYS] / c.n_steps


def _reliability_volume(c):
    supply, demand = c.user[K.U_SUPPLY], c.user[K.U_DEMAND]
    return np.divide(supply, demand, out=np.ones_like(demand), where=demand > 0)


def _resilience(c):
    recov, n_fail = c.user[K.U_RECOVERIES], c.user[K.U_FAIL_DAYS]
    return np.divide(recov, n_fail, out=np.ones_like(recov), where=n_fail > 0)


def _vulnerability_hm3(c):
    events = c.user[K.U_EVENTS]
    return np.divide(c.user[K.U_VULNERABILITY], events, out=np.zeros_like(events), where=events > 0) * _HM3


for _m in (
    Metric("inflow_hm3", "hm³", None, "Inflow", _volume("S_INFLOW")),
    Metric("release_hm3", "hm³", None, "Release", _volume("S_RELEASE"), fmt="{:,.0f}",
           show={"table": 2, "page": 2}),
    Metric("turbine_hm3", "hm³", "max", "Turbine flow", _volume("S_TURBINE")),
    Metric("spill_hm3", "hm³", "min", "Spill", _volume("S_SPILL"), fmt="{:,.1f}",
           show={"table": 3, "page": 8}, formats={"page": "{:,.0f}"}),
    Metric("evaporation_hm3", "hm³", None, "Evaporation", _volume("S_EVAP")),
    Metric("precipitation_hm3", "hm³", None, "Precipitation", _volume("S_PRECIP")),
    Metric("seepage_hm3", "hm³", None, "Seepage", _volume("S_SEEP")),
    Metric("withdrawal_hm3", "hm³", None, "Withdrawal", _volume("S_WITHDRAWAL")),
    Metric("storage_start_hm3", "hm³", None, "Start storage", lambda c: units.m3_to_hm3(c.storage_start_m3)),
    Metric("storage_end_hm3", "hm³", "max", "End storage", lambda c: units.m3_to_hm3(c.storage_end_m3),
           fmt="{:,.0f}", show={"table": 9}),
    Metric("balance_error_hm3", "hm³", "min", "Balance error", lambda c: units.m3_to_hm3(c.acc[K.S_RESIDUAL]),
           fmt="{:.1e}", show={"table": 10}, worst_only=True),
    Metric("level_min_m", "m a.s.l.", "max", "Min level", lambda c: c.hyps.level_fast(c.acc[K.S_STORAGE_MIN]),
           fmt="{:.2f}", show={"table": 7, "page": 6}),
    Metric("level_max_m", "m a.s.l.", None, "Max level", lambda c: c.hyps.level_fast(c.acc[K.S_STORAGE_MAX])),
    Metric("level_end_m", "m a.s.l.", "max", "End level", lambda c: c.level_end_m.copy(), fmt="{:.2f}",
           show={"table": 8, "page": 7, "sweep": 4}, formats={"sweep": "{:,.1f}"}),
    Metric("energy_gwh", "GWh", "max", "Energy", lambda c: c.acc[K.S_ENERGY_MWH] * units.GWH_PER_MWH, fmt="{:,.1f}",
           show={"table": 1, "page": 1, "sweep": 1}, formats={"page": "{:,.0f}"}),
    Metric("storage_energy_change_gwh", "GWh", "max", "Storage energy change", storage_energy_change_gwh),
    Metric("demand_hm3", "hm³", None, "Demand", _user_volume("U_DEMAND"), per_user=True),
    Metric("supply_hm3", "hm³", "max", "Supply", _user_volume("U_SUPPLY"), per_user=True),
    Metric("deficit_hm3", "hm³", "min", "Deficit", _user_volume("U_DEFICIT"), fmt="{:,.1f}", per_user=True,
           show={"table": 4, "page": 3, "sweep": 2}, formats={"page": "{:,.0f}"}),
    Metric("reliability_time", "-", "max", "Time reliability", _reliability_time, fmt="{:.3f}", per_user=True,
           show={"table": 6, "page": 5}, formats={"page": "{:.2f}"}),
    Metric("reliability_volume", "-", "max", "Volumetric reliability", _reliability_volume, short="Vol. reliability",
           fmt="{:.3f}", per_user=True, show={"table": 5, "page": 4, "sweep": 3}, formats={"sweep": "{:,.3f}"}),
    Metric("resilience", "-", "max", "Resilience", _resilience, per_user=True),
    Metric("vulnerability_hm3", "hm³", "min", "Vulnerability", _vulnerability_hm3, per_user=True),
    Metric("days_below_min_level", "d", "min", "Days below min level", _count("S_BELOW_MIN")),
    Metric("days_below_min_by_losses", "d", "min", "Days below min by losses", _count("S_BELOW_MIN_LOSSES")),
    Metric("spill_days", "d", "min", "Spill days", _count("S_SPILL_DAYS")),
    Metric("surcharge_days", "d", "min", "Surcharge days", _count("S_SURCHARGE")),
    Metric("days_above_max_level", "d", "min", "Days above max level", _count("S_ABOVE_MAX")),
    Metric("overtopping_hm3", "hm³", "min", "Overtopping", _volume("S_OVERTOP")),
    Metric("overtopping_days", "d", "min", "Overtopping days", _count("S_OVERTOP_DAYS")),
):
    register(_m)
del _m
