"""Tests for sim.inputs.series: series forms → daily arrays, volume conservation, CSV errors."""

import datetime
import doctest
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim.inputs.series import (
    SeriesError,
    check_values,
    constant,
    daily,
    decadal,
    from_dated,
    monthly,
    read_csv,
    to_daily,
)
from sim.physics.calendar import Period, growing_season, water_year

D = datetime.date
SEASON = growing_season(2025)  # 2025-04-01..2025-09-30, 183 days, 18 decades, 6 months
WATER_YEAR = water_year(2025)  # 2024-10-01..2025-09-30, 365 days, 36 decades


def _write(tmp_path, text, name="series.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _csv_for(period, values, column="inflow_m3s"):
    lines = [f"date,{column}"] + [f"{day},{v}" for day, v in zip(period.dates, values, strict=True)]
    return "\n".join(lines) + "\n"


# -- simple forms --------------------------------------------------------------------------


def test_constant():
    out = constant(150.0, SEASON)
    assert out.dtype == np.float64 and out.shape == (183,)
    assert np.all(out == 150.0)
    with pytest.raises(SeriesError, match=re.escape('expected a number, found "abc"')):
        constant("abc", SEASON)


def test_daily():
    values = np.arange(183)
    out = daily(values.tolist(), SEASON)
    assert out.dtype == np.float64
    assert_array_equal(out, values)
    with pytest.raises(SeriesError, match=re.escape("expected 183 values (one per day of 2025-04-01..2025-09-30), found 180")):
        daily([1.0] * 180, SEASON)


# -- decadal -------------------------------------------------------------------------------


def test_decadal_calendar_profile_conserves_volume():
    profile = np.arange(36, dtype=float) * 10.0 + 5.0
    out = decadal(profile, WATER_YEAR)
    assert out.shape == (365,) and out.dtype == np.float64
    ordinal = WATER_YEAR.period_decade_ordinal
    for k, decade in enumerate(WATER_YEAR.decades()):
        assert out[ordinal == k].sum() == pytest.approx(profile[decade.index] * decade.n_days_in_period)
    # hand-checked: the first day (Oct I) gets Oct I's value; Jan III has 11 days
    assert out[0] == profile[27]
    jan3 = (WATER_YEAR.decade_index == 2)
    assert jan3.sum() == 11 and out[jan3].sum() == 11 * profile[2]


def test_decadal_one_value_per_period_decade():
    values = np.arange(18, dtype=float)
    out = decadal(values, SEASON)
    assert out[0] == 0.0 and out[10] == 1.0 and out[-1] == 17.0
    # Sep III has 10 days
    assert out[SEASON.period_decade_ordinal == 17].sum() == 170.0


def test_decadal_36_means_calendar_even_when_period_has_36_decades():
    values = np.arange(36, dtype=float)
    out = decadal(values, WATER_YEAR)
    assert out[0] == 27.0  # Oct I of the calendar profile, not the period's first value


def test_decadal_multi_year_period_one_per_decade():
    p = Period(D(2024, 4, 1), D(2025, 9, 30))  # 18 months -> 54 decades
    assert len(p.decades()) == 54
    values = np.arange(54, dtype=float)
    out = decadal(values, p)
    assert_array_equal(out, values[p.period_decade_ordinal])
    assert out[-1] == 53.0


def test_decadal_calendar_profile_repeats_every_year():
    p = Period(D(2023, 1, 1), D(2025, 12, 31))
    profile = np.arange(36, dtype=float)
    out = decadal(profile, p)
    assert_array_equal(out, profile[p.decade_index])
    feb3_2024 = (p.year == 2024) & (p.decade_index == 5)
    assert feb3_2024.sum() == 9


def test_decadal_wrong_count():
    message = (
        "expected 36 values (one calendar year, Jan I–Dec III) or 18 "
        "(the decades of 2025-04-01..2025-09-30), found 17"
    )
    with pytest.raises(SeriesError, match=re.escape(message)):
        decadal([1.0] * 17, SEASON)


def test_decadal_anchored_dry_year_profile():
    values = np.linspace(300.0, 470.0, 18)
    out = decadal(values, SEASON, start="04-01")
    assert_array_equal(out, decadal(values, SEASON))  # same as one-per-decade here
    # a shorter period inside the covered decades is fine
    june = Period(D(2025, 6, 5), D(2025, 6, 25))
    assert_array_equal(decadal(values, june, start="04-01"), values[june.decade_index - 9])
    # and it works in any year, including leap years
    assert decadal(values, growing_season(2024), start="04-01").sum() == pytest.approx(
        decadal(values, SEASON, start="04-01").sum()
    )


def test_decadal_anchored_profile_does_not_cover_water_year():
    message = (
        "covers 04-01..09-30 only; the period 2024-10-01..2025-09-30 needs values for every day"
    )
    with pytest.raises(SeriesError, match=re.escape(message)):
        decadal([300.0] * 18, WATER_YEAR, start="04-01")


def test_decadal_anchored_wraps_over_new_year():
    winter = Period(D(2024, 11, 1), D(2025, 2, 28))
    values = np.arange(12, dtype=float)  # Nov I .. Feb III
    out = decadal(values, winter, start="11-01")
    assert out[0] == 0.0 and out[-1] == 11.0
    assert out[winter.dates == np.datetime64("2025-01-01")] == 6.0
    with pytest.raises(SeriesError, match=re.escape("start 11-01 with 11 values covers 11-01..02-20 only")):
        decadal(values[:11], winter, start="11-01")


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("04-05", 'start "04-05" is not the first day of a decade; expected day 01, 11 or 21'),
        ("4-1", "start: "),
        ("13-01", "start: "),
    ],
)
def test_decadal_bad_start(start, message):
    with pytest.raises(SeriesError, match=re.escape(message)):
        decadal([1.0] * 18, SEASON, start=start)


