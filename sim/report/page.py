"""The one-page comparison of regimes (comparison.png): header, four panels, metrics table.

The table's columns, headers and formats are the metric registry's view ``"page"``
(`sim.engine.metrics`).
"""

from __future__ import annotations

import numpy as np

from sim.engine import metrics as metric_registry
from sim.report.bands import band_legend_handles, ensemble_note, outer_lines
from sim.report.plots_run import plot_deficits, plot_energy, plot_level, plot_release
from sim.report.style import (
    DPI_SAFETY,
    REFERENCE_COLOR,
    as_results,
    figure_renderer,
    new_figure,
    regime_colors,
    wrap_to_width,
)

__all__ = ["plot_comparison"]


def _cell(values, fmt):
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return fmt.format(float(v[0]))
    p10, p50, p90 = np.percentile(v, [10, 50, 90])
    return f"{fmt.format(p50)}\n({fmt.format(p10)}–{fmt.format(p90)})"


def _metrics_table(ax, results, colors):
    ax.axis("off")
    names = list(results)
    columns = metric_registry.shown_in("page")
    header = ["Regime"] + [f"{m.header_name}\n[{m.unit}]" for m in columns]
    rows = [[name] + [_cell(results[name].metrics[m.name], m.format_in("page")) for m in columns] for name in names]
    table = ax.table(cellText=rows, colLabels=header, loc="upper center", cellLoc="center", colLoc="center")
    table.auto_set_font_size(False)
    ens = any(r.n_members > 1 for r in results.values())
    table.set_fontsize(7.5 if ens else 8.5)
    widths = [0.16] + [0.105] * len(columns)
    for (row, col), cell in table.get_celld().items():
        cell.set_width(widths[col])
        cell.set_edgecolor("#bbbbbb")
        cell.set_linewidth(0.5)
        if row == 0:
            cell.set_height(0.30)
            cell.set_facecolor("#eeeeee")
            cell.set_text_props(fontweight="bold")
        else:
            cell.set_height(min(0.22 * (1.6 if ens else 1.0), 0.7 / max(len(names), 1)))
            if col == 0:
                cell.set_text_props(color=colors[names[row - 1]], fontweight="bold", ha="left")
                cell.PAD = 0.04
    return table


_MARGIN_X = 0.012  # left/right margin of the comparison page [figure fraction]
_QUESTION_MAX_LINES = 3


def _comparison_header(fig, title, question, run_line, handles, notes):
    """Place title, question, run line, shared legend and notes on the comparison page.

    Each element is placed under the previous one using its measured extent, so they never
    overlap. The question is wrapped to the page width, at most `_QUESTION_MAX_LINES` lines
    (cut with "…"); the legend gets as many columns as fit the width.

    Returns
    -------
    top, bottom : float
        Figure fractions between which the panels may be laid out.
    """
    renderer = figure_renderer(fig)
    height = fig.bbox.height
    width_frac = 1.0 - 2 * _MARGIN_X
    gap = 6.0 / 72.0 * fig.dpi / height  # 6 pt, as a figure fraction

    def below(artist):
        return artist.get_window_extent(renderer).y0 / height

    title_lines = wrap_to_width(fig, title, width_frac, fontsize=15, fontweight="bold", max_lines=2)
    t = fig.text(_MARGIN_X, 0.985, "\n".join(title_lines), ha="left", va="top", fontsize=15, fontweight="bold")
    t.set_gid("comparison-title")
    y = below(t) - gap
    if question:
        q_lines = wrap_to_width(fig, question, width_frac, fontsize=9.5, max_lines=_QUESTION_MAX_LINES)
        q = fig.text(_MARGIN_X, y, "\n".join(q_lines), ha="left", va="top", fontsize=9.5, color="#333333",
                     linespacing=1.3)
        q.set_gid("comparison-question")
        y = below(q) - 0.4 * gap
    r = fig.text(_MARGIN_X, y, run_line, ha="left", va="top", fontsize=8.5, color="#666666")
    r.set_gid("comparison-run")
    y = below(r) - 0.8 * gap
    legend = None
    for ncol in range(min(len(handles), 8), 0, -1):
        if legend is not None:
            legend.remove()
        legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(_MARGIN_X - 0.004, y), ncol=ncol,
                            frameon=False, fontsize=8.5, handlelength=2.6, columnspacing=1.6, borderaxespad=0.0)
        if legend.get_window_extent(renderer).width <= width_frac * DPI_SAFETY * fig.bbox.width:
            break
    legend.set_in_layout(False)
    top = below(legend) - gap
    bottom = 0.01
    if notes:
        lines = []
        for note in notes:
            lines += wrap_to_width(fig, note, width_frac, fontsize=7, max_lines=3)
        n = fig.text(_MARGIN_X, 0.006, "\n".join(lines), ha="left", va="bottom", fontsize=7, color="#555555")
        n.set_gid("comparison-notes")
        bottom = n.get_window_extent(renderer).y1 / height + 0.5 * gap
    return top, bottom


