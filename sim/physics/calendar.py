"""Days, decades, months and seasons of a simulation period.

A *decade* (Russian/Central Asian "декада") is a third of a calendar month: days 1–10,
11–20 and 21 to the end of the month, so the third decade has 8 to 11 days (Feb III has
9 days in a leap year and 8 otherwise). Water planning in the Syr Darya basin is done by
decade.

Index conventions used throughout the package:

- calendar decade index ``0..35`` = ``month0 * 3 + decade0`` (Jan I = 0, Apr I = 9,
  Dec III = 35), where ``month0`` is ``0..11`` and ``decade0`` is ``0..2``;
- calendar month index ``0..11`` (Jan = 0);
- ``Decade.decade`` and :func:`decade_of_day` are 1-based (``1..3``), as are months in
  ``Decade.month`` / ``Month.month`` (``1..12``), matching how people write dates;
- *period ordinals* count decades (or months) touched by a period, from 0 for the
  decade (month) containing ``Period.start``.

All per-day properties of :class:`Period` are vectorised with numpy ``datetime64``
arithmetic and have shape ``(n_days,)``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = [
    "DECADE_LABELS",
    "MONTH_LABELS",
    "ROMAN_DECADES",
    "Decade",
    "Month",
    "Period",
    "decade_of_day",
    "decade0_of_day",
    "decade_length",
    "decade_start_date",
    "decade_end_date",
    "days_in_month",
    "growing_season",
    "water_year",
    "parse_month_day",
]

MONTH_LABELS: tuple[str, ...] = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
"""Short English month names, index 0 = January."""

ROMAN_DECADES: tuple[str, ...] = ("I", "II", "III")
"""Decade numerals, index 0 = first decade (days 1–10)."""

DECADE_LABELS: tuple[str, ...] = tuple(f"{m} {r}" for m in MONTH_LABELS for r in ROMAN_DECADES)
"""The 36 calendar decades, ``"Jan I"`` .. ``"Dec III"``; index = calendar decade index."""

_MONTH_DAY_RE = re.compile(r"^(\d{2})-(\d{2})$")


# ---------------------------------------------------------------------------------------
# Scalar helpers
# ---------------------------------------------------------------------------------------


def _check_month(month) -> None:
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} is out of range; expected 1..12")


def _check_decade(decade) -> None:
    if decade not in (1, 2, 3):
        raise ValueError(f"decade {decade} is out of range; expected 1, 2 or 3")


def days_in_month(year: int, month: int) -> int:
    """Number of days in a calendar month.

    Parameters
    ----------
    year : int
        Calendar year (Gregorian).
    month : int
        Month, ``1..12``.

    Returns
    -------
    int
        28 to 31. [day]
    """
    _check_month(month)
    # Not the stdlib ``calendar`` module: this module shadows it when sim/ is on sys.path.
    first_of_next = datetime.date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - datetime.timedelta(days=1)).day


def decade_of_day(day_of_month):
    """Decade (``1..3``) that a day of the month falls in.

    Parameters
    ----------
    day_of_month : int or array_like of int
        Day of the month, ``1..31``.

    Returns
    -------
    int or ndarray of int
        1 for days 1–10, 2 for days 11–20, 3 for days 21–31; an ndarray if the input
        is array-like.

    Raises
    ------
    ValueError
        If a day is outside ``1..31``.
    """
    day = np.asarray(day_of_month)
    if np.any((day < 1) | (day > 31)):
        raise ValueError(f"day of month {day_of_month} is out of range; expected 1..31")
    decade = np.asarray(decade0_of_day(day)) + 1
    return int(decade) if decade.ndim == 0 else decade.astype(np.int64)


def decade0_of_day(day_of_month):
    """0-based decade (``0..2``) that a day of the month falls in: the ``decade0`` of the
    calendar decade index ``month0 * 3 + decade0``.

    The one place that says days 1–10, 11–20 and 21–31 make the three decades. Unchecked and
    vectorised (a day outside ``1..31`` gives a meaningless value; :func:`decade_of_day`
    checks); an int for a scalar, else an ndarray of the input's integer dtype.

    Examples
    --------
    >>> decade0_of_day(10), decade0_of_day(11), decade0_of_day(31)
    (0, 1, 2)
    """
    decade0 = np.minimum((np.asarray(day_of_month) - 1) // 10, 2)
    return int(decade0) if decade0.ndim == 0 else decade0


def decade_length(year: int, month: int, decade: int) -> int:
    """Number of days in a decade.

    Parameters
    ----------
    year : int
        Calendar year.
    month : int
        Month, ``1..12``.
    decade : int
        Decade of the month, ``1..3``.

    Returns
    -------
    int
        10 for the first and second decades; 8 to 11 for the third. [day]

    Examples
    --------
    >>> decade_length(2024, 2, 3), decade_length(2025, 2, 3), decade_length(2025, 1, 3)
    (9, 8, 11)
    """
    _check_decade(decade)
    if decade < 3:
        _check_month(month)
        return 10
    return days_in_month(year, month) - 20


def decade_start_date(year: int, month: int, decade: int) -> datetime.date:
    """First day of a decade (the 1st, 11th or 21st of the month)."""
    _check_month(month)
    _check_decade(decade)
    return datetime.date(year, month, 1 + 10 * (decade - 1))


def decade_end_date(year: int, month: int, decade: int) -> datetime.date:
    """Last day of a decade (the 10th, 20th or last day of the month), inclusive."""
    _check_month(month)
    _check_decade(decade)
    last = 10 * decade if decade < 3 else days_in_month(year, month)
    return datetime.date(year, month, last)


def parse_month_day(text: str) -> tuple[int, int]:
    """Parse a ``"MM-DD"`` month-day string.

    Parameters
    ----------
    text : str
        Two-digit month and day separated by a hyphen, e.g. ``"06-10"``. ``"02-29"`` is
        accepted (it exists in leap years).

    Returns
    -------
    tuple of int
        ``(month, day)``, e.g. ``(6, 10)``.

    Raises
    ------
    ValueError
        If the text is not of the form ``MM-DD`` or the day does not exist in that month.
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a month-day; expected a string like \"06-10\" (MM-DD)")
    match = _MONTH_DAY_RE.match(text.strip())
    if match is None:
        raise ValueError(f"\"{text}\" is not a month-day; expected MM-DD, e.g. \"06-10\"")
    month, day = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"\"{text}\" has month {month}; expected 01..12")
    last = days_in_month(2000, month)  # a leap year, so 02-29 is allowed
    if not 1 <= day <= last:
        raise ValueError(f"\"{text}\" has day {day}; {MONTH_LABELS[month - 1]} has days 01..{last:02d}")
    return month, day