def test_decadal_anchored_too_many_values():
    with pytest.raises(SeriesError, match=re.escape("expected 1 to 36 values from start 04-01 (one per decade), found 37")):
        decadal([1.0] * 37, SEASON, start="04-01")


def test_decadal_rejects_non_numbers():
    with pytest.raises(SeriesError, match=re.escape('expected a list of numbers, found "x"')):
        decadal([1.0] * 17 + ["x"], SEASON)
    with pytest.raises(SeriesError, match="expected a list of numbers"):
        decadal(5.0, SEASON)


# -- monthly -------------------------------------------------------------------------------


def test_monthly_calendar_profile_conserves_volume():
    profile = np.arange(1.0, 13.0)
    out = monthly(profile, WATER_YEAR)
    ordinal = WATER_YEAR.period_month_ordinal
    for k, month in enumerate(WATER_YEAR.months()):
        assert out[ordinal == k].sum() == pytest.approx(profile[month.month - 1] * month.n_days_in_period)
    assert out[0] == 10.0  # October


def test_monthly_one_per_period_month_and_wrong_count():
    out = monthly([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], SEASON)
    assert out.sum() == 1 * 30 + 2 * 31 + 3 * 30 + 4 * 31 + 5 * 31 + 6 * 30
    message = "expected 12 values (one calendar year, Jan–Dec) or 6 (the months of 2025-04-01..2025-09-30), found 5"
    with pytest.raises(SeriesError, match=re.escape(message)):
        monthly([1.0] * 5, SEASON)


def test_monthly_anchored():
    out = monthly([10.0, 20.0, 30.0, 40.0, 50.0, 60.0], SEASON, start="04-01")
    assert out[0] == 10.0 and out[-1] == 60.0
    with pytest.raises(SeriesError, match=re.escape("start 04-01 with 6 values covers 04-01..09-30 only; the period 2024-10-01..2025-09-30")):
        monthly([1.0] * 6, WATER_YEAR, start="04-01")
    with pytest.raises(SeriesError, match=re.escape('start "04-11" is not the first day of a month; expected MM-01')):
        monthly([1.0] * 6, SEASON, start="04-11")


# -- dated values --------------------------------------------------------------------------


