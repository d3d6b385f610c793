"""The resolved scenario written back as TOML (``scenario.resolved.toml`` next to every run).

It is the scenario file's own format, after inheritance and presets, so that it loads back to
the same scenario: the writer knows the sections and key quoting of the format, and writes only
what a resolved scenario holds (tables, arrays of tables, scalars, dates, lists).
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Mapping

import numpy as np

from sim.scenario.errors import key_text
from sim.scenario.keys import SECTIONS


def resolved_toml(name: str, sources, resolved: Mapping) -> str:
    """TOML text of a resolved scenario (see `Scenario.to_toml`), headed by where it was read."""
    from sim import __version__

    lines = [
        f"# Scenario \"{name}\" after inheritance and presets (sim {__version__}).",
        *(f"# read from {s}" for s in sources),
    ]
    r = resolved
    for section in SECTIONS:
        if section not in r:
            continue
        value = r[section]
        if section == "demand":
            for item in value:
                lines += ["", "[[demand]]"] + _toml_pairs(item)
        elif section == "regimes":
            for regime, table in value.items():
                lines += ["", f"[regimes.{key_text(regime)}]"] + _toml_pairs(table)
        else:
            lines += ["", f"[{section}]"] + _toml_pairs(value)
    return "\n".join(lines) + "\n"


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
        return "{ " + ", ".join(f"{key_text(k)} = {_toml_scalar(x)}" for k, x in v.items()) + " }"
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
        lines.append(f"{key_text(k)} = {text}")
    return lines


def toml_pairs(table: Mapping) -> list[str]:
    """``key = value`` lines of a table, as in ``scenario.resolved.toml`` (e.g. for a scenario file
    another command writes, such as the solutions of ``bakhri optimise``)."""
    return _toml_pairs(table)
