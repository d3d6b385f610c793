"""Briefing plots of simulation results: the public plotting API and the standard plot sets.

`save_all` and `save_sweep_plots` write the plots of a run and of a sweep; the plot functions
are imported here from the parts of `sim.report` that draw them (`plots_run`: time series of
one run; `page`: the comparison page; `plots_sweep`: sweeps and ensembles), which share
`style` (colours, axes, text), `labels` (`label_for`), `bands` (ensembles, decades) and
`render` (parallel PNG writing). Only these modules of sim import matplotlib.

Every plot function takes results and ``ax=None`` (a new figure is made when None), never
calls ``plt.show()``, and returns the `Axes` it drew on (or the `Figure` for multi-panel
plots). The backend is not set here: scripts and tests choose it (``MPLBACKEND=Agg``).

Results are a ``dict[str, SimulationResult]`` keyed by regime name, or one
`SimulationResult`. Each regime keeps its colour in every plot: colours follow the order of
the dict through the colour-blind-safe Okabe–Ito palette (`PALETTE`). For ensembles
(``n_members > 1``) the line is the median over members and the shaded bands are the
25–75 % (darker) and 10–90 % (lighter) ranges.

Axis labels come from `label_for`, which reads the unit from a column's suffix
(``"energy_gwh"`` → ``"Energy [GWh]"``).

Sweep plots (`plot_sweep_heatmap`, `plot_tradeoff`, `plot_failure_ranges`) take a *table*:
a dict of column name → 1-D array, one row per (regime, member), e.g. ``{"regime": ...,
"member": ..., "inflow.scale": ..., "energy_gwh": ..., "deficit_hm3": ...}``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from sim.report.aggregates import FAILURE, HEAT_METRICS, SweepSummary
from sim.report.bands import decade_groups, decade_means
from sim.report.labels import label_for
from sim.report.page import plot_comparison
from sim.report.plots_run import (
    plot_deficits,
    plot_energy,
    plot_level,
    plot_power,
    plot_release,
    plot_supply_deficit,
)
from sim.report.plots_sweep import pareto_front, plot_exceedance, plot_failure_ranges, plot_sweep_heatmap, plot_tradeoff
from sim.report.render import PNG_COMPRESS_LEVEL, WORKERS_ENV, plot_workers, safe_name, write_pngs
from sim.report.style import DEFICIT_COLOR, PALETTE, REFERENCE_COLOR, USER_PALETTE, as_results, regime_colors

__all__ = [
    "PALETTE",
    "regime_colors",
    "label_for",
    "decade_means",
    "plot_release",
    "plot_level",
    "plot_supply_deficit",
    "plot_deficits",
    "plot_power",
    "plot_energy",
    "plot_comparison",
    "plot_sweep_heatmap",
    "plot_tradeoff",
    "plot_exceedance",
    "plot_failure_ranges",
    "save_all",
    "save_sweep_plots",
    "write_pngs",
    "plot_workers",
    "REFERENCE_COLOR",
    "DEFICIT_COLOR",
    "USER_PALETTE",
    "decade_groups",
    "pareto_front",
    "PNG_COMPRESS_LEVEL",
    "WORKERS_ENV",
]


def save_all(results, out_dir, limits=None, title=None, *, footnote=None, reservoir=None, guide_curves=None,
             question=None, dpi=150, workers=None) -> list[Path]:
    """Write the standard plots of a run as PNG files.

    Writes ``out_dir/plots/``: ``release.png``, ``level.png``, ``supply_deficit_<regime>.png``
    (one per regime), ``power.png`` and ``comparison.png``, at `dpi`, closing each figure
    after saving. The figures are rendered by `workers` processes (`write_pngs`).

    Returns
    -------
    list of Path
        The files written, in the order above.
    """
    results = as_results(results)

    def supply(r):
        return lambda: plot_supply_deficit(r, footnote=footnote).figure

    # Weights: CPU time relative to a one-axes plot (baseline scenario: ~0.19 s each, the
    # comparison page ~0.86 s), so that the processes finish together.
    jobs = [
        ("release.png", lambda: plot_release(results, footnote=footnote).figure, 1.0),
        ("level.png", lambda: plot_level(results, reservoir=reservoir, guide_curves=guide_curves, limits=limits,
                                         footnote=footnote).figure, 1.0),
    ]
    jobs += [(f"supply_deficit_{safe_name(name)}.png", supply(r), 1.0) for name, r in results.items()]
    jobs += [
        ("power.png", lambda: plot_power(results, footnote=footnote).figure, 1.2),
        ("comparison.png", lambda: plot_comparison(results, title=title, limits=limits, footnote=footnote,
                                                   reservoir=reservoir, guide_curves=guide_curves,
                                                   question=question), 4.5),
    ]
    return write_pngs(out_dir, jobs, dpi, workers=workers)


def _figure_of(plot, *args, **kwargs):
    """The figure of ``plot(*args, **kwargs)`` (plot functions return their Axes)."""
    return plot(*args, **kwargs).figure


def save_sweep_plots(sweep_result, out_dir, *, title="", dpi=150, workers=None) -> list[Path]:
    """Write the standard plots of a sweep into ``out_dir/plots/`` and return their paths.

    ``tradeoff.png`` (energy against deficit, every member and regime, Pareto front),
    ``exceedance_deficit.png`` and ``exceedance_energy.png`` (per regime, over all members),
    ``heatmap_<metric>.png`` for volumetric reliability, deficit and energy over the first two
    parameters (when at least two are swept, one figure per regime), and
    ``failure_ranges.png`` (share of members failing, by parameter range). The figures are
    rendered by `workers` processes (`write_pngs`).

    `sweep_result` is a `SweepResult`, or a streamed sweep's bounded summary
    (`sim.report.aggregates.SweepSummary`: the plots then take the same time whatever the
    sweep's size; the trade-off shows every k-th member and the exact Pareto front).
    """
    summary = sweep_result if isinstance(sweep_result, SweepSummary) else None
    table = summary or sweep_result.table
    params = list(summary.parameters if summary else sweep_result.parameters)
    regimes = list(summary.regimes if summary else sweep_result.results)
    suffix = f" — {title}" if title else ""
    part = functools.partial

    def values(metric):
        if summary is not None:
            return {regime: r.distributions[metric] for regime, r in summary.regimes.items()}
        return {regime: r.metrics[metric] for regime, r in sweep_result.results.items()}

    jobs = [("tradeoff.png", part(_figure_of, plot_tradeoff, table, x="deficit_hm3", y="energy_gwh", by="regime",
                                  title=f"Energy–irrigation trade-off across the sweep{suffix}"), 1.0)]
    for metric, name in (("deficit_hm3", "deficit"), ("energy_gwh", "energy")):
        jobs.append((f"exceedance_{name}.png", part(
            _figure_of, plot_exceedance, values(metric), xlabel=label_for(metric), column=metric,
            title=f"Exceedance of season {label_for(metric).split(' [')[0].lower()}{suffix}"), 1.0))
    if len(params) >= 2:
        for metric in HEAT_METRICS:
            for regime in regimes:
                jobs.append((f"heatmap_{metric}_{safe_name(regime)}.png", part(
                    _figure_of, plot_sweep_heatmap, table, params[0], params[1], metric, regime=regime), 1.0))
    if params:
        jobs.append(("failure_ranges.png", part(_figure_of, plot_failure_ranges, table, params,
                                                metric=FAILURE[0], threshold=FAILURE[1]), 1.0))
    return write_pngs(out_dir, jobs, dpi, workers=workers)
