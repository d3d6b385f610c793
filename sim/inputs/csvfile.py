"""Dated CSV files → dates and values, with one-line errors that name the row and column.

Rows are numbered as in a spreadsheet (the header is row 1). What spreadsheet exports get wrong
is refused with a hint: no header, ``;`` or tab separators, a quote that is never closed.
"""

from __future__ import annotations

import csv
import datetime
import math
import os
import re

import numpy as np

from sim.inputs.values import SeriesError, short

__all__ = ["read_csv", "read_csv_rows"]

_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
                raise SeriesError(f"row 1: looks like {name} separated ({short(rows[0][0])}); expected commas, e.g. {example}")
    for row_number, row in enumerate(rows, start=1):
        if any("\n" in cell or "\r" in cell for cell in row):
            if row_number == len(rows):  # the open quote swallowed the rest of the file
                raise SeriesError(f'row {row_number}: a quote (") is never closed, so the rest of the file reads as one '
                                  "value; expected quotes in pairs, or none")
            raise SeriesError(f"row {row_number}: a quoted value runs over several lines; expected one row per line")
    return rows
