"""Level ↔ storage ↔ area of the reservoir, from a table.

The table (levels increasing, storage increasing, area non-negative) is interpolated
piecewise-linearly in both directions, so that ``level_m(storage_m3(h)) == h`` exactly on
table points and to round-off between them. The public functions raise `ValueError` outside
the table; the engine uses the unchecked fast path, counts the days above the normal and
maximum levels, and holds the storage at the table's top (taken as the dam crest) when more
water would overtop the dam, reporting that water as overtopping: it never extrapolates a
level past the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.physics import ieee, units
from sim.physics._interp import PiecewiseLinear

__all__ = [
    "Hypsometry", "MemberHypsometry", "Reservoir", "check_hypsometry", "check_reservoir_levels", "power_law_table",
    "transform_table",
]


def check_hypsometry(level_m, storage_m3, area_m2) -> list[str]:
    """Problems with a level–storage–area table, one message each (empty if none).

    Storage must increase strictly with level (a reservoir holds more water higher up);
    the first row may be the empty reservoir (storage 0). Area must be finite, >= 0 and
    must not fall as the level rises.
    """
    problems = []
    level_m, storage_m3, area_m2 = (np.asarray(a, dtype=float) for a in (level_m, storage_m3, area_m2))
    if not (level_m.ndim == storage_m3.ndim == area_m2.ndim == 1):
        return ["level, storage and area must be 1-D columns"]
    if not (level_m.size == storage_m3.size == area_m2.size):
        return [f"columns differ in length: {level_m.size} levels, {storage_m3.size} storages, {area_m2.size} areas"]
    if level_m.size < 2:
        return [f"needs at least 2 rows, found {level_m.size}"]
    for name, col, scale in (("level_m", level_m, 1.0), ("storage_hm3", storage_m3, units.HM3_PER_M3),
                             ("area_km2", area_m2, units.KM2_PER_M2)):
        bad = np.flatnonzero(~np.isfinite(col))
        if bad.size:
            problems.append(f"row {bad[0] + 1}: {name} is {col[bad[0]] * scale}; expected a finite number")
    if problems:
        return problems
    for name, col, scale in (("level_m", level_m, 1.0), ("storage_hm3", storage_m3, units.HM3_PER_M3)):
        bad = np.flatnonzero(np.diff(col) <= 0)
        if bad.size:
            k = bad[0]
            problems.append(
                f"row {k + 2}: {name} must increase with level; {col[k] * scale:g} is followed by {col[k + 1] * scale:g}"
            )
    # The water surface cannot shrink as the water rises: a falling area is a typing error
    # or swapped columns (and storage would not be the integral of area).
    bad = np.flatnonzero(np.diff(area_m2) < 0) if np.all(area_m2 >= 0) else []
    if len(bad):
        k = bad[0]
        problems.append(
            f"row {k + 2}: area_km2 must not fall as the level rises; {area_m2[k] * units.KM2_PER_M2:g} is followed "
            f"by {area_m2[k + 1] * units.KM2_PER_M2:g}"
        )
    for name, col, scale in (("storage_hm3", storage_m3, units.HM3_PER_M3), ("area_km2", area_m2, units.KM2_PER_M2)):
        bad = np.flatnonzero(col < 0)
        if bad.size:
            problems.append(f"row {bad[0] + 1}: {name} is {col[bad[0]] * scale:g}; expected >= 0")
    return problems


def power_law_table(bed_level_m, ref_level_m, ref_storage_hm3, exponent, step_m=0.25, top_level_m=None):
    """Level–storage–area table of V(h) = V_ref ((h − h_bed)/(h_ref − h_bed))^b and A = dV/dh.

    Returns ``(level_m, storage_hm3, area_km2)``; this is how the DERIVED placeholder table of
    the built-in preset was made (b = 3.08, V(347.5 m) = 4160 hm³, bed 322.5 m).
    """
    top = ref_level_m if top_level_m is None else top_level_m
    level_m = np.round(np.arange(bed_level_m, top + step_m / 2, step_m), 6)
    depth_ratio = (level_m - bed_level_m) / (ref_level_m - bed_level_m)
    storage_hm3 = ref_storage_hm3 * depth_ratio**exponent
    area_km2 = ref_storage_hm3 * exponent / (ref_level_m - bed_level_m) * depth_ratio ** (exponent - 1)
    return level_m, storage_hm3, area_km2


@dataclass(frozen=True, eq=False)
class Hypsometry:
    """Level–storage–area table of a reservoir.

    Parameters
    ----------
    level_m : ndarray, shape (n,)
        Water levels, strictly increasing. [m a.s.l.]
    storage_m3 : ndarray, shape (n,)
        Storage at each level, strictly increasing. [m³]
    area_m2 : ndarray, shape (n,)
        Water-surface area at each level. [m²]
    source : str
        Where the table came from (file name or preset), for reports.
    """

    level_m: np.ndarray
    storage_m3: np.ndarray
    area_m2: np.ndarray
    source: str = ""
    _by_storage: PiecewiseLinear = field(init=False, repr=False)
    _by_level: PiecewiseLinear = field(init=False, repr=False)

    def __post_init__(self):
        problems = check_hypsometry(self.level_m, self.storage_m3, self.area_m2)
        if problems:
            raise ValueError("hypsometry: " + "; ".join(problems))
        for name in ("level_m", "storage_m3", "area_m2"):
            a = np.array(getattr(self, name), dtype=float)
            a.setflags(write=False)
            object.__setattr__(self, name, a)
        object.__setattr__(self, "_by_storage", PiecewiseLinear(self.storage_m3, self.level_m, self.area_m2))
        object.__setattr__(self, "_by_level", PiecewiseLinear(self.level_m, self.storage_m3, self.area_m2))

    @classmethod
    def from_table(cls, level_m, storage_hm3, area_km2, *, siltation_fraction=0.0, source=""):
        """Build from a table in field units (m a.s.l., hm³, km²).

        Parameters
        ----------
        siltation_fraction : float
            Share of the storage lost to sediment, 0 <= f < 1. Storage and area at every level
            are scaled by (1 − f): a simple, documented adjustment for a table surveyed before
            siltation; replace the table with a new survey where one exists. [-]
        """
        f = float(siltation_fraction)
        if not 0.0 <= f < 1.0:
            raise ValueError(f"siltation_fraction is {f}; expected 0 <= f < 1")
        keep = 1.0 - f
        return cls(
            np.asarray(level_m, dtype=float),
            units.hm3_to_m3(np.asarray(storage_hm3, dtype=float)) * keep,
            units.km2_to_m2(np.asarray(area_km2, dtype=float)) * keep,
            source=source,
        )

    @property
    def min_level_m(self) -> float:
        """Lowest level in the table. [m]"""
        return float(self.level_m[0])

    @property
    def max_level_m(self) -> float:
        """Highest level in the table. [m]"""
        return float(self.level_m[-1])

    @property
    def max_storage_m3(self) -> float:
        """Storage at the top of the table. [m³]"""
        return float(self.storage_m3[-1])

    def _check(self, values, lo, hi, what, unit, scale=1.0):
        v = np.asarray(values, dtype=float)
        bad = ~((v >= lo) & (v <= hi))
        if np.any(bad):
            first = np.atleast_1d(v)[np.atleast_1d(bad)][0]
            raise ValueError(
                f"{what} {first * scale:g} {unit} is outside the hypsometry table "
                f"({lo * scale:g}–{hi * scale:g} {unit})"
            )
        return v

    def storage_m3_at(self, level_m):
        """Storage at a level [m³]; ValueError outside the table."""
        h = self._check(level_m, self.level_m[0], self.level_m[-1], "level", "m")
        return self._by_level(h, 0)

    def area_m2_at_level(self, level_m):
        """Surface area at a level [m²]; ValueError outside the table."""
        h = self._check(level_m, self.level_m[0], self.level_m[-1], "level", "m")
        return self._by_level(h, 1)

    def level_m_at(self, storage_m3):
        """Level at a storage [m a.s.l.]; ValueError outside the table."""
        s = self._check(storage_m3, self.storage_m3[0], self.storage_m3[-1], "storage", "hm³", units.HM3_PER_M3)
        return self._by_storage(s, 0)

    def area_m2_at(self, storage_m3):
        """Surface area at a storage [m²]; ValueError outside the table."""
        s = self._check(storage_m3, self.storage_m3[0], self.storage_m3[-1], "storage", "hm³", units.HM3_PER_M3)
        return self._by_storage(s, 1)

    @property
    def by_storage(self) -> PiecewiseLinear:
        """The table by storage: level (table 0) and area (table 1), for the engine's kernels."""
        return self._by_storage

    def level_fast(self, storage_m3):
        """Level [m] at storages, unchecked: clamped to the table's first row below it, linear
        beyond the table top."""
        s = np.maximum(storage_m3, self.storage_m3[0])
        return self._by_storage(s, 0)

    def storage_fast(self, level_m):
        """Storage [m³] at levels, unchecked (linear beyond the table ends, never < 0)."""
        return np.maximum(self._by_level(np.asarray(level_m, dtype=float), 0), 0.0)


