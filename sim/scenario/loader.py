"""Scenario files (TOML, format version 1) → a checked, frozen `Scenario`.

A scenario file answers one question and compares operating regimes against the same
inputs (DESIGN.md "Scenario files"). Loading goes

1. **parse** each file with `tomllib` (syntax errors name the file, line and column);
2. **inherit**: follow ``[scenario] extends`` (a path relative to the child's folder) and
   merge parent and child (see *Merge rules*), detecting cycles;
3. **fill presets**: the named reservoir and plant presets fill the keys the file does not
   give; protocol demand presets fill ``volume_hm3``, ``window``, ``extra_m3s`` and
   ``extra_from``; defaults are written in (``inflow.scale = 1``, ...);
4. **validate everything**, collecting every problem, and raise one `ScenarioError`
   whose message gives, per problem, the dotted key path, what was found and what was
   expected (with a `difflib` "did you mean" for unknown keys, rules and presets).

Limits are part of validation, so that ``bakhri validate`` promises what ``run`` does: every
numeric key has a plausibility range around DATA.md's figures whose message names the likely
unit mistake (see ``sim.physics.ranges``); periods lie in ``MIN_YEAR``..``MAX_YEAR``;
``extends`` chains and nesting are capped (``MAX_EXTENDS_DEPTH``, ``MAX_NESTING``); ensemble
members × sweep settings are counted, never built, against ``MAX_MEMBERS``
(`sweep_size_problem` does the same for ``bakhri sweep --set``).

The result, `Scenario.resolved`, is the whole scenario after inheritance and presets as plain
TOML data; `Scenario.to_toml()` writes it (``scenario.resolved.toml``) and it loads back to
the same scenario. `Scenario.build()` turns it into the engine's `Model` and `Regime`
objects; ``overrides`` give any numeric key (by its dotted path) one value per member, which
is how sweeps run as a single ensemble.

Merge rules for ``extends``
---------------------------
- Tables merge key by key, the child winning; arrays, including arrays of tables such as
  ``[[demand]]``, are replaced whole.
- Keys that are alternatives replace each other: a child giving any of the series forms
  (``preset``, ``constant_m3s``, ``decadal_m3s``, ..., ``csv``, ``volume_hm3``, ...) drops the
  parent's other form in the same table; likewise ``initial_level_m`` / ``initial_storage_hm3``.
  A regime whose ``rule`` the child changes is replaced whole. ``target_level_m``,
  ``tailwater`` and ``window`` are replaced whole.
- Relative paths (``hypsometry``, every ``csv``) are resolved against the folder of the file
  that wrote them, before merging.
- ``[scenario] name``, ``title`` and ``description`` belong to each file and are not
  inherited: ``name`` defaults to the file's name without ``.toml``.

Key paths in messages are dotted (``regimes.irrigation-first.hedging.factor``); a demand
is ``demand.<name>`` (or ``demand[k]``, counting from 1, when it has no usable name).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import difflib
import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.inputs import series
from sim.physics import units
from sim.physics.calendar import Period, parse_month_day
from sim.inputs.presets import PresetError, hypsometry_table, load_preset, preset_names
from sim.physics.ranges import (
    ANY,
    APPROACH_DAYS,
    AREA,
    Bound,
    DEPTH,
    EFFICIENCY,
    FACTOR,
    FLOW,
    FLOW_POSITIVE,
    FRACTION,
    HEAD,
    HEAD_POSITIVE,
    MAX_YEAR,
    MAX_INFLOW_CV,
    MAX_MEMBERS,
    MAX_UNITS,
    MAX_UNIT_MW,
    MEMBERS,
    MIN_YEAR,
    NONNEG,
    OPEN_FRACTION,
    percent_hint,
    POSITIVE,
    POWER,
    VOLUME,
    number_text,
)

__all__ = [
    "FORMAT_VERSION",
    "RULE_KEYS",
    "SWEEP_METHODS",
    "ScenarioError",
    "EnsembleSpec",
    "SweepSpec",
    "Scenario",
    "load_scenario",
    "scenario_from_dict",
    "sweep_size_problem",
    "validate",
]

FORMAT_VERSION = 1
SWEEP_METHODS = ("grid", "lhs", "sobol")

_SCENARIO_NAME_RE = re.compile(r"^[a-z0-9-]+$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")

_SECTIONS = (
    "scenario", "period", "reservoir", "plant", "inflow", "losses", "downstream", "demand", "regimes",
    "ensemble", "sweep",
)  # fmt: skip
_SCENARIO_KEYS = ("name", "title", "description", "extends", "format", "regimes")
_PERIOD_KEYS = ("start", "end")
_RESERVOIR_KEYS = (
    "preset", "initial_level_m", "initial_storage_hm3", "min_level_m", "normal_level_m", "max_level_m",
    "spillway_capacity_m3s", "hypsometry", "siltation_fraction", "tailwater",
)  # fmt: skip
_PLANT_KEYS = (
    "preset", "units", "unit_capacity_mw", "unit_max_flow_m3s", "efficiency", "min_head_m", "max_head_m",
    "units_available",
)  # fmt: skip
_FLOW_FORMS = ("constant_m3s", "daily_m3s", "decadal_m3s", "monthly_m3s", "csv")
_FORM_OPTIONS = ("column", "start")
_INFLOW_KEYS = ("preset",) + _FLOW_FORMS + _FORM_OPTIONS + ("scale",)
_LOSSES_KEYS = ("evaporation_mm_month", "evaporation_factor", "precipitation_mm_month", "seepage_m3s")
_DOWNSTREAM_KEYS = ("reach_loss_fraction", "lateral_inflow_m3s")
_VOLUME_KEYS = ("volume_hm3", "window", "extra_m3s", "extra_from")
_DEMAND_KEYS = (
    ("name", "description", "priority", "location", "scale", "preset") + _FLOW_FORMS + _FORM_OPTIONS + _VOLUME_KEYS
)
_REGIME_COMMON = (
    "rule", "description", "min_release_m3s", "max_release_m3s", "max_change_m3s_day", "initial_release_m3s",
)  # fmt: skip
#: Keys each rule takes besides the common ones (rule, description and the release limits).
RULE_KEYS = {
    "demand": ("hedging", "scale"),
    "level": ("target_level_m", "approach_days"),
    "power": ("target_mw",),
    "schedule": _FLOW_FORMS + _FORM_OPTIONS + ("scale",),
}
_ENSEMBLE_KEYS = ("members", "seed", "inflow_cv", "inflow_lag1")
_SWEEP_OPTIONS = ("method", "samples", "seed")
_SERIES_TABLE_FORMS = ("constant", "daily", "decadal", "monthly", "csv")
#: Regime names that would collide with what `bakhri run` writes next to the regime folders.
_RESERVED_REGIME_NAMES = ("plots",)

_DEFAULT_LAG1 = 0.8  # GUESS (DATA.md gives no decade-to-decade correlation)

#: Deepest ``extends`` chain, and deepest nesting of arrays and tables, a file may have.
MAX_EXTENDS_DEPTH = 32
MAX_NESTING = 32

# Merge: keys that are alternatives to each other (a child giving one drops the parent's others).
_EXCLUSIVE = (
    frozenset(("preset", "volume_hm3", "window", "extra_m3s", "extra_from", "column", "start")
              + _FLOW_FORMS + _SERIES_TABLE_FORMS),
    frozenset(("initial_level_m", "initial_storage_hm3")),
)  # fmt: skip
_REPLACE_WHOLE = frozenset(("target_level_m", "tailwater", "window"))
_PATH_KEYS = frozenset(("csv", "hypsometry"))


# ---------------------------------------------------------------------------------------
# Errors and messages
# ---------------------------------------------------------------------------------------


class ScenarioError(ValueError):
    """Everything wrong with a scenario file, as one error.

    Attributes
    ----------
    path : str or None
        The file the problems are in (as given by the caller), or None for a dict.
    problems : list of str
        One line each, ``"key.path: message"``.

    ``str(err)`` is ``"<file>: key.path: message"`` for one problem, otherwise
    ``"<file>: N problems"`` followed by one indented line per problem.
    """

    def __init__(self, path, problems):
        self.path = None if path is None else os.fspath(path)
        self.problems = list(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        where = self.path if self.path is not None else "<scenario>"
        if len(self.problems) == 1:
            return f"{where}: {self.problems[0]}"
        return f"{where}: {len(self.problems)} problems\n" + "\n".join(f"  {p}" for p in self.problems)

    def __str__(self) -> str:
        return self._text()


def _key(k) -> str:
    k = str(k)
    return k if _BARE_KEY_RE.match(k) else json.dumps(k, ensure_ascii=False)


def _join(path: str, k) -> str:
    return f"{path}.{_key(k)}" if path else _key(k)


def _quoted(names) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _describe(value) -> str:
    """What was found, for messages: ``the string "1.0"``, ``the integer 3``, ``a table`` ..."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {number_text(value)}"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f'the string "{text}"'
    if isinstance(value, datetime.datetime):
        return f"the date-time {value.isoformat()}"
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, datetime.time):
        return f"the time {value.isoformat()}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, Mapping):
        return "a table"
    return repr(value)