def test_from_dated_any_order_and_extra_days():
    p = Period(D(2025, 4, 1), D(2025, 4, 3))
    dates = [D(2025, 4, 3), D(2025, 3, 31), D(2025, 4, 1), D(2025, 4, 2), D(2025, 4, 4)]
    out = from_dated(dates, [3.0, 99.0, 1.0, 2.0, 99.0], p)
    assert_array_equal(out, [1.0, 2.0, 3.0])


def test_from_dated_missing_and_duplicate():
    p = Period(D(2025, 4, 1), D(2025, 4, 5))
    dates = np.array(["2025-04-01", "2025-04-02", "2025-04-04"], dtype="datetime64[D]")
    message = "no value for 2025-04-03 (2 of 5 days missing); expected one value for every day of 2025-04-01..2025-04-05"
    with pytest.raises(SeriesError, match=re.escape(message)):
        from_dated(dates, [1.0, 2.0, 3.0], p)
    with pytest.raises(SeriesError, match=re.escape("date 2025-04-02 appears 2 times; expected one value per day")):
        from_dated(["2025-04-02", "2025-04-01", "2025-04-02"], [1.0, 2.0, 3.0], p)
    with pytest.raises(SeriesError, match=re.escape("expected one value per date, found 2 dates and 3 values")):
        from_dated(["2025-04-02", "2025-04-01"], [1.0, 2.0, 3.0], p)


# -- CSV -----------------------------------------------------------------------------------


def test_read_csv_round_trip(tmp_path):
    p = Period(D(2025, 4, 1), D(2025, 4, 10))
    values = np.linspace(100.0, 190.0, 10)
    path = _write(tmp_path, _csv_for(p, values))
    dates, read = read_csv(path)
    assert dates.dtype == np.dtype("datetime64[D]")
    assert_array_equal(dates, p.dates)
    assert_allclose(read, values)
    assert_allclose(to_daily({"csv": str(path)}, p), values)


def test_read_csv_named_column_bom_and_blank_lines(tmp_path):
    text = "\ufeffdate, inflow_m3s ,outflow_m3s\n2025-04-01,1.5,7\n\n2025-04-02,2.5,8\n"
    path = _write(tmp_path, text)
    dates, values = read_csv(path, column="outflow_m3s")
    assert_array_equal(values, [7.0, 8.0])
    dates, values = read_csv(path, column="inflow_m3s")
    assert_array_equal(values, [1.5, 2.5])
    with pytest.raises(SeriesError, match=re.escape("2 value columns (inflow_m3s, outflow_m3s); expected one besides date")):
        read_csv(path)


_THIRTEEN_ROWS = "date,inflow_m3s\n" + "".join(f"2025-04-{d:02d},100\n" for d in range(1, 13)) + "2025-04-13,abc\n"


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        # the header is row 1, so the 13th data row is row 14
        (_THIRTEEN_ROWS, None, 'row 14, column inflow_m3s: "abc" is not a number'),
        ("date,inflow_m3s\n2025-04-01,\n", None, "row 2, column inflow_m3s: empty; expected a number"),
        ("date,inflow_m3s\n2025-04-01,nan\n", None, 'row 2, column inflow_m3s: "nan" is not a finite number'),
        ("date,inflow_m3s\n2025-04-01,1\n2025-04-31,2\n", None,
         'row 3, column date: "2025-04-31" is not a date; expected YYYY-MM-DD'),
        ("date,inflow_m3s\n01.04.2025,1\n", None, 'row 2, column date: "01.04.2025" is not a date'),
        ("date,inflow_m3s,outflow_m3s\n2025-04-01,1,2\n", "inflow",
         'no column "inflow"; available columns: date, inflow_m3s, outflow_m3s'),
        ("day,inflow_m3s\n2025-04-01,1\n", None, "no date column; found columns: day, inflow_m3s"),
        ("", None, "no header row"),
        ("date,inflow_m3s\n", None, "no data rows"),
        ("date,inflow_m3s\n2025-04-01,1\n2025-04-02,1,5\n", None, "row 3: 3 fields; expected 2 as in the header"),
        ('date,inflow_m3s\n2025-04-01,"1\n2"\n2025-04-02,1\n', None,
         "row 2: a quoted value runs over several lines; expected one row per line"),
    ],
)
def test_read_csv_errors_name_the_row_and_column(tmp_path, text, column, message):
    with pytest.raises(SeriesError, match=re.escape(message)):
        read_csv(_write(tmp_path, text), column=column)


