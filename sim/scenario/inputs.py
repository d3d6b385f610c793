"""Checks of the ``[inflow]``, ``[losses]`` and ``[downstream]`` tables."""

from __future__ import annotations

from sim.physics.ranges import DEPTH, FLOW
from sim.scenario.errors import describe_value, is_number
from sim.scenario.keys import DOWNSTREAM_KEYS, FLOW_FORMS, INFLOW_KEYS, LOSSES_KEYS, bound


def check_inflow(ck):
    """Check ``[inflow]``: one flow form (or a preset) and the scale; compiles the daily inflow."""
    if "inflow" not in ck.data:
        ck.add("inflow", "missing; expected a table with one of preset, " + ", ".join(FLOW_FORMS))
        return
    t = ck.table("inflow", ck.data.get("inflow"), INFLOW_KEYS)
    if t is None:
        return
    out = {k: v for k, v in t.items() if k != "scale"}
    out["scale"] = t.get("scale", 1.0)
    ck.out["inflow"] = out
    scale = ck.number("inflow.scale", out["scale"], bound("inflow", "scale")) if "scale" in t else 1.0
    got = ck.flow_form("inflow", t, ("preset",) + FLOW_FORMS, "inflow", what="inflow")
    if got is None or scale is None:
        return
    form, daily = got
    ck.c.inflow_m3s = daily
    ck.c.inflow_scale = float(scale)
    ck.c.inflow_source = f'preset "{t["preset"]}"' if form == "preset" else (
        f"csv {ck.files.rel(t['csv'])}" if form == "csv" else form
    )
    ck.c.sweepable["inflow.scale"] = bound("inflow", "scale")


def check_losses(ck):
    """Check ``[losses]``: evaporation, precipitation and seepage; compiles their daily values."""
    t = ck.table("losses", ck.data.get("losses"), LOSSES_KEYS)
    if t is None:
        return
    out = {
        "evaporation_mm_month": t.get("evaporation_mm_month", {"preset": "khujand"}),
        "evaporation_factor": t.get("evaporation_factor", 1.0),
        "precipitation_mm_month": t.get("precipitation_mm_month", [0.0] * 12),
        "seepage_m3s": t.get("seepage_m3s", {"preset": "residual-2001-2010"}),
    }
    ck.out["losses"] = out
    if ck.number("losses.evaporation_factor", out["evaporation_factor"], bound("losses", "evaporation_factor")) is not None:
        ck.c.evaporation_factor = float(out["evaporation_factor"])
        ck.c.sweepable["losses.evaporation_factor"] = bound("losses", "evaporation_factor")
    evap = out["evaporation_mm_month"]
    monthly = None
    if isinstance(evap, dict):
        if ck.table("losses.evaporation_mm_month", evap, ("preset",)) is not None and "preset" in evap:
            p = ck.preset("losses.evaporation_mm_month.preset", "evaporation", evap["preset"])
            if p is not None:
                monthly = p.get("monthly_mm")
        elif isinstance(evap, dict) and "preset" not in evap and not any(k != "preset" for k in evap):
            ck.add("losses.evaporation_mm_month", "found an empty table; expected { preset = \"khujand\" } or 12 values")
    else:
        monthly = twelve(ck, "losses.evaporation_mm_month", evap)
    if monthly is not None and ck.period is not None:
        ck.c.evaporation_mm_day = per_day(ck, monthly)
    precip = twelve(ck, "losses.precipitation_mm_month", out["precipitation_mm_month"])
    if precip is not None and ck.period is not None:
        ck.c.precipitation_mm_day = per_day(ck, precip)
    seep = out["seepage_m3s"]
    ck.c.seepage_m3s = ck.value_series("losses.seepage_m3s", seep, preset_kind="seepage")
    # The factor is written to the resolved scenario only when the file gives it, and applied
    # only when it is not 1 (x*1.0 is exact, but no arithmetic is the plainer guarantee).
    if "seepage_factor" in t:
        out["seepage_factor"] = t["seepage_factor"]
    factor = ck.number("losses.seepage_factor", t.get("seepage_factor", 1.0), bound("losses", "seepage_factor"))
    if factor is not None:
        ck.c.seepage_factor = float(factor)
        ck.c.sweepable["losses.seepage_factor"] = bound("losses", "seepage_factor")
    if is_number(seep) or (isinstance(seep, dict) and "constant" in seep):
        ck.c.sweepable["losses.seepage_m3s"] = FLOW


def twelve(ck, path, value):
    """Twelve monthly depths (Jan..Dec) [mm], or None after saying what is wrong."""
    if not isinstance(value, list):
        ck.add(path, f"found {describe_value(value)}; expected 12 values, one per calendar month (Jan..Dec)")
        return None
    if len(value) != 12:
        ck.add(path, f"found {len(value)} values; expected 12, one per calendar month (Jan..Dec)")
        return None
    ok = True
    for i, v in enumerate(value):
        if ck.number(f"{path}[{i + 1}]", v, DEPTH) is None:
            ok = False
    return value if ok else None


def per_day(ck, monthly_mm):
    """Depth per calendar month → depth per day, spread evenly over the month's days."""
    from sim.physics.losses import monthly_mm_to_daily_mm

    return monthly_mm_to_daily_mm(monthly_mm, ck.period)


def check_downstream(ck):
    """Check ``[downstream]``: reach loss fraction and lateral inflow."""
    t = ck.table("downstream", ck.data.get("downstream"), DOWNSTREAM_KEYS)
    if t is None:
        return
    out = {"reach_loss_fraction": t.get("reach_loss_fraction", 0.0), "lateral_inflow_m3s": t.get("lateral_inflow_m3s", 0.0)}
    ck.out["downstream"] = out
    b = bound("downstream", "reach_loss_fraction")
    if ck.number("downstream.reach_loss_fraction", out["reach_loss_fraction"], b) is not None:
        ck.c.reach_loss_fraction = float(out["reach_loss_fraction"])
        ck.c.sweepable["downstream.reach_loss_fraction"] = b
    lat = out["lateral_inflow_m3s"]
    ck.c.lateral_inflow_m3s = ck.value_series("downstream.lateral_inflow_m3s", lat)
    if is_number(lat) or (isinstance(lat, dict) and "constant" in lat):
        ck.c.sweepable["downstream.lateral_inflow_m3s"] = FLOW