def _log_ratio(v, pivot):
    """log(v / pivot), with the same bits on every CPU (sim.physics.ieee), worked out once per
    distinct pivot when `v` is one table's column (members usually share the normal level)."""
    if v.ndim == 1 and pivot.size > 1:
        distinct, where = np.unique(pivot, return_inverse=True)
        if distinct.size < pivot.size:
            return ieee.log(v / distinct[:, None])[where.reshape(pivot.shape[:-1])]
    return ieee.log(v / pivot)


def transform_table(storage_m3, area_m2, factor, exponent_factor, pivot_m3):
    """The storage and area columns of a table transformed by a storage factor k and an
    exponent factor r about the storage V_n at the normal level (`pivot_m3`):
    V'(h) = k·V_n·(V(h)/V_n)^r and A'(h) = k·r·(V(h)/V_n)^(r−1)·A(h), so that A' = dV'/dh
    wherever A = dV/dh (for the power law V ∝ depth^b this is the exponent b → r·b).

    With r = 1 the columns are only multiplied by k (exactly what `Hypsometry.from_table` does
    for a siltation fraction f = 1 − k). At the empty reservoir (V = 0) the limit of A' is 0
    for r > 1 and unbounded for r < 1 when the table's bottom area is not 0: the row keeps
    k·A there, finite (the power law's bottom area is 0 anyway). Arguments broadcast; the
    columns are the last axis.
    """
    v = np.asarray(storage_m3, dtype=float)
    a = np.asarray(area_m2, dtype=float)
    k = np.asarray(factor, dtype=float)[..., None]
    r = np.asarray(exponent_factor, dtype=float)[..., None]
    pivot = np.asarray(pivot_m3, dtype=float)[..., None]
    # V' = V·(V/V_n)^(r−1) and A' = r·(V/V_n)^(r−1)·A, the power as exp((r−1)·log(V/V_n)) with
    # the same bits on every CPU (sim.physics.ieee; numpy's own differ with AVX-512), in
    # place: a sensitivity run builds these for every chunk, and fresh temporaries of
    # (members × rows) cost more than the arithmetic. r = 1 multiplies by exp(0) = 1 exactly.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lifted = _log_ratio(v, pivot)
        lifted *= r - 1.0
        lifted = ieee.exp(lifted)
        v_r = lifted * v
        lifted *= a
        lifted *= r
    empty = v <= 0.0  # the empty reservoir: no volume; the table's own area, finite
    v_r[..., empty] = 0.0
    lifted[..., empty] = a[empty]
    v_r *= k
    lifted *= k
    return v_r, lifted


