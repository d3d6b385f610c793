"""The exchange study's plot: the energy a decade's extra water costs, by decade, one panel per regime."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.report import render

__all__ = ["plot_exchange", "save_exchange", "PlotAhead"]

SEASON_COLOR = "#E69F00"  # orange: energy of the season
WINTER_COLOR = "#0072B2"  # blue: energy of the following winter


def plot_exchange(table: dict, *, user: str, title: str = "", footnote: str = ""):
    """Stacked bars of the season and winter energy change per decade (GWh per 100 hm³ asked for),
    the total as a dot with its p10–p90 spread when there is one; one panel per regime and volume.

    `table` holds the columns of exchange.csv (`sim.studies.exchange.ExchangeResult.table`).
    Returns the Figure.
    """
    # A bare Figure, not pyplot: pyplot's import (backends, its state machine) costs as much as the plot
    from matplotlib.figure import Figure

    from sim.report.style import REFERENCE_COLOR, style_axes  # here: this module stays light for PlotAhead

    regimes = list(dict.fromkeys(table["regime"]))
    volumes = list(dict.fromkeys(table["requested_hm3"]))
    panels = [(r, v) for r in regimes for v in volumes]
    # A fixed layout (not constrained): the figure is drawn once, which halves the command's time.
    height = 1.6 + 2.1 * len(panels)
    fig = Figure(figsize=(10.0, height))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)
    fig.subplots_adjust(left=0.1, right=0.98, top=1.0 - 0.95 / height, bottom=1.25 / height, hspace=0.35)
    for ax, (regime, volume) in zip(axes[:, 0], panels, strict=True):
        rows = (table["regime"] == regime) & (table["requested_hm3"] == volume)
        per100 = 100.0 / volume
        x = np.arange(int(rows.sum()))
        season, winter = table["season_gwh"][rows] * per100, table["winter_gwh"][rows] * per100
        ax.bar(x, season, color=SEASON_COLOR, label="this season")
        # stacked on the side of the season bar with the same sign, so that bars never hide each other
        bottom = np.where(np.sign(winter) == np.sign(season), season, 0.0)
        ax.bar(x, winter, bottom=bottom, color=WINTER_COLOR, label="next winter (1 Oct – 31 Mar)")
        total = table["total_gwh"][rows] * per100
        if "total_gwh_p10" in table:
            lo, hi = table["total_gwh_p10"][rows] * per100, table["total_gwh_p90"][rows] * per100
            # whiskers from p10 to p90 (the mean may lie outside them in a skewed spread)
            ax.vlines(x, lo, hi, color=REFERENCE_COLOR, linewidth=1.0, label="p10–p90 of the total over inflow members")
            ax.plot(x, total, "o", color=REFERENCE_COLOR, ms=3, label="total (mean)")
        else:
            ax.plot(x, total, "o", color=REFERENCE_COLOR, ms=3, label="total")
        ax.axhline(0.0, color=REFERENCE_COLOR, linewidth=0.8)
        ax.set_title(f"{regime}: {volume:g} hm³ more for {user} in one decade", fontsize=10, loc="left")
        ax.set_ylabel("energy change\n[GWh per 100 hm³]")
        style_axes(ax, grid_axis="y")
        labels = table["decade"][rows]
    ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=8)
    ax.set_xlabel("decade of the extra demand [10-day period]")
    axes[0, 0].legend(fontsize=8, loc="best")
    what = f"What a decade's extra water for {user} costs in energy (a loss is negative)"
    fig.suptitle(f"{title}\n{what}" if title else what, fontsize=11)
    if footnote:
        fig.text(0.01, 0.005, footnote, ha="left", va="bottom", fontsize=7, color="#555555", wrap=True)
    return fig


def save_exchange(table: dict, out_dir, *, user: str, title: str = "", footnote: str = "", dpi: int = 150) -> Path:
    """Write ``out_dir/plots/exchange.png``; returns its path."""
    path = Path(out_dir) / "plots" / "exchange.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = plot_exchange(table, user=user, title=title, footnote=footnote)
    fig.savefig(path, dpi=dpi)  # a bare Figure: nothing to close
    return path


class PlotAhead(render.PlotAhead):
    """`sim.report.render.PlotAhead` drawing the exchange plot: ``send(table, out_dir, **kwargs)``
    takes `save_exchange`'s arguments."""

    def __init__(self):
        super().__init__(save_exchange)
