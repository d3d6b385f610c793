r"""Hydropower: head, tailwater rating, unit limits, power and energy.

The plant is a set of identical or unequal units (Kaplan turbines). On a day with ``k``
units available, the first ``k`` units of the list run (an outage or rehabilitation schedule
says how many). Turbine flow is limited by the units' maximum flow, by the minimum head below
which the turbines cannot run, and by the generators' capacity: flow the generators cannot
use passes the spillway. Power is

.. math:: P = \rho g \eta Q_t H

with net head H = forebay level − tailwater level (no separate head-loss term: losses are
folded into the efficiency η, which is a GUESS for this plant, see DATA.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.physics import units
from sim.physics._interp import PiecewiseLinear

__all__ = [
    "Plant",
    "TailwaterRating",
    "power_w",
    "head_m",
    "energy_mwh",
    "turbine_flow_m3s",
    "check_plant",
]


def power_w(turbine_flow_m3s, head_m, efficiency):
    r"""Electrical power from turbine flow and net head.

    Parameters
    ----------
    turbine_flow_m3s : float or ndarray
        Flow through the turbines. [m³/s]
    head_m : float or ndarray
        Forebay minus tailwater level; negative head gives zero power. [m]
    efficiency : float or ndarray
        Overall turbine-generator efficiency. [-]

    Returns
    -------
    ndarray
        Power, in the broadcast shape of the inputs. [W]

    Notes
    -----
    .. math:: P = \rho g Q H \eta

    With ρ = 1000 kg/m³ and g = 9.81 m/s², 100 m³/s through 20 m at η = 0.9 gives 17.658 MW.
    """
    return (
        units.WATER_DENSITY_KG_M3
        * units.GRAVITY_M_S2
        * np.asarray(efficiency, dtype=float)
        * np.asarray(turbine_flow_m3s, dtype=float)
        * np.maximum(head_m, 0.0)
    )


def head_m(forebay_level_m, tailwater_level_m):
    """Net head: forebay level minus tailwater level, never negative. [m]"""
    return np.maximum(np.asarray(forebay_level_m, dtype=float) - tailwater_level_m, 0.0)


def energy_mwh(power_w, hours=24.0):
    """Energy of a constant power over `hours` (default one day). [MWh]"""
    return np.asarray(power_w, dtype=float) * hours * units.MW_PER_W


def turbine_flow_m3s(outflow_m3s, head_m, max_flow_m3s, capacity_w, efficiency, min_head_m):
    """Flow through the turbines: the outflow, limited by the units and the head.

    Parameters
    ----------
    outflow_m3s : ndarray
        All water leaving through the dam. [m³/s]
    head_m : ndarray
        Net head. [m]
    max_flow_m3s : ndarray
        Sum of the maximum flows of the available units. [m³/s]
    capacity_w : ndarray
        Sum of the generator capacities of the available units. [W]
    efficiency : float or ndarray
        Overall efficiency. [-]
    min_head_m : float
        Below this head the turbines do not run. [m]

    Returns
    -------
    ndarray
        min(outflow, unit flow limit, capacity / (ρ g η H)), zero below the minimum head. [m³/s]
    """
    rho_g_eta = units.WATER_DENSITY_KG_M3 * units.GRAVITY_M_S2 * efficiency
    with np.errstate(divide="ignore", invalid="ignore"):
        power_limited = np.where(head_m > 0, capacity_w / (rho_g_eta * np.maximum(head_m, 1e-12)), np.inf)
    q = np.minimum(np.minimum(outflow_m3s, max_flow_m3s), power_limited)
    return np.where(head_m >= min_head_m, q, 0.0)


@dataclass(frozen=True, eq=False)
class TailwaterRating:
    """Tailwater level as a function of total outflow, piecewise-linear.

    Beyond the table the end segments are extended linearly. The built-in rating is a GUESS
    (level = 325.0 + 0.003 (Q − 300) m; DATA.md): replace it with a surveyed one when known.

    Parameters
    ----------
    flow_m3s : ndarray
        Outflows, strictly increasing, starting at or below 0. [m³/s]
    level_m : ndarray
        Tailwater level at each flow, non-decreasing. [m a.s.l.]
    """

    flow_m3s: np.ndarray
    level_m: np.ndarray
    _f: PiecewiseLinear = field(init=False, repr=False)

    def __post_init__(self):
        q = np.array(self.flow_m3s, dtype=float)
        h = np.array(self.level_m, dtype=float)
        problems = []
        if q.ndim != 1 or q.shape != h.shape or q.size < 2:
            problems.append("flow_m3s and level_m must be lists of equal length >= 2")
        elif not np.all(np.isfinite(q)) or not np.all(np.isfinite(h)):
            problems.append("flows and levels must be finite")
        else:
            if np.any(np.diff(q) <= 0):
                problems.append("flow_m3s must increase strictly")
            if np.any(np.diff(h) < 0):
                problems.append("level_m must not decrease with flow")
        if problems:
            raise ValueError("tailwater rating: " + "; ".join(problems))
        object.__setattr__(self, "flow_m3s", q)
        object.__setattr__(self, "level_m", h)
        object.__setattr__(self, "_f", PiecewiseLinear(q, h, n_buckets=1024))

    def __call__(self, outflow_m3s):
        """Tailwater level at the given outflows. [m a.s.l.]"""
        return self._f(outflow_m3s)

    @property
    def curve(self) -> PiecewiseLinear:
        """The rating as a piecewise-linear table (level is table 0), for the engine's kernels."""
        return self._f


