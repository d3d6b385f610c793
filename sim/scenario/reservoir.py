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
    _check_initial_choice(ck, t, pv)
    ok = _check_numbers(ck, t, out, pv) and p is not None
    tailwater, ok = _check_tailwater(ck, t, out, pv, ok)
    hyps = _hypsometry(ck, t, out, p)
    if hyps is None or not ok:
        return
    _compile_reservoir(ck, t, out, hyps, tailwater)


def _check_initial_choice(ck, t: dict, pv: dict) -> None:
    """Say so unless exactly one of the initial level and the initial storage is given."""
    has_level, has_storage = "initial_level_m" in t, "initial_storage_hm3" in t
    if has_level and has_storage:
        ck.add("reservoir", "both initial_level_m and initial_storage_hm3 are given; expected exactly one of them")
    elif not (has_level or has_storage):
        hint = f" (typical storage on 1 April: {pv['typical_storage_april_hm3']} hm³)" if "typical_storage_april_hm3" in pv else ""
        ck.add("reservoir", f"neither initial_level_m nor initial_storage_hm3 is given; expected exactly one of them{hint}")


def _check_numbers(ck, t: dict, out: dict, pv: dict) -> bool:
    """Check the initial state, the levels, the spillway and the siltation given in the file (the
    preset's values stand for absent keys) and copy them into `out`; False when one is wrong."""
    ok = True
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
    for k, default in (("spillway_capacity_m3s", None), ("siltation_fraction", 0.0)):
        v = t.get(k, pv.get(k, default))
        if k in t and ck.number(f"reservoir.{k}", v, bound("reservoir", k)) is None:
            ok = False
        out[k] = v
    if "tailwater_shift_m" in t:  # in the resolved scenario only when the file gives it
        if ck.number("reservoir.tailwater_shift_m", t["tailwater_shift_m"], bound("reservoir", "tailwater_shift_m")) is None:
            ok = False
        out["tailwater_shift_m"] = t["tailwater_shift_m"]
    for k in ("storage_factor", "storage_exponent_factor"):  # likewise: only when given
        if k in t:
            if ck.number(f"reservoir.{k}", t[k], bound("reservoir", k)) is None:
                ok = False
            out[k] = t[k]
    return ok


def _check_tailwater(ck, t: dict, out: dict, pv: dict, ok: bool):
    """The tailwater rating of the file (or the preset) → (`TailwaterRating` or None, ok); the
    rating is built only when everything checked so far is `ok`."""
    tw = t.get("tailwater", {"flow_m3s": pv.get("tailwater_flow_m3s"), "level_m": pv.get("tailwater_level_m")})
    if "tailwater" in t and not _tailwater_table_ok(ck, tw):
        ok = False
    out["tailwater"] = tw
    if not ok:
        return None, False
    from sim.physics.hydropower import TailwaterRating

    try:
        return TailwaterRating(tw["flow_m3s"], tw["level_m"]), True
    except ValueError as err:
        ck.add("reservoir.tailwater", str(err).removeprefix("tailwater rating: "))
        return None, False


def _tailwater_table_ok(ck, tw) -> bool:
    """Check the ``[reservoir.tailwater]`` table: two lists of finite numbers, flows in range."""
    tt = ck.known_table("reservoir.tailwater", tw, ("flow_m3s", "level_m"))
    if tt is None:
        return False
    ok = True
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
    return ok


def _hypsometry(ck, t: dict, out: dict, p):
    """The `Hypsometry` of the file's table (or the preset's), silted as the file says; None
    after saying why."""
    table = _hypsometry_table(ck, t, out, p)
    silt = out["siltation_fraction"]
    if table is None or not (is_number(silt) and 0 <= silt < 1):
        return None
    from sim.physics.hypsometry import Hypsometry

    src = ck.files.rel(t["hypsometry"]) if "hypsometry" in t else f"preset {out['preset']}"
    try:
        return Hypsometry.from_table(*table, siltation_fraction=silt, source=src)
    except ValueError as err:
        ck.add("reservoir.hypsometry", str(err))
        return None


