"""Built-in presets: reservoir, plant, inflow, losses, demand and constants, with provenance.

The data live under ``sim/inputs/data/<kind>/<name>.toml`` (``sim/inputs/data/constants.toml`` for the
constants). Each quantity is a table ``[values.<key>]`` with ``value``, ``label`` (SOURCED,
DERIVED or GUESS), ``confidence``, ``source`` and an optional ``note``. The reservoir's
level-storage-area table is a CSV next to its TOML file.

    >>> load_preset("reservoir", "bakhri-tojik").get("normal_level_m")
    347.5
"""

from __future__ import annotations

import csv
import difflib
import functools
import pathlib
import tomllib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.inputs import series

__all__ = [
    "PRESET_KINDS",
    "LABELS",
    "CONFIDENCES",
    "PresetError",
    "PresetValue",
    "Preset",
    "load_preset",
    "preset_names",
    "list_presets",
    "hypsometry_table",
    "format_presets",
]

PRESET_KINDS = ("reservoir", "plant", "inflow", "evaporation", "seepage", "demand", "constants")
LABELS = ("SOURCED", "DERIVED", "GUESS")
CONFIDENCES = ("high", "medium", "low")

_CONSTANTS_FILE = "constants.toml"
_VALUE_KEYS = {"value", "label", "confidence", "source", "note"}


class PresetError(ValueError):
    """An unknown preset kind or name, or a malformed preset data file."""


@dataclass(frozen=True)
class PresetValue:
    """One quantity of a preset, with its provenance."""

    name: str
    value: Any
    label: str
    confidence: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class Preset:
    """A named set of values of one kind, read from a data file."""

    kind: str
    name: str
    description: str
    values: dict[str, PresetValue] = field(hash=False)
    path: pathlib.Path

    def get(self, key: str) -> Any:
        """The raw value of ``key``; raises PresetError with a suggestion if it is unknown."""
        try:
            return self.values[key].value
        except KeyError:
            raise PresetError(
                _unknown_message(f"{self.kind} preset {self.name!r} key", key, sorted(self.values))
            ) from None

    def as_dict(self) -> dict[str, Any]:
        """``{key: value}`` for every quantity, in file order."""
        return {key: v.value for key, v in self.values.items()}

    def flow_m3s(self, period) -> np.ndarray:
        """The preset's flow series (``decadal_m3s`` or ``monthly_m3s``, with its ``start`` if
        any) as daily values over `period` [m³/s], expanded as the same key in a scenario file.

        Raises PresetError if the preset holds no flow series, and `sim.inputs.series.SeriesError`
        if its profile does not cover the period.
        """
        values = self.as_dict()
        for key, expand in (("decadal_m3s", series.decadal), ("monthly_m3s", series.monthly)):
            if key in values:
                return expand(values[key], period, start=values.get("start"))
        raise PresetError(f"{self.kind} preset {self.name} has no decadal_m3s or monthly_m3s")


#: The built-in data, next to this module: found through ``__file__`` rather than
#: ``importlib.resources``, which follows ``sim``'s import path and, when an old install leaves
#: a stray ``site-packages/sim/`` folder behind, can point at a folder with no data in it.
DATA_ROOT = pathlib.Path(__file__).resolve().parent / "data"


def _data_root() -> pathlib.Path:
    if not DATA_ROOT.is_dir():
        raise PresetError(
            f"the built-in data folder {DATA_ROOT} is missing; expected the presets installed next to "
            f"sim/presets.py (reinstall the package: pip install .)"
        )
    return DATA_ROOT


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _unknown_message(what: str, name: str, choices: list[str]) -> str:
    msg = f'unknown {what} "{name}"'
    close = difflib.get_close_matches(name, choices, n=1)
    if close:
        msg += f'; did you mean "{close[0]}"?'
    return msg + f" (choose one of {_quoted(choices)})"


def _check_kind(kind: str) -> None:
    if kind not in PRESET_KINDS:
        raise PresetError(_unknown_message("preset kind", kind, list(PRESET_KINDS)))


def _preset_paths(kind: str) -> dict[str, pathlib.Path]:
    _check_kind(kind)
    root = _data_root()
    if kind == "constants":
        path = root / _CONSTANTS_FILE
        if not path.is_file():
            raise PresetError(f"{path} is missing; expected the built-in constants (reinstall the package)")
        with path.open("rb") as fh:
            name = tomllib.load(fh).get("preset", {}).get("name", "default")
        return {name: path}
    folder = root / kind
    paths = {p.stem: p for p in sorted(folder.glob("*.toml"))}
    if not paths:
        raise PresetError(f"no {kind} presets in {folder}; expected the built-in data files (reinstall the package)")
    return paths