def test_read_csv_missing_file(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(SeriesError, match=re.escape(f"file not found: {path}")):
        read_csv(path)
    with pytest.raises(SeriesError, match=re.escape(f"file not found: {path}")):
        to_daily({"csv": str(path)}, SEASON)


def test_csv_missing_date_in_period(tmp_path):
    p = Period(D(2025, 4, 1), D(2025, 4, 10))
    values = np.ones(10)
    text = _csv_for(p, values).replace("2025-04-07,1.0\n", "")
    path = _write(tmp_path, text)
    message = "no value for 2025-04-07 (1 of 10 days missing); expected one value for every day of 2025-04-01..2025-04-10"
    with pytest.raises(SeriesError, match=re.escape(message)):
        to_daily({"csv": path}, p)


def test_csv_negative_value_named_by_day(tmp_path):
    p = Period(D(2025, 4, 1), D(2025, 4, 3))
    path = _write(tmp_path, _csv_for(p, [1.0, -5.0, 2.0]))
    with pytest.raises(SeriesError, match=re.escape("value on 2025-04-02 is -5.0; expected a finite number >= 0")):
        to_daily({"csv": path}, p)
    assert_array_equal(to_daily({"csv": path}, p, allow_negative=True), [1.0, -5.0, 2.0])


# -- checks and dispatcher -----------------------------------------------------------------


def test_check_values():
    assert check_values([1.0, 0.0, 2.0]) == []
    assert check_values([1.0, 2.0, -5.0, np.nan]) == [
        "value 3 is -5.0; expected a finite number >= 0",
        "value 4 is nan; expected a finite number >= 0",
    ]
    assert check_values([-1.0, np.inf], name="level", allow_negative=True) == ["level 2 is inf; expected a finite number"]


def test_to_daily_forms():
    assert_array_equal(to_daily({"constant": 2.0}, SEASON), np.full(183, 2.0))
    assert_array_equal(to_daily({"daily": list(range(183))}, SEASON), np.arange(183.0))
    assert_array_equal(to_daily({"decadal": [1.0] * 18, "start": "04-01"}, SEASON), np.ones(183))
    assert_array_equal(to_daily({"monthly": [3.0] * 12}, SEASON), np.full(183, 3.0))
    for spec in ({"constant": 1}, {"decadal": [1] * 36}, {"monthly": [1] * 6}):
        out = to_daily(spec, SEASON)
        assert out.dtype == np.float64 and out.shape == (183,)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "expected exactly one of constant, daily, decadal, monthly, csv, found none"),
        ({"constant": 1.0, "daily": [1.0]}, "expected exactly one of constant, daily, decadal, monthly, csv, found constant and daily"),
        ({"decadel": [1.0]}, 'unknown key "decadel"; expected one of constant, daily, decadal, monthly, csv, start, column'),
        ({"constant": 1.0, "start": "04-01"}, "start is only used with decadal or monthly, found it with constant"),
        ({"decadal": [1.0] * 36, "column": "x"}, "column is only used with csv, found it with decadal"),
        ({"constant": -1.0}, "value is -1.0; expected a finite number >= 0"),
        ({"decadal": [1.0] * 17 + [-5.0, -6.0]}, "expected 36 values"),
        ({"decadal": [1.0] * 16 + [-5.0, -6.0]}, "value 17 is -5.0; expected a finite number >= 0 (and 1 more)"),
        ({"csv": 3}, "csv: expected a file path, found 3"),
        ([1.0], "expected a table with one of constant, daily, decadal, monthly, csv"),
    ],
)
def test_to_daily_errors(spec, message):
    with pytest.raises(SeriesError, match=re.escape(message)):
        to_daily(spec, SEASON)