def _hypsometry_table(ck, t: dict, out: dict, p):
    """The level-storage-area columns from the file's CSV or else the preset; None after saying why."""
    if "hypsometry" in t:
        out["hypsometry"] = t["hypsometry"]
        f = ck.csv_path("reservoir.hypsometry", t["hypsometry"])
        return read_hypsometry(ck, f) if f else None
    if p is None:
        return None
    try:
        return hypsometry_table(out["preset"])
    except PresetError as err:
        ck.add("reservoir.preset", str(err))
        return None


def _compile_reservoir(ck, t: dict, out: dict, hyps, tailwater) -> None:
    """Check the operating levels and the initial state against the hypsometry and compile the
    `Reservoir`, its initial storage and its sweepable keys."""
    ck.c.hypsometry = hyps
    level_bound = Bound(hyps.min_level_m, hyps.max_level_m)
    from sim.physics.hypsometry import Reservoir, check_reservoir_levels

    # The operating levels (within the table, in order) are the reservoir's own check: one
    # wording for files and for the Python API.
    level_problems = check_reservoir_levels(
        hyps, *(float(out[k]) for k in ("min_level_m", "normal_level_m", "max_level_m")),
        float(out["spillway_capacity_m3s"]),
    )
    for problem in level_problems:
        ck.add("reservoir", problem)
    initial = _initial_storage(ck, t, hyps, level_bound)
    if level_problems or initial is None:
        return
    try:
        ck.c.reservoir = Reservoir(
            hyps, float(out["min_level_m"]), float(out["normal_level_m"]), float(out["max_level_m"]),
            float(out["spillway_capacity_m3s"]), tailwater, name=out["preset"],
            tailwater_shift_m=float(out.get("tailwater_shift_m", 0.0)),
            storage_factor=float(out.get("storage_factor", 1.0)),
            storage_exponent_factor=float(out.get("storage_exponent_factor", 1.0)),
        )
    except ValueError as err:
        ck.add("reservoir", str(err).removeprefix("reservoir: "))
        return
    tables = ck.c.reservoir.member_hypsometry()
    if tables is not hyps:  # the file transforms the table: the initial state is in the new one
        initial_in_table = initial
        initial = _initial_in_transformed(t, tables, initial)
    else:
        initial_in_table = initial
    ck.c.initial_storage_m3 = initial
    ck.c.initial_in_table_m3 = initial_in_table
    ck.c.initial_level_m = float(t["initial_level_m"]) if "initial_level_m" in t else None
    sw = ck.c.sweepable
    sw["reservoir.initial_level_m"] = level_bound
    sw["reservoir.initial_storage_hm3"] = Bound(0.0, units.m3_to_hm3(hyps.max_storage_m3))
    for k in ("min_level_m", "normal_level_m", "max_level_m"):
        sw[f"reservoir.{k}"] = level_bound
    sw["reservoir.spillway_capacity_m3s"] = bound("reservoir", "spillway_capacity_m3s")
    sw["reservoir.tailwater_shift_m"] = bound("reservoir", "tailwater_shift_m")
    sw["reservoir.storage_factor"] = bound("reservoir", "storage_factor")
    sw["reservoir.storage_exponent_factor"] = bound("reservoir", "storage_exponent_factor")


def _initial_in_transformed(t: dict, tables, initial: float) -> float:
    """The initial storage [m³] in the table the file's storage factors make: a level, or a
    storage read as a level in the table as given (a storage quoted for the reservoir is a
    figure of the table it was measured with), then that level in the new table."""
    if "initial_level_m" in t:
        return float(tables.storage_fast(float(t["initial_level_m"]))[0])
    return float(tables.rebase(initial)[0])


