"""A JSON Schema of the scenario format, generated from the key tables and the rule registry.

Editors that read JSON Schemas for TOML (Taplo, Even Better TOML) complete keys, show their
documentation and mark a misspelt key as soon as it is typed. The schema comes from the same
declarations the checks use: `sim.scenario.keys.SECTION_KEYS` for the sections, the keys every
regime shares (`sim.scenario.regimes.REGIME_COMMON`) and each registered rule's parameters
(`sim.rules.base.Param`), so a new key or rule is in the schema without more work.

It is JSON Schema draft 4, the newest draft Taplo validates. It is deliberately looser than
the checks: it knows keys, types, fixed choices and plain numeric bounds, not what depends on
other keys (levels inside the level–storage table, series lengths, one form per series). A
file the schema accepts can still get an error from ``bakhri validate``; a file it rejects
always would.

The package ships the generated schema as ``scenario.schema.json`` next to this module
(`SCHEMA_PATH`); the shipped scenarios name it on their first line (``#:schema``), and
``bakhri schema`` prints it for files elsewhere.
"""

from __future__ import annotations

import json
import math
import pathlib

from sim.physics.ranges import FLOW, Bound
from sim.rules.base import FLOW_SERIES, GUIDE, NUMBER, RESERVOIR_LEVELS, RULES, SERIES
from sim.scenario.keys import FLOW_FORMS, FORM_OPTIONS, FORMAT_VERSION, SECTION_KEYS, Key

__all__ = ["SCHEMA_PATH", "schema", "schema_text"]

#: The schema shipped with the package (regenerate: ``bakhri schema > sim/scenario/scenario.schema.json``).
SCHEMA_PATH = pathlib.Path(__file__).resolve().parent / "scenario.schema.json"

_DRAFT = "http://json-schema.org/draft-04/schema#"
#: A sweep key is a dotted path to a numeric key (``regimes.irrigation-first.hedging.factor``).
_DOTTED = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$"
#: A month-day key of a guide curve or a series table (``"06-10"``).
_MONTH_DAY = r"^[0-9]{2}-[0-9]{2}$"

_COMMON_DOCS = {
    "rule": "the operating rule that decides each day's release",
    "description": "what the regime does, for summaries and plots",
    "min_release_m3s": "minimum (sanitary) release [m³/s]",
    "max_release_m3s": "maximum release [m³/s]",
    "max_change_m3s_day": "largest change of the release from one day to the next [m³/s per day]",
    "initial_release_m3s": "the release of the day before the period, for the ramping limit [m³/s]",
}


def _bounded(kind: str, bound: Bound | None) -> dict:
    """``{"type": kind}`` with the bound's plain numeric limits (draft 4 spelling)."""
    out = {"type": kind}
    if bound is None:
        return out
    if math.isfinite(bound.lo):
        out["minimum"] = bound.lo
        if bound.lo_open:
            out["exclusiveMinimum"] = True
    if math.isfinite(bound.hi):
        out["maximum"] = bound.hi
        if bound.hi_open:
            out["exclusiveMaximum"] = True
    if bound.integer and kind == "number":
        out["type"] = "integer"
    return out


def _series_table(bound: Bound | None) -> dict:
    """A series given as a table: ``{ monthly = [...] }``, ``{ constant = 10 }``, ``{ preset = "..." }``..."""
    value = _bounded("number", bound)
    return {
        "type": "object",
        "properties": {
            "constant": value,
            "daily": {"type": "array", "items": value},
            "decadal": {"type": "array", "items": value},
            "monthly": {"type": "array", "items": value},
            "csv": {"type": "string"},
            "column": {"type": "string"},
            "start": {"type": "string", "pattern": _MONTH_DAY},
            "preset": {"type": "string"},
        },
        "additionalProperties": False,
    }


def _key(key: Key) -> dict:
    """The schema of one key of `SECTION_KEYS`."""
    alternatives = []
    for t in key.types:
        if t in ("number", "integer"):
            alternatives.append({"type": t, "enum": list(key.choices)} if key.choices else _bounded(t, key.bound))
        elif t == "string":
            alternatives.append({"type": "string", "enum": list(key.choices)} if key.choices else {"type": "string"})
        elif t == "boolean":
            alternatives.append({"type": "boolean"})
        elif t == "date":  # a TOML date; editors see it as a string
            alternatives.append({"type": "string"})
        elif t == "array":
            items = _bounded("number", key.bound) if key.bound is not None else {}
            alternatives.append({"type": "array", "items": items} if items else {"type": "array"})
        elif t == "table":
            alternatives.append(_series_table(key.bound) if "number" in key.types else {"type": "object"})
        else:
            raise ValueError(f"unknown key type {t!r}")
    out = alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives}
    return {"description": key.doc, **out}


