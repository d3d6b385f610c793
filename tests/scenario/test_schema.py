"""The JSON Schema of the scenario format: generated from the key tables and the rule
registry, shipped with the package, named by every shipped scenario, and strict on keys."""

from __future__ import annotations

import copy
import datetime
import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from sim.cli import main
from sim.physics.ranges import FRACTION
from sim.rules.base import RULES, Param, Rule, register, unregister
from sim.scenario.keys import SECTION_KEYS
from sim.scenario.schema import SCHEMA_PATH, schema, schema_text

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
VALIDATOR = jsonschema.Draft4Validator(schema())


def _plain(x):
    """TOML data as editors give it to a JSON Schema: dates and times become strings."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    if isinstance(x, (datetime.date, datetime.datetime, datetime.time)):
        return x.isoformat()
    return x


def _errors(data):
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(_plain(data))]


def _load(path):
    return tomllib.loads(Path(path).read_text())


def test_the_schema_is_valid_draft_4():
    jsonschema.Draft4Validator.check_schema(schema())


def test_the_shipped_schema_is_the_generated_one():
    # Regenerate with: bakhri schema > sim/scenario/scenario.schema.json
    assert SCHEMA_PATH.read_text() == schema_text()


def test_bakhri_schema_prints_it(capsys):
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert out == schema_text()
    assert json.loads(out)["$schema"] == "http://json-schema.org/draft-04/schema#"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_shipped_scenario_names_the_schema_and_meets_it(path):
    first = path.read_text().splitlines()[0]
    assert first.startswith("#:schema ")
    assert (path.parent / first.split(maxsplit=1)[1]).resolve() == SCHEMA_PATH
    assert _errors(_load(path)) == []


def test_a_misspelt_key_is_rejected_in_every_kind_of_table():
    base = _load(ROOT / "scenarios" / "baseline.toml")
    cases = {
        "regime key": ("regimes", "irrigation-first", "min_relase_m3s", 150),
        "section key": ("reservoir", None, "intial_storage_hm3", 3400),
        "hedging sub-key": ("regimes", "irrigation-first", "hedging", {"trigger_level_m": 343.0, "fcator": 0.8}),
    }
    for what, (section, name, key, value) in cases.items():
        data = copy.deepcopy(base)
        (data[section][name] if name else data[section])[key] = value
        errors = _errors(data)
        assert errors, what
        bad = "fcator" if key == "hedging" else key
        assert any(bad in e for e in errors), (what, errors)
    data = copy.deepcopy(base)
    data["resevoir"] = {"preset": "bakhri-tojik"}
    assert any("resevoir" in e for e in _errors(data))


def test_types_choices_and_plain_bounds_are_checked():
    base = _load(ROOT / "scenarios" / "baseline.toml")
    for section, name, key, value in [
        ("regimes", "energy-first", "target_mw", "120"),  # a string, not a number
        ("regimes", "guide-curve", "rule", "levle"),  # not a registered rule
        ("plant", None, "efficiency", 90),  # a percentage: above the bound of 1
        ("ensemble", None, "members", 0),
    ]:
        data = copy.deepcopy(base)
        data.setdefault(section, {})
        (data[section][name] if name else data[section])[key] = value
        assert _errors(data), (section, key, value)


def test_the_schema_follows_the_registries():
    sch = schema()
    assert set(sch["properties"]) == set(SECTION_KEYS) | {"regimes"}
    for section, keys in SECTION_KEYS.items():
        table = sch["properties"][section]
        table = table["items"] if section == "demand" else table
        assert set(table["properties"]) == set(keys)
    regime = sch["properties"]["regimes"]["additionalProperties"]
    assert regime["properties"]["rule"]["enum"] == sorted(RULES)
    for rule in RULES.values():
        for p in rule.params:
            top = p.group or p.key
            assert top in regime["properties"] or p.kind == "flow series", (rule.name, p.key)


def test_a_rule_registered_later_is_in_the_schema():
    rule = Rule(name="inflow-share", doc="release a share of the inflow", prepare=None, step=None, reference=None,
                params=(Param("share", "share", bound=FRACTION, doc="share of the inflow released", unit="-"),))
    register(rule)
    try:
        regime = schema()["properties"]["regimes"]["additionalProperties"]
        assert "inflow-share" in regime["properties"]["rule"]["enum"]
        assert regime["properties"]["share"]["maximum"] == 1.0
        assert regime["properties"]["share"]["description"].startswith("inflow-share rule: ")
        data = {"regimes": {"r": {"rule": "inflow-share", "share": 1.5}}}
        assert jsonschema.Draft4Validator(schema()).iter_errors(data).__next__().absolute_path[-1] == "share"
    finally:
        unregister("inflow-share")
    assert "share" not in schema()["properties"]["regimes"]["additionalProperties"]["properties"]