def plot_comparison(results, title=None, limits=None, footnote=None, *, reservoir=None, guide_curves=None,
                    question=None, figsize=(11.69, 8.27)):
    """One page that answers a scenario's question, for an A4-landscape briefing.

    Four panels — release vs demand by decade, level with limits (and guide curves),
    deficit by decade per regime, season energy per regime with the end level written on
    the bars — above a table of key metrics per regime (ensembles: median and 10–90 %
    range). One shared legend names the regimes.

    Parameters
    ----------
    results : dict of str → SimulationResult, or SimulationResult
    title : str, optional
        Page title (e.g. the scenario title).
    limits : dict, optional
        Operating levels ``{"min", "normal", "max"}`` [m a.s.l.]; or give `reservoir`.
    footnote : str, optional
        Sources and assumptions, printed small at the bottom.
    question : str, optional
        A subtitle (the question the scenario answers).
    figsize : tuple
        Inches; A4 landscape by default (save at 300 dpi for print).

    Returns
    -------
    matplotlib Figure
    """
    from matplotlib.lines import Line2D

    results = as_results(results)
    colors = regime_colors(results)
    first = next(iter(results.values()))
    ens = ensemble_note(results)
    notes = []
    if ens:
        notes.append("Ensembles: lines and bars are member medians; shaded 25–75 %"
                     + (", dotted 10–90 %" if outer_lines(results) else ", light 10–90 %")
                     + " of members; deficit light bars: 90th percentile; energy whiskers and table ranges: 10–90 %.")
    if footnote:
        notes.append(str(footnote))
    # Header (title, question, run line, legend) and notes are placed and measured first;
    # the panels and the table share the rest under constrained layout, so nothing overlaps
    # whatever the length of the question or the number of legend entries.
    fig = new_figure(figsize)
    n_rows_table = len(results)
    per_row = 0.12 if ens else 0.075
    gs = fig.add_gridspec(3, 2, height_ratios=[1.0, 1.0, 0.22 + per_row * n_rows_table])
    ax_rel = fig.add_subplot(gs[0, 0])
    ax_lev = fig.add_subplot(gs[0, 1])
    ax_def = fig.add_subplot(gs[1, 0])
    ax_en = fig.add_subplot(gs[1, 1])
    ax_tab = fig.add_subplot(gs[2, :])
    plot_release(results, ax=ax_rel, legend=False, title="Release by decade vs downstream demand")
    plot_level(results, ax=ax_lev, reservoir=reservoir, guide_curves=guide_curves, limits=limits, legend=False,
               title="Reservoir level (end of day) and operating limits")
    plot_deficits(results, ax=ax_def, legend=False,
                  title="Downstream deficit by decade" + (" (median solid, 90th percentile light)" if ens else ""))
    plot_energy(results, ax=ax_en,
                title="Season energy, with end-of-season level" + (" (median, 10–90 %)" if ens else ""))
    for ax in (ax_rel, ax_lev, ax_def, ax_en):
        text = ax.get_title()
        ax.set_title("")
        ax.set_title(text, loc="left", fontsize=10, fontweight="bold")
        ax.tick_params(labelsize=8)
        ax.xaxis.label.set_fontsize(8.5)
        ax.yaxis.label.set_fontsize(8.5)
    _metrics_table(ax_tab, results, colors)
    # Shared legend: regimes, demand, guide curves, ensemble bands.
    handles = [Line2D([], [], color=colors[n], linewidth=2.4, label=n) for n in results]
    handles.append(Line2D([], [], color=REFERENCE_COLOR, linestyle=(0, (5, 2)), linewidth=1.5,
                          label="Total downstream demand"))
    if guide_curves:
        handles.append(Line2D([], [], color="#555555", linestyle=(0, (2, 2)), label="Guide curve (regime colour)"))
    handles += band_legend_handles(results)
    period = f"{first.dates[0]} to {first.dates[-1]}"
    n_reg = len(results)
    run_line = f"{period} · {n_reg} regime{'s' if n_reg > 1 else ''}{ens.replace(' — ', ' · ')}"
    top, bottom = _comparison_header(fig, title or "Regime comparison", question, run_line, handles, notes)
    fig.get_layout_engine().set(rect=(0.0, bottom, 1.0, top - bottom), h_pad=0.05, w_pad=0.06, hspace=0.03,
                                wspace=0.03)
    return fig
