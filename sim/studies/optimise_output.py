"""The output folder of ``bakhri optimise``, its printed table, and the solutions' scenario files.

The layout::

    DIR/<scenario-name>-optimise/
      pareto.csv              one row per solution of the front: decision variables, objectives and
                              constraint metrics (aggregated over the inflow members; units in names)
      regimes.csv             the scenario's own regimes on the same inflow members, same columns
      solutions/<k>.toml      scenario files that extend the original and add solution k as a
                              regime: `bakhri run solutions/<k>.toml` compares it with the others
      plots/pareto.png        the front, the scenario's regimes marked
      plots/schedules.png     chosen schedules by decade against downstream demand
      scenario.resolved.toml  the scenario after presets and inheritance
      run.json                version, seeds, generations, input hash, timings

Written atomically (`sim.report.output.write_atomically`): whole or not at all.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import os
import platform
from pathlib import Path

import numpy as np

from sim.engine import metrics as metric_registry
from sim.report import output
from sim.scenario.errors import key_text
from sim.scenario.keys import FLOW_FORMS, FORM_OPTIONS
from sim.scenario.resolved import toml_pairs

__all__ = ["write", "format_front", "solution_toml", "solution_regime", "folder_name"]

#: Most rows of the printed table (evenly spread along the front); pareto.csv holds them all.
TABLE_ROWS = 15


def folder_name(scenario) -> str:
    """``<scenario-name>-optimise``."""
    return f"{scenario.name}-optimise"


def solution_regime(result, k: int) -> str:
    """Name of solution `k`'s regime in its scenario file."""
    return f"optimised-{k}"


def _header(name: str) -> str:
    user, _, metric = name.rpartition(".")
    m = metric_registry.get(metric)
    head = f"{m.header_name} [{m.plain_unit}]"
    return f"{user}: {head}" if user else head


def _fmt(name: str) -> str:
    return metric_registry.get(name.rpartition(".")[2]).format_in("table")


