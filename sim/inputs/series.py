"""Time-varying inputs → daily arrays over a :class:`~sim.physics.calendar.Period`.

Every input series (inflow, demand, schedules, evaporation, unit availability, ...) can be
given as a constant, one value per day, one value per decade, one value per month, or a
CSV file of dated values. Each form is expanded to a float64 array of shape ``(n_days,)``.

Decadal and monthly values are *means* over the decade or month: every day of a decade
(month) gets that decade's (month's) value, so the volume of each decade is exactly
``value * n_days`` and no interpolation moves water between decades.

Errors raise :class:`SeriesError` with a one-line message that says what was found and
what was expected, without file or key context: the scenario loader prefixes the key path
(``inflow.decadal_m3s: expected 36 values ...``). The values are checked in
`sim.inputs.values`, CSV files read in `sim.inputs.csvfile`; both are re-exported here.

The scenario loader calls :func:`to_daily` with the series table from the file, after
stripping the unit suffix from the key (``decadal_m3s = [...]`` → ``{"decadal": [...]}``)
and resolving relative CSV paths against the scenario file's folder.
"""

from __future__ import annotations

import datetime
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from sim.inputs.csvfile import read_csv, read_csv_rows
from sim.inputs.values import SeriesError, as_values, check_values, is_number, problems, raise_problems, short
from sim.physics.calendar import (
    DECADE_LABELS,
    MONTH_LABELS,
    Period,
    days_in_month,
    decade0_of_day,
    decade_end_date,
    parse_month_day,
)

__all__ = [
    "SeriesError",
    "SERIES_FORMS",
    "constant",
    "daily",
    "decadal",
    "monthly",
    "from_dated",
    "read_csv",
    "read_csv_rows",
    "check_values",
    "to_daily",
    "guide_curve",
]

SERIES_FORMS: tuple[str, ...] = ("constant", "daily", "decadal", "monthly", "csv")
"""The keys of :func:`to_daily`'s spec, exactly one of which must be given."""

_OPTIONAL_KEYS = {"column": ("csv",), "start": ("decadal", "monthly")}


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _month_day(month: int, day: int) -> str:
    return f"{month:02d}-{day:02d}"


@dataclass(frozen=True)
class _Cycle:
    """The calendar slots a profile fills, one value each: the 36 decades or the 12 months."""

    unit: str  # "decade" | "month"
    labels: tuple[str, ...]  # one per slot: Jan I..Dec III, or Jan..Dec
    first_days: tuple[int, ...]  # days of the month on which a slot starts
    start_hint: str  # what a start of a slot looks like, for messages
    slot: Callable[[int, int], int]  # (month, day) of a slot's first day -> slot 0..n-1
    last_day: Callable[[int], tuple[int, int]]  # slot -> (month, day) of its last day in a leap year
    of_day: Callable[[Period], np.ndarray]  # calendar slot of each day of a period
    ordinal: Callable[[Period], np.ndarray]  # period ordinal of each day's slot
    touched: Callable[[Period], list]  # the slots a period touches, in time order