def _section(keys: dict[str, Key]) -> dict:
    return {
        "type": "object",
        "properties": {name: _key(k) for name, k in keys.items()},
        "additionalProperties": False,
    }


def _param(p) -> dict:
    """The schema of one rule parameter, by its kind (sim.rules.base)."""
    bound = None if p.bound is RESERVOIR_LEVELS else p.bound
    doc = p.doc + (f" [{p.unit}]" if p.unit and f"[{p.unit}]" not in p.doc else "")
    if p.kind == NUMBER:
        return {"description": doc, **_bounded("number", bound)}
    if p.kind == SERIES:
        return {"description": doc, "anyOf": [_bounded("number", bound), _series_table(bound)]}
    if p.kind == GUIDE:
        curve = {"type": "object", "patternProperties": {_MONTH_DAY: _bounded("number", bound)},
                 "additionalProperties": False}
        return {"description": doc, "anyOf": [_bounded("number", bound), curve]}
    raise ValueError(f"unknown parameter kind {p.kind!r}")


def _regime() -> dict:
    """One ``[regimes.<name>]`` table: the common keys and every registered rule's keys."""
    flows = SECTION_KEYS["inflow"]
    props = {
        "rule": {"description": _COMMON_DOCS["rule"], "type": "string", "enum": sorted(RULES)},
        "description": {"description": _COMMON_DOCS["description"], "type": "string"},
    }
    for name in ("min_release_m3s", "max_release_m3s", "max_change_m3s_day", "initial_release_m3s"):
        props[name] = {"description": _COMMON_DOCS[name], **_bounded("number", FLOW)}
    users: dict[str, list[str]] = {}  # key → the rules that take it, for its description
    for rule in RULES.values():
        for p in rule.params:
            if p.kind == FLOW_SERIES:
                for form in FLOW_FORMS + FORM_OPTIONS:
                    entry = _key(flows[form])
                    props.setdefault(form, {**entry, "description": entry["description"].replace("inflow: ", "release: ")})
                    users.setdefault(form, []).append(rule.name)
            elif p.group:
                table = props.setdefault(p.group, {"description": p.group, "type": "object",
                                                   "properties": {}, "additionalProperties": False})
                sub = p.key.split(".", 1)[1]
                table["properties"][sub] = _param(p)
                table["description"] = "{ " + ", ".join(table["properties"]) + " }, all or none"
                users.setdefault(p.group, []).append(rule.name)
            else:
                props.setdefault(p.key, _param(p))
                users.setdefault(p.key, []).append(rule.name)
    for key, rules in users.items():
        names = list(dict.fromkeys(rules))
        what = f"{names[0]} rule" if len(names) == 1 else f"{', '.join(names)} rules"
        props[key] = {**props[key], "description": f"{what}: {props[key]['description']}"}
    return {"type": "object", "properties": props, "required": ["rule"], "additionalProperties": False}


def schema() -> dict:
    """The JSON Schema (draft 4) of a scenario file, from the key tables and the rule registry."""
    sections = {name: _section(keys) for name, keys in SECTION_KEYS.items() if name not in ("demand", "sweep")}
    sections["demand"] = {"type": "array", "items": _section(SECTION_KEYS["demand"]),
                          "description": "[[demand]]: one table per water user"}
    sweep = _section(SECTION_KEYS["sweep"])
    sweep["patternProperties"] = {_DOTTED: {
        "description": "values of a numeric key, by its dotted path: a list, or { from, to, num } or { from, to, step }",
        "anyOf": [
            {"type": "array", "items": {"type": "number"}},
            {"type": "object", "additionalProperties": False, "required": ["from", "to"], "properties": {
                "from": {"type": "number"}, "to": {"type": "number"},
                "num": {"type": "integer", "minimum": 1}, "step": {"type": "number"}}},
        ],
    }}
    sweep["additionalProperties"] = {"type": "object"}  # nested tables spell a dotted path
    sections["sweep"] = sweep
    sections["regimes"] = {"type": "object", "description": "[regimes.<name>]: the regimes compared",
                           "additionalProperties": _regime()}
    return {
        "$schema": _DRAFT,
        "title": f"Bakhri Tojik scenario file (format {FORMAT_VERSION})",
        "description": "A scenario of the Bakhri Tojik (Kairakkum) reservoir simulator: `bakhri run FILE`.",
        "type": "object",
        "properties": sections,
        "additionalProperties": False,
    }


def schema_text() -> str:
    """The schema as the file ``bakhri schema`` prints and the package ships."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"