class MemberHypsometry:
    """The level–storage–area table of each member when some member's table is transformed
    (`Reservoir.storage_factor`, `Reservoir.storage_exponent_factor`): the engine's tables
    by storage, one row per transformed member, and the look-ups every level ↔ storage
    conversion of a run goes through (`Reservoir.member_hypsometry`).

    Levels are the base table's; the storages and areas of member j are `transform_table`'s
    about the base storage at j's normal level. Members whose factors are both 1 use the base
    table itself (row −1), so their numbers are the base table's to the bit.
    """

    def __init__(self, base: Hypsometry, factor, exponent_factor, pivot_m3):
        k, r, pivot = np.broadcast_arrays(*(np.atleast_1d(np.asarray(x, dtype=float))
                                           for x in (factor, exponent_factor, pivot_m3)))
        varied = (k != 1.0) | (r != 1.0)
        self.base = base
        self.rows = np.where(varied, np.cumsum(varied) - 1, -1).astype(np.int64)
        self.level_m = np.array(base.level_m)
        # The engine's tables by storage (x = storage), as `PiecewiseLinear` makes them.
        self.hs, self.ha = transform_table(base.storage_m3, base.area_m2, k[varied], r[varied], pivot[varied])
        self.hs, self.ha = np.ascontiguousarray(self.hs), np.ascontiguousarray(self.ha)
        if not np.all(np.diff(self.hs, axis=1) > 0):
            raise ValueError("storage_exponent_factor leaves a storage table that does not increase with level")
        self.hl_slope = _slopes(self.level_m, self.hs)
        self.ha_slope = _slopes(self.ha, self.hs)
        self.by_level_slope = _slopes(self.hs, self.level_m)  # storage by level

    @property
    def min_level_m(self) -> float:
        return self.base.min_level_m

    @property
    def max_level_m(self) -> float:
        return self.base.max_level_m

    @property
    def max_storage_m3(self):
        """Storage at the top of each member's table, shape (n_members,). [m³]"""
        return np.where(self.rows >= 0, self.hs[np.maximum(self.rows, 0), -1], self.base.max_storage_m3)

    def _rows(self, n):
        return np.broadcast_to(self.rows, (n,))

    def level_area(self, storage_m3):
        """Level [m] and area [m²] of each member at its storage, shape (n_members,): the
        kernel's own look-up (clamped to the table bottom, linear beyond the top)."""
        s = np.atleast_1d(np.asarray(storage_m3, dtype=float))
        rows = self._rows(s.size)
        base = self.base.by_storage
        x = np.maximum(s, base.x[0])
        i = base.locate(x)
        level = base.ys[0][i] + base.slopes[0][i] * (x - base.x[i])
        area = np.maximum(base.ys[1][i] + base.slopes[1][i] * (x - base.x[i]), 0.0)
        v = np.flatnonzero(rows >= 0)
        if v.size:
            rv = rows[v]
            hs = self.hs[rv]
            x = np.maximum(s[v], hs[:, 0])
            i = np.minimum(np.sum(hs <= x[:, None], axis=1) - 1, hs.shape[1] - 1)
            x0 = hs[np.arange(v.size), i]
            level[v] = self.level_m[i] + self.hl_slope[rv, i] * (x - x0)
            area[v] = np.maximum(self.ha[rv, i] + self.ha_slope[rv, i] * (x - x0), 0.0)
        return level, area

    def level_fast(self, storage_m3):
        """Level [m] of each member at its storage, unchecked (as `Hypsometry.level_fast`)."""
        return self.level_area(storage_m3)[0]

    def storage_fast(self, level_m):
        """Storage [m³] of each member at levels (last axis: members), unchecked, never < 0."""
        h = np.asarray(level_m, dtype=float)
        shape = np.broadcast_shapes(h.shape, self.rows.shape)
        out = np.array(np.broadcast_to(self.base.storage_fast(h), shape))
        rows = self._rows(shape[-1])
        v = np.flatnonzero(rows >= 0)
        if v.size and h.ndim >= 1 and h.shape[-1] == 1 and shape[-1] > 1:
            # one level for every member (a guide curve: days × 1): each day's segment is found
            # once, not once per member; the same arithmetic element by element
            top = self.level_m.size - 1
            hd = h[..., 0]
            i = np.clip(np.searchsorted(self.level_m, hd, side="right") - 1, 0, top)
            rv = rows[v]
            hs, slope = np.ascontiguousarray(self.hs[rv].T), np.ascontiguousarray(self.by_level_slope[rv].T)
            out[..., v] = np.maximum(hs[i] + slope[i] * (hd - self.level_m[i])[..., None], 0.0)
        elif v.size:
            rv = rows[v]
            hv = np.broadcast_to(h, shape)[..., v]
            i = np.clip(np.searchsorted(self.level_m, hv, side="right") - 1, 0, self.level_m.size - 1)
            out[..., v] = np.maximum(self.hs[rv, i] + self.by_level_slope[rv, i] * (hv - self.level_m[i]), 0.0)
        return out

    def rebase(self, storage_m3):
        """Each member's storage at the level the base table gives for `storage_m3`: a storage
        quoted in the table as given (an initial storage), read as that level in each member's
        own table; members without their own table keep the storage to the bit."""
        s = np.asarray(storage_m3, dtype=float)
        out = np.array(self.storage_fast(self.base.level_fast(s)))
        rows = self._rows(out.shape[-1])
        out[..., rows < 0] = np.broadcast_to(s, out.shape)[..., rows < 0]
        return out

    def kernel_tables(self, n_members: int):
        """(row of each member or −1, storages, areas) for the engine's kernel."""
        return np.ascontiguousarray(self._rows(n_members)), self.hs, self.ha


