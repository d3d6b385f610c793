"""Checks of the ``[plant]`` table."""

from __future__ import annotations

import math

from sim.physics.ranges import Bound
from sim.scenario.errors import is_number
from sim.scenario.keys import PLANT_KEYS, bound

#: The plant's numeric keys, in the order of `sim.physics.hydropower.check_plant`'s arguments.
_PLANT_NUMBERS = ("units", "unit_capacity_mw", "unit_max_flow_m3s", "efficiency", "min_head_m", "max_head_m")


def check_plant(ck):
    """Check ``[plant]``: preset, units and their capacities, efficiency, head range and units available;
    compiles the `Plant`."""
    got = ck.preset_section("plant", PLANT_KEYS, "rehabilitated")
    if got is None:
        return
    t, out, p, pv = got
    if "unit_capacity_mw_each" in pv:
        pv["unit_capacity_mw"] = pv["unit_capacity_mw_each"]
    ok = _plant_numbers(ck, t, out, pv) and p is not None
    if ok:
        from sim.physics.hydropower import check_plant as plant_problems

        # Values per unit and the head range are the plant's own check: one wording for files
        # and for the Python API.
        problems = plant_problems(*(out[k] for k in _PLANT_NUMBERS))
        for problem in problems:
            ck.add("plant", problem)
        ok = not problems
    if "units_available" in t:
        out["units_available"] = t["units_available"]
        n_units = out["units"] if ok else math.inf
        ua = ck.value_series("plant.units_available", t["units_available"], bound=Bound(0.0, n_units, integer=True))
        if ua is None:
            ok = False
        ck.c.units_available = ua
    if not ok:
        return
    from sim.physics.hydropower import Plant

    try:
        ck.c.plant = Plant.from_field_units(
            out["units"], out["unit_capacity_mw"], out["unit_max_flow_m3s"], out["efficiency"],
            out["min_head_m"], out["max_head_m"], name=out["preset"],
        )
    except ValueError as err:
        ck.add("plant", str(err).removeprefix("plant: "))
        return
    ck.c.sweepable["plant.efficiency"] = bound("plant", "efficiency")
    if "units_available" not in t or is_number(t["units_available"]) or (
        isinstance(t["units_available"], dict) and "constant" in t["units_available"]
    ):
        ck.c.sweepable["plant.units_available"] = Bound(0.0, out["units"], integer=True)


def _plant_numbers(ck, t: dict, out: dict, pv: dict) -> bool:
    """Check the plant's numbers given in the file (a number, or one per unit for capacity and
    flow; the preset's values stand for absent keys) into `out`; False when one is wrong."""
    ok = True
    for k in _PLANT_NUMBERS:
        v = t.get(k, pv.get(k))
        out[k] = v
        if k not in t:
            continue
        if k in ("unit_capacity_mw", "unit_max_flow_m3s") and isinstance(v, list):
            for i, x in enumerate(v):
                if ck.number(f"plant.{k}[{i + 1}]", x, bound("plant", k)) is None:
                    ok = False
        elif ck.number(f"plant.{k}", v, bound("plant", k)) is None:
            ok = False
    return ok