def _initial_storage(ck, t: dict, hyps, level_bound: Bound) -> float | None:
    """The initial storage [m³] from the one initial level or storage given, within the
    hypsometry table; None after saying why (or when not exactly one is given)."""
    has_level, has_storage = "initial_level_m" in t, "initial_storage_hm3" in t
    if has_level and not has_storage:
        h = float(t["initial_level_m"])
        if level_bound.ok(h):
            return float(hyps.storage_m3_at(h))
        lo, hi = hyps.min_level_m, hyps.max_level_m
        ck.add("reservoir.initial_level_m", f"found {number_text(t['initial_level_m'])}; expected a level within the hypsometry table ({lo:g}–{hi:g} m)")
    elif has_storage and not has_level:
        s = float(t["initial_storage_hm3"])
        top = units.m3_to_hm3(hyps.max_storage_m3)
        if 0 <= s <= top:
            return units.hm3_to_m3(s)
        ck.add("reservoir.initial_storage_hm3", f"found {number_text(t['initial_storage_hm3'])}; expected a storage within the hypsometry table (0–{top:g} hm³)")
    return None


#: The columns of a hypsometry CSV, in the order `read_hypsometry` returns them.
_HYPSOMETRY_COLUMNS = ("level_m", "storage_hm3", "area_km2")


def read_hypsometry(ck, f: str):
    """Read a level-storage-area CSV (m a.s.l., hm³, km²) → three columns, or None after saying why, by
    row."""
    shown = ck.files.rel(f)
    key = "reservoir.hypsometry"
    rows = _hypsometry_rows(ck, f, key, shown)
    parsed = _hypsometry_numbers(ck, rows, key, shown) if rows is not None else None
    if parsed is None:
        return None
    cols, row_numbers = parsed
    level, storage, area = (np.array(c, dtype=float) for c in cols)
    if not _hypsometry_sound(ck, level, storage, area, row_numbers, key, shown):
        return None
    return level, storage, area


def _hypsometry_rows(ck, f: str, key: str, shown: str):
    """The CSV's rows (header first, stripped), or None after saying why it cannot be read or
    which columns it lacks."""
    need = _HYPSOMETRY_COLUMNS
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
    return [header] + rows[1:]


def _hypsometry_numbers(ck, rows: list, key: str, shown: str):
    """(the three columns as lists of numbers, the file row number of each table row), or None
    after saying which rows and cells are wrong; blank rows are skipped."""
    need = _HYPSOMETRY_COLUMNS
    header = rows[0]
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
            v = _cell_number(ck, row[j].strip(), f"{key} ({shown}, row {r}, column {c})")
            if v is None:
                bad = True
            else:
                cols[need.index(c)].append(v)
        row_numbers.append(r)
    return None if bad else (cols, row_numbers)


def _cell_number(ck, text: str, where: str) -> float | None:
    """The finite number in one CSV cell, or None after saying it is not one."""
    try:
        v = float(text)
    except ValueError:
        ck.add(where, f'"{text}" is not a number')
        return None
    if not math.isfinite(v):
        ck.add(where, f'"{text}" is not a finite number')
        return None
    return v


def _hypsometry_sound(ck, level, storage, area, row_numbers: list, key: str, shown: str) -> bool:
    """Check the table as a hypsometry (the physics' own check, its rows named as in the file)
    and its units; False after saying what is wrong."""
    from sim.physics.hypsometry import check_hypsometry

    problems = check_hypsometry(level, units.hm3_to_m3(storage), units.km2_to_m2(area))
    for p in problems:
        m = re.match(r"^row (\d+): (.*)$", p, re.S)
        if m and 1 <= int(m.group(1)) <= len(row_numbers):
            ck.add(f"{key} ({shown}, row {row_numbers[int(m.group(1)) - 1]})", m.group(2))
        else:
            ck.add(f"{key} ({shown})", p)
    if problems:
        return False
    # Units: the table is in m a.s.l., hm³ and km²; a table in m³ or m² is consistent in
    # itself but a thousand or a million times too large (DATA.md: 4,160 hm³, 513 km²).
    for col, c, limit in ((storage, "storage_hm3", VOLUME), (area, "area_km2", AREA)):
        k = int(np.argmax(col))
        if not limit.ok(float(col[k])):
            ck.add(f"{key} ({shown}, row {row_numbers[k]}, column {c})", limit.problem(float(col[k])))
            return False
    return True
