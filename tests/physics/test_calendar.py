"""Tests for sim.physics.calendar: decades, months, seasons and Period arithmetic."""

import datetime
import doctest
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.physics.calendar import (
    DECADE_LABELS,
    MONTH_LABELS,
    Decade,
    Month,
    Period,
    days_in_month,
    decade0_of_day,
    decade_end_date,
    decade_length,
    decade_of_day,
    decade_start_date,
    growing_season,
    parse_month_day,
    water_year,
)

D = datetime.date


# -- scalar helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "decade", "n_days"),
    [
        (2024, 2, 3, 9),  # leap year
        (2025, 2, 3, 8),
        (2000, 2, 3, 9),  # divisible by 400: leap
        (1900, 2, 3, 8),  # divisible by 100: not leap
        (2025, 1, 3, 11),
        (2025, 4, 3, 10),
        (2025, 1, 1, 10),
        (2025, 2, 2, 10),
    ],
)
def test_decade_length(year, month, decade, n_days):
    assert decade_length(year, month, decade) == n_days


def test_decade_lengths_sum_to_year():
    for year in (2024, 2025):
        total = sum(decade_length(year, m, d) for m in range(1, 13) for d in (1, 2, 3))
        assert total == (366 if year == 2024 else 365)


@pytest.mark.parametrize(("day", "decade"), [(1, 1), (10, 1), (11, 2), (20, 2), (21, 3), (31, 3)])
def test_decade_of_day(day, decade):
    assert decade_of_day(day) == decade
    assert decade0_of_day(day) == decade - 1 and type(decade0_of_day(day)) is int


def test_decade_of_day_vectorised_and_bad_day():
    np.testing.assert_array_equal(decade_of_day(np.arange(1, 32)), [1] * 10 + [2] * 10 + [3] * 11)
    np.testing.assert_array_equal(decade0_of_day(np.arange(1, 32)), [0] * 10 + [1] * 10 + [2] * 11)
    with pytest.raises(ValueError, match="expected 1..31"):
        decade_of_day(0)


def test_decade_start_and_end_dates():
    assert decade_start_date(2025, 6, 2) == D(2025, 6, 11)
    assert decade_start_date(2025, 6, 3) == D(2025, 6, 21)
    assert decade_end_date(2024, 2, 3) == D(2024, 2, 29)
    assert decade_end_date(2025, 2, 3) == D(2025, 2, 28)
    with pytest.raises(ValueError, match="decade 4 is out of range"):
        decade_start_date(2025, 6, 4)


def test_days_in_month():
    assert [days_in_month(2025, m) for m in range(1, 13)] == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    assert days_in_month(2024, 2) == 29


def test_labels():
    assert len(DECADE_LABELS) == 36
    assert DECADE_LABELS[0] == "Jan I"
    assert DECADE_LABELS[9] == "Apr I"
    assert DECADE_LABELS[35] == "Dec III"
    assert MONTH_LABELS[3] == "Apr"
    assert len(MONTH_LABELS) == 12


