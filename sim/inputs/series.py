"""Time-varying inputs → daily arrays over a :class:`~sim.calendar.Period`.

Every input series (inflow, demand, schedules, evaporation, unit availability, ...) can be
given as a constant, one value per day, one value per decade, one value per month, or a
CSV file of dated values. Each form is expanded to a float64 array of shape ``(n_days,)``.

Decadal and monthly values are *means* over the decade or month: every day of a decade
(month) gets that decade's (month's) value, so the volume of each decade is exactly
``value * n_days`` and no interpolation moves water between decades.

Errors raise :class:`SeriesError` with a one-line message that says what was found and
what was expected, without file or key context: the scenario loader prefixes the key path
(``inflow.decadal_m3s: expected 36 values ...``).

The scenario loader calls :func:`to_daily` with the series table from the file, after
stripping the unit suffix from the key (``decadal_m3s = [...]`` → ``{"decadal": [...]}``)
and resolving relative CSV paths against the scenario file's folder.
"""

from __future__ import annotations

import csv
import datetime
import math
import os
import re
from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np

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
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SeriesError(ValueError):
    """A series cannot be turned into daily values; the message is one line."""


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _as_values(values, what: str = "values") -> np.ndarray:
    """Convert a sequence of numbers to a 1-D float64 array, or raise SeriesError."""
    if isinstance(values, (str, bytes, Mapping)) or np.isscalar(values):
        raise SeriesError(f"expected a list of numbers, found {_short(values)}")
    try:
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    except TypeError:
        raise SeriesError(f"expected a list of numbers, found {_short(values)}") from None
    try:
        # numpy would turn "500" into 500.0: a numeric string in a list is refused, as alone
        if not all(_is_number(v) or isinstance(v, (list, tuple, np.ndarray)) for v in items):
            raise TypeError
        array = np.asarray(items, dtype=np.float64)
    except (TypeError, ValueError):
        bad = next((v for v in items if not _is_number(v)), items)
        raise SeriesError(f"expected a list of numbers, found {_short(bad)} among the {what}") from None
    if array.ndim != 1:
        raise SeriesError(f"expected a flat list of numbers, found an array of shape {array.shape}")
    return array


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def _short(value) -> str:
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _month_day(month: int, day: int) -> str:
    return f"{month:02d}-{day:02d}"


def _parse_start(start, unit: str) -> tuple[int, int]:
    """Parse ``start`` ("MM-DD") and check it begins a decade (or a month)."""
    try:
        month, day = parse_month_day(start)
    except ValueError as err:
        raise SeriesError(f"start: {err}") from None
    if unit == "decade" and day not in (1, 11, 21):
        raise SeriesError(f'start "{start}" is not the first day of a decade; expected day 01, 11 or 21')
    if unit == "month" and day != 1:
        raise SeriesError(f'start "{start}" is not the first day of a month; expected MM-01, e.g. "04-01"')
    return month, day


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
    """The same value on every day.

    Parameters
    ----------
    value : float
        The value, in the unit of the quantity.
    period : Period
        Simulation period.

    Returns
    -------
    ndarray of float64, shape (n_days,)
    """
    if not _is_number(value):
        raise SeriesError(f"expected a number, found {_short(value)}")
    return np.full(period.n_days, float(value), dtype=np.float64)


