"""Checks of the ``[reservoir]`` table: presets, levels, tailwater and the hypsometry table."""

from __future__ import annotations

import math
import re

import numpy as np

from sim.inputs import series
from sim.inputs.presets import PresetError, hypsometry_table
from sim.physics import units
from sim.physics.ranges import AREA, FLOW, VOLUME, Bound, number_text
from sim.scenario.errors import describe_value, is_number
from sim.scenario.keys import RESERVOIR_KEYS, bound


def check_reservoir(ck):
    """Check ``[reservoir]``: preset, initial state, levels, tailwater and hypsometry; compiles the
    `Reservoir`."""
    got = ck.preset_section("reservoir", RESERVOIR_KEYS, "bakhri-tojik")
    if got is None:
        return
    t, out, p, pv = got
    # initial state
    has_level, has_storage = "initial_level_m" in t, "initial_storage_hm3" in t
    if has_level and has_storage:
        ck.add("reservoir", "both initial_level_m and initial_storage_hm3 are given; expected exactly one of them")
    elif not (has_level or has_storage):
        hint = f" (typical storage on 1 April: {pv['typical_storage_april_hm3']} hm³)" if "typical_storage_april_hm3" in pv else ""
        ck.add("reservoir", f"neither initial_level_m nor initial_storage_hm3 is given; expected exactly one of them{hint}")
    ok = p is not None
    for k in ("initial_level_m", "initial_storage_hm3"):
        if k in t:
            if ck.number(f"reservoir.{k}", t[k], bound("reservoir", k)) is None:
                ok = False
            out[k] = t[k]
    for k in ("min_level_m", "normal_level_m", "max_level_m"):
        v = t.get(k, pv.get(k))
        if k in t and ck.number(f"reservoir.{k}", v) is None:
            ok = False
        out[k] = v
    v = t.get("spillway_capacity_m3s", pv.get("spillway_capacity_m3s"))
    if "spillway_capacity_m3s" in t and ck.number("reservoir.spillway_capacity_m3s", v, bound("reservoir", "spillway_capacity_m3s")) is None:
        ok = False
    out["spillway_capacity_m3s"] = v
    silt = t.get("siltation_fraction", pv.get("siltation_fraction", 0.0))
    if "siltation_fraction" in t and ck.number("reservoir.siltation_fraction", silt, bound("reservoir", "siltation_fraction")) is None:
        ok = False
    out["siltation_fraction"] = silt
    # tailwater
    tw_default = {"flow_m3s": pv.get("tailwater_flow_m3s"), "level_m": pv.get("tailwater_level_m")}
    tw = t.get("tailwater", tw_default)
    tailwater = None
    if "tailwater" in t:
        tt = ck.table("reservoir.tailwater", tw, ("flow_m3s", "level_m"))
        if tt is None or any(k not in ("flow_m3s", "level_m") for k in tt):
            ok = False
        else:
            for k in ("flow_m3s", "level_m"):
                if k not in tt:
                    ck.add(f"reservoir.tailwater.{k}", "missing; expected a list of numbers")
                    ok = False
                elif not isinstance(tt[k], list) or not all(is_number(x) and math.isfinite(x) for x in tt[k]):
                    ck.add(f"reservoir.tailwater.{k}", f"found {describe_value(tt[k])}; expected a list of finite numbers")
                    ok = False
                elif k == "flow_m3s" and not all([ck.number(f"reservoir.tailwater.flow_m3s[{i + 1}]", x, FLOW)
                                                  is not None for i, x in enumerate(tt[k])]):
                    ok = False
    out["tailwater"] = tw
    if ok and p is not None:
        from sim.physics.hydropower import TailwaterRating

        try:
            tailwater = TailwaterRating(tw["flow_m3s"], tw["level_m"])
        except ValueError as err:
            ck.add("reservoir.tailwater", str(err).removeprefix("tailwater rating: "))
            ok = False
    # hypsometry
    hyps = None
    if "hypsometry" in t:
        out["hypsometry"] = t["hypsometry"]
        f = ck.csv_path("reservoir.hypsometry", t["hypsometry"])
        table = read_hypsometry(ck, f) if f else None
    elif p is not None:
        try:
            table = hypsometry_table(out["preset"])
        except PresetError as err:
            ck.add("reservoir.preset", str(err))
            table = None
    else:
        table = None
    if table is not None and is_number(silt) and 0 <= silt < 1:
        from sim.physics.hypsometry import Hypsometry

        src = ck.files.rel(t["hypsometry"]) if "hypsometry" in t else f"preset {out['preset']}"
        try:
            hyps = Hypsometry.from_table(*table, siltation_fraction=silt, source=src)
        except ValueError as err:
            ck.add("reservoir.hypsometry", str(err))
    if hyps is None or not ok:
        return
    ck.c.hypsometry = hyps
    lo, hi = hyps.min_level_m, hyps.max_level_m
    level_bound = Bound(lo, hi)
    table_text = f"a level within the hypsometry table ({lo:g}–{hi:g} m)"
    from sim.physics.hypsometry import Reservoir, check_reservoir_levels

    # The operating levels (within the table, in order) are the reservoir's own check: one
    # wording for files and for the Python API.
    level_problems = check_reservoir_levels(
        hyps, *(float(out[k]) for k in ("min_level_m", "normal_level_m", "max_level_m")),
        float(out["spillway_capacity_m3s"]),
    )
    for problem in level_problems:
        ck.add("reservoir", problem)
    initial = None
    if has_level and not has_storage:
        h = float(t["initial_level_m"])
        if not level_bound.ok(h):
            ck.add("reservoir.initial_level_m", f"found {number_text(t['initial_level_m'])}; expected {table_text}")
        else:
            initial = float(hyps.storage_m3_at(h))
    elif has_storage and not has_level:
        s = float(t["initial_storage_hm3"])
        top = units.m3_to_hm3(hyps.max_storage_m3)
        if not 0 <= s <= top:
            ck.add("reservoir.initial_storage_hm3", f"found {number_text(t['initial_storage_hm3'])}; expected a storage within the hypsometry table (0–{top:g} hm³)")
        else:
            initial = units.hm3_to_m3(s)
    if level_problems or initial is None:
        return
    try:
        ck.c.reservoir = Reservoir(
            hyps, float(out["min_level_m"]), float(out["normal_level_m"]), float(out["max_level_m"]),
            float(out["spillway_capacity_m3s"]), tailwater, name=out["preset"],
        )
    except ValueError as err:
        ck.add("reservoir", str(err).removeprefix("reservoir: "))
        return
    ck.c.initial_storage_m3 = initial
    sw = ck.c.sweepable
    sw["reservoir.initial_level_m"] = level_bound
    sw["reservoir.initial_storage_hm3"] = Bound(0.0, units.m3_to_hm3(hyps.max_storage_m3))
    for k in ("min_level_m", "normal_level_m", "max_level_m"):
        sw[f"reservoir.{k}"] = level_bound
    sw["reservoir.spillway_capacity_m3s"] = bound("reservoir", "spillway_capacity_m3s")


