"""The built-in Bakhri Tojik objects, ready for notebooks: reservoir, plant and daily inputs.

Each function reads its preset (`sim.inputs.presets`, figures and sources from DATA.md) and accepts
overrides, so ``builtin.reservoir(min_level_m=338.0)`` is the preset reservoir with a lower
minimum operating level.

    >>> from sim import builtin, calendar
    >>> period = calendar.growing_season(2025)
    >>> model = builtin.model(period)                      # average inflow, rehabilitated plant
"""

from __future__ import annotations

import numpy as np

from sim.inputs.presets import hypsometry_table, load_preset
from sim.physics import units
from sim.physics.calendar import Period
from sim.physics.demand import User
from sim.physics.hydropower import Plant, TailwaterRating
from sim.physics.hypsometry import Hypsometry, Reservoir
from sim.physics.losses import monthly_mm_to_daily_mm

__all__ = [
    "hypsometry",
    "reservoir",
    "plant",
    "inflow_m3s",
    "evaporation_mm_day",
    "seepage_m3s",
    "baseline_demand_m3s",
    "sanitary_min_release_m3s",
    "model",
]


def hypsometry(name: str = "bakhri-tojik", *, siltation_fraction: float | None = None) -> Hypsometry:
    """The preset's level–storage–area table (DERIVED placeholder), optionally silted."""
    p = load_preset("reservoir", name)
    f = p.get("siltation_fraction") if siltation_fraction is None else siltation_fraction
    level, storage, area = hypsometry_table(name)
    return Hypsometry.from_table(level, storage, area, siltation_fraction=f, source=f"preset {name}")


def reservoir(name: str = "bakhri-tojik", *, hypsometry_table_=None, **overrides) -> Reservoir:
    """The preset reservoir; keyword overrides: min_level_m, normal_level_m, max_level_m,
    spillway_capacity_m3s, siltation_fraction, tailwater_flow_m3s, tailwater_level_m."""
    p = load_preset("reservoir", name).as_dict()
    p.update(overrides)
    hyps = hypsometry_table_ or hypsometry(name, siltation_fraction=p.get("siltation_fraction", 0.0))
    return Reservoir(
        hypsometry=hyps,
        min_level_m=p["min_level_m"],
        normal_level_m=p["normal_level_m"],
        max_level_m=p["max_level_m"],
        spillway_capacity_m3s=p["spillway_capacity_m3s"],
        tailwater=TailwaterRating(p["tailwater_flow_m3s"], p["tailwater_level_m"]),
        name=name,
    )


def plant(name: str = "rehabilitated", **overrides) -> Plant:
    """The preset plant (``original``, ``rehabilitated`` or ``degraded``); keyword overrides:
    units, unit_capacity_mw, unit_max_flow_m3s, efficiency, min_head_m, max_head_m."""
    p = load_preset("plant", name).as_dict()
    p.update(overrides)
    capacity = p.get("unit_capacity_mw_each", p["unit_capacity_mw"]) if "unit_capacity_mw" not in overrides else p["unit_capacity_mw"]
    return Plant.from_field_units(
        p["units"], capacity, p["unit_max_flow_m3s"], p["efficiency"], p["min_head_m"], p["max_head_m"], name=name
    )


def inflow_m3s(period: Period, name: str = "mean-2001-2010") -> np.ndarray:
    """Daily inflow [m³/s] from a preset profile (decadal means held over each decade)."""
    return load_preset("inflow", name).flow_m3s(period)


def evaporation_mm_day(period: Period, name: str = "khujand") -> np.ndarray:
    """Daily open-water evaporation [mm/day]: the preset's monthly depth spread over the month."""
    return monthly_mm_to_daily_mm(load_preset("evaporation", name).get("monthly_mm"), period)


def seepage_m3s(period: Period, name: str = "residual-2001-2010") -> np.ndarray:
    """Daily seepage and other losses [m³/s] (DERIVED balance residual, May–August)."""
    return load_preset("seepage", name).flow_m3s(period)


def baseline_demand_m3s(period: Period, name: str = "baseline-2001-2010") -> np.ndarray:
    """Daily downstream demand at the dam [m³/s]: median 2001–2010 releases (DERIVED)."""
    return load_preset("demand", name).flow_m3s(period)


def sanitary_min_release_m3s() -> float:
    """Sanitary minimum release at the dam [m³/s] (GUESS, DATA.md)."""
    return float(load_preset("constants", "bakhri-tojik").get("sanitary_min_release_m3s"))


def model(period: Period, *, inflow: str = "mean-2001-2010", plant_name: str = "rehabilitated",
          initial_storage_hm3: float | None = None, **kwargs):
    """The Bakhri Tojik model with preset inputs and the baseline downstream demand.

    Keyword arguments are passed to `sim.engine.driver.Model` (they override the presets).
    """
    from sim.engine.driver import Model

    res = kwargs.pop("reservoir", None) or reservoir()
    if initial_storage_hm3 is None:
        initial_storage_hm3 = load_preset("reservoir", "bakhri-tojik").get("typical_storage_april_hm3")
    args = dict(
        period=period,
        reservoir=res,
        plant=plant(plant_name),
        initial_storage_m3=units.hm3_to_m3(initial_storage_hm3),
        inflow_m3s=inflow_m3s(period, inflow),
        evaporation_mm_day=evaporation_mm_day(period),
        seepage_m3s=seepage_m3s(period),
        users=(User("downstream-baseline", baseline_demand_m3s(period), priority=1),),
    )
    args.update(kwargs)
    return Model(**args)