def _slopes(y, x):
    """Slope of y on each segment of x (rows of a 2-D x), the last repeated: `PiecewiseLinear`'s."""
    s = np.diff(y, axis=-1) / np.diff(x, axis=-1)
    return np.ascontiguousarray(np.concatenate([s, s[..., -1:]], axis=-1))


@dataclass(frozen=True, eq=False)
class Reservoir:
    """The reservoir: its table, operating levels, spillway and tailwater.

    Parameters
    ----------
    hypsometry : Hypsometry
        Level–storage–area table.
    min_level_m : float or ndarray, shape (n_members,)
        Minimum operating level: releases never draw the reservoir below it (a policy limit,
        which scenarios may lower; losses can still take it lower). [m a.s.l.]
    normal_level_m : float or ndarray
        Normal pool level: storage above it is spilled, up to the spillway capacity. [m]
    max_level_m : float or ndarray
        Maximum (flood) level: days above it are counted (``days_above_max_level``); water
        that would rise above the table's top (the dam crest) overtops it
        (``overtopping_hm3``, ``overtopping_days``). [m]
    spillway_capacity_m3s : float or ndarray
        Spillway capacity. [m³/s]
    tailwater : TailwaterRating
        Tailwater level as a function of outflow.
    name : str
        Preset name or description.
    tailwater_shift_m : float or ndarray
        Added to every level of the tailwater rating (a GUESS in the built-in data): a
        sensitivity of the head, per member. [m]
    storage_factor : float or ndarray
        k: the storage and area at every level times k (volume at the normal level, or
        siltation: k = 1 − f gives what ``siltation_fraction`` f gives), per member. [-]
    storage_exponent_factor : float or ndarray
        r: the table's curvature changed with the storage at the normal level held,
        V' = V_n (V/V_n)^r (a power law's exponent b becomes r·b), per member. [-]
    """

    hypsometry: Hypsometry
    min_level_m: object
    normal_level_m: object
    max_level_m: object
    spillway_capacity_m3s: object
    tailwater: object
    name: str = ""
    tailwater_shift_m: object = 0.0
    storage_factor: object = 1.0
    storage_exponent_factor: object = 1.0
    #: `member_hypsometry`'s tables, built once per reservoir (a replaced one builds its own).
    _member_tables: object = field(default=None, init=False, repr=False)

    #: Attributes that may differ between members (sim.engine.model, the per-member protocol).
    member_fields = ("min_level_m", "normal_level_m", "max_level_m", "spillway_capacity_m3s", "tailwater_shift_m",
                     "storage_factor", "storage_exponent_factor")

    def __post_init__(self):
        for name in self.member_fields:
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=float))
        problems = check_reservoir_levels(
            self.hypsometry, self.min_level_m, self.normal_level_m, self.max_level_m, self.spillway_capacity_m3s
        )
        if problems:
            raise ValueError("reservoir: " + "; ".join(problems))
        if not np.all(np.isfinite(self.tailwater_shift_m)):
            raise ValueError(f"reservoir: tailwater_shift_m is {self.tailwater_shift_m}; expected a finite number")
        for name in ("storage_factor", "storage_exponent_factor"):
            v = getattr(self, name)
            if not np.all(np.isfinite(v) & (v > 0)):
                raise ValueError(f"reservoir: {name} is {v}; expected a finite number > 0")
        if np.any(self.storage_exponent_factor != 1.0) and np.any(self.hypsometry.storage_fast(self.normal_level_m) <= 0):
            raise ValueError("reservoir: storage_exponent_factor needs a storage > 0 at the normal level")

    def max_storage_m3(self):
        """Storage at the top of each member's table [m³]: a float when all share the table;
        computed on the top row alone (the whole tables are built by the engine's chunk)."""
        if self._member_tables is not None:
            return self._member_tables.max_storage_m3
        if np.all(self.storage_factor == 1.0) and np.all(self.storage_exponent_factor == 1.0):
            return self.hypsometry.max_storage_m3
        h = self.hypsometry
        k, r, pivot = np.broadcast_arrays(*(np.atleast_1d(np.asarray(x, dtype=float)) for x in (
            self.storage_factor, self.storage_exponent_factor, h.storage_fast(self.normal_level_m))))
        return transform_table(h.storage_m3[-1:], h.area_m2[-1:], k, r, pivot)[0][:, 0]

    def member_hypsometry(self):
        """The table every level ↔ storage conversion of a run uses: the `Hypsometry` itself
        when no member transforms it (so such runs do the arithmetic they always did), else a
        `MemberHypsometry` with one table per member."""
        if np.all(self.storage_factor == 1.0) and np.all(self.storage_exponent_factor == 1.0):
            return self.hypsometry
        if self._member_tables is None:
            pivot = self.hypsometry.storage_fast(self.normal_level_m)
            object.__setattr__(self, "_member_tables", _member_tables(self.hypsometry, self.storage_factor,
                                                                      self.storage_exponent_factor, pivot))
        return self._member_tables