def check_plant(n_units, unit_capacity_mw, unit_max_flow_m3s, efficiency, min_head_m, max_head_m) -> list[str]:
    """Problems with plant parameters (empty list if none)."""
    problems = []
    if int(n_units) != n_units or n_units < 0:
        problems.append(f"units is {n_units}; expected a whole number >= 0")
    for name, v in (("unit_capacity_mw", unit_capacity_mw), ("unit_max_flow_m3s", unit_max_flow_m3s)):
        a = np.atleast_1d(np.asarray(v, dtype=float))
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            problems.append(f"{name} is {v}; expected finite numbers >= 0")
        elif a.size not in (1, int(n_units)):
            problems.append(f"{name} has {a.size} values; expected 1 or one per unit ({int(n_units)})")
    eff = np.asarray(efficiency, dtype=float)
    if not np.all((eff > 0) & (eff <= 1)):
        problems.append(f"efficiency is {efficiency}; expected 0 < efficiency <= 1")
    if not (np.isfinite(min_head_m) and np.isfinite(max_head_m) and 0 <= min_head_m < max_head_m):
        problems.append(f"head range {min_head_m}–{max_head_m} m; expected 0 <= min_head_m < max_head_m")
    return problems


@dataclass(frozen=True, eq=False)
class Plant:
    """A hydropower plant of ``n_units`` units.

    Parameters
    ----------
    n_units : int
        Number of installed units.
    unit_capacity_w : ndarray, shape (n_units,)
        Generator capacity of each unit. [W]
    unit_max_flow_m3s : ndarray, shape (n_units,)
        Maximum turbine flow of each unit. [m³/s]
    efficiency : float
        Overall turbine × generator efficiency. [-]
    min_head_m, max_head_m : float
        Operating head range; below the minimum the turbines stop. Above the maximum they
        still run, limited by generator capacity. [m]
    name : str
        Preset or description, for reports.
    """

    n_units: int
    unit_capacity_w: np.ndarray
    unit_max_flow_m3s: np.ndarray
    efficiency: float
    min_head_m: float
    max_head_m: float
    name: str = ""

    def __post_init__(self):
        problems = check_plant(
            self.n_units, self.unit_capacity_w * units.MW_PER_W, self.unit_max_flow_m3s, self.efficiency,
            self.min_head_m, self.max_head_m,
        )
        if problems:
            raise ValueError("plant: " + "; ".join(problems))
        n = int(self.n_units)
        object.__setattr__(self, "n_units", n)
        object.__setattr__(self, "unit_capacity_w", np.broadcast_to(np.asarray(self.unit_capacity_w, float), (n,)).copy())
        object.__setattr__(self, "unit_max_flow_m3s", np.broadcast_to(np.asarray(self.unit_max_flow_m3s, float), (n,)).copy())

    @classmethod
    def from_field_units(cls, n_units, unit_capacity_mw, unit_max_flow_m3s, efficiency, min_head_m, max_head_m, name=""):
        """Build from MW capacities (per unit, scalar or list)."""
        return cls(int(n_units), units.mw_to_w(np.asarray(unit_capacity_mw, float)), np.asarray(unit_max_flow_m3s, float),
                   float(efficiency), float(min_head_m), float(max_head_m), name)

    @property
    def installed_w(self) -> float:
        """Installed capacity, all units. [W]"""
        return float(self.unit_capacity_w.sum())

    def available(self, units_available):
        """Total max flow [m³/s] and capacity [W] with the first ``k`` units running.

        `units_available` may be any integer array (e.g. a daily schedule, per member); values
        are clipped to 0..n_units. Returns two arrays of its shape.
        """
        k = np.clip(np.asarray(units_available), 0, self.n_units).astype(np.intp)
        cum_flow = np.concatenate([[0.0], np.cumsum(self.unit_max_flow_m3s)])
        cum_cap = np.concatenate([[0.0], np.cumsum(self.unit_capacity_w)])
        return cum_flow[k], cum_cap[k]