def test_series_error_is_value_error():
    assert issubclass(SeriesError, ValueError)


def test_the_docstring_examples_run():
    from sim.inputs import series

    result = doctest.testmod(series)
    assert result.attempted > 0 and result.failed == 0


# -- properties ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(min_value=D(2000, 1, 1), max_value=D(2030, 12, 31)),
    n_days=st.integers(1, 800),
    profile=st.lists(st.floats(0.0, 5000.0, allow_nan=False), min_size=36, max_size=36),
)
def test_decadal_conserves_decade_volumes(start, n_days, profile):
    period = Period(start, start + datetime.timedelta(days=n_days - 1))
    out = decadal(profile, period)
    assert out.shape == (n_days,) and out.dtype == np.float64
    sums = np.bincount(period.period_decade_ordinal, weights=out)
    expected = [profile[d.index] * d.n_days_in_period for d in period.decades()]
    assert_allclose(sums, expected, rtol=1e-12, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    start=st.dates(min_value=D(2000, 1, 1), max_value=D(2030, 12, 31)),
    n_days=st.integers(1, 800),
    data=st.data(),
)
def test_per_period_forms_conserve_volumes(start, n_days, data):
    period = Period(start, start + datetime.timedelta(days=n_days - 1))
    decades, months = period.decades(), period.months()
    values = st.floats(0.0, 5000.0, allow_nan=False)
    if len(decades) != 36:
        per_decade = data.draw(st.lists(values, min_size=len(decades), max_size=len(decades)))
        sums = np.bincount(period.period_decade_ordinal, weights=decadal(per_decade, period))
        assert_allclose(sums, [v * d.n_days_in_period for v, d in zip(per_decade, decades, strict=True)], atol=1e-9)
    if len(months) != 12:
        per_month = data.draw(st.lists(values, min_size=len(months), max_size=len(months)))
        sums = np.bincount(period.period_month_ordinal, weights=monthly(per_month, period))
        assert_allclose(sums, [v * m.n_days_in_period for v, m in zip(per_month, months, strict=True)], atol=1e-9)


# -- issue 7: what spreadsheets and careless typing produce -----------------------------------


@pytest.mark.parametrize(
    ("spec", "found"),
    [
        ({"decadal": [500.0] * 17 + ["500"]}, '"500"'),
        ({"monthly": ["1e3"] + [500.0] * 11}, '"1e3"'),
        ({"daily": [1.0] * 182 + ["nan"]}, '"nan"'),
        ({"monthly": [True] + [500.0] * 11}, "True"),
    ],
)
def test_numeric_strings_inside_lists_are_refused_like_one_alone(spec, found):
    with pytest.raises(SeriesError) as info:
        to_daily(spec, SEASON)
    assert str(info.value) == f"expected a list of numbers, found {found} among the values"
    with pytest.raises(SeriesError):
        to_daily({"constant": "500"}, SEASON)


def test_an_unclosed_quote_gives_one_line(tmp_path):
    p = Period(D(2025, 4, 1), D(2025, 6, 30))
    text = _csv_for(p, np.full(p.n_days, 500.0)).replace("2025-04-05,500.0", '2025-04-05,"500.0')
    with pytest.raises(SeriesError) as info:
        read_csv(_write(tmp_path, text))
    message = str(info.value)
    assert message == 'row 6: a quote (") is never closed, so the rest of the file reads as one value; expected quotes in pairs, or none'
    assert "\n" not in message


@pytest.mark.parametrize(("sep", "name"), [(";", "';'"), ("\t", "tab")])
def test_a_csv_with_another_separator_gets_a_hint(tmp_path, sep, name):
    text = f"date{sep}inflow_m3s\n2025-04-01{sep}500\n"
    with pytest.raises(SeriesError) as info:
        read_csv(_write(tmp_path, text))
    assert str(info.value) == f'row 1: looks like {name} separated ("date{sep}inflow_m3s"); expected commas, e.g. date,inflow_m3s'