def _did_you_mean(word, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def _unknown(what: str, name, choices) -> str:
    """``"demnad" is not a rule; did you mean "demand"? (choose one of ...)``."""
    return f'"{name}" is not {what}{_did_you_mean(name, choices)} (choose one of {_quoted(sorted(choices))})'


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_date(v) -> bool:
    return isinstance(v, datetime.date) and not isinstance(v, datetime.datetime)


_CSV_WHERE_RE = re.compile(r"^(row \d+(?:, column [^:]+)?): (.*)$", re.S)


# ---------------------------------------------------------------------------------------
# Parsing and inheritance
# ---------------------------------------------------------------------------------------


class _Files:
    """Display names of the files read, relative to the top file's folder."""

    def __init__(self, top_abs: str | None, top_given: str | None):
        self.top_abs = top_abs
        self.top_given = top_given
        self.folder = os.path.dirname(top_abs) if top_abs else os.getcwd()

    def rel(self, path_abs: str) -> str:
        try:
            return os.path.relpath(path_abs, self.folder)
        except ValueError:  # another drive (Windows)
            return path_abs

    def given(self, path_abs: str) -> str:
        """A path the user can open: next to the top file as the user named it."""
        if path_abs == self.top_abs and self.top_given is not None:
            return self.top_given
        if self.top_given is None:
            return self.rel(path_abs)
        return os.path.normpath(os.path.join(os.path.dirname(self.top_given), self.rel(path_abs)))


_TOO_DEEP = f"arrays and tables nested more than {MAX_NESTING} levels deep; expected at most {MAX_NESTING}"


def _read_toml(path_abs: str, files: _Files, where: str | None = None) -> dict:
    """Parse one file. Problems of a parent file (``where`` is the ``extends`` key that
    names it) are blamed on the parent by name, in an error about the top file."""

    def fail(problem):
        if where is None:
            return ScenarioError(files.given(path_abs), [problem])
        return ScenarioError(files.top_given, [f"{where}: {files.rel(path_abs)}: {problem}"])

    try:
        with open(path_abs, "rb") as fh:
            raw = fh.read()
        # A UTF-8 byte-order mark (Windows editors write one) is not TOML: drop it.
        data = tomllib.loads(raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    except FileNotFoundError:
        raise fail("file not found") from None
    except IsADirectoryError:
        raise fail("not a file (a folder)") from None
    except UnicodeDecodeError as err:
        raise fail(f"not a UTF-8 text file (byte {err.start})") from None
    except tomllib.TOMLDecodeError as err:
        raise fail(_toml_error(err)) from None
    except RecursionError:
        raise fail(_TOO_DEEP) from None
    if _depth(data) > MAX_NESTING:
        raise fail(_TOO_DEEP)
    return data


def _depth(data) -> int:
    """Deepest nesting of lists and dicts (iterative: no recursion limit to hit)."""
    deepest, stack = 0, [(data, 0)]
    while stack:
        item, d = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, d + 1)
            stack.extend((v, d + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _toml_error(err: tomllib.TOMLDecodeError) -> str:
    text = str(err)
    m = re.match(r"^(.*) \(at line (\d+), column (\d+)\)$", text, re.S)
    if m:
        return f"TOML syntax error at line {m.group(2)}, column {m.group(3)}: {m.group(1)}"
    m = re.match(r"^(.*) \(at end of document\)$", text, re.S)
    if m:
        return f"TOML syntax error at the end of the file: {m.group(1)}"
    return f"TOML syntax error: {text}"


def _absolutize(data, folder: str):
    """Resolve relative ``csv`` / ``hypsometry`` paths against ``folder``, in place."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k in _PATH_KEYS and isinstance(v, str) and v and not os.path.isabs(v):
                data[k] = os.path.normpath(os.path.join(folder, os.path.expanduser(v)))
            else:
                _absolutize(v, folder)
    elif isinstance(data, list):
        for item in data:
            _absolutize(item, folder)


def _merge(base: dict, over: dict, path: tuple = ()) -> dict:
    """Deep merge, ``over`` winning (see the module's merge rules)."""
    if len(path) == 2 and path[0] == "regimes" and "rule" in over and base.get("rule") != over["rule"]:
        return copy.deepcopy(over)
    out = dict(base)
    for group in _EXCLUSIVE:
        if any(k in over for k in group):
            for k in group:
                if k not in over:
                    out.pop(k, None)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in _REPLACE_WHOLE:
            out[k] = _merge(out[k], v, path + (k,))
        else:
            out[k] = copy.deepcopy(v)
    return out


_PER_FILE = ("name", "title", "description", "extends")


def _resolve_extends(data: dict, path_abs: str | None, files: _Files, stack: tuple) -> dict:
    """``data`` (one file, paths already absolute) merged over its ``extends`` chain."""
    folder = os.path.dirname(path_abs) if path_abs else files.folder
    scen = data.get("scenario")
    extends = scen.get("extends") if isinstance(scen, dict) else None
    if extends is None:
        return data
    where = "scenario.extends" if path_abs in (None, files.top_abs) else f"scenario.extends (in {files.rel(path_abs)})"
    top = files.top_given
    if not isinstance(extends, str) or not extends.strip():
        raise ScenarioError(top, [f"{where}: found {_describe(extends)}; expected the path of a scenario file"])
    parent_abs = os.path.normpath(os.path.join(folder, os.path.expanduser(extends)))
    chain = stack + ((path_abs,) if path_abs else ())
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(top, [f"scenario.extends: the extends chain is more than {MAX_EXTENDS_DEPTH} files deep "
                                  f"({files.rel(chain[0])} → {files.rel(chain[1])} → ...); expected at most {MAX_EXTENDS_DEPTH}"])
    if parent_abs in chain:
        names = [files.rel(p) for p in chain[chain.index(parent_abs):]] + [files.rel(parent_abs)]
        raise ScenarioError(top, ["extends cycle: " + " → ".join(names)])
    if not os.path.isfile(parent_abs):
        raise ScenarioError(top, [f"{where}: file not found: {files.rel(parent_abs)}"])
    parent = _read_toml(parent_abs, files, where)
    _absolutize(parent, os.path.dirname(parent_abs))
    parent = _resolve_extends(parent, parent_abs, files, chain)
    sources = [parent_abs] + parent.pop("__sources__", [])
    pscen = parent.get("scenario")
    if isinstance(pscen, dict):
        parent["scenario"] = {k: v for k, v in pscen.items() if k not in _PER_FILE}
    merged = _merge(parent, data)
    merged["scenario"] = {k: v for k, v in merged.get("scenario", {}).items() if k != "extends"}
    merged["__sources__"] = sources
    return merged


# ---------------------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnsembleSpec:
    """Stochastic inflow ensemble (``[ensemble]``): see `sim.inflow.StochasticInflow`.

    Attributes
    ----------
    members : int
        Number of members. [-]
    seed : int
        Seed of the random streams, >= 0. [-]
    inflow_cv : float
        Coefficient of variation of each decade's inflow, >= 0. [-]
    inflow_lag1 : float
        Lag-one autocorrelation of successive decadal inflows (GUESS default 0.8). [-]
    """

    members: int
    seed: int
    inflow_cv: float
    inflow_lag1: float = _DEFAULT_LAG1


@dataclass(frozen=True)
class SweepSpec:
    """Parameter sweep (``[sweep]``); executed by the sweep module, as one ensemble.

    Attributes
    ----------
    parameters : dict
        Dotted key path → values. For ``method = "grid"`` a tuple of the values to take; for
        ``"lhs"`` / ``"sobol"`` the range ``(lo, hi)`` to sample.
    method : {"grid", "lhs", "sobol"}
        Full factorial grid, Latin hypercube or Sobol' samples.
    samples : int or None
        Number of samples (lhs, sobol).
    seed : int or None
        Seed of the sampler (lhs, sobol).
    """

    parameters: dict
    method: str = "grid"
    samples: int | None = None
    seed: int | None = None

    @property
    def n_members(self) -> int:
        """Members of the sweep: the grid's size, or the number of samples."""
        if self.method == "grid":
            return math.prod(len(v) for v in self.parameters.values())
        return int(self.samples or 0)

    def grid(self) -> dict[str, np.ndarray]:
        """The full factorial grid (method "grid"): path → values, shape ``(n_members,)``.

        The first parameter varies slowest. Pass the result as ``Scenario.build(overrides=...)``.
        """
        if self.method != "grid":
            raise ValueError(f'grid() needs method "grid", not "{self.method}"')
        if not self.parameters:
            return {}
        mesh = np.meshgrid(*[np.asarray(v, dtype=float) for v in self.parameters.values()], indexing="ij")
        return {path: m.ravel() for path, m in zip(self.parameters, mesh)}




@dataclass
class _UserSpec:
    name: str
    priority: int
    location: str
    scale: float
    demand_m3s: np.ndarray  # (n_steps,), before scale
    kind: str  # "series", "constant", "volume"
    volume_hm3: float = 0.0
    unit_m3s: np.ndarray | None = None  # flow of 1 hm³ spread over the window
    extra_m3s: np.ndarray | None = None  # the extra flow (volume kind)
    source: str = ""


@dataclass
class _RegimeSpec:
    name: str
    rule: str
    params: dict
    limits: dict
    describe: str


@dataclass
class _Compiled:
    """The daily arrays and engine objects of a valid scenario (one member)."""

    hypsometry: Any = None
    reservoir: Any = None
    initial_storage_m3: float = 0.0
    plant: Any = None
    units_available: np.ndarray | None = None
    inflow_m3s: np.ndarray | None = None
    inflow_scale: float = 1.0
    inflow_source: str = ""
    evaporation_mm_day: np.ndarray | None = None
    evaporation_factor: float = 1.0
    precipitation_mm_day: np.ndarray | None = None
    seepage_m3s: np.ndarray | None = None
    reach_loss_fraction: float = 0.0
    lateral_inflow_m3s: np.ndarray | None = None
    users: list = field(default_factory=list)
    regimes: dict = field(default_factory=dict)
    sweepable: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------


class _Checker:
    """Validates the merged data, fills presets and defaults, and compiles daily arrays."""

    def __init__(self, data: dict, files: _Files, stem: str | None):
        self.data = data
        self.files = files
        self.stem = stem
        self.problems: list[str] = []
        self.period: Period | None = None
        self.out: dict = {}
        self.c = _Compiled()

    # -- helpers ----------------------------------------------------------------------

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}" if path else message)

    def table(self, path: str, value, allowed, *, default_empty=True) -> dict | None:
        if value is None and default_empty:
            return {}
        if not isinstance(value, dict):
            self.add(path, f"found {_describe(value)}; expected a table")
            return None
        for k in value:
            if k not in allowed:
                self.unknown_key(_join(path, k), k, allowed)
        return value

    def unknown_key(self, path: str, k, allowed) -> None:
        hint = _did_you_mean(k, allowed)
        if hint:
            self.add(path, f"unknown key{hint}")
        else:
            self.add(path, f"unknown key; expected one of {', '.join(allowed)}")

    def number(self, path: str, value, bound: Bound = ANY):
        """The value as given (int or float) if it is a number within ``bound``, else None."""
        if not _is_number(value):
            self.add(path, f"found {_describe(value)}; expected {bound.expected()}")
            return None
        if not bound.ok(float(value)):
            self.add(path, bound.problem(value))
            return None
        return value

    def string(self, path: str, value, what="a string"):
        if not isinstance(value, str):
            self.add(path, f"found {_describe(value)}; expected {what}")
            return None
        return value

    def date(self, path: str, value):
        if _is_date(value):
            return value
        if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value.strip()):
            self.add(path, f"found {_describe(value)}; expected a TOML date, written without quotes: {value.strip()}")
        else:
            self.add(path, f"found {_describe(value)}; expected a TOML date such as 2025-04-01")
        return None

    def preset(self, path: str, kind: str, name):
        if not isinstance(name, str):
            self.add(path, f"found {_describe(name)}; expected the name of a {kind} preset ({_quoted(preset_names(kind))})")
            return None
        if name not in preset_names(kind):
            article = "an" if kind[0] in "aeiou" else "a"
            self.add(path, _unknown(f"{article} {kind} preset", name, preset_names(kind)))
            return None
        try:
            return load_preset(kind, name)
        except PresetError as err:  # a broken data file in the package
            self.add(path, str(err))
            return None

    def csv_path(self, path: str, value) -> str | None:
        if not isinstance(value, str) or not value:
            self.add(path, f"found {_describe(value)}; expected the path of a CSV file")
            return None
        if not os.path.isfile(value):
            self.add(path, f"file not found: {self.files.rel(value)}")
            return None
        return value

    def series_error(self, path: str, err: Exception, csv_file: str | None = None) -> None:
        text = str(err)
        if csv_file is not None:
            shown = self.files.rel(csv_file)
            m = _CSV_WHERE_RE.match(text)
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
        ok = True
        for opt, users, what in (
            ("column", ("csv",), "csv"),
            ("start", ("decadal_m3s", "monthly_m3s", "decadal", "monthly"), "decadal or monthly values"),
        ):
            if opt in table and form not in users:
                self.add(_join(path, opt), f"only used with {what}; found it with {form}")
                ok = False
        if "column" in table and self.string(_join(path, "column"), table["column"]) is None:
            ok = False
        if "start" in table and self.string(_join(path, "start"), table["start"], 'a month-day such as "04-01"') is None:
            ok = False
        return ok

    def flow_form(self, path: str, table: dict, forms, preset_kind: str | None, *, what: str):
        """Exactly one of ``forms`` (section-level, ``_m3s`` suffixes) → (form, daily) or None."""
        given = [f for f in forms if f in table]
        if len(given) != 1:
            listed = ", ".join(forms)
            if not given:
                self.add(path, f"no {what} given; expected one of {listed}")
            else:
                self.add(path, f"{' and '.join(given)} are all given; expected exactly one of {listed}")
            return None
        form = given[0]
        if not self.form_options(path, table, form):
            return None
        if form == "preset":
            p = self.preset(_join(path, "preset"), preset_kind, table["preset"])
            if p is None or self.period is None:
                return None
            return form, self.preset_series(_join(path, "preset"), p)
        spec = {form[:-4] if form.endswith("_m3s") else form: table[form]}
        for opt in _FORM_OPTIONS:
            if opt in table:
                spec[opt] = table[opt]
        daily = self.to_daily(_join(path, form), spec)
        if daily is None or not self.within(_join(path, form), daily, FLOW, form == "constant_m3s"):
            return None
        return form, daily

    def within(self, path: str, daily, bound: Bound, constant: bool = False) -> bool:
        """Check daily values against ``bound``; the first bad day is reported."""
        bad = np.flatnonzero(~bound.ok_all(daily))
        if bad.size:
            day = "" if constant else f" on {self.period.dates[bad[0]]}"
            self.add(path, bound.problem(float(daily[bad[0]])).replace(";", f"{day};", 1))
            return False
        return True

    def preset_series(self, path: str, p):
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
        if _is_number(value):
            if self.number(path, value, bound) is None:
                return None
            return np.full(self.period.n_days, float(value))
        if not isinstance(value, dict):
            self.add(path, f"found {_describe(value)}; expected a number or a table with one of "
                     + ", ".join(_SERIES_TABLE_FORMS + (("preset",) if preset_kind else ())))
            return None
        allowed = _SERIES_TABLE_FORMS + _FORM_OPTIONS + (("preset",) if preset_kind else ())
        if self.table(path, value, allowed) is None or any(k not in allowed for k in value):
            return None
        choices = _SERIES_TABLE_FORMS + (("preset",) if preset_kind else ())
        forms = [k for k in choices if k in value]
        if len(forms) != 1:
            found = "none" if not forms else " and ".join(forms)
            self.add(path, f"found {found}; expected exactly one of {', '.join(choices)}")
            return None
        form = forms[0]
        if not self.form_options(path, value, form):
            return None
        if form == "preset":
            p = self.preset(_join(path, "preset"), preset_kind, value["preset"])
            return None if p is None else self.preset_series(_join(path, "preset"), p)
        out = self.to_daily(_join(path, form), dict(value), allow_negative=bound.lo < 0)
        if out is not None and not self.within(_join(path, form), out, bound, form == "constant"):
            return None
        return out

    # -- sections ---------------------------------------------------------------------

    def run(self) -> None:
        data = self.data
        for k in data:
            if k not in _SECTIONS and k != "__sources__":
                hint = _did_you_mean(k, _SECTIONS)
                self.add(_key(k), f"unknown table{hint}" if hint else f"unknown table; expected one of {', '.join(_SECTIONS)}")
        self.check_scenario()
        self.check_period()
        self.check_reservoir()
        self.check_plant()
        self.check_inflow()
        self.check_losses()
        self.check_downstream()
        self.check_demands()
        self.check_regimes()
        self.check_ensemble()
        self.check_sweep()

    def check_scenario(self):
        t = self.table("scenario", self.data.get("scenario"), _SCENARIO_KEYS)
        out = {}
        self.out["scenario"] = out
        if t is None:
            t = {}
        name = t.get("name")
        if name is None:
            if self.stem is not None and _SCENARIO_NAME_RE.match(self.stem):
                name = self.stem
            else:
                hint = f' (the file name "{self.stem}" is not one)' if self.stem else ""
                self.add("scenario.name", f"missing; expected a plain name{hint}: lower-case letters, digits and hyphens")
        elif self.string("scenario.name", name) is not None and not _SCENARIO_NAME_RE.match(name):
            slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
            eg = f', e.g. "{slug}"' if slug else ""
            self.add("scenario.name", f'found "{name}"; expected a plain name: lower-case letters, digits and hyphens{eg}')
            name = None
        elif not isinstance(name, str):
            name = None
        out["name"] = name
        title = t.get("title", name)
        if "title" in t:
            self.string("scenario.title", title)
        out["title"] = title if isinstance(title, str) else (name or "")
        desc = t.get("description", "")
        if "description" in t:
            self.string("scenario.description", desc)
        out["description"] = desc if isinstance(desc, str) else ""
        fmt = t.get("format", FORMAT_VERSION)
        if fmt != FORMAT_VERSION or not isinstance(fmt, int) or isinstance(fmt, bool):
            self.add("scenario.format", f"found {_describe(fmt)}; expected {FORMAT_VERSION} (the format this version of sim reads)")
        out["format"] = FORMAT_VERSION
        self.regime_selection = None
        if "regimes" in t:
            sel = t["regimes"]
            if not isinstance(sel, list) or not sel or not all(isinstance(s, str) for s in sel):
                self.add("scenario.regimes", f"found {_describe(sel)}; expected a list of regime names")
            elif len(set(sel)) != len(sel):
                self.add("scenario.regimes", "names a regime more than once")
            else:
                self.regime_selection = sel

    def check_period(self):
        t = self.table("period", self.data.get("period"), _PERIOD_KEYS, default_empty=False) if "period" in self.data else None
        if "period" not in self.data:
            self.add("period", "missing; expected a table with start and end dates, e.g. start = 2025-04-01")
            return
        if t is None:
            return
        got = {}
        for k in _PERIOD_KEYS:
            if k not in t:
                self.add(f"period.{k}", "missing; expected a TOML date such as 2025-04-01")
            else:
                got[k] = self.date(f"period.{k}", t[k])
                if got[k] is not None and not MIN_YEAR <= got[k].year <= MAX_YEAR:
                    self.add(f"period.{k}", f"found {got[k]}; expected a date in the years {MIN_YEAR}–{MAX_YEAR} "
                             "(a planning period; the calendar and plots handle no other years)")
                    got[k] = None
        if got.get("start") and got.get("end"):
            if got["end"] < got["start"]:
                self.add("period.end", f"{got['end']} is before period.start {got['start']}; expected an end on or after the start (the end is inclusive)")
                return
            self.period = Period(got["start"], got["end"])
            self.out["period"] = {"start": got["start"], "end": got["end"]}

    def check_reservoir(self):
        t = self.table("reservoir", self.data.get("reservoir"), _RESERVOIR_KEYS)
        if t is None:
            return
        out = {"preset": t.get("preset", "bakhri-tojik")}
        self.out["reservoir"] = out
        p = self.preset("reservoir.preset", "reservoir", out["preset"])
        pv = p.as_dict() if p else {}
        # initial state
        has_level, has_storage = "initial_level_m" in t, "initial_storage_hm3" in t
        if has_level and has_storage:
            self.add("reservoir", "both initial_level_m and initial_storage_hm3 are given; expected exactly one of them")
        elif not (has_level or has_storage):
            hint = f" (typical storage on 1 April: {pv['typical_storage_april_hm3']} hm³)" if "typical_storage_april_hm3" in pv else ""
            self.add("reservoir", f"neither initial_level_m nor initial_storage_hm3 is given; expected exactly one of them{hint}")
        ok = p is not None
        for k in ("initial_level_m", "initial_storage_hm3"):
            if k in t:
                if self.number(f"reservoir.{k}", t[k], NONNEG if k.endswith("hm3") else ANY) is None:
                    ok = False
                out[k] = t[k]
        for k in ("min_level_m", "normal_level_m", "max_level_m"):
            v = t.get(k, pv.get(k))
            if k in t and self.number(f"reservoir.{k}", v) is None:
                ok = False
            out[k] = v
        v = t.get("spillway_capacity_m3s", pv.get("spillway_capacity_m3s"))
        if "spillway_capacity_m3s" in t and self.number("reservoir.spillway_capacity_m3s", v, FLOW) is None:
            ok = False
        out["spillway_capacity_m3s"] = v
        silt = t.get("siltation_fraction", pv.get("siltation_fraction", 0.0))
        if "siltation_fraction" in t and self.number("reservoir.siltation_fraction", silt, OPEN_FRACTION) is None:
            ok = False
        out["siltation_fraction"] = silt
        # tailwater
        tw_default = {"flow_m3s": pv.get("tailwater_flow_m3s"), "level_m": pv.get("tailwater_level_m")}
        tw = t.get("tailwater", tw_default)
        tailwater = None
        if "tailwater" in t:
            tt = self.table("reservoir.tailwater", tw, ("flow_m3s", "level_m"))
            if tt is None or any(k not in ("flow_m3s", "level_m") for k in tt):
                ok = False
            else:
                for k in ("flow_m3s", "level_m"):
                    if k not in tt:
                        self.add(f"reservoir.tailwater.{k}", "missing; expected a list of numbers")
                        ok = False
                    elif not isinstance(tt[k], list) or not all(_is_number(x) and math.isfinite(x) for x in tt[k]):
                        self.add(f"reservoir.tailwater.{k}", f"found {_describe(tt[k])}; expected a list of finite numbers")
                        ok = False
                    elif k == "flow_m3s" and not all([self.number(f"reservoir.tailwater.flow_m3s[{i + 1}]", x, FLOW)
                                                      is not None for i, x in enumerate(tt[k])]):
                        ok = False
        out["tailwater"] = tw
        if ok and p is not None:
            from sim.physics.hydropower import TailwaterRating

            try:
                tailwater = TailwaterRating(tw["flow_m3s"], tw["level_m"])
            except ValueError as err:
                self.add("reservoir.tailwater", str(err).removeprefix("tailwater rating: "))
                ok = False
        # hypsometry
        hyps = None
        if "hypsometry" in t:
            out["hypsometry"] = t["hypsometry"]
            f = self.csv_path("reservoir.hypsometry", t["hypsometry"])
            table = self.read_hypsometry(f) if f else None
        elif p is not None:
            try:
                table = hypsometry_table(out["preset"])
            except PresetError as err:
                self.add("reservoir.preset", str(err))
                table = None
        else:
            table = None
        if table is not None and _is_number(silt) and 0 <= silt < 1:
            from sim.physics.hypsometry import Hypsometry

            src = self.files.rel(t["hypsometry"]) if "hypsometry" in t else f"preset {out['preset']}"
            try:
                hyps = Hypsometry.from_table(*table, siltation_fraction=silt, source=src)
            except ValueError as err:
                self.add("reservoir.hypsometry", str(err))
        if hyps is None or not ok:
            return
        self.c.hypsometry = hyps
        lo, hi = hyps.min_level_m, hyps.max_level_m
        level_bound = Bound(lo, hi)
        table_text = f"a level within the hypsometry table ({lo:g}–{hi:g} m)"
        levels_ok = True
        for k in ("min_level_m", "normal_level_m", "max_level_m"):
            if not level_bound.ok(float(out[k])):
                self.add(f"reservoir.{k}", f"found {number_text(out[k])}; expected {table_text}")
                levels_ok = False
        if levels_ok:
            if out["min_level_m"] > out["normal_level_m"]:
                self.add("reservoir.min_level_m", f"{number_text(out['min_level_m'])} is above normal_level_m {number_text(out['normal_level_m'])}; expected min <= normal")
                levels_ok = False
            if out["normal_level_m"] > out["max_level_m"]:
                self.add("reservoir.normal_level_m", f"{number_text(out['normal_level_m'])} is above max_level_m {number_text(out['max_level_m'])}; expected normal <= max")
                levels_ok = False
        initial = None
        if has_level and not has_storage:
            h = float(t["initial_level_m"])
            if not level_bound.ok(h):
                self.add("reservoir.initial_level_m", f"found {number_text(t['initial_level_m'])}; expected {table_text}")
            else:
                initial = float(hyps.storage_m3_at(h))
        elif has_storage and not has_level:
            s = float(t["initial_storage_hm3"])
            top = units.m3_to_hm3(hyps.max_storage_m3)
            if not 0 <= s <= top:
                self.add("reservoir.initial_storage_hm3", f"found {number_text(t['initial_storage_hm3'])}; expected a storage within the hypsometry table (0–{top:g} hm³)")
            else:
                initial = units.hm3_to_m3(s)
        if not levels_ok or initial is None:
            return
        from sim.physics.hypsometry import Reservoir

        try:
            self.c.reservoir = Reservoir(
                hyps, float(out["min_level_m"]), float(out["normal_level_m"]), float(out["max_level_m"]),
                float(out["spillway_capacity_m3s"]), tailwater, name=out["preset"],
            )
        except ValueError as err:
            self.add("reservoir", str(err).removeprefix("reservoir: "))
            return
        self.c.initial_storage_m3 = initial
        sw = self.c.sweepable
        sw["reservoir.initial_level_m"] = level_bound
        sw["reservoir.initial_storage_hm3"] = Bound(0.0, units.m3_to_hm3(hyps.max_storage_m3))
        for k in ("min_level_m", "normal_level_m", "max_level_m"):
            sw[f"reservoir.{k}"] = level_bound
        sw["reservoir.spillway_capacity_m3s"] = FLOW

    def read_hypsometry(self, f: str):
        shown = self.files.rel(f)
        key = "reservoir.hypsometry"
        need = ("level_m", "storage_hm3", "area_km2")
        try:
            rows = series.read_csv_rows(f, ",".join(need))
        except series.SeriesError as err:
            self.series_error(key, err, f)
            return None
        except OSError as err:
            self.add(f"{key} ({shown})", f"cannot read the file: {err.strerror}")
            return None
        header = [h.strip() for h in rows[0]]
        missing = [c for c in need if c not in header]
        if missing:
            self.add(f"{key} ({shown}, row 1)", f"no column {' or '.join(missing)}; found columns {', '.join(header)}; expected {', '.join(need)}")
            return None
        idx = [header.index(c) for c in need]
        cols: list[list[float]] = [[], [], []]
        row_numbers = []
        bad = False
        for r, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                self.add(f"{key} ({shown}, row {r})", f"{len(row)} fields; expected {len(header)} as in the header")
                bad = True
                continue
            for j, c in zip(idx, need):
                text = row[j].strip()
                try:
                    v = float(text)
                except ValueError:
                    self.add(f"{key} ({shown}, row {r}, column {c})", f'"{text}" is not a number')
                    bad = True
                    continue
                if not math.isfinite(v):
                    self.add(f"{key} ({shown}, row {r}, column {c})", f'"{text}" is not a finite number')
                    bad = True
                    continue
                cols[need.index(c)].append(v)
            row_numbers.append(r)
        if bad:
            return None
        from sim.physics.hypsometry import check_hypsometry

        level, storage, area = (np.array(c, dtype=float) for c in cols)
        problems = check_hypsometry(level, units.hm3_to_m3(storage), units.km2_to_m2(area))
        for p in problems:
            m = re.match(r"^row (\d+): (.*)$", p, re.S)
            if m and 1 <= int(m.group(1)) <= len(row_numbers):
                self.add(f"{key} ({shown}, row {row_numbers[int(m.group(1)) - 1]})", m.group(2))
            else:
                self.add(f"{key} ({shown})", p)
        if problems:
            return None
        # Units: the table is in m a.s.l., hm³ and km²; a table in m³ or m² is consistent in
        # itself but a thousand or a million times too large (DATA.md: 4,160 hm³, 513 km²).
        for col, c, bound in ((storage, "storage_hm3", VOLUME), (area, "area_km2", AREA)):
            k = int(np.argmax(col))
            if not bound.ok(float(col[k])):
                self.add(f"{key} ({shown}, row {row_numbers[k]}, column {c})", bound.problem(float(col[k])))
                return None
        return level, storage, area

    def check_plant(self):
        t = self.table("plant", self.data.get("plant"), _PLANT_KEYS)
        if t is None:
            return
        out = {"preset": t.get("preset", "rehabilitated")}
        self.out["plant"] = out
        p = self.preset("plant.preset", "plant", out["preset"])
        pv = p.as_dict() if p else {}
        if "unit_capacity_mw_each" in pv:
            pv["unit_capacity_mw"] = pv["unit_capacity_mw_each"]
        ok = p is not None
        bounds = {
            "units": Bound(0.0, MAX_UNITS, integer=True, mistake=lambda v: "the plant has 6 units" if v > 0 else ""),
            "efficiency": EFFICIENCY, "min_head_m": HEAD, "max_head_m": HEAD_POSITIVE,
            "unit_capacity_mw": Bound(0.0, MAX_UNIT_MW, unit="MW", mistake=lambda v: "29 MW per unit; kW instead of MW?" if v > 0 else ""),
            "unit_max_flow_m3s": FLOW,
        }  # fmt: skip
        for k in ("units", "unit_capacity_mw", "unit_max_flow_m3s", "efficiency", "min_head_m", "max_head_m"):
            v = t.get(k, pv.get(k))
            out[k] = v
            if k not in t:
                continue
            if k in ("unit_capacity_mw", "unit_max_flow_m3s") and isinstance(v, list):
                for i, x in enumerate(v):
                    if self.number(f"plant.{k}[{i + 1}]", x, bounds[k]) is None:
                        ok = False
            elif self.number(f"plant.{k}", v, bounds[k]) is None:
                ok = False
        if ok:
            n = int(out["units"])
            for k in ("unit_capacity_mw", "unit_max_flow_m3s"):
                if isinstance(out[k], list) and len(out[k]) != n:
                    self.add(f"plant.{k}", f"found {len(out[k])} values; expected one number, or one per unit ({n})")
                    ok = False
            if out["min_head_m"] >= out["max_head_m"]:
                self.add("plant.min_head_m", f"{number_text(out['min_head_m'])} is not below max_head_m {number_text(out['max_head_m'])}")
                ok = False
        if "units_available" in t:
            out["units_available"] = t["units_available"]
            n_units = out["units"] if ok else math.inf
            ua = self.value_series("plant.units_available", t["units_available"], bound=Bound(0.0, n_units, integer=True))
            if ua is None:
                ok = False
            self.c.units_available = ua
        if not ok:
            return
        from sim.physics.hydropower import Plant

        try:
            self.c.plant = Plant.from_field_units(
                out["units"], out["unit_capacity_mw"], out["unit_max_flow_m3s"], out["efficiency"],
                out["min_head_m"], out["max_head_m"], name=out["preset"],
            )
        except ValueError as err:
            self.add("plant", str(err).removeprefix("plant: "))
            return
        self.c.sweepable["plant.efficiency"] = bounds["efficiency"]
        if "units_available" not in t or _is_number(t["units_available"]) or (
            isinstance(t["units_available"], dict) and "constant" in t["units_available"]
        ):
            self.c.sweepable["plant.units_available"] = Bound(0.0, out["units"], integer=True)

    def check_inflow(self):
        if "inflow" not in self.data:
            self.add("inflow", "missing; expected a table with one of preset, " + ", ".join(_FLOW_FORMS))
            return
        t = self.table("inflow", self.data.get("inflow"), _INFLOW_KEYS)
        if t is None:
            return
        out = {k: v for k, v in t.items() if k != "scale"}
        out["scale"] = t.get("scale", 1.0)
        self.out["inflow"] = out
        scale = self.number("inflow.scale", out["scale"], FACTOR) if "scale" in t else 1.0
        got = self.flow_form("inflow", t, ("preset",) + _FLOW_FORMS, "inflow", what="inflow")
        if got is None or scale is None:
            return
        form, daily = got
        self.c.inflow_m3s = daily
        self.c.inflow_scale = float(scale)
        self.c.inflow_source = f'preset "{t["preset"]}"' if form == "preset" else (
            f"csv {self.files.rel(t['csv'])}" if form == "csv" else form
        )
        self.c.sweepable["inflow.scale"] = FACTOR

    def check_losses(self):
        t = self.table("losses", self.data.get("losses"), _LOSSES_KEYS)
        if t is None:
            return
        out = {
            "evaporation_mm_month": t.get("evaporation_mm_month", {"preset": "khujand"}),
            "evaporation_factor": t.get("evaporation_factor", 1.0),
            "precipitation_mm_month": t.get("precipitation_mm_month", [0.0] * 12),
            "seepage_m3s": t.get("seepage_m3s", {"preset": "residual-2001-2010"}),
        }
        self.out["losses"] = out
        if self.number("losses.evaporation_factor", out["evaporation_factor"], FACTOR) is not None:
            self.c.evaporation_factor = float(out["evaporation_factor"])
            self.c.sweepable["losses.evaporation_factor"] = FACTOR
        evap = out["evaporation_mm_month"]
        monthly = None
        if isinstance(evap, dict):
            if self.table("losses.evaporation_mm_month", evap, ("preset",)) is not None and "preset" in evap:
                p = self.preset("losses.evaporation_mm_month.preset", "evaporation", evap["preset"])
                if p is not None:
                    monthly = p.get("monthly_mm")
            elif isinstance(evap, dict) and "preset" not in evap and not any(k != "preset" for k in evap):
                self.add("losses.evaporation_mm_month", "found an empty table; expected { preset = \"khujand\" } or 12 values")
        else:
            monthly = self.twelve("losses.evaporation_mm_month", evap)
        if monthly is not None and self.period is not None:
            self.c.evaporation_mm_day = self.per_day(monthly)
        precip = self.twelve("losses.precipitation_mm_month", out["precipitation_mm_month"])
        if precip is not None and self.period is not None:
            self.c.precipitation_mm_day = self.per_day(precip)
        seep = out["seepage_m3s"]
        self.c.seepage_m3s = self.value_series("losses.seepage_m3s", seep, preset_kind="seepage")
        if _is_number(seep) or (isinstance(seep, dict) and "constant" in seep):
            self.c.sweepable["losses.seepage_m3s"] = FLOW

    def twelve(self, path, value):
        if not isinstance(value, list):
            self.add(path, f"found {_describe(value)}; expected 12 values, one per calendar month (Jan..Dec)")
            return None
        if len(value) != 12:
            self.add(path, f"found {len(value)} values; expected 12, one per calendar month (Jan..Dec)")
            return None
        ok = True
        for i, v in enumerate(value):
            if self.number(f"{path}[{i + 1}]", v, DEPTH) is None:
                ok = False
        return value if ok else None

    def per_day(self, monthly_mm):
        """Depth per calendar month → depth per day, spread evenly over the month's days."""
        from sim.physics.losses import monthly_mm_to_daily_mm

        return monthly_mm_to_daily_mm(monthly_mm, self.period)

    def check_downstream(self):
        t = self.table("downstream", self.data.get("downstream"), _DOWNSTREAM_KEYS)
        if t is None:
            return
        out = {"reach_loss_fraction": t.get("reach_loss_fraction", 0.0), "lateral_inflow_m3s": t.get("lateral_inflow_m3s", 0.0)}
        self.out["downstream"] = out
        b = OPEN_FRACTION
        if self.number("downstream.reach_loss_fraction", out["reach_loss_fraction"], b) is not None:
            self.c.reach_loss_fraction = float(out["reach_loss_fraction"])
            self.c.sweepable["downstream.reach_loss_fraction"] = b
        lat = out["lateral_inflow_m3s"]
        self.c.lateral_inflow_m3s = self.value_series("downstream.lateral_inflow_m3s", lat)
        if _is_number(lat) or (isinstance(lat, dict) and "constant" in lat):
            self.c.sweepable["downstream.lateral_inflow_m3s"] = FLOW

    # -- demand ---------------------------------------------------------------------------

    def check_demands(self):
        raw = self.data.get("demand", [])
        if isinstance(raw, dict):
            self.add("demand", "found a table; expected an array of tables: write [[demand]] (double brackets) for each user")
            return
        if not isinstance(raw, list):
            self.add("demand", f"found {_describe(raw)}; expected an array of tables [[demand]]")
            return
        out_list = []
        seen: dict[str, int] = {}
        for i, item in enumerate(raw, start=1):
            name = item.get("name") if isinstance(item, dict) else None
            usable = isinstance(name, str) and _NAME_RE.match(name) and name not in seen
            path = f"demand.{name}" if usable else f"demand[{i}]"
            if not isinstance(item, dict):
                self.add(path, f"found {_describe(item)}; expected a table")
                continue
            if "name" not in item:
                self.add(f"{path}.name", "missing; expected a plain name (lower-case letters, digits, - and _)")
            elif self.string(f"{path}.name", name) is not None:
                if not _NAME_RE.match(name):
                    self.add(f"{path}.name", f'found "{name}"; expected a plain name (lower-case letters, digits, - and _)')
                elif name in seen:
                    self.add(f"{path}.name", f'"{name}" is also the name of demand[{seen[name]}]; expected unique names')
                else:
                    seen[name] = i
            out = self.check_demand(path, item, name if usable else None)
            out_list.append(out)
        self.out["demand"] = out_list

    def check_demand(self, path: str, t: dict, name: str | None) -> dict:
        self.table(path, t, _DEMAND_KEYS)
        out = dict(t)
        out.setdefault("priority", 1)
        out.setdefault("location", "downstream")
        out.setdefault("scale", 1.0)
        ok = name is not None
        prio = self.number(f"{path}.priority", out["priority"], Bound(1.0, 1000.0, integer=True))
        loc = out["location"]
        if not isinstance(loc, str) or loc not in ("downstream", "reservoir"):
            msg = _unknown("a location", loc, ("downstream", "reservoir")) if isinstance(loc, str) else \
                f'found {_describe(loc)}; expected "downstream" or "reservoir"'
            self.add(f"{path}.location", msg)
            ok = False
        scale = self.number(f"{path}.scale", out["scale"], FACTOR)
        if "description" in t:
            self.string(f"{path}.description", t["description"])
        ok = ok and prio is not None and scale is not None
        # a protocol preset fills the volume keys
        preset = None
        if "preset" in t:
            preset = self.preset(f"{path}.preset", "demand", t["preset"])
            if preset is None:
                return out
            pv = preset.as_dict()
            if "volume_hm3" in pv:
                for k in _VOLUME_KEYS:
                    if k in pv and k not in t:
                        out[k] = self.anchor_date(pv[k]) if k in ("window", "extra_from") else pv[k]
                if isinstance(out.get("window"), list):
                    out["window"] = [self.anchor_date(d) for d in out["window"]]
        forms = [k for k in ("preset",) + _FLOW_FORMS + ("volume_hm3",) if k in t]
        if preset is not None and "volume_hm3" in preset.as_dict():
            forms = [f for f in forms if f != "volume_hm3"]
        if len(forms) != 1:
            listed = ", ".join(("preset",) + _FLOW_FORMS + ("volume_hm3",))
            if not forms:
                self.add(path, f"no demand given; expected one of {listed}")
            else:
                self.add(path, f"{' and '.join(forms)} are all given; expected exactly one of {listed}")
            return out
        form = forms[0]
        is_volume = form == "volume_hm3" or (preset is not None and "volume_hm3" in preset.as_dict())
        if not is_volume:
            for k in _VOLUME_KEYS:
                if k in t:
                    self.add(f"{path}.{k}", f"only used with volume_hm3; found it with {form}")
                    ok = False
        if is_volume:
            for k in _FORM_OPTIONS:
                if k in t:
                    self.add(f"{path}.{k}", "only used with decadal_m3s, monthly_m3s or csv; found it with volume_hm3")
                    ok = False
            spec = self.volume_demand(path, out)
            if spec is None or not ok:
                return out
            unit_m3s, extra_m3s = spec
            vol = float(out["volume_hm3"])
            demand = unit_m3s * vol + extra_m3s
            kind = "volume"
            src = f'{number_text(out["volume_hm3"])} hm³ over {out["window"][0]}..{out["window"][1]}'
            if preset is not None:
                src = f'preset "{preset.name}": ' + src
            if "extra_m3s" in out:
                src += f' + {number_text(out["extra_m3s"])} m³/s from {out["extra_from"]}'
        else:
            got = self.flow_form(path, t, ("preset",) + _FLOW_FORMS, "demand", what="demand")
            if got is None or not ok:
                return out
            form, demand = got
            kind = "constant" if form == "constant_m3s" else "series"
            unit_m3s = extra_m3s = None
            vol = 0.0
            src = f'preset "{preset.name}"' if preset is not None else form
        if self.period is None:
            return out
        self.c.users.append(_UserSpec(
            name, int(prio), loc, float(scale), demand, kind, vol, unit_m3s, extra_m3s, src,
        ))  # fmt: skip
        sw = self.c.sweepable
        sw[f"demand.{name}.scale"] = FACTOR
        if kind == "volume":
            sw[f"demand.{name}.volume_hm3"] = VOLUME
        if kind == "constant":
            sw[f"demand.{name}.constant_m3s"] = FLOW
        return out

    def anchor_date(self, value):
        """A ``"MM-DD"`` of a preset (or a file) → the first such date on or after the period start."""
        if _is_date(value) or self.period is None or not isinstance(value, str):
            return value
        try:
            month, day = parse_month_day(value)
        except ValueError:
            return value
        year = self.period.start.year
        d = datetime.date(year, month, day)
        return d if d >= self.period.start else datetime.date(year + 1, month, day)

    def volume_demand(self, path: str, out: dict):
        ok = self.number(f"{path}.volume_hm3", out.get("volume_hm3"), VOLUME) is not None
        win = out.get("window")
        dates = None
        if "window" not in out:
            self.add(f"{path}.window", "missing; expected [first day, last day], e.g. [2025-06-01, 2025-08-31]")
            ok = False
        elif not isinstance(win, list) or len(win) != 2:
            self.add(f"{path}.window", f"found {_describe(win)}; expected two dates [first day, last day]")
            ok = False
        else:
            win = [self.anchor_date(d) for d in win]
            out["window"] = win
            dates = [self.date(f"{path}.window[{i + 1}]", d) for i, d in enumerate(win)]
            if None in dates:
                ok = False
            elif dates[1] < dates[0]:
                self.add(f"{path}.window", f"{dates[1]} is before {dates[0]}; expected [first day, last day]")
                ok = False
            elif self.period is not None and not (dates[0] in self.period and dates[1] in self.period):
                self.add(f"{path}.window", f"{dates[0]}..{dates[1]} is not inside the period {self.period}")
                ok = False
        has_extra, has_from = "extra_m3s" in out, "extra_from" in out
        extra_from = None
        if has_extra != has_from:
            missing = "extra_from" if has_extra else "extra_m3s"
            self.add(f"{path}.{missing}", "missing; extra_m3s and extra_from go together")
            ok = False
        elif has_extra:
            if self.number(f"{path}.extra_m3s", out["extra_m3s"], FLOW) is None:
                ok = False
            out["extra_from"] = self.anchor_date(out["extra_from"])
            extra_from = self.date(f"{path}.extra_from", out["extra_from"])
            if extra_from is None:
                ok = False
            elif dates and None not in dates and not dates[0] <= extra_from <= dates[1]:
                self.add(f"{path}.extra_from", f"{extra_from} is outside the window {dates[0]}..{dates[1]}")
                ok = False
        if not ok or self.period is None:
            return None
        a, b = self.period.index_of(dates[0]), self.period.index_of(dates[1])
        unit = np.zeros(self.period.n_days)
        unit[a : b + 1] = units.M3_PER_HM3 / ((b - a + 1) * units.SECONDS_PER_DAY)
        extra = np.zeros(self.period.n_days)
        if has_extra:
            extra[self.period.index_of(extra_from) : b + 1] = float(out["extra_m3s"])
        return unit, extra

    # -- regimes --------------------------------------------------------------------------

    def check_regimes(self):
        raw = self.data.get("regimes")
        if raw is None:
            self.add("regimes", 'missing; expected at least one regime, e.g. [regimes.irrigation-first] with rule = "demand"')
            return
        if not isinstance(raw, dict):
            self.add("regimes", f"found {_describe(raw)}; expected tables [regimes.<name>]")
            return
        names = list(raw)
        if self.regime_selection is not None:
            for n in self.regime_selection:
                if n not in raw:
                    self.add("scenario.regimes", _unknown("a regime of this scenario", n, names))
            names = [n for n in self.regime_selection if n in raw]
            if len(names) < len(self.regime_selection):
                return
        if not names:
            self.add("regimes", 'no regime given; expected at least one, e.g. [regimes.irrigation-first] with rule = "demand"')
            return
        out = {}
        for name in names:
            path = _join("regimes", name)
            if not _NAME_RE.match(name):
                self.add(path, "regime names must be plain: lower-case letters, digits, - and _")
                continue
            if name in _RESERVED_REGIME_NAMES:
                self.add(path, f'the name "{name}" is taken by the {name}/ folder of the outputs; expected another regime name')
                continue
            out[name] = self.check_regime(path, name, raw[name])
        self.out["regimes"] = out

    def check_regime(self, path: str, name: str, t) -> Any:
        if not isinstance(t, dict):
            self.add(path, f"found {_describe(t)}; expected a table with a rule")
            return t
        rule = t.get("rule")
        rules = sorted(RULE_KEYS)
        if rule is None:
            self.add(f"{path}.rule", f"missing; expected one of {_quoted(rules)}")
            return dict(t)
        if not isinstance(rule, str):
            self.add(f"{path}.rule", f"found {_describe(rule)}; expected one of {_quoted(rules)}")
            return dict(t)
        if rule not in RULE_KEYS:
            self.add(f"{path}.rule", _unknown("a rule", rule, rules))
            return dict(t)
        allowed = _REGIME_COMMON + RULE_KEYS[rule]
        for k in t:
            if k not in allowed:
                others = [r for r in rules if k in RULE_KEYS[r]]
                if others:
                    self.add(_join(path, k), f'not used by rule "{rule}" (it is a key of rule {_quoted(others)})')
                else:
                    self.unknown_key(_join(path, k), k, allowed)
        out = dict(t)
        out.setdefault("min_release_m3s", 0.0)
        ok = all(k in allowed for k in t)
        if "description" in t:
            self.string(f"{path}.description", t["description"])
        limits = {}
        limit_bounds = (("min_release_m3s", FLOW), ("max_release_m3s", FLOW),
                        ("max_change_m3s_day", dataclasses.replace(FLOW_POSITIVE, unit="m³/s per day")),
                        ("initial_release_m3s", FLOW))  # fmt: skip
        for k, b in limit_bounds:
            if k in out:
                v = self.number(f"{path}.{k}", out[k], b)
                if v is None:
                    ok = False
                else:
                    limits[k] = float(v)
        if "max_release_m3s" in limits and limits["max_release_m3s"] < limits["min_release_m3s"]:
            self.add(f"{path}.max_release_m3s", f"{number_text(out['max_release_m3s'])} is below min_release_m3s {number_text(out['min_release_m3s'])}")
            ok = False
        sw = {f"{path}.{k}": b for k, b in limit_bounds}
        params: dict = {}
        describe = rule
        if rule in ("schedule", "demand"):
            out.setdefault("scale", 1.0)
            if self.number(f"{path}.scale", out["scale"], FACTOR) is None:
                ok = False
            else:
                params["scale"] = float(out["scale"])
                sw[f"{path}.scale"] = FACTOR
        if rule == "schedule":
            got = self.flow_form(path, t, _FLOW_FORMS, None, what="schedule")
            if got is None:
                ok = False
            else:
                form, params["release_m3s"] = got
                describe = f"schedule ({form})"
                if form == "constant_m3s":
                    sw[f"{path}.constant_m3s"] = FLOW
        elif rule == "demand":
            describe = "release what downstream needs"
            if "hedging" in t:
                h = self.table(f"{path}.hedging", t["hedging"], ("trigger_level_m", "factor"))
                if h is None:
                    ok = False
                else:
                    trig = fac = None
                    for k in ("trigger_level_m", "factor"):
                        if k not in h:
                            self.add(f"{path}.hedging.{k}", "missing; hedging needs trigger_level_m and factor")
                            ok = False
                    if "trigger_level_m" in h:
                        trig = self.number(f"{path}.hedging.trigger_level_m", h["trigger_level_m"], self.level_bound())
                    if "factor" in h:
                        fac = self.number(f"{path}.hedging.factor", h["factor"], FRACTION)
                    if trig is None or fac is None:
                        ok = False
                    else:
                        params["hedging_trigger_level_m"] = float(trig)
                        params["hedging_factor"] = float(fac)
                        describe += f"; × {number_text(fac)} below {number_text(trig)} m (hedging)"
                        sw[f"{path}.hedging.factor"] = FRACTION
                        sw[f"{path}.hedging.trigger_level_m"] = self.level_bound()
        elif rule == "power":
            if "target_mw" not in t:
                self.add(f"{path}.target_mw", "missing; expected a number or a series table, e.g. { monthly = [...] }")
                ok = False
            else:
                v = self.value_series(f"{path}.target_mw", t["target_mw"], bound=POWER)
                if v is None:
                    ok = False
                else:
                    params["target_mw"] = v
                    describe = f"generate {number_text(t['target_mw'])} MW" if _is_number(t["target_mw"]) else "generate a power target"
                    if _is_number(t["target_mw"]) or (isinstance(t["target_mw"], dict) and "constant" in t["target_mw"]):
                        sw[f"{path}.target_mw"] = POWER
        elif rule == "level":
            from sim.rules.level import MIN_APPROACH_DAYS, check_level_rule

            out.setdefault("approach_days", 1)
            if self.number(f"{path}.approach_days", out["approach_days"], APPROACH_DAYS) is None:
                ok = False
            elif check_level_rule(out["approach_days"]):
                self.add(f"{path}.approach_days", "; ".join(check_level_rule(out["approach_days"])))
                ok = False
            else:
                params["approach_days"] = float(out["approach_days"])
                sw[f"{path}.approach_days"] = Bound(MIN_APPROACH_DAYS, APPROACH_DAYS.hi, unit="days")
            if "target_level_m" not in t:
                self.add(f"{path}.target_level_m", 'missing; expected a level or a guide curve { "04-01" = 346.0, ... }')
                ok = False
            else:
                v = self.guide(f"{path}.target_level_m", t["target_level_m"])
                if v is None:
                    ok = False
                else:
                    params["target_level_m"] = v
                    describe = "follow a guide curve" if isinstance(t["target_level_m"], dict) else f"hold {number_text(t['target_level_m'])} m"
                    if _is_number(t["target_level_m"]):
                        sw[f"{path}.target_level_m"] = self.level_bound()
        if ok and self.period is not None:
            from sim.rules.regimes import Regime

            try:
                Regime(rule, dict(params), name=name, **limits)
            except ValueError as err:
                self.add(path, str(err))
                return out
            self.c.regimes[name] = _RegimeSpec(name, rule, params, limits, describe)
            self.c.sweepable.update(sw)
        return out

    def level_bound(self) -> Bound:
        h = self.c.hypsometry
        return Bound(h.min_level_m, h.max_level_m) if h is not None else ANY

    def guide(self, path: str, value):
        b = self.level_bound()
        if _is_number(value):
            if self.number(path, value, b) is None or self.period is None:
                return None
            return np.full(self.period.n_days, float(value))
        if not isinstance(value, dict):
            self.add(path, f'found {_describe(value)}; expected a level or a guide curve {{ "04-01" = 346.0, ... }}')
            return None
        ok = True
        for k, v in value.items():
            if _is_number(v) and not b.ok(float(v)):
                self.add(f'{path}."{k}"', f"found {number_text(v)}; expected {b.expected()} (the hypsometry table)")
                ok = False
        if not ok or self.period is None:
            return None
        try:
            return series.guide_curve(value, self.period)
        except series.SeriesError as err:
            self.add(path, str(err))
            return None

    # -- ensemble and sweep -----------------------------------------------------------------

    def check_ensemble(self):
        if "ensemble" not in self.data:
            self.ensemble = None
            return
        self.ensemble = None
        t = self.table("ensemble", self.data["ensemble"], _ENSEMBLE_KEYS)
        if t is None:
            return
        out = {"members": t.get("members"), "seed": t.get("seed", 0), "inflow_cv": t.get("inflow_cv"),
               "inflow_lag1": t.get("inflow_lag1", _DEFAULT_LAG1)}
        self.out["ensemble"] = {k: v for k, v in out.items() if v is not None}
        ok = True
        for k in ("members", "inflow_cv"):
            if out[k] is None:
                self.add(f"ensemble.{k}", "missing; expected " + ("a whole number >= 1" if k == "members" else "a number >= 0 (0.62: with inflow_lag1 = 0.8 it gives April–September volumes the observed CV 0.39, DATA.md)"))
                ok = False
        if out["members"] is not None and self.number("ensemble.members", out["members"], MEMBERS) is None:
            ok = False
        if self.number("ensemble.seed", out["seed"], Bound(0.0, integer=True)) is None:
            ok = False
        cv_bound = Bound(0.0, MAX_INFLOW_CV, mistake=percent_hint("0.62"))
        if out["inflow_cv"] is not None and self.number("ensemble.inflow_cv", out["inflow_cv"], cv_bound) is None:
            ok = False
        lag = self.number("ensemble.inflow_lag1", out["inflow_lag1"], Bound(-1.0, 1.0, lo_open=True, hi_open=True))
        if lag is None:
            ok = False
        elif ok and out["inflow_cv"] > 0:
            cv = float(out["inflow_cv"])
            lowest = -1.0 / (1.0 + cv * cv)
            if not lowest < lag < 1.0:
                self.add("ensemble.inflow_lag1", f"found {number_text(lag)}; with inflow_cv = {number_text(cv)} expected a number > {lowest:.4g} "
                         "and < 1 (lognormal flows cannot be more negatively correlated)")
                ok = False
        if ok:
            self.ensemble = EnsembleSpec(int(out["members"]), int(out["seed"]), float(out["inflow_cv"]), float(lag))

    def check_sweep(self):
        self.sweep = None
        if "sweep" not in self.data:
            return
        raw = self.data["sweep"]
        if not isinstance(raw, dict):
            self.add("sweep", f"found {_describe(raw)}; expected a table of \"key.path\" = values")
            return
        method = raw.get("method", "grid")
        ok = True
        if not isinstance(method, str) or method not in SWEEP_METHODS:
            self.add("sweep.method", _unknown("a sweep method", method, SWEEP_METHODS) if isinstance(method, str)
                     else f"found {_describe(method)}; expected one of {_quoted(SWEEP_METHODS)}")
            ok = False
            method = None
        out: dict = {"method": method} if method else {}
        samples = seed = None
        if method in ("lhs", "sobol"):
            if "samples" not in raw:
                self.add("sweep.samples", f'missing; method "{method}" needs the number of samples')
                ok = False
            else:
                samples = self.number("sweep.samples", raw["samples"], MEMBERS)
                ok = ok and samples is not None
            seed = raw.get("seed", 0)
            if self.number("sweep.seed", seed, Bound(0.0, integer=True)) is None:
                ok = False
            out["samples"], out["seed"] = raw.get("samples"), seed
        elif method == "grid":
            for k in ("samples", "seed"):
                if k in raw:
                    self.add(f"sweep.{k}", 'only used with method "lhs" or "sobol"; the method is "grid"')
                    ok = False
        entries = {}
        _flatten_sweep({k: v for k, v in raw.items() if k not in _SWEEP_OPTIONS}, "", entries)
        if not entries:
            self.add("sweep", 'no parameter given; expected "key.path" = values, e.g. "inflow.scale" = [0.8, 1.0, 1.2]')
            ok = False
        sweepable = self.c.sweepable
        params = {}
        for key, spec in entries.items():
            path = f"sweep.{json.dumps(key)}"
            out[key] = spec
            if key not in sweepable:
                self.add(path, self.unknown_path(key))
                ok = False
                continue
            values = self.sweep_values(path, spec, sweepable[key], method)
            if values is None:
                ok = False
            else:
                params[key] = values
        self.out["sweep"] = out
        if ok and method:
            n_settings = math.prod(len(v) for v in params.values()) if method == "grid" else int(samples)
            n_inflow = self.ensemble.members if self.ensemble is not None else 1
            if n_settings * n_inflow > MAX_MEMBERS:
                self.add("sweep", _too_many(n_settings, n_inflow, params if method == "grid" else None))
                ok = False
        if ok and method:
            self.sweep = SweepSpec(params, method, None if samples is None else int(samples),
                                   None if method == "grid" else int(seed))

    def unknown_path(self, key: str) -> str:
        choices = sorted(self.c.sweepable)
        hint = _did_you_mean(key, choices)
        if hint:
            return f"not a numeric key of this scenario{hint}"
        return f"not a numeric key of this scenario; expected one of {', '.join(choices)}"

    def sweep_values(self, path, spec, bound: Bound, method):
        if isinstance(spec, list):
            if method in ("lhs", "sobol"):
                self.add(path, f'method "{method}" samples a range; expected {{ from = ..., to = ... }}')
                return None
            if not spec:
                self.add(path, "found an empty list; expected at least one value")
                return None
            ok = True
            for i, v in enumerate(spec):
                if self.number(f"{path}[{i + 1}]", v, bound) is None:
                    ok = False
            return tuple(float(v) for v in spec) if ok else None
        if not isinstance(spec, dict):
            self.add(path, f"found {_describe(spec)}; expected a list of values or {{ from, to, num }} / {{ from, to, step }}")
            return None
        allowed = ("from", "to") if method in ("lhs", "sobol") else ("from", "to", "num", "step")
        if self.table(path, spec, allowed) is None or any(k not in allowed for k in spec):
            return None
        ok = True
        for k in ("from", "to"):
            if k not in spec:
                self.add(f"{path}.{k}", "missing; a range needs from and to")
                ok = False
            elif self.number(f"{path}.{k}", spec[k], bound) is None:
                ok = False
        if not ok:
            return None
        lo, hi = float(spec["from"]), float(spec["to"])
        if hi < lo:
            self.add(f"{path}.to", f"{number_text(spec['to'])} is below from {number_text(spec['from'])}; expected from <= to")
            return None
        if method in ("lhs", "sobol"):
            return (lo, hi)
        if ("num" in spec) == ("step" in spec):
            self.add(path, "expected exactly one of num and step" + ("; found both" if "num" in spec else "; found neither"))
            return None
        # The number of values is counted before any is made: a range of 10⁹ values is
        # refused here, not after allocating it.
        if "num" in spec:
            num = self.number(f"{path}.num", spec["num"], MEMBERS)
            if num is None:
                return None
            values = np.linspace(lo, hi, int(num)) if num > 1 else np.array([lo])
        else:
            step = self.number(f"{path}.step", spec["step"], POSITIVE)
            if step is None:
                return None
            span = (hi - lo) / step  # inf for a step of 5e-324
            if not span < MAX_MEMBERS:
                many = f"{math.floor(span) + 1:,}" if math.isfinite(span) else "more than 10³⁰⁰"
                self.add(f"{path}.step", f"found {number_text(step)}, which gives {many} values from {number_text(lo)} to {number_text(hi)}; "
                         f"expected at most {MAX_MEMBERS:,} (a larger step)")
                return None
            n = math.floor(span + 1e-9) + 1
            values = lo + step * np.arange(n)
        if bound.integer and not np.all(values == np.round(values)):
            self.add(path, f"gives values that are not whole numbers; expected {bound.expected()}")
            return None
        return tuple(float(round(v, 12)) for v in values)


def _too_many(n_settings: int, n_inflow: int, grid: dict | None, what: str = "the [sweep] table") -> str:
    """The message for a sweep larger than `MAX_MEMBERS`, with how to make it smaller."""
    count = f"{n_settings:,} settings" + (f" × {n_inflow:,} inflow members = {n_settings * n_inflow:,} members" if n_inflow > 1 else "")
    if grid:
        largest = max(grid, key=lambda k: len(grid[k]))
        how = f'fewer values of "{largest}" ({len(grid[largest]):,}), fewer parameters, or sampling (lhs, sobol) with fewer samples'
    else:
        how = "fewer samples" + (" or fewer [ensemble] members" if n_inflow > 1 else "")
    return f"{what} asks for {count}; expected at most {MAX_MEMBERS:,}: use {how}"


def sweep_size_problem(scenario: "Scenario", parameters=None, method=None, samples=None, inflow_members=None):
    """Why a sweep of ``scenario`` is too large to run, or None: counted, never built.

    The arguments are those of `sim.sweep.run` (``parameters``: path → values; ``None``
    takes the file's ``[sweep]``). The count is settings × inflow members, against
    `MAX_MEMBERS`.
    """
    spec = scenario.sweep
    if parameters is None and spec is not None:
        parameters, method = spec.parameters, method or spec.method
        samples = samples or spec.samples
    method = method or "grid"
    grid = method == "grid"
    n_settings = math.prod(len(v) for v in (parameters or {}).values()) if grid else int(samples or 0)
    n_inflow = inflow_members if inflow_members is not None else (scenario.ensemble.members if scenario.ensemble else 1)
    n_inflow = max(int(n_inflow), 1)
    if n_settings * n_inflow <= MAX_MEMBERS:
        return None
    return _too_many(n_settings, n_inflow, parameters if grid else None, "the sweep")


def _flatten_sweep(table: dict, prefix: str, out: dict) -> None:
    """``inflow.scale = [...]`` written unquoted is a nested table; flatten it to dotted paths."""
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and not any(x in v for x in ("from", "to", "num", "step")) and v:
            _flatten_sweep(v, key, out)
        else:
            out[key] = v


# ---------------------------------------------------------------------------------------
# Scenario
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A checked scenario: the question, the period, and everything after presets.

    Attributes
    ----------
    name : str
        Plain name ``[a-z0-9-]+``; names the output folder.
    title, description : str
        A short title, and the question the file answers.
    path : str or None
        The file it was loaded from.
    period : Period
        The simulated days.
    resolved : dict
        The whole scenario after inheritance and presets, as plain TOML data (see `to_toml`).
    regimes_spec : dict
        Regime name → its resolved table, in run order.
    ensemble : EnsembleSpec or None
        Stochastic inflow ensemble.
    sweep : SweepSpec or None
        Parameter sweep.
    sources : tuple of str
        Every file read, the scenario file first, then its ``extends`` chain.
    """

    name: str
    title: str
    description: str
    path: str | None
    period: Period
    resolved: dict
    regimes_spec: dict
    ensemble: EnsembleSpec | None = None
    sweep: SweepSpec | None = None
    sources: tuple = ()
    _compiled: _Compiled = field(default=None, repr=False, compare=False)

    # -- engine objects -----------------------------------------------------------------

    @property
    def regime_names(self) -> list[str]:
        """Regime names, in run order."""
        return list(self.regimes_spec)

    @property
    def sweepable(self) -> list[str]:
        """Dotted paths of the numeric keys that `build` accepts as overrides (and ``[sweep]``)."""
        return sorted(self._compiled.sweepable)

    def build(self, overrides: Mapping[str, Any] | None = None, n_members: int | None = None):
        """The engine's model and regimes, optionally with per-member parameter values.

        Parameters
        ----------
        overrides : Mapping of str to array_like, optional
            Dotted key path (see `sweepable`) → one value per member, shape ``(n_members,)``
            (a scalar applies to every member). Each maps to a per-member field of the
            engine (``inflow.scale`` → ``Model.inflow_scale``, ``reservoir.initial_level_m``
            → ``Model.initial_storage_m3``, ``demand.<name>.volume_hm3`` → ``User.scale``,
            ``regimes.<name>.hedging.factor`` → the regime's ``hedging_factor``, constant
            series → shape ``(1, n_members)``), so no ``(n_steps, n_members)`` array is made,
            except for a swept ``volume_hm3`` of a demand that also has ``extra_m3s``.
        n_members : int, optional
            Number of members; default: the length of the override arrays, else
            ``ensemble.members`` with an ``[ensemble]``, else 1. With an ``[ensemble]`` the
            inflow is a `sim.inflow.StochasticInflow` of this many members (tile sweep values
            to cross them with the inflow members).

        Returns
        -------
        model : sim.engine.Model
        regimes : dict of str to sim.regimes.Regime
            In run order.

        Raises
        ------
        ScenarioError
            An override path that is not a numeric key of the scenario, a value out of its
            range, or arrays of different lengths.
        """
        from sim.physics.demand import User
        from sim.engine.driver import Model
        from sim.rules.regimes import Regime

        c = self._compiled
        ov, n = self._check_overrides(overrides, n_members)

        def get(path, base):
            return ov.get(path, base)

        def series_override(path, base):
            """A constant series swept: shape (1, n) instead of the (n_steps,) base."""
            return ov[path][None, :] if path in ov else base

        res = c.reservoir
        changed = {k: ov[f"reservoir.{k}"] for k in res._member_fields if f"reservoir.{k}" in ov}
        if changed:
            res = dataclasses.replace(res, **changed)
        if "reservoir.initial_level_m" in ov:
            initial = c.hypsometry.storage_fast(ov["reservoir.initial_level_m"])
        elif "reservoir.initial_storage_hm3" in ov:
            initial = units.hm3_to_m3(ov["reservoir.initial_storage_hm3"])
        else:
            initial = c.initial_storage_m3
        plant = c.plant
        if "plant.efficiency" in ov:
            plant = dataclasses.replace(plant, efficiency=ov["plant.efficiency"])
        inflow = c.inflow_m3s
        if self.ensemble is not None:
            from sim.inputs.inflow import StochasticInflow

            e = self.ensemble
            inflow = StochasticInflow(c.inflow_m3s, self.period, n, e.seed, e.inflow_cv, e.inflow_lag1)
        users = []
        for u in c.users:
            scale = get(f"demand.{u.name}.scale", u.scale)
            demand = u.demand_m3s
            vol_path, const_path = f"demand.{u.name}.volume_hm3", f"demand.{u.name}.constant_m3s"
            if vol_path in ov:
                if np.any(u.extra_m3s):
                    demand = u.unit_m3s[:, None] * ov[vol_path][None, :] + u.extra_m3s[:, None]
                else:
                    demand, scale = u.unit_m3s, scale * ov[vol_path]
            elif const_path in ov:
                demand, scale = np.ones(self.period.n_days), scale * ov[const_path]
            users.append(User(u.name, demand, priority=u.priority, location=u.location, scale=scale))
        model = Model(
            period=self.period,
            reservoir=res,
            plant=plant,
            initial_storage_m3=initial,
            inflow_m3s=inflow,
            inflow_scale=get("inflow.scale", c.inflow_scale),
            evaporation_mm_day=c.evaporation_mm_day,
            evaporation_factor=get("losses.evaporation_factor", c.evaporation_factor),
            precipitation_mm_day=c.precipitation_mm_day,
            seepage_m3s=series_override("losses.seepage_m3s", c.seepage_m3s),
            units_available=series_override("plant.units_available", c.units_available),
            users=tuple(users),
            reach_loss_fraction=get("downstream.reach_loss_fraction", c.reach_loss_fraction),
            lateral_inflow_m3s=series_override("downstream.lateral_inflow_m3s", c.lateral_inflow_m3s),
        )
        regimes = {}
        param_of = {
            "hedging.factor": "hedging_factor", "hedging.trigger_level_m": "hedging_trigger_level_m",
            "scale": "scale", "approach_days": "approach_days",
        }  # fmt: skip
        series_of = {"target_mw": "target_mw", "target_level_m": "target_level_m", "constant_m3s": "release_m3s"}
        for name, spec in c.regimes.items():
            prefix = f"regimes.{name}."
            params = dict(spec.params)
            limits = dict(spec.limits)
            for path, values in ov.items():
                if not path.startswith(prefix):
                    continue
                key = path[len(prefix):]
                if key in param_of:
                    params[param_of[key]] = values
                elif key in series_of:
                    params[series_of[key]] = values[None, :]
                else:
                    limits[key] = values
            regimes[name] = Regime(spec.rule, params, name=name, **limits)
        return model, regimes

    def _check_overrides(self, overrides, n_members):
        c = self._compiled
        ov: dict[str, np.ndarray] = {}
        problems = []
        sizes = set()
        for path, values in (overrides or {}).items():
            where = f"overrides[{json.dumps(path)}]"
            if path not in c.sweepable:
                hint = _did_you_mean(path, sorted(c.sweepable))
                problems.append(f"{where}: not a numeric key of this scenario{hint}")
                continue
            a = np.asarray(values, dtype=float)
            if a.ndim > 1:
                problems.append(f"{where}: found an array of shape {a.shape}; expected one value per member, shape (n_members,)")
                continue
            b = c.sweepable[path]
            bad = np.atleast_1d(a)[~b.ok_all(np.atleast_1d(a))]
            if bad.size:
                problems.append(f"{where}: {b.problem(float(bad[0]))}")
                continue
            if a.ndim == 1:
                sizes.add(a.size)
            ov[path] = a
        if len(sizes) > 1:
            problems.append(f"overrides: arrays of different lengths {sorted(sizes)}; expected one value per member each")
        n = n_members if n_members is not None else (sizes.pop() if len(sizes) == 1 else (
            self.ensemble.members if self.ensemble is not None else 1))
        if sizes and n_members is not None and sizes != {n_members}:
            problems.append(f"overrides: {sorted(sizes)[0]} values per key but n_members={n_members}")
        if problems:
            raise ScenarioError(self.path, problems)
        ov = {k: (np.full(n, float(v)) if v.ndim == 0 else v) for k, v in ov.items()}
        return ov, int(n)

    def plot_kwargs(self, model=None, regimes=None) -> dict:
        """Keyword arguments for `sim.plotting.save_all` / `plot_comparison` / `plot_level`.

        ``limits`` (minimum, normal and maximum levels [m a.s.l.]), ``title``, ``question``
        (the file's description), a data-source ``footnote``, and ``guide_curves``: the daily
        target level of every ``level`` regime [m a.s.l.], shape ``(n_steps,)``.
        """
        from sim import __version__

        if model is None or regimes is None:
            model, regimes = self.build()
        r = model.reservoir
        limits = {"min": float(np.min(r.min_level_m)), "normal": float(np.min(r.normal_level_m)),
                  "max": float(np.min(r.max_level_m))}
        n = self.period.n_days
        guide = {}
        for name, reg in regimes.items():
            if reg.rule == "level":
                target = np.asarray(reg.params["target_level_m"], dtype=float)
                column = target.reshape(target.shape[0], -1)[:, 0] if target.ndim else target.reshape(1)
                guide[name] = np.broadcast_to(column, (n,)).copy() if column.size in (1, n) else column[:n].copy()
        footnote = ("Data: built-in Bakhri Tojik presets (DATA.md); hypsometry and tailwater are DERIVED/GUESS "
                    f"placeholders. Tool: bakhri {__version__}")
        return {"limits": limits, "title": self.title or self.name, "footnote": footnote,
                "guide_curves": guide or None, "question": self.description or None}

    # -- text -------------------------------------------------------------------------------

    def to_toml(self) -> str:
        """The resolved scenario as TOML (``scenario.resolved.toml``); loads back to the same.

        Paths are absolute; presets are kept by name next to the values they filled in.
        """
        from sim import __version__

        lines = [
            f"# Scenario \"{self.name}\" after inheritance and presets (sim {__version__}).",
            *(f"# read from {s}" for s in self.sources),
        ]
        r = self.resolved
        for section in _SECTIONS:
            if section not in r:
                continue
            value = r[section]
            if section == "demand":
                for item in value:
                    lines += ["", "[[demand]]"] + _toml_pairs(item)
            elif section == "regimes":
                for name, table in value.items():
                    lines += ["", f"[regimes.{_key(name)}]"] + _toml_pairs(table)
            else:
                lines += ["", f"[{section}]"] + _toml_pairs(value)
        return "\n".join(lines) + "\n"

    def summary_text(self) -> str:
        """A readable view of the resolved scenario, for ``bakhri show``."""
        c, r = self._compiled, self.resolved
        hm3 = units.HM3_PER_M3S_DAY

        def vol(a):
            return float(np.sum(a)) * hm3 if a is not None else 0.0

        lines = [f"{self.name}: {self.title}"]
        if self.description:
            lines += [f"  {line}" for line in self.description.strip().splitlines()]
        if self.sources:
            lines.append("  files: " + " → ".join(self.sources))
        lines.append(f"period      {self.period} ({self.period.n_days} days)")
        rv = r["reservoir"]
        init = c.initial_storage_m3
        lines.append(
            f"reservoir   {rv['preset']}: start {float(c.hypsometry.level_m_at(init)):.2f} m "
            f"({units.m3_to_hm3(init):.0f} hm³); levels min {rv['min_level_m']}, normal {rv['normal_level_m']}, "
            f"max {rv['max_level_m']} m; spillway {rv['spillway_capacity_m3s']} m³/s; table {c.hypsometry.source}"
            + (f", silted {rv['siltation_fraction']}" if rv["siltation_fraction"] else "")
        )
        p = c.plant
        ua = "all units" if c.units_available is None else f"units available {c.units_available.min():g}–{c.units_available.max():g}"
        lines.append(
            f"plant       {r['plant']['preset']}: {p.n_units} units, {p.installed_w * 1e-6:g} MW, "
            f"{p.unit_max_flow_m3s.sum():g} m³/s, efficiency {p.efficiency}, head {p.min_head_m:g}–{p.max_head_m:g} m; {ua}"
        )
        lines.append(
            f"inflow      {c.inflow_source} × {c.inflow_scale:g}: {vol(c.inflow_m3s) * c.inflow_scale:.0f} hm³ "
            f"(mean {float(np.mean(c.inflow_m3s)) * c.inflow_scale:.0f} m³/s)"
        )
        evap = r["losses"]["evaporation_mm_month"]
        evap_txt = f'preset "{evap["preset"]}"' if isinstance(evap, dict) else "12 monthly values"
        lines.append(
            f"losses      evaporation {evap_txt} × {c.evaporation_factor:g} "
            f"({float(np.sum(c.evaporation_mm_day)) * c.evaporation_factor:.0f} mm over the period); "
            f"precipitation {float(np.sum(c.precipitation_mm_day)):.0f} mm; seepage {vol(c.seepage_m3s):.0f} hm³"
        )
        lines.append(
            f"downstream  reach loss {c.reach_loss_fraction:g}; lateral inflow {vol(c.lateral_inflow_m3s):.0f} hm³"
        )
        if c.users:
            lines.append("demand")
            for u in c.users:
                lines.append(
                    f"  {u.name}: priority {u.priority}, {u.location}; {u.source}"
                    + (f" × {u.scale:g}" if u.scale != 1 else "")
                    + f"; {vol(u.demand_m3s) * u.scale:.0f} hm³ in the period"
                )
        else:
            lines.append("demand      none")
        lines.append("regimes")
        for name, spec in c.regimes.items():
            lim = ", ".join(f"{k.removesuffix('_m3s').removesuffix('_m3s_day').replace('_', ' ')} {number_text(v)}"
                            for k, v in spec.limits.items() if not (k == "min_release_m3s" and v == 0))
            lines.append(f"  {name}: {spec.describe}" + (f" ({lim} m³/s)" if lim else ""))
        if self.ensemble is not None:
            e = self.ensemble
            lines.append(
                f"ensemble    {e.members} members, seed {e.seed}, inflow cv {e.inflow_cv:g}, lag-1 {e.inflow_lag1:g}"
            )
        if self.sweep is not None:
            s = self.sweep
            lines.append(f"sweep       {s.method}, {s.n_members} members")
            for k, v in s.parameters.items():
                shown = ", ".join(f"{x:g}" for x in v) if s.method == "grid" else f"{v[0]:g}..{v[1]:g}"
                lines.append(f"  {k}: {shown}")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# TOML writer (only what a resolved scenario holds)
# ---------------------------------------------------------------------------------------


def _toml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (datetime.date, datetime.datetime, datetime.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_toml_scalar(x) for x in v) + "]"
    if isinstance(v, Mapping):
        if not v:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {_toml_scalar(x)}" for k, x in v.items()) + " }"
    if isinstance(v, np.generic):
        return _toml_scalar(v.item())
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _toml_pairs(table: Mapping) -> list[str]:
    lines = []
    for k, v in table.items():
        text = _toml_scalar(v)
        if isinstance(v, list) and len(text) > 96 and not any(isinstance(x, (list, Mapping)) for x in v):
            items = [_toml_scalar(x) for x in v]
            rows = [", ".join(items[i : i + 12]) for i in range(0, len(items), 12)]
            text = "[\n" + ",\n".join(f"    {row}" for row in rows) + ",\n]"
        lines.append(f"{_key(k)} = {text}")
    return lines


# ---------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------


def _finish(data: dict, files: _Files, stem: str | None, sources: list[str]) -> Scenario:
    checker = _Checker(data, files, stem)
    checker.run()
    if checker.problems:
        raise ScenarioError(files.top_given, checker.problems)
    out = checker.out
    resolved = {k: out[k] for k in _SECTIONS if k in out}
    c = checker.c
    scenario = Scenario(
        name=out["scenario"]["name"],
        title=out["scenario"]["title"],
        description=out["scenario"]["description"],
        path=files.top_given,
        period=checker.period,
        resolved=resolved,
        regimes_spec=dict(resolved["regimes"]),
        ensemble=checker.ensemble,
        sweep=checker.sweep,
        sources=tuple(sources),
        _compiled=c,
    )
    problem = _build_problem(scenario)
    if problem:
        raise ScenarioError(files.top_given, [problem])
    return scenario


def _build_problem(scenario: Scenario) -> str | None:
    """Build the engine objects as ``run`` will (a millisecond), and the sweep's corner
    settings one at a time, so that validation catches what only the engine or only a
    combination refuses (a swept minimum release above the maximum); None if fine.

    Each key is checked alone against its bound already; the engine's own checks compare
    keys with each other, and such comparisons are decided at the corners of the ranges.
    """
    import itertools

    parameters = scenario.sweep.parameters if scenario.sweep is not None else {}
    ends = {k: sorted({float(np.min(v)), float(np.max(v))}) for k, v in parameters.items()}
    corners = itertools.product(*ends.values()) if len(ends) <= 10 else (
        [v[i] if k == key else ends[k][0] for k in ends] for key, v in ends.items() for i in (0, -1))
    for corner in corners:
        try:
            scenario.build(overrides={k: [x] for k, x in zip(ends, corner)})
        except ValueError as err:  # ScenarioError is one
            # one-member arrays ("[5000.]") shown as numbers
            text = re.sub(r"\[\s*([^\s\[\]]+?)\.?\s*\]", r"\1", str(err))
            if not ends:
                return f"the engine refuses this scenario: {text}"
            setting = ", ".join(f"{k} = {number_text(x)}" for k, x in zip(ends, corner))
            return f"sweep: the setting {setting} cannot run: {text}"
    return None


def load_scenario(path) -> Scenario:
    """Read, inherit, fill and check a scenario file.

    Parameters
    ----------
    path : str or os.PathLike
        The TOML file. Relative paths inside it are relative to its folder.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        With every problem found (see the module docstring), or the first that stops
        reading: a file not found, a TOML syntax error, an ``extends`` cycle.
    """
    given = os.fspath(path)
    top = os.path.abspath(given)
    files = _Files(top, given)
    data = _read_toml(top, files)
    _absolutize(data, os.path.dirname(top))
    merged = _resolve_extends(data, top, files, ())
    parents = merged.pop("__sources__", [])
    stem = os.path.splitext(os.path.basename(given))[0]
    sources = [given] + [files.given(p) for p in parents]
    return _finish(merged, files, stem, sources)


def scenario_from_dict(data: Mapping, path=None) -> Scenario:
    """Check a scenario given as a dict (as `tomllib` would read it).

    Parameters
    ----------
    data : Mapping
        The scenario's tables. It is not modified.
    path : str or os.PathLike, optional
        Where it notionally lives: relative paths (``extends``, ``csv``, ``hypsometry``) are
        resolved against its folder (default: the working directory), and messages name it.
    """
    given = None if path is None else os.fspath(path)
    top = None if given is None else os.path.abspath(given)
    files = _Files(top, given)
    if _depth(dict(data)) > MAX_NESTING:  # before deepcopy recurses into it
        raise ScenarioError(given, [_TOO_DEEP])
    data = copy.deepcopy(dict(data))
    _absolutize(data, files.folder)
    merged = _resolve_extends(data, top, files, ())
    parents = merged.pop("__sources__", [])
    stem = None if given is None else os.path.splitext(os.path.basename(given))[0]
    sources = ([given] if given else []) + [files.given(p) for p in parents]
    return _finish(merged, files, stem, sources)


def validate(path) -> list[str]:
    """The problems of a scenario file, one line each (empty if it loads)."""
    try:
        load_scenario(path)
    except ScenarioError as err:
        return list(err.problems)
    return []
