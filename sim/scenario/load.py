"""Entry points: load a scenario file or dict, check every section, and try the build."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping

import numpy as np

from sim.physics.ranges import number_text
from sim.scenario.checker import Checker
from sim.scenario.demands import check_demands
from sim.scenario.errors import ScenarioError, did_you_mean, key_text
from sim.scenario.exchange import check_exchange, check_prices
from sim.scenario.header import check_period, check_scenario
from sim.scenario.inputs import check_downstream, check_inflow, check_losses
from sim.scenario.keys import MAX_NESTING, SECTIONS
from sim.scenario.model import Scenario
from sim.scenario.optimise import check_optimise
from sim.scenario.plant import check_plant
from sim.scenario.reading import TOO_DEEP, Files, absolutize, nesting_depth, read_toml, resolve_extends
from sim.scenario.regimes import check_regimes
from sim.scenario.reservoir import check_reservoir
from sim.scenario.sensitivity import check_sensitivity
from sim.scenario.study import check_ensemble, check_sweep


def _check(ck) -> None:
    """Check every section in order, collecting the problems in ``ck``."""
    data = ck.data
    for k in data:
        if k not in SECTIONS and k != "__sources__":
            hint = did_you_mean(k, SECTIONS)
            ck.add(key_text(k), f"unknown table{hint}" if hint else f"unknown table; expected one of {', '.join(SECTIONS)}")
    check_scenario(ck)
    check_period(ck)
    check_reservoir(ck)
    check_plant(ck)
    check_inflow(ck)
    check_losses(ck)
    check_downstream(ck)
    check_demands(ck)
    check_regimes(ck)
    check_ensemble(ck)
    check_sweep(ck)
    check_optimise(ck)
    check_exchange(ck)
    check_prices(ck)
    check_sensitivity(ck)


def _finish(data: dict, files: Files, stem: str | None, sources: list[str]) -> Scenario:
    checker = Checker(data, files, stem)
    _check(checker)
    if checker.problems:
        raise ScenarioError(files.top_given, checker.problems)
    out = checker.out
    resolved = {k: out[k] for k in SECTIONS if k in out}
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
        optimise=checker.optimise,
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
            scenario.build(overrides={k: [x] for k, x in zip(ends, corner, strict=True)})
        except ValueError as err:  # ScenarioError is one
            # one-member arrays ("[5000.]") shown as numbers
            text = re.sub(r"\[\s*([^\s\[\]]+?)\.?\s*\]", r"\1", str(err))
            if not ends:
                return f"the engine refuses this scenario: {text}"
            setting = ", ".join(f"{k} = {number_text(x)}" for k, x in zip(ends, corner, strict=True))
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
    files = Files(top, given)
    data = read_toml(top, files)
    absolutize(data, os.path.dirname(top))
    merged = resolve_extends(data, top, files, ())
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
    files = Files(top, given)
    if nesting_depth(dict(data)) > MAX_NESTING:  # before deepcopy recurses into it
        raise ScenarioError(given, [TOO_DEEP])
    data = copy.deepcopy(dict(data))
    absolutize(data, files.folder)
    merged = resolve_extends(data, top, files, ())
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
