"""Plausible ranges of every input quantity, and the likely mistake behind a value outside one.

A `Bound` is the set of values a numeric input accepts: its messages give the range with its
unit and name the likely mistake (a percentage for a fraction, m³ per day for m³/s). Every
bound has a generous margin over the figures of DATA.md it comes from: it rejects unit
mix-ups, not unusual but possible scenarios. The scenario checks and the operating rules
(`sim.rules`) take their bounds from here.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.physics import units

if TYPE_CHECKING:
    import numpy as np


def number_text(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def _g(x: float) -> str:
    """A bound for messages: ``20,000``, ``0.5``, ``1e+300``."""
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


@dataclass(frozen=True)
class Bound:
    """The values a numeric key accepts; ``unit`` follows the range in messages, and
    ``mistake(v)`` names the likely mistake behind an out-of-range value (or returns "")."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False
    integer: bool = False
    unit: str = ""
    mistake: Any = field(default=None, compare=False)

    def problem(self, v) -> str:
        """``found X; expected ...`` for an out-of-range value, with the likely mistake."""
        hint = self.mistake(float(v)) if self.mistake is not None and math.isfinite(float(v)) else ""
        return f"found {number_text(v)}; expected {self.expected()}" + (f" ({hint})" if hint else "")

    def expected(self) -> str:
        return self._range() + (f" {self.unit}" if self.unit else "")

    def _range(self) -> str:
        what = "a whole number" if self.integer else "a number"
        if math.isfinite(self.lo) and math.isfinite(self.hi):
            if not self.lo_open and not self.hi_open:
                return f"{what} from {_g(self.lo)} to {_g(self.hi)}"
            lo = ">" if self.lo_open else ">="
            hi = "<" if self.hi_open else "<="
            return f"{what} {lo} {_g(self.lo)} and {hi} {_g(self.hi)}"
        if math.isfinite(self.lo):
            return f"{what} {'>' if self.lo_open else '>='} {_g(self.lo)}"
        if math.isfinite(self.hi):
            return f"{what} {'<' if self.hi_open else '<='} {_g(self.hi)}"
        return f"a finite {what[2:]}" if not self.integer else what

    def ok(self, v: float) -> bool:
        if not math.isfinite(v):
            return False
        if self.integer and v != int(v):
            return False
        if v < self.lo or (self.lo_open and v == self.lo):
            return False
        if v > self.hi or (self.hi_open and v == self.hi):
            return False
        return True

    def ok_all(self, values) -> np.ndarray:
        """Vectorised `ok`: a boolean array, one per value (for per-member overrides)."""
        import numpy as np  # here, not at the top: `bakhri --help` reads bounds without numpy

        v = np.asarray(values, dtype=float)
        good = np.isfinite(v)
        if self.integer:
            good &= v == np.round(v)
        good &= (v > self.lo) if self.lo_open else (v >= self.lo)
        good &= (v < self.hi) if self.hi_open else (v <= self.hi)
        return good


NONNEG = Bound(0.0)
POSITIVE = Bound(0.0, lo_open=True)
ANY = Bound()

# -- Plausibility bounds ----------------------------------------------------------------
# Inputs whose units are easily confused are bounded, and the message names the likely
# mistake. Every bound has a generous margin over the figures of DATA.md it comes from:
# it rejects unit mix-ups, not unusual but possible scenarios.

#: Largest flow [m³/s] any flow key accepts. DATA.md: the largest decadal mean inflow of
#: 2001–2010 is 1,096 m³/s (wet 2010), the spillway passes 3,960 m³/s and the turbines
#: 1,080 m³/s; 20,000 m³/s is about 18 times that inflow and 4 times the outlets together.
MAX_FLOW_M3S = 20_000.0
#: Largest multiplier (``scale``, ``evaporation_factor``) [-]: 10 times the data.
MAX_FACTOR = 10.0
#: Largest volume [hm³] (a protocol volume): DATA.md's annual inflow is 20.7 km³ (20,700 hm³).
MAX_VOLUME_HM3 = 50_000.0
#: Largest depth per month [mm/month] (evaporation, precipitation): DATA.md's largest
#: monthly evaporation is 180 mm (July); the annual total is 985 mm.
MAX_DEPTH_MM_MONTH = 1_000.0
#: Largest number of units: the plant has 6 (DATA.md).
MAX_UNITS = 100
#: Largest unit capacity [MW]: 29 MW per unit after rehabilitation (DATA.md); the largest
#: turbines built are about 1,000 MW.
MAX_UNIT_MW = 1_000.0
#: Largest power target [MW]: the plant has 174 MW installed (DATA.md).
MAX_POWER_MW = 10_000.0
#: Largest head [m]: the dam is 29 m high (crest 351.5 m, bed 322.5 m, DATA.md).
MAX_HEAD_M = 100.0
#: Largest decadal inflow CV [-]: 0.62 gives the observed season-volume CV 0.39 (DATA.md).
MAX_INFLOW_CV = 3.0
#: Calendar years a period may span: the calendar, the presets (2001–2010 profiles) and
#: the plots are meant for planning studies, not for year 1 or 9999.
MIN_YEAR, MAX_YEAR = 1900, 2200
#: Largest number of members a file may ask for (ensemble members × sweep settings):
#: 1,000,000 members take 0.8 GiB and 10 s (README benchmarks); ten times that is refused
#: at validation, before anything is allocated.
MAX_MEMBERS = 10_000_000