def test_parse_month_day():
    assert parse_month_day("06-10") == (6, 10)
    assert parse_month_day("02-29") == (2, 29)
    for bad, message in [
        ("6-10", 'expected MM-DD'),
        ("06/10", "expected MM-DD"),
        ("13-01", "has month 13; expected 01..12"),
        ("04-31", "has day 31; Apr has days 01..30"),
        ("00-10", "has month 0"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_month_day(bad)
    with pytest.raises(ValueError, match="expected a string"):
        parse_month_day(610)


# -- Period --------------------------------------------------------------------------------


def test_period_rejects_end_before_start():
    with pytest.raises(ValueError, match=re.escape("end 2025-03-01 is before start 2025-04-01")):
        Period(D(2025, 4, 1), D(2025, 3, 1))


def test_period_coerces_date_like():
    p = Period("2025-04-01", np.datetime64("2025-04-03"))
    assert p == Period(D(2025, 4, 1), D(2025, 4, 3))
    assert Period(datetime.datetime(2025, 4, 1, 12), D(2025, 4, 1)).n_days == 1
    assert str(p) == "2025-04-01..2025-04-03"


def test_single_day_period():
    p = Period(D(2025, 2, 28), D(2025, 2, 28))
    assert p.n_days == 1
    assert p.decade_index.tolist() == [5]
    assert p.decades() == [Decade(2025, 2, 3, D(2025, 2, 21), 1, "Feb III 2025")]
    assert p.months() == [Month(2025, 2, 1, "Feb 2025")]


def _decades_of(p, start, end, n_days, labels):
    """Check that `p` runs `start`..`end` (`n_days` days) and that its decades at the positions
    of `labels` ({position: label}) carry those labels; return its decades."""
    assert (p.start, p.end) == (start, end)
    assert p.n_days == n_days
    decades = p.decades()
    assert {k: decades[k].label for k in labels} == labels
    return decades


def test_growing_season():
    p = growing_season(2025)
    decades = _decades_of(p, D(2025, 4, 1), D(2025, 9, 30), 183, {0: "Apr I 2025", -1: "Sep III 2025"})
    assert len(decades) == 18
    assert sum(d.n_days_in_period for d in decades) == 183
    assert [m.label for m in p.months()] == [f"{m} 2025" for m in ("Apr", "May", "Jun", "Jul", "Aug", "Sep")]
    assert p.decade_index[0] == 9 and p.decade_index[-1] == 26
    assert p.month_index[0] == 3 and p.month_index[-1] == 8


def test_water_year_crosses_new_year():
    p = water_year(2025)
    decades = _decades_of(p, D(2024, 10, 1), D(2025, 9, 30), 365,
                          {0: "Oct I 2024", 9: "Jan I 2025", -1: "Sep III 2025"})
    assert len(decades) == 36
    assert [d.index for d in decades] == list(range(27, 36)) + list(range(27))
    ordinal = p.period_decade_ordinal
    assert ordinal[0] == 0 and ordinal[-1] == 35
    assert np.all(np.diff(ordinal) >= 0)
    # Feb III 2025 has 8 days; the ordinal of Feb III is 9 + 5 = 14.
    assert np.count_nonzero(ordinal == 14) == 8
    assert decades[14].label == "Feb III 2025" and decades[14].n_days_in_period == 8
    months = p.months()
    assert len(months) == 12 and months[0] == (2024, 10, 31, "Oct 2024")
    assert p.period_month_ordinal[[0, 31, -1]].tolist() == [0, 1, 11]


def test_water_year_with_leap_day():
    p = water_year(2024)
    assert p.n_days == 366
    assert p.decades()[14].n_days_in_period == 9  # Feb III 2024


def test_period_cut_decades():
    p = Period(D(2025, 4, 5), D(2025, 4, 12))
    decades = p.decades()
    assert [(d.label, d.n_days_in_period, d.n_days) for d in decades] == [("Apr I 2025", 6, 10), ("Apr II 2025", 2, 10)]
    assert decades[0].first_day == D(2025, 4, 1)  # calendar start, not the period's
    assert p.period_decade_ordinal.tolist() == [0] * 6 + [1] * 2


def test_per_day_arrays():
    p = Period(D(2024, 12, 30), D(2025, 1, 2))
    assert p.dates.dtype == np.dtype("datetime64[D]")
    assert p.dates.tolist() == [D(2024, 12, 30), D(2024, 12, 31), D(2025, 1, 1), D(2025, 1, 2)]
    assert p.decade_index.tolist() == [35, 35, 0, 0]
    assert p.month_index.tolist() == [11, 11, 0, 0]
    assert p.day_of_month.tolist() == [30, 31, 1, 2]
    assert p.year.tolist() == [2024, 2024, 2025, 2025]
    assert p.period_decade_ordinal.tolist() == [0, 0, 1, 1]
    assert p.period_month_ordinal.tolist() == [0, 0, 1, 1]


def test_index_of_and_contains():
    p = growing_season(2025)
    assert p.index_of(D(2025, 4, 1)) == 0
    assert p.index_of("2025-09-30") == 182
    assert D(2025, 6, 1) in p and D(2025, 10, 1) not in p
    with pytest.raises(ValueError, match="2025-10-01 is outside the period 2025-04-01..2025-09-30"):
        p.index_of(D(2025, 10, 1))


def test_before_1970():
    p = Period(D(1960, 2, 25), D(1960, 3, 2))
    assert p.decade_index.tolist() == [5] * 5 + [6] * 2
    assert p.decades()[0].label == "Feb III 1960"
    assert p.decades()[0].n_days_in_period == 5


# -- properties ----------------------------------------------------------------------------

starts = st.dates(min_value=D(2000, 1, 1), max_value=D(2030, 12, 31))


@given(start=starts, n_days=st.integers(1, 800))
def test_period_decomposition_is_consistent(start, n_days):
    p = Period(start, start + datetime.timedelta(days=n_days - 1))
    assert p.n_days == n_days == p.dates.size
    decades = p.decades()
    ordinal = p.period_decade_ordinal
    assert ordinal[-1] + 1 == len(decades)
    assert [d.n_days_in_period for d in decades] == np.bincount(ordinal).tolist()
    assert all(1 <= d.n_days_in_period <= d.n_days for d in decades)
    # each day's calendar decade index matches its Decade
    index_of_ordinal = np.array([d.index for d in decades])
    np.testing.assert_array_equal(index_of_ordinal[ordinal], p.decade_index)
    # the same from python dates, one by one
    days = p.dates.tolist()
    expected = [(d.month - 1) * 3 + (0 if d.day <= 10 else 1 if d.day <= 20 else 2) for d in days]
    assert p.decade_index.tolist() == expected
    assert p.month_index.tolist() == [d.month - 1 for d in days]
    months = p.months()
    assert sum(m.n_days_in_period for m in months) == n_days
    assert p.period_month_ordinal[-1] + 1 == len(months)
    # inner decades and months are whole
    assert all(d.n_days_in_period == d.n_days for d in decades[1:-1])
    assert all(m.n_days_in_period == m.n_days for m in months[1:-1])


def test_the_docstring_examples_run():
    from sim.physics import calendar

    result = doctest.testmod(calendar)
    assert result.attempted > 0 and result.failed == 0
