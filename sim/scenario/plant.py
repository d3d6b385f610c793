"""Checks of the ``[plant]`` table."""

from __future__ import annotations

import math

from sim.physics.ranges import (
    Bound,
    EFFICIENCY,
    FLOW,
    HEAD,
    HEAD_POSITIVE,
    MAX_UNIT_MW,
    MAX_UNITS,
    number_text,
)
from sim.scenario.errors import is_number
from sim.scenario.keys import PLANT_KEYS


def check_plant(ck):
    t = ck.table("plant", ck.data.get("plant"), PLANT_KEYS)
    if t is None:
        return
    out = {"preset": t.get("preset", "rehabilitated")}
    ck.out["plant"] = out
    p = ck.preset("plant.preset", "plant", out["preset"])
    pv = p.as_dict() if p else {}
    if "unit_capacity_mw_each" in pv:
        pv["unit_capacity_mw"] = pv["unit_capacity_mw_each"]
    ok = p is not None
    bounds = {
        "units": Bound(0.0, MAX_UNITS, integer=True, mistake=lambda v: "the plant has 6 units" if v > 0 else ""),
        "efficiency": EFFICIENCY, "min_head_m": HEAD, "max_head_m": HEAD_POSITIVE,
        "unit_capacity_mw": Bound(0.0, MAX_UNIT_MW, unit="MW", mistake=lambda v: "29 MW per unit; kW instead of MW?" if v > 0 else ""),
        "unit_max_flow_m3s": FLOW,
    }  # fmt: skip
    for k in ("units", "unit_capacity_mw", "unit_max_flow_m3s", "efficiency", "min_head_m", "max_head_m"):
        v = t.get(k, pv.get(k))
        out[k] = v
        if k not in t:
            continue
        if k in ("unit_capacity_mw", "unit_max_flow_m3s") and isinstance(v, list):
            for i, x in enumerate(v):
                if ck.number(f"plant.{k}[{i + 1}]", x, bounds[k]) is None:
                    ok = False
        elif ck.number(f"plant.{k}", v, bounds[k]) is None:
            ok = False
    if ok:
        n = int(out["units"])
        for k in ("unit_capacity_mw", "unit_max_flow_m3s"):
            if isinstance(out[k], list) and len(out[k]) != n:
                ck.add(f"plant.{k}", f"found {len(out[k])} values; expected one number, or one per unit ({n})")
                ok = False
        if out["min_head_m"] >= out["max_head_m"]:
            ck.add("plant.min_head_m", f"{number_text(out['min_head_m'])} is not below max_head_m {number_text(out['max_head_m'])}")
            ok = False
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
    ck.c.sweepable["plant.efficiency"] = bounds["efficiency"]
    if "units_available" not in t or is_number(t["units_available"]) or (
        isinstance(t["units_available"], dict) and "constant" in t["units_available"]
    ):
        ck.c.sweepable["plant.units_available"] = Bound(0.0, out["units"], integer=True)