def _to_date(value, what: str) -> datetime.date:
    """Coerce a date-like value (date, datetime, datetime64, ISO string) to ``datetime.date``."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ValueError(f"{what} is NaT; expected a date")
        return value.astype("datetime64[D]").item()
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{what} \"{value}\" is not a date; expected YYYY-MM-DD") from None
    raise TypeError(f"{what} {value!r} is not a date; expected datetime.date, datetime64 or YYYY-MM-DD")


# ---------------------------------------------------------------------------------------
# Decades and months touched by a period
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decade:
    """One calendar decade, as touched by a :class:`Period`.

    Attributes
    ----------
    year, month, decade : int
        Calendar year, month ``1..12`` and decade of the month ``1..3``, as the arguments
        of :func:`decade_length`.
    first_day : datetime.date
        Calendar first day of the decade (the 1st, 11th or 21st), even if the period
        starts later in the decade.
    n_days_in_period : int
        Days of this decade that lie inside the period (fewer than :attr:`n_days` for a
        decade cut by the period's start or end). [day]
    label : str
        E.g. ``"Apr I 2025"``.
    """

    year: int
    month: int
    decade: int
    first_day: datetime.date
    n_days_in_period: int
    label: str

    @property
    def index(self) -> int:
        """Calendar decade index, ``0..35`` (Jan I = 0)."""
        return (self.month - 1) * 3 + self.decade - 1

    @property
    def n_days(self) -> int:
        """Full calendar length of the decade, 8..11. [day]"""
        return decade_length(self.year, self.month, self.decade)

    @property
    def last_day(self) -> datetime.date:
        """Calendar last day of the decade (inclusive)."""
        return decade_end_date(self.year, self.month, self.decade)


class Month(NamedTuple):
    """One calendar month, as touched by a :class:`Period` (unpacks as a 4-tuple).

    Attributes
    ----------
    year, month : int
        Calendar year and month ``1..12``, as the arguments of :func:`days_in_month`.
    n_days_in_period : int
        Days of this month inside the period. [day]
    label : str
        E.g. ``"Apr 2025"``.
    """

    year: int
    month: int
    n_days_in_period: int
    label: str

    @property
    def index(self) -> int:
        """Calendar month index, ``0..11`` (Jan = 0)."""
        return self.month - 1

    @property
    def n_days(self) -> int:
        """Full calendar length of the month. [day]"""
        return days_in_month(self.year, self.month)


# ---------------------------------------------------------------------------------------
# Period
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A run of consecutive days, one simulation step per day.

    Parameters
    ----------
    start : datetime.date
        First day. ``datetime``, ``numpy.datetime64`` and ISO ``"YYYY-MM-DD"`` strings are
        accepted and converted to ``datetime.date``.
    end : datetime.date
        Last day, inclusive.

    Raises
    ------
    ValueError
        If ``end`` is before ``start``.

    Notes
    -----
    All per-day properties (``dates``, ``decade_index``, ...) are recomputed on each
    access and returned as fresh arrays of shape ``(n_days,)``; keep a reference if you
    use them in a loop. ``str(period)`` is ``"2025-04-01..2025-09-30"``.

    Examples
    --------
    >>> p = Period(datetime.date(2025, 4, 1), datetime.date(2025, 9, 30))
    >>> p.n_days, len(p.decades()), len(p.months())
    (183, 18, 6)
    """

    start: datetime.date
    end: datetime.date

    def __post_init__(self):
        object.__setattr__(self, "start", _to_date(self.start, "start"))
        object.__setattr__(self, "end", _to_date(self.end, "end"))
        if self.end < self.start:
            raise ValueError(f"end {self.end.isoformat()} is before start {self.start.isoformat()}")

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    # -- per-day arrays -------------------------------------------------------------

    @property
    def n_days(self) -> int:
        """Number of days, ``end - start + 1``. [day]"""
        return (self.end - self.start).days + 1

    @property
    def dates(self) -> np.ndarray:
        """Every day of the period, ``datetime64[D]``, shape ``(n_days,)``."""
        start = np.datetime64(self.start, "D")
        return start + np.arange(self.n_days)

    def _parts(self):
        """Per-day absolute month number (months since 1970-01) and day of month."""
        dates = self.dates
        months = dates.astype("datetime64[M]")
        day_of_month = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
        return months.astype(np.int64), day_of_month

    @property
    def day_of_month(self) -> np.ndarray:
        """Day of the month, ``1..31``, shape ``(n_days,)``."""
        return self._parts()[1]

    @property
    def month_index(self) -> np.ndarray:
        """Calendar month index ``0..11`` (Jan = 0) of each day, shape ``(n_days,)``."""
        return self._parts()[0] % 12

    @property
    def year(self) -> np.ndarray:
        """Calendar year of each day, shape ``(n_days,)``."""
        return self._parts()[0] // 12 + 1970

    def _absolute_decade(self) -> np.ndarray:
        """Per-day decade count since Jan I 1970 (months since 1970-01 × 3 + decade0)."""
        months, day = self._parts()
        return months * 3 + decade0_of_day(day)

    @property
    def decade_index(self) -> np.ndarray:
        """Calendar decade index ``0..35`` (Jan I = 0) of each day, shape ``(n_days,)``."""
        return self._absolute_decade() % 36

    @property
    def period_decade_ordinal(self) -> np.ndarray:
        """0-based ordinal of each day's decade among :meth:`decades`, shape ``(n_days,)``."""
        absolute = self._absolute_decade()
        return absolute - absolute[0]

    @property
    def period_month_ordinal(self) -> np.ndarray:
        """0-based ordinal of each day's month among :meth:`months`, shape ``(n_days,)``."""
        months = self._parts()[0]
        return months - months[0]

    # -- decades and months -------------------------------------------------------------

    def decades(self) -> list[Decade]:
        """Every calendar decade touched by the period, in time order.

        Returns
        -------
        list of Decade
            ``len(...) == period_decade_ordinal[-1] + 1``; decade ``k`` holds the days
            where ``period_decade_ordinal == k``.
        """
        absolute = self._absolute_decade()
        counts = np.bincount(absolute - absolute[0])
        out = []
        for k, n_in in enumerate(counts):
            a = int(absolute[0]) + k
            month_abs, decade0 = divmod(a, 3)
            year, month0 = divmod(month_abs, 12)
            year += 1970
            out.append(
                Decade(
                    year=year,
                    month=month0 + 1,
                    decade=decade0 + 1,
                    first_day=datetime.date(year, month0 + 1, 1 + 10 * decade0),
                    n_days_in_period=int(n_in),
                    label=f"{DECADE_LABELS[month0 * 3 + decade0]} {year}",
                )
            )
        return out

    def months(self) -> list[Month]:
        """Every calendar month touched by the period, in time order.

        Returns
        -------
        list of Month
            ``(year, month, n_days_in_period, label)`` named tuples; month ``k`` holds the
            days where ``period_month_ordinal == k``.
        """
        months = self._parts()[0]
        counts = np.bincount(months - months[0])
        out = []
        for k, n_in in enumerate(counts):
            year, month0 = divmod(int(months[0]) + k, 12)
            year += 1970
            out.append(Month(year, month0 + 1, int(n_in), f"{MONTH_LABELS[month0]} {year}"))
        return out

    # -- lookup -----------------------------------------------------------------------

    def __contains__(self, day) -> bool:
        day = _to_date(day, "day")
        return self.start <= day <= self.end

    def index_of(self, day) -> int:
        """0-based step index of a day (date, datetime64 or ISO string).

        Raises
        ------
        ValueError
            If the day is outside the period.
        """
        day = _to_date(day, "day")
        if not self.start <= day <= self.end:
            raise ValueError(f"{day.isoformat()} is outside the period {self}")
        return (day - self.start).days


def growing_season(year: int) -> Period:
    """The irrigation (growing) season, 1 April – 30 September of ``year`` (183 days)."""
    return Period(datetime.date(year, 4, 1), datetime.date(year, 9, 30))


def water_year(year: int) -> Period:
    """Water year ``year``: 1 October of ``year - 1`` to 30 September of ``year``."""
    return Period(datetime.date(year - 1, 10, 1), datetime.date(year, 9, 30))