def preset_names(kind: str) -> list[str]:
    """Sorted names of the built-in presets of ``kind``."""
    return sorted(_preset_paths(kind))


def _parse(kind: str, name: str, path: pathlib.Path) -> Preset:
    where = f"preset file {path}"
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"{where}: invalid TOML: {exc}") from exc
    head = doc.get("preset")
    if not isinstance(head, dict):
        raise PresetError(f"{where}: missing [preset] table")
    if head.get("kind") != kind:
        raise PresetError(f"{where}: [preset] kind is {head.get('kind')!r}, expected {kind!r}")
    if head.get("name") != name:
        raise PresetError(f"{where}: [preset] name is {head.get('name')!r}, expected {name!r}")
    description = head.get("description")
    if not isinstance(description, str) or not description.strip():
        raise PresetError(f"{where}: [preset] needs a description")
    extra = set(doc) - {"preset", "values"}
    if extra:
        raise PresetError(f"{where}: unknown top-level tables {sorted(extra)}")
    raw_values = doc.get("values")
    if not isinstance(raw_values, dict) or not raw_values:
        raise PresetError(f"{where}: no [values.*] tables")
    values = {key: _parse_value(key, entry, f"{where}: values.{key}") for key, entry in raw_values.items()}
    return Preset(kind, name, description, values, path)


def _parse_value(key: str, entry, at: str) -> PresetValue:
    """One ``[values.<key>]`` table: its value with label, confidence, source and note."""
    if not isinstance(entry, dict):
        raise PresetError(f"{at} must be a table with value, label, confidence, source")
    unknown = set(entry) - _VALUE_KEYS
    if unknown:
        raise PresetError(f"{at}: unknown keys {sorted(unknown)}")
    if "value" not in entry:
        raise PresetError(f"{at}: missing value")
    label = entry.get("label")
    if label not in LABELS:
        raise PresetError(f"{at}: label {label!r} is not one of {', '.join(LABELS)}")
    confidence = entry.get("confidence")
    if confidence not in CONFIDENCES:
        raise PresetError(
            f"{at}: confidence {confidence!r} is not one of {', '.join(CONFIDENCES)}"
        )
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        raise PresetError(f"{at}: every value needs a source")
    note = entry.get("note", "")
    if not isinstance(note, str):
        raise PresetError(f"{at}: note must be a string")
    return PresetValue(key, entry["value"], label, confidence, source, note)


@functools.lru_cache(maxsize=None)
def load_preset(kind: str, name: str) -> Preset:
    """Load and validate the built-in preset ``name`` of ``kind``.

    Raises PresetError for an unknown kind or name (with a "did you mean" suggestion and the
    list of available names) and for a malformed data file.
    """
    paths = _preset_paths(kind)
    if name not in paths:
        raise PresetError(_unknown_message(f"{kind} preset", name, sorted(paths)))
    return _parse(kind, name, paths[name])


def list_presets() -> list[Preset]:
    """Every built-in preset, by kind (in PRESET_KINDS order) then name."""
    return [load_preset(kind, name) for kind in PRESET_KINDS for name in preset_names(kind)]


def hypsometry_table(name: str = "bakhri-tojik") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(level_m, storage_hm3, area_km2)`` of reservoir preset ``name``'s hypsometry table."""
    preset = load_preset("reservoir", name)
    path = preset.path.parent / str(preset.get("hypsometry"))
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip() for h in rows[0]] if rows else []
    if header != ["level_m", "storage_hm3", "area_km2"]:
        raise PresetError(f"{path}: header must be level_m,storage_hm3,area_km2, got {header}")
    data = np.array([[float(x) for x in row] for row in rows[1:] if row], dtype=float)
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] != 3:
        raise PresetError(f"{path}: need at least two rows of three numbers")
    return data[:, 0].copy(), data[:, 1].copy(), data[:, 2].copy()


def _format_value(value: Any) -> str:
    if isinstance(value, list):
        inner = ", ".join(_format_value(v) for v in value)
        return f"[{inner}]"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def format_presets() -> str:
    """A readable listing of every built-in preset and its values, for ``bakhri presets``."""
    lines: list[str] = []
    for preset in list_presets():
        lines.append(f"{preset.kind} {preset.name}")
        lines.append(f"  {preset.description}")
        for key, v in preset.values.items():
            lines.append(f"  {key} = {_format_value(v.value)}")
            lines.append(f"      {v.label}, {v.confidence} confidence; source: {v.source}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
