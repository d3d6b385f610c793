"""The plain-text tables bakhri prints: regimes side by side (`bakhri run`) and a sweep's
percentiles (`bakhri sweep`).

Columns, headers and number formats come from the metric registry (`sim.engine.metrics`):
the metrics whose `show` names the view ``"table"`` or ``"sweep"``, in its order.
"""

from __future__ import annotations

import numpy as np

from sim.engine import metrics as metric_registry
from sim.report.csvfiles import PERCENTILES, results_by_name

__all__ = ["format_table", "format_sweep_table", "sweep_table_metrics"]


def _header(metric) -> str:
    return f"{metric.header_name} [{metric.plain_unit}]"


def sweep_table_metrics() -> tuple[str, ...]:
    """Names of the metrics the sweep table shows (registry view ``"sweep"``), in order."""
    return tuple(m.name for m in metric_registry.shown_in("sweep"))


def _sweep_format(name) -> str:
    metric = metric_registry.get(name)
    if metric is not None and "sweep" in metric.formats:
        return metric.formats["sweep"]
    return "{:,.3f}" if "reliab" in name else "{:,.1f}"


def format_sweep_table(sweep_result, metrics=None, percentiles=None) -> str:
    """Per regime, percentiles (10/50/90 %) of key metrics over all members of a sweep; or
    from `percentiles` (``{regime: {metric: (p10, p50, p90)}}``, e.g. `sim.stream.percentiles`).
    `metrics` defaults to `sweep_table_metrics()`."""
    if metrics is None:
        metrics = sweep_table_metrics()
    if percentiles is None:
        percentiles = {regime: {m: np.percentile(r.metrics[m], (10, 50, 90)) for m in metrics}
                       for regime, r in sweep_result.results.items()}
    headers = [_header(metric_registry.get(m)) if metric_registry.get(m) else m for m in metrics]
    formats = [_sweep_format(m) for m in metrics]
    rows = [["Regime", "Percentile"] + headers]
    for regime, p in percentiles.items():
        for i, q in enumerate((10, 50, 90)):
            cells = [f.format(p[m][i]) for m, f in zip(metrics, formats, strict=True)]
            rows.append([regime if q == 10 else "", f"p{q}"] + cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_table(results) -> str:
    """The comparison table the CLI prints: one row per regime, units in the headers.

    Ensembles show the median over members with the 10–90 % range in parentheses, and a
    note line says so (metrics marked `worst_only`, e.g. the balance error, show the worst
    member). Plain text, columns aligned (regime left, numbers right).
    """
    results = results_by_name(results)
    columns = metric_registry.shown_in("table")
    ens = any(r.n_members > 1 for r in results.values())
    header = ["Regime"] + [_header(m) for m in columns]
    rows = []
    for name, r in results.items():
        row, spread = [name], [""]
        for metric in columns:
            fmt = metric.format_in("table")
            v = np.asarray(r.metrics.get(metric.name, [np.nan]), dtype=float)
            if metric.worst_only:
                row.append(fmt.format(float(np.max(v))))
                spread.append("")
            elif v.size == 1:
                row.append(fmt.format(float(v[0])))
                spread.append("")
            else:
                p10, p50, p90 = np.percentile(v, PERCENTILES)
                row.append(fmt.format(p50))
                spread.append(f"({fmt.format(p10)}–{fmt.format(p90)})")
        rows.append(row)
        if ens:
            spread[0] = "  10–90 %"
            rows.append(spread)
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]

    def line(cells):
        parts = [cells[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in rows]
    if ens:
        n = ", ".join(f"{name}: {r.n_members}" for name, r in results.items())
        worst = "".join(f"; {m.header_name.lower()}: worst member" for m in columns if m.worst_only)
        out.append(f"Ensembles: median, and 10–90 % range below it, over members ({n}){worst}.")
    return "\n".join(out)