_DECADES = _Cycle(
    "decade", DECADE_LABELS, (1, 11, 21), "day 01, 11 or 21",
    slot=lambda month, day: (month - 1) * 3 + decade0_of_day(day),
    last_day=lambda k: (k // 3 + 1, decade_end_date(2000, k // 3 + 1, k % 3 + 1).day),  # 2000: Feb III ends 02-29
    of_day=lambda p: p.decade_index, ordinal=lambda p: p.period_decade_ordinal, touched=lambda p: p.decades(),
)  # fmt: skip
_MONTHS = _Cycle(
    "month", MONTH_LABELS, (1,), 'MM-01, e.g. "04-01"',
    slot=lambda month, day: month - 1,
    last_day=lambda k: (k + 1, days_in_month(2000, k + 1)),
    of_day=lambda p: p.month_index, ordinal=lambda p: p.period_month_ordinal, touched=lambda p: p.months(),
)  # fmt: skip


def _parse_start(start, cycle: _Cycle) -> tuple[int, int]:
    """Parse ``start`` ("MM-DD") and check it begins a slot of the cycle (a decade or a month)."""
    try:
        month, day = parse_month_day(start)
    except ValueError as err:
        raise SeriesError(f"start: {err}") from None
    if day not in cycle.first_days:
        raise SeriesError(f'start "{start}" is not the first day of a {cycle.unit}; expected {cycle.start_hint}')
    return month, day


def _expand(values, period: Period, start, cycle: _Cycle) -> np.ndarray:
    """A profile of the cycle's slots (a calendar year, or from `start` on) or one value per
    slot touched by the period → daily values: :func:`decadal` and :func:`monthly`."""
    array = as_values(values)
    n, n_slots = array.size, len(cycle.labels)
    if start is not None:
        month, day = _parse_start(start, cycle)
        anchor = cycle.slot(month, day)
        last = (anchor + min(n, n_slots) - 1) % n_slots
        return _anchored(
            array, cycle.of_day(period), n_slots, anchor, _month_day(month, day),
            _month_day(*cycle.last_day(last)), period, cycle.unit,
        )  # fmt: skip
    n_touched = len(cycle.touched(period))
    if n == n_slots:
        return array[cycle.of_day(period)]
    if n == n_touched:
        return array[cycle.ordinal(period)]
    raise SeriesError(
        f"expected {n_slots} values (one calendar year, {cycle.labels[0]}–{cycle.labels[-1]}) "
        f"or {n_touched} (the {cycle.unit}s of {period}), found {n}"
    )


def _anchored(values, slot_of_day, n_slots, anchor, first_label, last_label, period, unit):
    """Expand a cyclic calendar profile that starts at calendar slot ``anchor``."""
    n = len(values)
    if not 1 <= n <= n_slots:
        raise SeriesError(f"expected 1 to {n_slots} values from start {first_label} (one per {unit}), found {n}")
    offset = (slot_of_day - anchor) % n_slots
    covered = offset < n
    if not covered.all():
        raise SeriesError(
            f"start {first_label} with {n} values covers {first_label}..{last_label} only; "
            f"the period {period} needs values for every day"
        )
    return values[offset]


# ---------------------------------------------------------------------------------------
# Forms
# ---------------------------------------------------------------------------------------


def constant(value, period: Period) -> np.ndarray:
    """The same value (a number, in the unit of the quantity) on every day of the period:
    float64, shape ``(n_days,)``."""
    if not is_number(value):
        raise SeriesError(f"expected a number, found {short(value)}")
    return np.full(period.n_days, float(value), dtype=np.float64)


def daily(values, period: Period) -> np.ndarray:
    """One value per day of the period, in order: exactly ``period.n_days`` values, returned
    as a new float64 array of shape ``(n_days,)``."""
    array = as_values(values)
    if array.size != period.n_days:
        raise SeriesError(f"expected {period.n_days} values (one per day of {period}), found {array.size}")
    return array.copy()


def decadal(values, period: Period, start: str | None = None) -> np.ndarray:
    """Decade mean values → daily values (every day of a decade gets the decade's value).

    Parameters
    ----------
    values : sequence of float
        Without ``start``: either 36 values, a calendar-year profile Jan I..Dec III applied
        to every year of the period (cyclic), or exactly ``len(period.decades())`` values,
        one per decade touched by the period, in time order (multi-year periods allowed).
        If both counts are 36 the calendar meaning wins.
        With ``start``: 1 to 36 values, a calendar profile whose first value belongs to the
        decade beginning on ``start`` and continues cyclically (Dec III → Jan I); every day
        of the period must fall in one of the covered decades.
    period : Period
        Simulation period.
    start : str, optional
        ``"MM-DD"`` first day of the decade of the first value; the day must be 01, 11 or 21.

    Returns
    -------
    ndarray of float64, shape (n_days,)
        Each day's decade value.

    Raises
    ------
    SeriesError
        Wrong number of values, ``start`` not a decade start, or a profile that leaves
        days of the period uncovered.

    Examples
    --------
    An 18-value April–September profile fits a growing season but not a water year:

    >>> from sim.physics.calendar import growing_season, water_year
    >>> daily_m3s = decadal(range(18), growing_season(2025), start="04-01")
    >>> daily_m3s[[0, 10, -1]].tolist()
    [0.0, 1.0, 17.0]
    >>> decadal(range(18), water_year(2025), start="04-01")
    Traceback (most recent call last):
    ...
    sim.inputs.values.SeriesError: start 04-01 with 18 values covers 04-01..09-30 only; the period 2024-10-01..2025-09-30 needs values for every day
    """
    return _expand(values, period, start, _DECADES)


def monthly(values, period: Period, start: str | None = None) -> np.ndarray:
    """Monthly mean values → daily values (every day of a month gets the month's value).

    As :func:`decadal`, with months for decades: 12 values (a calendar-year profile Jan..Dec
    applied to every year) or one per month touched by the period (``len(period.months())``;
    if both counts are 12 the calendar meaning wins); with ``start`` (``"MM-01"``), 1 to 12
    values from the month of ``start`` on, cyclically, covering every day of the period.
    Returns float64 values of shape ``(n_days,)``; raises SeriesError for a wrong number of
    values, a ``start`` that is not the first of a month, or days left uncovered.
    """
    return _expand(values, period, start, _MONTHS)


def from_dated(dates, values, period: Period) -> np.ndarray:
    """Dated daily values → the values of the period's days, float64 of shape ``(n_days,)``.

    ``dates`` (datetime64[D], datetime.date or ISO strings) give one date per value, in any
    order; days outside the period are ignored, and every day of the period must have exactly
    one value. SeriesError when the lengths differ, a date appears more than once, or a day
    of the period has no value (the message names the first missing day).
    """
    try:
        days = np.asarray(dates, dtype="datetime64[D]")
    except (TypeError, ValueError):
        raise SeriesError("expected dates (datetime64[D], datetime.date or YYYY-MM-DD)") from None
    array = as_values(values)
    if days.ndim != 1 or days.size != array.size:
        raise SeriesError(f"expected one value per date, found {days.size} dates and {array.size} values")
    if np.isnat(days).any():
        raise SeriesError(f"date {int(np.argmax(np.isnat(days))) + 1} is missing (NaT); expected a date")
    unique, counts = np.unique(days, return_counts=True)
    if (counts > 1).any():
        k = int(np.argmax(counts > 1))
        raise SeriesError(f"date {unique[k]} appears {counts[k]} times; expected one value per day")
    offset = (days - np.datetime64(period.start, "D")).astype(np.int64)
    inside = (offset >= 0) & (offset < period.n_days)
    out = np.full(period.n_days, np.nan)
    have = np.zeros(period.n_days, dtype=bool)
    out[offset[inside]] = array[inside]
    have[offset[inside]] = True
    if not have.all():
        missing = ~have
        first = period.dates[np.argmax(missing)]
        raise SeriesError(
            f"no value for {first} ({int(missing.sum())} of {period.n_days} days missing); "
            f"expected one value for every day of {period}"
        )
    return out


# ---------------------------------------------------------------------------------------
# Dispatcher
# ---------------------------------------------------------------------------------------


def to_daily(spec: Mapping, period: Period, *, allow_negative: bool = False) -> np.ndarray:
    """Turn a series spec from a scenario file into daily values.

    Parameters
    ----------
    spec : Mapping
        Exactly one of the keys

        - ``constant``: a number;
        - ``daily``: one number per day of the period;
        - ``decadal``: 36 numbers (calendar profile) or one per decade of the period;
          optional ``start = "MM-DD"`` (a decade start) anchors a shorter cyclic profile;
        - ``monthly``: 12 numbers or one per month of the period; optional
          ``start = "MM-01"``;
        - ``csv``: path of a CSV file (used as given: the caller resolves relative paths)
          with a ``date`` column and a value column; optional ``column`` names it.

        See :func:`constant`, :func:`daily`, :func:`decadal`, :func:`monthly`,
        :func:`read_csv` and :func:`from_dated`.
    period : Period
        Simulation period.
    allow_negative : bool, default False
        Accept negative values. Values are checked with :func:`check_values`; non-finite
        values are always an error.

    Returns
    -------
    ndarray of float64, shape (n_days,)

    Raises
    ------
    SeriesError
        One line, without key context, e.g. ``expected 36 values (one calendar year,
        Jan I–Dec III) or 18 (the decades of 2025-04-01..2025-09-30), found 17``. For
        value checks, the first problem is reported (``value 3 is -5.0; ...``, counting
        from 1; for CSV files, the day), followed by ``(and N more)``.

    Examples
    --------
    >>> from sim.physics.calendar import growing_season
    >>> float(to_daily({"decadal": [100.0] * 36}, growing_season(2025)).sum())
    18300.0
    """
    if not isinstance(spec, Mapping):
        raise SeriesError(f"expected a table with one of {', '.join(SERIES_FORMS)}, found {short(spec)}")
    unknown = [key for key in spec if key not in SERIES_FORMS and key not in _OPTIONAL_KEYS]
    if unknown:
        raise SeriesError(f'unknown key "{unknown[0]}"; expected one of {", ".join(SERIES_FORMS)}, start, column')
    forms = [key for key in SERIES_FORMS if key in spec]
    if len(forms) != 1:
        found = "none" if not forms else " and ".join(forms)
        raise SeriesError(f"expected exactly one of {', '.join(SERIES_FORMS)}, found {found}")
    form = forms[0]
    for key, allowed in _OPTIONAL_KEYS.items():
        if key in spec and form not in allowed:
            uses = " or ".join(allowed)
            raise SeriesError(f"{key} is only used with {uses}, found it with {form}")
    given = spec[form]

    if form == "csv":
        if not isinstance(given, (str, os.PathLike)):
            raise SeriesError(f"csv: expected a file path, found {short(given)}")
        dates, values = read_csv(given, column=spec.get("column"))
        out = from_dated(dates, values, period)
        days = period.dates
        raise_problems(problems(out, lambda i: f"value on {days[i]}", allow_negative))
        return out

    if form == "constant":
        out = constant(given, period)
        raise_problems(problems(out[:1], lambda i: "value", allow_negative))
        return out

    if form == "daily":
        out = daily(given, period)
    elif form == "decadal":
        out = decadal(given, period, start=spec.get("start"))
    else:
        out = monthly(given, period, start=spec.get("start"))
    raise_problems(check_values(given, allow_negative=allow_negative))
    return out



# ---------------------------------------------------------------------------------------
# Guide curves
# ---------------------------------------------------------------------------------------


def guide_curve(points: Mapping[str, float], period: Period) -> np.ndarray:
    """Levels at calendar dates → a daily guide curve, interpolated linearly by day.

    Parameters
    ----------
    points : Mapping of str to float
        ``{"MM-DD": level}``, e.g. ``{"04-01": 346.0, "06-10": 347.5, "09-30": 342.0}``;
        at least one point. The curve repeats every year (cyclic): after the last date of
        the year it runs to the first date of the next year. ``"02-29"`` is not accepted
        (it exists only in leap years). [m a.s.l.]
    period : Period
        Simulation period.

    Returns
    -------
    ndarray of float64, shape (n_days,)
        The level on each day; on a point's date it is exactly the point's value. One point
        gives a constant curve.

    Raises
    ------
    SeriesError
        No points, a key that is not an ``MM-DD`` date, or a value that is not a finite
        number, e.g. ``"13-01" has month 13; expected 01..12``.

    Examples
    --------
    >>> from sim.physics.calendar import growing_season
    >>> curve = guide_curve({"04-01": 346.0, "04-11": 347.0}, growing_season(2025))
    >>> curve[[0, 5, 10]].tolist()
    [346.0, 346.5, 347.0]
    """
    if not isinstance(points, Mapping):
        raise SeriesError(f'expected a table of "MM-DD" = level, found {short(points)}')
    if not points:
        raise SeriesError('expected at least one "MM-DD" = level point, found none')
    parsed = []
    for key, value in points.items():
        try:
            month, day = parse_month_day(key)
        except ValueError as err:
            raise SeriesError(str(err)) from None
        if (month, day) == (2, 29):
            raise SeriesError('"02-29" exists only in leap years; use "02-28" or "03-01"')
        if not is_number(value):
            raise SeriesError(f'"{key}": expected a number, found {short(value)}')
        if not math.isfinite(value):
            raise SeriesError(f'"{key}": {float(value)!r} is not a finite number')
        parsed.append((month, day, float(value)))
    # Anchor every point in each year around the period, so interpolation wraps the year end.
    anchors = sorted(
        (np.datetime64(datetime.date(year, month, day), "D"), value)
        for year in range(period.start.year - 1, period.end.year + 2)
        for month, day, value in parsed
    )
    x = np.array([a for a, _ in anchors], dtype="datetime64[D]").astype(np.int64)
    y = np.array([v for _, v in anchors], dtype=np.float64)
    return np.interp(period.dates.astype(np.int64), x.astype(np.float64), y)
