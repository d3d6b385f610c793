"""The exchange study's plot: the energy a decade's extra water costs, by decade, one panel per regime."""

from __future__ import annotations

import os
import pickle
import signal
from pathlib import Path

import numpy as np

from sim.report.render import can_fork, end_with_parent, exited_cleanly

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


class PlotAhead:
    """A forked child that imports matplotlib while the study runs, then draws the plot it is sent.

    Importing matplotlib costs more than the exchange study's engine work (0.5 s on a quiet
    machine, 2-3 s on a loaded one): started before the study, the child imports it on the other
    core. `send` hands it the table and where to write; `wait` says whether it wrote the file
    (False: draw it here, so errors are raised in this process as in a serial run). `close` ends
    a child that was never sent anything (an error or Ctrl-C on the way). Where processes cannot
    be forked nothing is started and `wait` is False. Ctrl-C and SIGTERM end the child at once,
    and so does the end of the parent, even by SIGKILL (Linux).
    """

    def __init__(self):
        self.pid = self._w = None
        if not can_fork():
            return
        r, w = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:  # no process to be had: draw here
            os.close(r)
            os.close(w)
            return
        if pid == 0:  # child
            status = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.close(w)
                end_with_parent(parent)
                import matplotlib.backends.backend_agg  # noqa: F401 - the point: imported while the parent works
                import matplotlib.figure  # noqa: F401

                with os.fdopen(r, "rb") as f:
                    data = f.read()
                if data:
                    job = pickle.loads(data)
                    save_exchange(job.pop("table"), job.pop("out_dir"), **job)
                    status = 0
            except BaseException:  # noqa: B036 - the parent draws it again and reports the error itself
                pass
            finally:
                os._exit(status)
        os.close(r)
        self.pid, self._w = pid, w

    def send(self, table: dict, out_dir, **kwargs) -> None:
        """Hand the child the plot to draw (`save_exchange`'s arguments)."""
        if self._w is None:
            return
        w, self._w = self._w, None
        try:
            with os.fdopen(w, "wb") as f:
                f.write(pickle.dumps(dict(kwargs, table=table, out_dir=str(out_dir))))
        except OSError:  # the child is gone: `wait` says so
            pass

    def wait(self) -> bool:
        """Wait for the child; True if it wrote the plot."""
        if self.pid is None:
            return False
        pid, self.pid = self.pid, None
        return exited_cleanly(pid)

    def close(self) -> None:
        """End and reap the child if it is still there."""
        if self._w is not None:
            os.close(self._w)
            self._w = None
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self.wait()