def format_front(result) -> str:
    """The front as a plain-text table (units in the headers), the scenario's regimes beneath."""
    names = result.metrics
    header = ["Solution"] + [_header(n) for n in names]
    n = len(result.x)
    rows = [[str(int(result.front["solution"][i]))] + [_fmt(m).format(float(result.front[m][i])) for m in names]
            for i in _shown(n)]
    rows.append(None)
    for name, r in result.regimes.items():
        rows.append([name + ("" if r["feasible"] else " *")] + [_fmt(m).format(r[m]) for m in names])
    widths = [max(len(header[j]), *(len(r[j]) for r in rows if r)) for j in range(len(header))]
    lines = ["  ".join(h.ljust(w) if j == 0 else h.rjust(w) for j, (h, w) in enumerate(zip(header, widths, strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        if r is None:
            lines.append("  ".join("-" * w for w in widths))
            continue
        lines.append("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=True))))
    notes = []
    if len(_shown(n)) < n:
        notes.append(f"{len(_shown(n))} of the {n} solutions shown, spread along the front; all in pareto.csv")
    if any(not r["feasible"] for r in result.regimes.values()):
        notes.append("* misses a constraint")
    if result.n_inflow > 1:
        notes.append(f"values: {result.spec.aggregate} over {result.n_inflow} inflow members")
    if not result.feasible:
        notes.append("no candidate met the constraints: the least infeasible is shown")
    return "\n".join(lines + [f"({n})" for n in notes])


def _shown(n: int) -> list[int]:
    if n <= TABLE_ROWS:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, TABLE_ROWS)})


def _set(table: dict, dotted: str, value) -> None:
    """Set a dotted key in nested tables (``hedging.factor`` → ``table["hedging"]["factor"]``)."""
    parts = dotted.split(".")
    for p in parts[:-1]:
        table = table.setdefault(p, {})
    table[parts[-1]] = value


def _number(x: float):
    """A whole number as an int (reads plainly in TOML), otherwise the float (exact: repr)."""
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def solution_tables(result, i: int) -> tuple[dict, dict]:
    """Solution row `i`'s regime table and the scenario tables it changes (section → table;
    ``demand`` → the whole list, as ``extends`` replaces it whole)."""
    scenario, spec = result.scenario, result.spec
    k = int(result.front["solution"][i])
    regime = copy.deepcopy(scenario.resolved["regimes"][spec.regime])  # nested tables are set below
    values = ", ".join(f"{m} = {_fmt(m).format(float(result.front[m][i]))}" for m in result.metrics)
    regime["description"] = f"Solution {k} of bakhri optimise (regime {spec.regime}): {values}"
    sections: dict = {}
    pos = 0
    for v in spec.variables:
        x = result.x[i, pos:pos + v.size]
        pos += v.size
        if v.is_schedule:
            for key in FLOW_FORMS + FORM_OPTIONS:
                regime.pop(key, None)
            regime["decadal_m3s"] = [_number(a) for a in x]
            decades = scenario.period.decades()
            if len(decades) <= 36:
                regime["start"] = decades[0].first_day.strftime("%m-%d")
        elif v.key.startswith(f"regimes.{spec.regime}."):
            _set(regime, v.key[len(f"regimes.{spec.regime}."):], float(x[0]))
        elif v.key.startswith("demand."):
            users = sections.setdefault("demand", copy.deepcopy(scenario.resolved["demand"]))
            _, name, key = v.key.split(".", 2)
            user = next(d for d in users if d.get("name") == name)
            if key == "constant_m3s":
                for form in FLOW_FORMS + FORM_OPTIONS + ("preset",):
                    user.pop(form, None)
            user[key] = float(x[0])
        else:
            section, key = v.key.split(".", 1)
            _set(sections.setdefault(section, {}), key, float(x[0]))
    # keep the order of the rule's keys readable: rule first, then as the original
    regime = {"rule": regime.pop("rule"), **regime}
    return regime, sections


def solution_toml(result, i: int, folder: Path) -> str:
    """The scenario file of solution row `i`, to be written in `folder` (its ``extends`` is the
    original file, relative to `folder`)."""
    scenario = result.scenario
    k = int(result.front["solution"][i])
    name = solution_regime(result, k)
    regime, sections = solution_tables(result, i)
    parent = os.path.relpath(os.path.abspath(scenario.path), os.path.abspath(folder))
    values = ", ".join(f"{m} = {_fmt(m).format(float(result.front[m][i]))}" for m in result.metrics)
    lines = [
        f"# Solution {k} of `bakhri optimise {Path(scenario.path).name}`: {values}",
        f"# ({result.spec.aggregate} over {result.n_inflow} inflow member{'s' if result.n_inflow > 1 else ''}). "
        "`bakhri run` on this file runs it beside the scenario's own regimes.",
        "",
        "[scenario]",
        *toml_pairs({"name": f"{scenario.name}-solution-{k}", "title": f"{scenario.title}: optimised solution {k}",
                     "extends": Path(parent).as_posix(), "regimes": [*scenario.regime_names, name]}),
    ]
    for section, table in sections.items():
        if section == "demand":
            lines.append("\n# [[demand]] replaces the parent's list whole: every user, with the solution's value.")
            for user in table:
                lines += ["[[demand]]", *toml_pairs(user), ""]
        else:
            lines += ["", f"[{section}]", *toml_pairs(table)]
    lines += ["", f"[regimes.{key_text(name)}]", *toml_pairs(regime)]
    return "\n".join(lines) + "\n"


def _columns(result) -> dict:
    """pareto.csv's columns."""
    cols = {k: np.asarray(v) for k, v in result.front.items()}
    cols["solution"] = cols["solution"].astype(np.int64)
    return cols


def _regime_columns(result) -> dict:
    names = list(result.regimes)
    cols = {"regime": np.array(names, dtype=object),
            "meets_constraints": np.array([int(result.regimes[n]["feasible"]) for n in names], dtype=np.int64)}
    for m in result.metrics:
        cols[m] = np.array([result.regimes[n][m] for n in names], dtype=float)
    return cols


def downstream_demand_by_decade(scenario) -> np.ndarray:
    """Downstream demand of all users together, the mean of each decade's days [m³/s]."""
    ordinal = scenario.period.period_decade_ordinal
    total = np.zeros(scenario.period.n_days)
    for u in scenario.compiled.users:
        if u.location == "downstream":
            total = total + np.broadcast_to(np.asarray(u.demand_m3s, float) * u.scale, total.shape)
    return np.bincount(ordinal, weights=total) / np.bincount(ordinal)


def _plots(result, folder: Path) -> None:
    # Figures without pyplot: no backend is chosen or changed (a notebook keeps its inline one)
    from matplotlib.figure import Figure

    from sim.report.plots_optimise import chosen, plot_pareto, plot_schedules

    (folder / "plots").mkdir()
    scenario, spec = result.scenario, result.spec
    fig = Figure(figsize=(8.0, 5.4), layout="constrained")
    plot_pareto(result.front, spec.objectives, result.regimes, title=scenario.title, feasible=result.feasible,
                aggregate=spec.aggregate if result.n_inflow > 1 else "mean", ax=fig.add_subplot())
    fig.savefig(folder / "plots" / "pareto.png", dpi=150)
    schedule = next((v for v in spec.variables if v.is_schedule), None)
    if schedule is None:
        return
    start = sum(v.size for v in spec.variables[: spec.variables.index(schedule)])
    labels = [d.label.rsplit(" ", 1)[0] for d in scenario.period.decades()]
    picks = chosen(len(result.x), 5)
    schedules = {f"solution {int(result.front['solution'][i])}": result.x[i, start:start + schedule.size] for i in picks}
    realised = {n: r["schedule_m3s"] for n, r in result.regimes.items()}
    fig = Figure(figsize=(10.0, 5.0), layout="constrained")
    plot_schedules(labels, schedules, downstream_demand_by_decade(scenario), realised, title=scenario.title,
                   ax=fig.add_subplot())
    fig.savefig(folder / "plots" / "schedules.png", dpi=150)


def write(result, out_dir, *, plots: bool = True) -> Path:
    """Write the search's folder ``out_dir/<name>-optimise/`` atomically; return it."""
    from sim import __version__
    from sim.studies.stream import write_csv

    scenario, spec = result.scenario, result.spec
    out_dir = Path(out_dir)
    name = folder_name(scenario)
    final = out_dir / name
    resolved = scenario.to_toml()

    def fill(tmp: Path) -> None:
        with open(tmp / "pareto.csv", "wb") as fh:
            write_csv(fh, _columns(result))
        with open(tmp / "regimes.csv", "wb") as fh:
            write_csv(fh, _regime_columns(result))
        written = []
        if scenario.path is not None:
            (tmp / "solutions").mkdir()
            for i in range(len(result.x)):
                k = int(result.front["solution"][i])
                (tmp / "solutions" / f"{k}.toml").write_text(solution_toml(result, i, final / "solutions"), encoding="utf-8")
                written.append(f"solutions/{k}.toml")
        if plots:
            _plots(result, tmp)
        (tmp / "scenario.resolved.toml").write_text(resolved, encoding="utf-8")
        doc = {
            "written_by": output.WRITTEN_BY, "version": __version__, "kind": "optimise", "scenario": scenario.name,
            "input_sha256": hashlib.sha256(resolved.encode("utf-8")).hexdigest(),
            "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "algorithm": "NSGA-II" if len(spec.objectives) > 1 else "GA", "library": _pymoo_version(),
            "regime": spec.regime, "objectives": spec.objectives,
            "constraints": {k: {"min": lo, "max": hi} for k, (lo, hi) in spec.constraints.items()},
            "variables": [{"key": v.key, "min": list(v.lo), "max": list(v.hi), "max_step_m3s": v.max_step}
                          for v in spec.variables],
            "aggregate": spec.aggregate, "n_inflow_members": result.n_inflow,
            "seed": spec.seed, "ensemble_seed": scenario.ensemble.seed if scenario.ensemble else None,
            "population": spec.population, "generations": result.generations, "member_seasons": result.n_evaluated,
            "n_solutions": len(result.x), "feasible": result.feasible, "solutions": written,
            "regimes": {n: {k: v for k, v in r.items() if k != "schedule_m3s"} for n, r in result.regimes.items()},
            "timings": result.timings, "python": platform.python_version(), "numpy": np.__version__,
        }
        output.write_json(tmp / "run.json", output.jsonable(doc))

    return output.write_atomically(out_dir, name, fill)


def _pymoo_version() -> str:
    import pymoo

    return f"pymoo {pymoo.__version__}"