def read_hypsometry(ck, f: str):
    """Read a level-storage-area CSV (m a.s.l., hm³, km²) → three columns, or None after saying why, by
    row."""
    shown = ck.files.rel(f)
    key = "reservoir.hypsometry"
    need = ("level_m", "storage_hm3", "area_km2")
    try:
        rows = series.read_csv_rows(f, ",".join(need))
    except series.SeriesError as err:
        ck.series_error(key, err, f)
        return None
    except OSError as err:
        ck.add(f"{key} ({shown})", f"cannot read the file: {err.strerror}")
        return None
    header = [h.strip() for h in rows[0]]
    missing = [c for c in need if c not in header]
    if missing:
        ck.add(f"{key} ({shown}, row 1)", f"no column {' or '.join(missing)}; found columns {', '.join(header)}; expected {', '.join(need)}")
        return None
    idx = [header.index(c) for c in need]
    cols: list[list[float]] = [[], [], []]
    row_numbers = []
    bad = False
    for r, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            ck.add(f"{key} ({shown}, row {r})", f"{len(row)} fields; expected {len(header)} as in the header")
            bad = True
            continue
        for j, c in zip(idx, need, strict=True):
            text = row[j].strip()
            try:
                v = float(text)
            except ValueError:
                ck.add(f"{key} ({shown}, row {r}, column {c})", f'"{text}" is not a number')
                bad = True
                continue
            if not math.isfinite(v):
                ck.add(f"{key} ({shown}, row {r}, column {c})", f'"{text}" is not a finite number')
                bad = True
                continue
            cols[need.index(c)].append(v)
        row_numbers.append(r)
    if bad:
        return None
    from sim.physics.hypsometry import check_hypsometry

    level, storage, area = (np.array(c, dtype=float) for c in cols)
    problems = check_hypsometry(level, units.hm3_to_m3(storage), units.km2_to_m2(area))
    for p in problems:
        m = re.match(r"^row (\d+): (.*)$", p, re.S)
        if m and 1 <= int(m.group(1)) <= len(row_numbers):
            ck.add(f"{key} ({shown}, row {row_numbers[int(m.group(1)) - 1]})", m.group(2))
        else:
            ck.add(f"{key} ({shown})", p)
    if problems:
        return None
    # Units: the table is in m a.s.l., hm³ and km²; a table in m³ or m² is consistent in
    # itself but a thousand or a million times too large (DATA.md: 4,160 hm³, 513 km²).
    for col, c, limit in ((storage, "storage_hm3", VOLUME), (area, "area_km2", AREA)):
        k = int(np.argmax(col))
        if not limit.ok(float(col[k])):
            ck.add(f"{key} ({shown}, row {row_numbers[k]}, column {c})", limit.problem(float(col[k])))
            return None
    return level, storage, area
