"""The core of the scenario checks: one object that collects problems and checks single values."""

from __future__ import annotations

import os
import re

import numpy as np

from sim.inputs import series
from sim.inputs.presets import PresetError, load_preset, preset_names
from sim.physics.calendar import Period
from sim.physics.ranges import ANY, FLOW, Bound
from sim.scenario.errors import (
    describe_value,
    did_you_mean,
    is_date,
    is_number,
    join_key,
    quoted,
    unknown_name,
)
from sim.scenario.keys import FORM_OPTIONS, SERIES_TABLE_FORMS
from sim.scenario.reading import Files
from sim.scenario.specs import Compiled

CSV_WHERE_RE = re.compile(r"^(row \d+(?:, column [^:]+)?): (.*)$", re.S)


class Checker:
    """Validates the merged data, fills presets and defaults, and compiles daily arrays.

    The per-section checks (``check_reservoir(ck)`` ...) take it and write into it:
    ``problems`` (one line each), ``out`` (the resolved tables), ``c`` (the compiled arrays
    and engine objects), ``period``, and what later sections need (``regime_selection``,
    ``ensemble``, ``sweep``).
    """

    def __init__(self, data: dict, files: Files, stem: str | None):
        self.data = data
        self.files = files
        self.stem = stem
        self.problems: list[str] = []
        self.period: Period | None = None
        self.out: dict = {}
        self.c = Compiled()
        self.regime_selection: list[str] | None = None
        self.ensemble = None
        self.sweep = None
        self.optimise = None

    def add(self, path: str, message: str) -> None:
        """Record a problem at a dotted key path."""
        self.problems.append(f"{path}: {message}" if path else message)

    def table(self, path: str, value, allowed, *, default_empty=True) -> dict | None:
        """``value`` if it is a table (unknown keys reported), ``{}`` if absent and ``default_empty``, else
        None."""
        if value is None and default_empty:
            return {}
        if not isinstance(value, dict):
            self.add(path, f"found {describe_value(value)}; expected a table")
            return None
        for k in value:
            if k not in allowed:
                self.unknown_key(join_key(path, k), k, allowed)
        return value

    def known_table(self, path: str, value, allowed) -> dict | None:
        """``value`` if it is a table with only ``allowed`` keys, else None after saying why."""
        t = self.table(path, value, allowed)
        if t is None or any(k not in allowed for k in t):
            return None
        return t

    def unknown_key(self, path: str, k, allowed) -> None:
        """Report an unknown key, with a did-you-mean or the keys allowed."""
        hint = did_you_mean(k, allowed)
        if hint:
            self.add(path, f"unknown key{hint}")
        else:
            self.add(path, f"unknown key; expected one of {', '.join(allowed)}")

    def number(self, path: str, value, bound: Bound = ANY):
        """The value as given (int or float) if it is a number within ``bound``, else None."""
        if not is_number(value):
            self.add(path, f"found {describe_value(value)}; expected {bound.expected()}")
            return None
        if not bound.ok(float(value)):
            self.add(path, bound.problem(value))
            return None
        return value

    def string(self, path: str, value, what="a string"):
        """``value`` if it is a string, else None after saying what was found."""
        if not isinstance(value, str):
            self.add(path, f"found {describe_value(value)}; expected {what}")
            return None
        return value

    def date(self, path: str, value):
        """``value`` if it is a TOML date, else None (a quoted date gets its own hint)."""
        if is_date(value):
            return value
        if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value.strip()):
            self.add(path, f"found {describe_value(value)}; expected a TOML date, written without quotes: {value.strip()}")
        else:
            self.add(path, f"found {describe_value(value)}; expected a TOML date such as 2025-04-01")
        return None

    def preset(self, path: str, kind: str, name):
        """The named built-in preset of ``kind``, or None after saying why (with a did-you-mean)."""
        if not isinstance(name, str):
            self.add(path, f"found {describe_value(name)}; expected the name of a {kind} preset ({quoted(preset_names(kind))})")
            return None
        if name not in preset_names(kind):
            article = "an" if kind[0] in "aeiou" else "a"
            self.add(path, unknown_name(f"{article} {kind} preset", name, preset_names(kind)))
            return None
        try:
            return load_preset(kind, name)
        except PresetError as err:  # a broken data file in the package
            self.add(path, str(err))
            return None

    def preset_section(self, section: str, allowed, default: str):
        """A section filled by a preset: ``(table, out, preset, preset values)``, ``out`` being
        the resolved table with ``preset`` (default ``default``) in it; None if not a table."""
        t = self.table(section, self.data.get(section), allowed)
        if t is None:
            return None
        out = {"preset": t.get("preset", default)}
        self.out[section] = out
        p = self.preset(f"{section}.preset", section, out["preset"])
        return t, out, p, (p.as_dict() if p else {})

    def csv_path(self, path: str, value) -> str | None:
        """``value`` if it names an existing file, else None."""
        if not isinstance(value, str) or not value:
            self.add(path, f"found {describe_value(value)}; expected the path of a CSV file")
            return None
        if not os.path.isfile(value):
            self.add(path, f"file not found: {self.files.rel(value)}")
            return None
        return value

    def series_error(self, path: str, err: Exception, csv_file: str | None = None) -> None:
        """Report a `series.SeriesError`, located in the CSV file (row, column) when it is one."""
        text = str(err)
        if csv_file is not None:
            shown = self.files.rel(csv_file)
            m = CSV_WHERE_RE.match(text)
            if m:
                self.add(f"{path} ({shown}, {m.group(1)})", m.group(2))
            else:
                self.add(f"{path} ({shown})", text)
        else:
            self.add(path, text)

    def to_daily(self, path: str, spec: dict, csv_key_path: str | None = None, *, allow_negative=False):
        """``series.to_daily`` with the key path in messages; None on error."""
        if self.period is None:
            return None
        if "csv" in spec:
            f = self.csv_path(csv_key_path or path, spec["csv"])
            if f is None:
                return None
        try:
            return series.to_daily(spec, self.period, allow_negative=allow_negative)
        except series.SeriesError as err:
            self.series_error(csv_key_path or path, err, spec.get("csv") if "csv" in spec else None)
            return None

    def form_options(self, path: str, table: dict, form: str) -> bool:
        """Check ``column`` and ``start`` are strings and used only with the forms that take them."""
        ok = True
        for opt, users, what in (
            ("column", ("csv",), "csv"),
            ("start", ("decadal_m3s", "monthly_m3s", "decadal", "monthly"), "decadal or monthly values"),
        ):
            if opt in table and form not in users:
                self.add(join_key(path, opt), f"only used with {what}; found it with {form}")
                ok = False
        if "column" in table and self.string(join_key(path, "column"), table["column"]) is None:
            ok = False
        if "start" in table and self.string(join_key(path, "start"), table["start"], 'a month-day such as "04-01"') is None:
            ok = False
        return ok

    def flow_form(self, path: str, table: dict, forms, preset_kind: str | None, *, what: str):
        """Exactly one of ``forms`` (section-level, ``_m3s`` suffixes) → (form, daily) or None."""
        form = self.one_form(path, [f for f in forms if f in table], forms, what)
        if form is None or not self.form_options(path, table, form):
            return None
        spec = {form[:-4] if form.endswith("_m3s") else form: table[form]}
        for opt in FORM_OPTIONS:
            if opt in table:
                spec[opt] = table[opt]
        daily = self.form_series(path, table, form, spec, preset_kind, FLOW, form == "constant_m3s")
        return None if daily is None else (form, daily)

    def one_form(self, path: str, given: list, choices, what: str) -> str | None:
        """The one form given among ``choices``, or None after saying that none or several are."""
        if len(given) == 1:
            return given[0]
        listed = ", ".join(choices)
        if not given:
            self.add(path, f"no {what} given; expected one of {listed}")
        else:
            self.add(path, f"{' and '.join(given)} are all given; expected exactly one of {listed}")
        return None

    def form_series(self, path: str, table: dict, form: str, spec: dict, preset_kind, bound: Bound, constant: bool):
        """Daily values of the chosen ``form`` of ``table``: the preset's flow series, or ``spec``
        made daily and checked against ``bound``; None on error."""
        if form == "preset":
            p = self.preset(join_key(path, "preset"), preset_kind, table["preset"])
            return None if p is None or self.period is None else self.preset_series(join_key(path, "preset"), p)
        daily = self.to_daily(join_key(path, form), spec, allow_negative=bound.lo < 0)
        if daily is None or not self.within(join_key(path, form), daily, bound, constant):
            return None
        return daily

    def within(self, path: str, daily, bound: Bound, constant: bool = False) -> bool:
        """Check daily values against ``bound``; the first bad day is reported."""
        bad = np.flatnonzero(~bound.ok_all(daily))
        if bad.size:
            day = "" if constant else f" on {self.period.dates[bad[0]]}"
            self.add(path, bound.problem(float(daily[bad[0]])).replace(";", f"{day};", 1))
            return False
        return True

    def preset_series(self, path: str, p):
        """The daily flow series of a preset (decadal or monthly values), or None."""
        values = p.as_dict()
        for key, fn in (("decadal_m3s", series.decadal), ("monthly_m3s", series.monthly)):
            if key in values:
                try:
                    return fn(values[key], self.period, start=values.get("start"))
                except series.SeriesError as err:
                    self.add(path, f'the preset "{p.name}" does not cover the period: {err}')
                    return None
        self.add(path, f'the {p.kind} preset "{p.name}" is not a flow series')
        return None

    def value_series(self, path: str, value, *, bound: Bound = FLOW, preset_kind=None, integer=False):
        """A key whose value is a number or a series table ``{constant|daily|...|csv}`` → daily."""
        if self.period is None:
            return None
        if is_number(value):
            if self.number(path, value, bound) is None:
                return None
            return np.full(self.period.n_days, float(value))
        if not isinstance(value, dict):
            self.add(path, f"found {describe_value(value)}; expected a number or a table with one of "
                     + ", ".join(SERIES_TABLE_FORMS + (("preset",) if preset_kind else ())))
            return None
        allowed = SERIES_TABLE_FORMS + FORM_OPTIONS + (("preset",) if preset_kind else ())
        if self.known_table(path, value, allowed) is None:
            return None
        choices = SERIES_TABLE_FORMS + (("preset",) if preset_kind else ())
        forms = [k for k in choices if k in value]
        if len(forms) != 1:
            found = "none" if not forms else " and ".join(forms)
            self.add(path, f"found {found}; expected exactly one of {', '.join(choices)}")
            return None
        form = forms[0]
        if not self.form_options(path, value, form):
            return None
        return self.form_series(path, value, form, dict(value), preset_kind, bound, form == "constant")
