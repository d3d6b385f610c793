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

Modules
-------
``reading`` (TOML, ``extends``, merge), ``keys`` (`SECTION_KEYS`: every key's types, bound and
doc), ``errors`` (`ScenarioError`, message helpers), ``checker`` (the core checker) and one
module of ``check_<section>(ck)`` functions per section (``header``, ``reservoir``, ``plant``,
``inputs``, ``demands``, ``regimes``, ``study``), ``overrides`` (the one validator of dotted
override keys, for ``[sweep]``, ``build(overrides=...)`` and ``--set``), ``model``
(`Scenario`, ``build``), ``resolved`` (the TOML writer) and ``load`` (entry points).
Presentation is in ``sim.report``: ``captions.plot_kwargs`` and ``show.scenario_text``.

Key paths in messages are dotted (``regimes.irrigation-first.hedging.factor``); a demand
is ``demand.<name>`` (or ``demand[k]``, counting from 1, when it has no usable name).
"""

import importlib

# The public names, imported on first use (PEP 562): ``bakhri --help`` reads the sweep methods
# from `keys` without loading the checks, the rules or numba.
_PUBLIC = {
    "ScenarioError": "errors",
    "FORMAT_VERSION": "keys",
    "MAX_EXTENDS_DEPTH": "keys",
    "MAX_NESTING": "keys",
    "SAMPLING_METHODS": "keys",
    "SECTION_KEYS": "keys",
    "SWEEP_METHODS": "keys",
    "load_scenario": "load",
    "scenario_from_dict": "load",
    "validate": "load",
    "Scenario": "model",
    "RULE_KEYS": "regimes",
    "EnsembleSpec": "specs",
    "SweepSpec": "specs",
    "sweep_size_problem": "study",
}


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))


__all__ = [
    "FORMAT_VERSION",
    "MAX_EXTENDS_DEPTH",
    "MAX_NESTING",
    "RULE_KEYS",
    "SAMPLING_METHODS",
    "SECTION_KEYS",
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
