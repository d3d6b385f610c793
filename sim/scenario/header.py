"""Checks of the ``[scenario]`` and ``[period]`` tables."""

from __future__ import annotations

import re

from sim.physics.calendar import Period
from sim.physics.ranges import MAX_YEAR, MIN_YEAR
from sim.scenario.errors import describe_value
from sim.scenario.keys import FORMAT_VERSION, PERIOD_KEYS, SCENARIO_KEYS, SCENARIO_NAME_RE


def check_scenario(ck):
    t = ck.table("scenario", ck.data.get("scenario"), SCENARIO_KEYS)
    out = {}
    ck.out["scenario"] = out
    if t is None:
        t = {}
    name = t.get("name")
    if name is None:
        if ck.stem is not None and SCENARIO_NAME_RE.match(ck.stem):
            name = ck.stem
        else:
            hint = f' (the file name "{ck.stem}" is not one)' if ck.stem else ""
            ck.add("scenario.name", f"missing; expected a plain name{hint}: lower-case letters, digits and hyphens")
    elif ck.string("scenario.name", name) is not None and not SCENARIO_NAME_RE.match(name):
        slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
        eg = f', e.g. "{slug}"' if slug else ""
        ck.add("scenario.name", f'found "{name}"; expected a plain name: lower-case letters, digits and hyphens{eg}')
        name = None
    elif not isinstance(name, str):
        name = None
    out["name"] = name
    title = t.get("title", name)
    if "title" in t:
        ck.string("scenario.title", title)
    out["title"] = title if isinstance(title, str) else (name or "")
    desc = t.get("description", "")
    if "description" in t:
        ck.string("scenario.description", desc)
    out["description"] = desc if isinstance(desc, str) else ""
    fmt = t.get("format", FORMAT_VERSION)
    if fmt != FORMAT_VERSION or not isinstance(fmt, int) or isinstance(fmt, bool):
        ck.add("scenario.format", f"found {describe_value(fmt)}; expected {FORMAT_VERSION} (the format this version of sim reads)")
    out["format"] = FORMAT_VERSION
    ck.regime_selection = None
    if "regimes" in t:
        sel = t["regimes"]
        if not isinstance(sel, list) or not sel or not all(isinstance(s, str) for s in sel):
            ck.add("scenario.regimes", f"found {describe_value(sel)}; expected a list of regime names")
        elif len(set(sel)) != len(sel):
            ck.add("scenario.regimes", "names a regime more than once")
        else:
            ck.regime_selection = sel


def check_period(ck):
    t = ck.table("period", ck.data.get("period"), PERIOD_KEYS, default_empty=False) if "period" in ck.data else None
    if "period" not in ck.data:
        ck.add("period", "missing; expected a table with start and end dates, e.g. start = 2025-04-01")
        return
    if t is None:
        return
    got = {}
    for k in PERIOD_KEYS:
        if k not in t:
            ck.add(f"period.{k}", "missing; expected a TOML date such as 2025-04-01")
        else:
            got[k] = ck.date(f"period.{k}", t[k])
            if got[k] is not None and not MIN_YEAR <= got[k].year <= MAX_YEAR:
                ck.add(f"period.{k}", f"found {got[k]}; expected a date in the years {MIN_YEAR}–{MAX_YEAR} "
                         "(a planning period; the calendar and plots handle no other years)")
                got[k] = None
    if got.get("start") and got.get("end"):
        if got["end"] < got["start"]:
            ck.add("period.end", f"{got['end']} is before period.start {got['start']}; expected an end on or after the start (the end is inclusive)")
            return
        ck.period = Period(got["start"], got["end"])
        ck.out["period"] = {"start": got["start"], "end": got["end"]}