def percent_hint(example: str):
    def mistake(v: float) -> str:
        return f"looks like a percentage; expected a fraction, e.g. {example}" if 2 <= v <= 100 else ""

    return mistake


def _factor_mistake(v: float) -> str:
    if v == units.SECONDS_PER_DAY:
        return "looks like seconds per day; scale is a dimensionless multiplier"
    if 10 < v <= 1000:
        return "looks like a percentage; scale is a multiplier, e.g. 1.2 for 120 %"
    return "a dimensionless multiplier" if v > 0 else ""


def _flow_mistake(v: float) -> str:
    if v <= 0:
        return ""
    text = "far beyond the Syr Darya's flows: its largest decadal mean in 2001–2010 was 1,096 m³/s"
    return text + ("; m³ per day instead of m³/s?" if v / units.SECONDS_PER_DAY <= MAX_FLOW_M3S else "")


def _volume_mistake(v: float) -> str:
    if v >= 1e6:
        return "looks like m³; expected hm³, million m³"
    return "more than twice the annual inflow, 20,700 hm³" if v > 0 else ""


FRACTION = Bound(0.0, 1.0, mistake=percent_hint("0.8"))
FLOW = Bound(0.0, MAX_FLOW_M3S, unit="m³/s", mistake=_flow_mistake)
FLOW_POSITIVE = Bound(0.0, MAX_FLOW_M3S, lo_open=True, unit="m³/s", mistake=_flow_mistake)
FACTOR = Bound(0.0, MAX_FACTOR, mistake=_factor_mistake)
VOLUME = Bound(0.0, MAX_VOLUME_HM3, unit="hm³", mistake=_volume_mistake)
DEPTH = Bound(0.0, MAX_DEPTH_MM_MONTH, unit="mm per month",
                mistake=lambda v: "is this mm per year? expected mm per month" if v > 0 else "")
OPEN_FRACTION = Bound(0.0, 1.0, hi_open=True, mistake=percent_hint("0.1"))
EFFICIENCY = Bound(0.0, 1.0, lo_open=True, mistake=percent_hint("0.9"))
POWER = Bound(0.0, MAX_POWER_MW, unit="MW",
                mistake=lambda v: "the plant has 174 MW installed; kW instead of MW?" if v > 0 else "")
HEAD = Bound(0.0, MAX_HEAD_M, unit="m", mistake=lambda v: "the dam is 29 m high; feet or a level instead of a head?" if v > 0 else "")
HEAD_POSITIVE = dataclasses.replace(HEAD, lo_open=True)
AREA = Bound(0.0, 10_000.0, unit="km²", mistake=lambda v: "looks like m² or hectares; expected km² (513 km² at 347.5 m)")
#: ``approach_days`` of the level rule: more than ten years would never reach a target.
APPROACH_DAYS = Bound(0.0, 3650.0, lo_open=True, unit="days")
#: A shift of the whole tailwater rating (a GUESS): the dam is 29 m high, the head 12-22.5 m.
TAILWATER_SHIFT = Bound(-10.0, 10.0, unit="m")
MEMBERS = Bound(1.0, MAX_MEMBERS, integer=True, mistake=lambda v: "members are counted before any is made; ask for fewer" if v > 1 else "")
#: ``reservoir.storage_factor``: the storage (and area) at every level times k. Below 0.2 the
#: reservoir would have lost four fifths of its volume (the worst siltation claim is a third);
#: above 2 it would hold twice what any source gives at the normal level.
STORAGE_FACTOR = Bound(0.2, 2.0, mistake=lambda v: "a factor, not a volume; 1 is the table as given" if v > 2 else "")
#: ``reservoir.storage_exponent_factor``: the curvature of the table, V_n (V/V_n)^r; the power
#: law's exponent 3.08 becomes r·3.08, so 0.5-2 spans exponents 1.5-6.2 (a prism to a gorge).
STORAGE_EXPONENT_FACTOR = Bound(0.5, 2.0, mistake=lambda v: "a factor on the exponent, not the exponent; 1 is the table as given" if v > 2 else "")