#: The last member tables built (key → tables): a chunk's reservoir is built for its initial
#: state and built again, with the same members, for the engine (`select_members` makes a new
#: one); 10,000 transformed members are about 45 MB, so only the last one or two are kept.
_RECENT_TABLES: dict = {}
_RECENT_MAX = 2


def _member_tables(base: Hypsometry, factor, exponent_factor, pivot) -> MemberHypsometry:
    """`MemberHypsometry` for these members, reused when the last ones were the same (by value)."""
    arrays = [np.ascontiguousarray(np.asarray(x, dtype=float)) for x in (factor, exponent_factor, pivot)]
    key = (id(base), *((a.shape, a.tobytes()) for a in arrays))
    hit = _RECENT_TABLES.get(key)
    if hit is not None and hit.base is base:
        return hit
    tables = MemberHypsometry(base, *arrays)
    if len(_RECENT_TABLES) >= _RECENT_MAX:
        _RECENT_TABLES.pop(next(iter(_RECENT_TABLES)))
    _RECENT_TABLES[key] = tables
    return tables


_ORDER = "expected min_level_m <= normal_level_m <= max_level_m"


def check_reservoir_levels(hyps, min_level_m, normal_level_m, max_level_m, spillway_capacity_m3s) -> list[str]:
    """Problems with the operating levels of a reservoir (empty if none)."""
    problems = []
    lo, hi = hyps.min_level_m, hyps.max_level_m
    for name, v in (("min_level_m", min_level_m), ("normal_level_m", normal_level_m), ("max_level_m", max_level_m)):
        a = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(a)) or np.any(a < lo) or np.any(a > hi):
            problems.append(f"{name} is {v}; expected a level within the hypsometry table ({lo:g}–{hi:g} m)")
    if not problems:
        if np.any(np.asarray(min_level_m) > np.asarray(normal_level_m)):
            problems.append(f"min_level_m {min_level_m} is above normal_level_m {normal_level_m}; {_ORDER}")
        if np.any(np.asarray(normal_level_m) > np.asarray(max_level_m)):
            problems.append(f"normal_level_m {normal_level_m} is above max_level_m {max_level_m}; {_ORDER}")
    cap = np.asarray(spillway_capacity_m3s, dtype=float)
    if not np.all(np.isfinite(cap)) or np.any(cap < 0):
        problems.append(f"spillway_capacity_m3s is {spillway_capacity_m3s}; expected a finite number >= 0")
    return problems
