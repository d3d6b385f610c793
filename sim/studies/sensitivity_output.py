"""What `bakhri sensitivity` writes and prints: the result folder (atomic), the tables, the inputs list.

``DIR/<scenario-name>-sensitivity/`` holds::

    sensitivity.csv          metric, regime, input, S1, S1_conf, ST, ST_conf (indices [-], conf: half-widths)
    ranking.csv              per metric: the nominal order of the regimes and how often samples change it
    inputs.csv               each uncertain input: keys, range, unit, nominal value, label, source of the range
    plots/total-indices.png  total indices per metric, regimes side by side
    scenario.resolved.toml
    run.json                 kind "sensitivity", samples, seed, inputs, members, timings
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import os
import platform
from pathlib import Path

import numpy as np

from sim.inputs.uncertain import NOT_VARIED
from sim.report import output
from sim.studies import sensitivity

__all__ = ["folder_name", "write", "plot_arguments", "inputs_text", "ranking_text", "write_indices_csv"]

INDEX_COLUMNS = ("metric", "regime", "input", "S1", "S1_conf", "ST", "ST_conf")


def folder_name(scenario) -> str:
    return f"{scenario.name}-sensitivity"


def _number(x) -> str:
    return "" if x is None else f"{x:.6g}"


def write_indices_csv(path, rows) -> None:
    """sensitivity.csv: one row per metric, regime and input."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(INDEX_COLUMNS)
        for r in rows:
            w.writerow([r["metric"], r["regime"], r["input"]] + [f"{r[k]:.5f}" for k in INDEX_COLUMNS[3:]])


def _write_ranking_csv(path, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        if not rows:
            w.writerow(["metric", "note"])
            w.writerow(["", "one regime: no ranking"])
            return
        cols = list(rows[0])
        w.writerow(cols)
        for r in rows:
            w.writerow([f"{r[c]:.4f}" if isinstance(r[c], float) else r[c] for c in cols])


def _write_inputs_csv(path, inputs) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["input", "keys", "min", "max", "unit", "nominal", "label", "what", "range_source"])
        for r in inputs:
            w.writerow([r.name, ";".join(r.keys), _number(r.low), _number(r.high), r.unit, _number(r.nominal), r.label,
                        r.what, r.source])


def plot_arguments(scenario, inputs, samples: int) -> dict:
    """`sim.report.plots_sensitivity.save_total_indices`'s keyword arguments but the rows and path."""
    labels = {r.name: f"{r.name} [{r.unit}] {_number(r.low)}–{_number(r.high)}" for r in inputs}
    return {"input_labels": labels, "title": (
        f"{scenario.title}: which uncertain inputs matter (Sobol' total indices, N = {samples}, "
        f"{sensitivity.CONF_LEVEL:.0%} confidence)")}


def write(result, scenario, out_dir, *, plots: bool = True, drawn=None) -> Path:
    """Write the result folder atomically (`sim.report.output.write_atomically`); returns it.
    `drawn`: a PNG file of the plot already drawn (by a `sim.report.render.PlotAhead`), moved
    into the folder; else the plot is drawn here."""
    resolved = scenario.to_toml()

    def fill(tmp: Path):
        write_indices_csv(tmp / "sensitivity.csv", result.indices)
        _write_ranking_csv(tmp / "ranking.csv", result.ranking)
        _write_inputs_csv(tmp / "inputs.csv", result.inputs)
        (tmp / "scenario.resolved.toml").write_text(resolved, encoding="utf-8")
        if plots:
            path = tmp / "plots" / "total-indices.png"
            if drawn is not None and Path(drawn).is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(drawn, path)
            else:
                from sim.report.plots_sensitivity import save_total_indices

                save_total_indices(result.indices, path, **plot_arguments(scenario, result.inputs, result.samples))
        output.write_json(tmp / "run.json", _run_json(result, scenario, resolved))

    return output.write_atomically(Path(out_dir), folder_name(scenario), fill)


def _run_json(result, scenario, resolved: str) -> dict:
    from sim import __version__

    doc = {
        "written_by": output.WRITTEN_BY,
        "kind": "sensitivity",
        "scenario": scenario.name,
        "version": __version__,
        "seed": result.seed,
        "input_sha256": hashlib.sha256(resolved.encode("utf-8")).hexdigest(),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "method": "Saltelli design (SALib Sobol' sampler, no second order), SALib first- and total-order estimators",
        "samples": result.samples,
        "n_inputs": len(result.inputs),
        "settings_per_regime": int(result.n_settings),
        "inflow_members_per_setting": result.n_inflow_members,
        "bootstrap": {"resamples": sensitivity.NUM_RESAMPLES, "conf_level": sensitivity.CONF_LEVEL},
        "inputs": {r.name: {"keys": list(r.keys), "min": r.low, "max": r.high, "unit": r.unit} for r in result.inputs},
        "metrics": list(result.metrics),
        "regimes": list(result.outputs),
        "nominal": result.nominal,
        "timings": result.timings,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    return output.jsonable(doc)


def inputs_text(scenario, rs) -> str:
    """The uncertain inputs of a scenario, with ranges and sources (``--list-inputs``)."""
    lines = [f"{scenario.name}: {len(rs)} uncertain inputs"]
    for r in rs:
        nominal = f", nominal {_number(r.nominal)}" if r.nominal is not None else ""
        keys = "" if r.keys == (r.name,) else f"  (sets {', '.join(r.keys)})"
        lines.append(f"  {r.name}: {_number(r.low)}–{_number(r.high)} {r.unit}{nominal}  [{r.label or 'given'}] {r.what}")
        lines.append(f"      range: {r.source}{keys}")
    if NOT_VARIED:
        lines.append("not varied (yet):")
        for what, why in NOT_VARIED:
            lines.append(f"  {what}: {why}")
    return "\n".join(lines)


def ranking_text(rows) -> str:
    """The ranking-stability table as printed."""
    if not rows:
        return "ranking: one regime, nothing to rank"
    lines = ["ranking of the regimes (best first, nominal inputs) and how often the samples change it:"]
    width = max(len(r["metric"]) + len(r["unit"]) + 3 for r in rows)
    for r in rows:
        label = f"{r['metric']} [{r['unit']}]"
        lines.append(f"  {label:<{width}}  best changes in {100 * r['best_changes']:5.1f} %, order in "
                     f"{100 * r['order_changes']:5.1f} % of {r['samples']:,} samples;  {r['nominal_order']}")
    return "\n".join(lines)
