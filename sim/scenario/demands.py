"""Checks of the ``[[demand]]`` array: flow series, protocol presets and volume demands."""

from __future__ import annotations

import datetime

import numpy as np

from sim.physics import units
from sim.physics.calendar import parse_month_day
from sim.physics.ranges import FLOW, number_text
from sim.scenario.errors import describe_value, is_date, unknown_name
from sim.scenario.keys import DEMAND_KEYS, FLOW_FORMS, FORM_OPTIONS, NAME_RE, VOLUME_KEYS, bound
from sim.scenario.specs import UserSpec


def check_demands(ck):
    """Check the ``[[demand]]`` array: names (plain, unique) and each demand."""
    raw = ck.data.get("demand", [])
    if isinstance(raw, dict):
        ck.add("demand", "found a table; expected an array of tables: write [[demand]] (double brackets) for each user")
        return
    if not isinstance(raw, list):
        ck.add("demand", f"found {describe_value(raw)}; expected an array of tables [[demand]]")
        return
    out_list = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw, start=1):
        name = item.get("name") if isinstance(item, dict) else None
        usable = isinstance(name, str) and NAME_RE.match(name) and name not in seen
        path = f"demand.{name}" if usable else f"demand[{i}]"
        if not isinstance(item, dict):
            ck.add(path, f"found {describe_value(item)}; expected a table")
            continue
        if "name" not in item:
            ck.add(f"{path}.name", "missing; expected a plain name (lower-case letters, digits, - and _)")
        elif ck.string(f"{path}.name", name) is not None:
            if not NAME_RE.match(name):
                ck.add(f"{path}.name", f'found "{name}"; expected a plain name (lower-case letters, digits, - and _)')
            elif name in seen:
                ck.add(f"{path}.name", f'"{name}" is also the name of demand[{seen[name]}]; expected unique names')
            else:
                seen[name] = i
        out = check_demand(ck, path, item, name if usable else None)
        out_list.append(out)
    ck.out["demand"] = out_list


def check_demand(ck, path: str, t: dict, name: str | None) -> dict:
    """Check one demand (a flow series, a preset or a volume over a window); compiles a `UserSpec`. Returns
    the resolved table."""
    ck.table(path, t, DEMAND_KEYS)
    out = dict(t)
    out.setdefault("priority", 1)
    out.setdefault("location", "downstream")
    out.setdefault("scale", 1.0)
    ok = _check_user(ck, path, t, out) and name is not None
    # a protocol preset fills the volume keys
    preset = None
    if "preset" in t:
        preset = ck.preset(f"{path}.preset", "demand", t["preset"])
        if preset is None:
            return out
        _fill_from_preset(ck, t, out, preset.as_dict())
    volume_preset = preset is not None and "volume_hm3" in preset.as_dict()
    forms = [k for k in ("preset",) + FLOW_FORMS + ("volume_hm3",) if k in t]
    if volume_preset:
        forms = [f for f in forms if f != "volume_hm3"]
    form = ck.one_form(path, forms, ("preset",) + FLOW_FORMS + ("volume_hm3",), "demand")
    if form is None:
        return out
    is_volume = form == "volume_hm3" or volume_preset
    ok = _no_keys_of_the_other_form(ck, path, t, form, is_volume) and ok
    fields = _volume_form(ck, path, out, preset) if is_volume else _flow_form(ck, path, t, preset)
    if fields is None or not ok or ck.period is None:
        return out
    ck.c.users.append(UserSpec(name, int(out["priority"]), out["location"], float(out["scale"]), **fields))
    sw = ck.c.sweepable
    sw[f"demand.{name}.scale"] = bound("demand", "scale")
    if fields["kind"] == "volume":
        sw[f"demand.{name}.volume_hm3"] = bound("demand", "volume_hm3")
    if fields["kind"] == "constant":
        sw[f"demand.{name}.constant_m3s"] = FLOW
    return out


def _check_user(ck, path: str, t: dict, out: dict) -> bool:
    """Check who the user is: priority, location, scale and description; False when one is wrong."""
    ok = True
    prio = ck.number(f"{path}.priority", out["priority"], bound("demand", "priority"))
    loc = out["location"]
    if not isinstance(loc, str) or loc not in ("downstream", "reservoir"):
        msg = unknown_name("a location", loc, ("downstream", "reservoir")) if isinstance(loc, str) else \
            f'found {describe_value(loc)}; expected "downstream" or "reservoir"'
        ck.add(f"{path}.location", msg)
        ok = False
    scale = ck.number(f"{path}.scale", out["scale"], bound("demand", "scale"))
    if "description" in t:
        ck.string(f"{path}.description", t["description"])
    return ok and prio is not None and scale is not None


def _fill_from_preset(ck, t: dict, out: dict, pv: dict) -> None:
    """A volume protocol preset fills the volume keys the file does not give, its dates anchored
    in the period."""
    if "volume_hm3" not in pv:
        return
    for k in VOLUME_KEYS:
        if k in pv and k not in t:
            out[k] = anchor_date(ck, pv[k]) if k in ("window", "extra_from") else pv[k]
    if isinstance(out.get("window"), list):
        out["window"] = [anchor_date(ck, d) for d in out["window"]]