def daily(values, period: Period) -> np.ndarray:
    """One value per day of the period, in order.

    Parameters
    ----------
    values : sequence of float
        Exactly ``period.n_days`` values.
    period : Period
        Simulation period.

    Returns
    -------
    ndarray of float64, shape (n_days,)
    """
    array = _as_values(values)
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

    Raises
    ------
    SeriesError
        Wrong number of values, ``start`` not a decade start, or a profile that leaves
        days of the period uncovered.

    Examples
    --------
    An 18-value April–September profile fits a growing season but not a water year:

    >>> from sim.calendar import growing_season, water_year
    >>> daily_m3s = decadal(range(18), growing_season(2025), start="04-01")
    >>> daily_m3s[[0, 10, -1]].tolist()
    [0.0, 1.0, 17.0]
    >>> decadal(range(18), water_year(2025), start="04-01")
    Traceback (most recent call last):
    ...
    sim.series.SeriesError: start 04-01 with 18 values covers 04-01..09-30 only; the period 2024-10-01..2025-09-30 needs values for every day
    """
    array = _as_values(values)
    n = array.size
    if start is not None:
        month, day = _parse_start(start, "decade")
        anchor = (month - 1) * 3 + decade0_of_day(day)
        last = (anchor + min(n, 36) - 1) % 36
        last_month, last_decade = last // 3 + 1, last % 3 + 1
        last_day = decade_end_date(2000, last_month, last_decade).day  # leap year: Feb III ends 02-29
        return _anchored(
            array, period.decade_index, 36, anchor, _month_day(month, day),
            _month_day(last_month, last_day), period, "decade",
        )  # fmt: skip
    n_decades = len(period.decades())
    if n == 36:
        return array[period.decade_index]
    if n == n_decades:
        return array[period.period_decade_ordinal]
    raise SeriesError(
        f"expected 36 values (one calendar year, {DECADE_LABELS[0]}–{DECADE_LABELS[-1]}) "
        f"or {n_decades} (the decades of {period}), found {n}"
    )


def monthly(values, period: Period, start: str | None = None) -> np.ndarray:
    """Monthly mean values → daily values (every day of a month gets the month's value).

    Parameters
    ----------
    values : sequence of float
        Without ``start``: either 12 values, a calendar-year profile Jan..Dec applied to
        every year (cyclic), or exactly ``len(period.months())`` values, one per month
        touched by the period, in time order. If both counts are 12 the calendar meaning
        wins. With ``start``: 1 to 12 values, a calendar profile whose first value is for
        the month of ``start``, continuing cyclically; every day of the period must be
        covered.
    period : Period
        Simulation period.
    start : str, optional
        ``"MM-01"`` (same month-day form as :func:`decadal`; the day must be 01).

    Returns
    -------
    ndarray of float64, shape (n_days,)

    Raises
    ------
    SeriesError
        Wrong number of values, ``start`` not a month start, or uncovered days.
    """
    array = _as_values(values)
    n = array.size
    if start is not None:
        month, _ = _parse_start(start, "month")
        anchor = month - 1
        last = (anchor + min(n, 12) - 1) % 12 + 1
        return _anchored(
            array, period.month_index, 12, anchor, _month_day(month, 1),
            _month_day(last, days_in_month(2000, last)), period, "month",
        )  # fmt: skip
    n_months = len(period.months())
    if n == 12:
        return array[period.month_index]
    if n == n_months:
        return array[period.period_month_ordinal]
    raise SeriesError(
        f"expected 12 values (one calendar year, {MONTH_LABELS[0]}–{MONTH_LABELS[-1]}) "
        f"or {n_months} (the months of {period}), found {n}"
    )


def from_dated(dates, values, period: Period) -> np.ndarray:
    """Dated daily values → the values of the period's days.

    Parameters
    ----------
    dates : array_like of datetime64[D] or datetime.date
        One date per value, any order; days outside the period are ignored.
    values : array_like of float
        Values, same length as ``dates``.
    period : Period
        Simulation period; every day must have exactly one value.

    Returns
    -------
    ndarray of float64, shape (n_days,)

    Raises
    ------
    SeriesError
        Lengths differ, a date appears more than once, or a day of the period has no
        value (the message names the first missing day).
    """
    try:
        days = np.asarray(dates, dtype="datetime64[D]")
    except (TypeError, ValueError):
        raise SeriesError("expected dates (datetime64[D], datetime.date or YYYY-MM-DD)") from None
    array = _as_values(values)
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


def read_csv(path, column: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read dated values from a CSV file.

    The file needs a header row, a ``date`` column of ISO dates ``YYYY-MM-DD`` and one
    value column (or several, with ``column`` naming the one to read). Header names are
    stripped of surrounding spaces; a UTF-8 byte-order mark is ignored; blank lines are
    skipped. Rows may be in any order (see :func:`from_dated`).

    Parameters
    ----------
    path : str or os.PathLike
        The file, used as given (relative paths are relative to the working directory).
    column : str, optional
        Name of the value column; required if there is more than one besides ``date``.

    Returns
    -------
    dates : ndarray of datetime64[D], shape (n_rows,)
    values : ndarray of float64, shape (n_rows,)

    Raises
    ------
    SeriesError
        Messages name the row and column, e.g. ``row 14, column inflow_m3s: "abc" is not
        a number``. Rows are numbered as in a spreadsheet: **the header is row 1, the first
        data row is row 2** (the file's line number for files without quoted line breaks).
    """
    rows = read_csv_rows(path, "date,inflow_m3s")
    header = [name.strip() for name in rows[0]]
    available = ", ".join(header)
    if "date" not in header:
        raise SeriesError(f"no date column; found columns: {available}")
    others = [name for name in header if name != "date"]
    if column is None:
        if len(others) != 1:
            found = "no value column" if not others else f"{len(others)} value columns ({', '.join(others)})"
            raise SeriesError(f"{found}; expected one besides date, or the name of one as column")
        column = others[0]
    elif column not in header or column == "date":
        raise SeriesError(f'no column "{column}"; available columns: {available}')
    date_col, value_col = header.index("date"), header.index(column)

    dates, values = [], []
    for row_number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise SeriesError(f"row {row_number}: {len(row)} fields; expected {len(header)} as in the header")
        text = row[date_col].strip()
        try:
            if not _ISO_DATE_RE.match(text):
                raise ValueError
            dates.append(datetime.date.fromisoformat(text))
        except ValueError:
            raise SeriesError(f'row {row_number}, column date: "{text}" is not a date; expected YYYY-MM-DD') from None
        text = row[value_col].strip()
        if not text:
            raise SeriesError(f"row {row_number}, column {column}: empty; expected a number")
        try:
            number = float(text)
        except ValueError:
            raise SeriesError(f'row {row_number}, column {column}: "{text}" is not a number') from None
        if not math.isfinite(number):
            raise SeriesError(f'row {row_number}, column {column}: "{text}" is not a finite number')
        values.append(number)
    if not dates:
        raise SeriesError("no data rows; expected one row per day after the header")
    return np.array(dates, dtype="datetime64[D]"), np.array(values, dtype=np.float64)


def read_csv_rows(path, example: str) -> list[list[str]]:
    """The rows of a CSV file (a UTF-8 byte-order mark is ignored), with one-line errors.

    Refuses what a spreadsheet export gets wrong: no header row, ``;`` or tab instead of
    commas (``example`` is the header expected, e.g. ``date,inflow_m3s``), and a quote that
    is never closed (the reader would swallow the rest of the file into one value).
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise SeriesError(f"file not found: {os.fspath(path)}") from None
    except IsADirectoryError:
        raise SeriesError(f"not a file: {os.fspath(path)}") from None
    except UnicodeDecodeError as err:
        raise SeriesError(f"not a UTF-8 text file: {os.fspath(path)} (byte {err.start})") from None
    except csv.Error as err:
        raise SeriesError(f"not a valid CSV file: {err}") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise SeriesError(f"no header row; expected a first row naming the columns, e.g. {example}")
    if len(rows[0]) == 1:
        for sep, name in ((";", "';'"), ("\t", "tab")):
            if sep in rows[0][0]:
                raise SeriesError(f"row 1: looks like {name} separated ({_short(rows[0][0])}); expected commas, e.g. {example}")
    for row_number, row in enumerate(rows, start=1):
        if any("\n" in cell or "\r" in cell for cell in row):
            if row_number == len(rows):  # the open quote swallowed the rest of the file
                raise SeriesError(f'row {row_number}: a quote (") is never closed, so the rest of the file reads as one '
                                  "value; expected quotes in pairs, or none")
            raise SeriesError(f"row {row_number}: a quoted value runs over several lines; expected one row per line")
    return rows


def check_values(values, *, name: str = "value", allow_negative: bool = False) -> list[str]:
    """Problems with a series' values: non-finite, or negative when not allowed.

    Parameters
    ----------
    values : array_like of float
        The values as given (e.g. the 36 decadal values), checked element by element.
    name : str, default "value"
        Word that starts each message.
    allow_negative : bool, default False
        Accept negative values.

    Returns
    -------
    list of str
        One message per bad value, empty if all is well, e.g.
        ``value 3 is -5.0; expected a finite number >= 0``. Values are numbered from 1
        (``value 1`` is the first), as a person counts the items of a TOML list.
    """
    array = np.atleast_1d(np.asarray(values, dtype=np.float64)).ravel()
    return _problems(array, lambda i: f"{name} {i + 1}", allow_negative)


def _problems(array: np.ndarray, label, allow_negative: bool) -> list[str]:
    """Messages for bad elements; ``label(i)`` names element ``i``."""
    bad = ~np.isfinite(array)
    if not allow_negative:
        bad |= array < 0
    expected = "a finite number" if allow_negative else "a finite number >= 0"
    return [f"{label(i)} is {float(array[i])!r}; expected {expected}" for i in np.flatnonzero(bad)]


def _raise_problems(problems: Sequence[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SeriesError(problems[0] + more)


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
    >>> from sim.calendar import growing_season
    >>> float(to_daily({"decadal": [100.0] * 36}, growing_season(2025)).sum())
    18300.0
    """
    if not isinstance(spec, Mapping):
        raise SeriesError(f"expected a table with one of {', '.join(SERIES_FORMS)}, found {_short(spec)}")
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
            raise SeriesError(f"csv: expected a file path, found {_short(given)}")
        dates, values = read_csv(given, column=spec.get("column"))
        out = from_dated(dates, values, period)
        days = period.dates
        _raise_problems(_problems(out, lambda i: f"value on {days[i]}", allow_negative))
        return out

    if form == "constant":
        out = constant(given, period)
        _raise_problems(_problems(out[:1], lambda i: "value", allow_negative))
        return out

    if form == "daily":
        out = daily(given, period)
    elif form == "decadal":
        out = decadal(given, period, start=spec.get("start"))
    else:
        out = monthly(given, period, start=spec.get("start"))
    _raise_problems(check_values(given, allow_negative=allow_negative))
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
    >>> from sim.calendar import growing_season
    >>> curve = guide_curve({"04-01": 346.0, "04-11": 347.0}, growing_season(2025))
    >>> curve[[0, 5, 10]].tolist()
    [346.0, 346.5, 347.0]
    """
    if not isinstance(points, Mapping):
        raise SeriesError(f'expected a table of "MM-DD" = level, found {_short(points)}')
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
        if not _is_number(value):
            raise SeriesError(f'"{key}": expected a number, found {_short(value)}')
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