def _no_keys_of_the_other_form(ck, path: str, t: dict, form: str, is_volume: bool) -> bool:
    """Say so for each key that belongs to the other form (volume keys on a flow demand, series
    options on a volume demand); False when there is one."""
    if is_volume:
        keys, why = FORM_OPTIONS, "only used with decadal_m3s, monthly_m3s or csv; found it with volume_hm3"
    else:
        keys, why = VOLUME_KEYS, f"only used with volume_hm3; found it with {form}"
    ok = True
    for k in keys:
        if k in t:
            ck.add(f"{path}.{k}", why)
            ok = False
    return ok


def _volume_form(ck, path: str, out: dict, preset) -> dict | None:
    """The `UserSpec` fields of a volume over a window (plus an extra flow), or None after saying why."""
    spec = volume_demand(ck, path, out)
    if spec is None:
        return None
    unit_m3s, extra_m3s = spec
    vol = float(out["volume_hm3"])
    src = f'{number_text(out["volume_hm3"])} hm³ over {out["window"][0]}..{out["window"][1]}'
    if preset is not None:
        src = f'preset "{preset.name}": ' + src
    if "extra_m3s" in out:
        src += f' + {number_text(out["extra_m3s"])} m³/s from {out["extra_from"]}'
    return {"demand_m3s": unit_m3s * vol + extra_m3s, "kind": "volume", "volume_hm3": vol,
            "unit_m3s": unit_m3s, "extra_m3s": extra_m3s, "source": src}


def _flow_form(ck, path: str, t: dict, preset) -> dict | None:
    """The `UserSpec` fields of a flow demand (a constant, a series or a flow preset), or None after
    saying why."""
    got = ck.flow_form(path, t, ("preset",) + FLOW_FORMS, "demand", what="demand")
    if got is None:
        return None
    form, demand = got
    kind = "constant" if form == "constant_m3s" else "series"
    src = f'preset "{preset.name}"' if preset is not None else form
    return {"demand_m3s": demand, "kind": kind, "source": src}


def anchor_date(ck, value):
    """A ``"MM-DD"`` of a preset (or a file) → the first such date on or after the period start."""
    if is_date(value) or ck.period is None or not isinstance(value, str):
        return value
    try:
        month, day = parse_month_day(value)
    except ValueError:
        return value
    year = ck.period.start.year
    d = datetime.date(year, month, day)
    return d if d >= ck.period.start else datetime.date(year + 1, month, day)


def volume_demand(ck, path: str, out: dict):
    """The window and extra flow of a volume demand → (flow of 1 hm³ over the window, extra flow) [m³/s],
    or None."""
    ok = ck.number(f"{path}.volume_hm3", out.get("volume_hm3"), bound("demand", "volume_hm3")) is not None
    win = out.get("window")
    dates = None
    if "window" not in out:
        ck.add(f"{path}.window", "missing; expected [first day, last day], e.g. [2025-06-01, 2025-08-31]")
        ok = False
    elif not isinstance(win, list) or len(win) != 2:
        ck.add(f"{path}.window", f"found {describe_value(win)}; expected two dates [first day, last day]")
        ok = False
    else:
        win = [anchor_date(ck, d) for d in win]
        out["window"] = win
        dates = [ck.date(f"{path}.window[{i + 1}]", d) for i, d in enumerate(win)]
        if None in dates:
            ok = False
        elif dates[1] < dates[0]:
            ck.add(f"{path}.window", f"{dates[1]} is before {dates[0]}; expected [first day, last day]")
            ok = False
        elif ck.period is not None and not (dates[0] in ck.period and dates[1] in ck.period):
            ck.add(f"{path}.window", f"{dates[0]}..{dates[1]} is not inside the period {ck.period}")
            ok = False
    has_extra, has_from = "extra_m3s" in out, "extra_from" in out
    extra_from = None
    if has_extra != has_from:
        missing = "extra_from" if has_extra else "extra_m3s"
        ck.add(f"{path}.{missing}", "missing; extra_m3s and extra_from go together")
        ok = False
    elif has_extra:
        if ck.number(f"{path}.extra_m3s", out["extra_m3s"], bound("demand", "extra_m3s")) is None:
            ok = False
        out["extra_from"] = anchor_date(ck, out["extra_from"])
        extra_from = ck.date(f"{path}.extra_from", out["extra_from"])
        if extra_from is None:
            ok = False
        elif dates and None not in dates and not dates[0] <= extra_from <= dates[1]:
            ck.add(f"{path}.extra_from", f"{extra_from} is outside the window {dates[0]}..{dates[1]}")
            ok = False
    if not ok or ck.period is None:
        return None
    a, b = ck.period.index_of(dates[0]), ck.period.index_of(dates[1])
    unit = np.zeros(ck.period.n_days)
    unit[a : b + 1] = units.M3_PER_HM3 / ((b - a + 1) * units.SECONDS_PER_DAY)
    extra = np.zeros(ck.period.n_days)
    if has_extra:
        extra[ck.period.index_of(extra_from) : b + 1] = float(out["extra_m3s"])
    return unit, extra
