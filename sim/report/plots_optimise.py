"""Plots of ``bakhri optimise``: the front with the scenario's own regimes marked, and the chosen
schedules by decade against downstream demand.

Both take plain arrays (the `sim.studies.optimise.OptimiseResult` fields), so a notebook can draw
them from a pareto.csv it read back.
"""

from __future__ import annotations

import numpy as np

from sim.report.labels import label_for
from sim.report.style import PALETTE, REFERENCE_COLOR, new_axes, style_axes

__all__ = ["plot_pareto", "plot_schedules", "chosen"]

FRONT_COLOR = PALETTE[0]


def chosen(n: int, k: int = 5) -> list[int]:
    """Indices of at most `k` solutions spread evenly along a front of `n` (both ends included)."""
    if n <= k:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, k)})


def plot_pareto(front: dict, objectives: dict, regimes: dict, *, title: str = "", feasible: bool = True,
                aggregate: str = "mean", ax=None):
    """The front over the first two objectives (one objective: its value by solution), with the
    scenario's own regimes marked and labelled (hollow when they miss a constraint).

    Parameters
    ----------
    front : dict
        Columns ``solution`` and the objectives (one row per solution).
    objectives : dict
        Metric → "max" | "min", in order.
    regimes : dict
        Regime → its objective values and ``feasible``.
    """
    ax = new_axes(ax, figsize=(8.0, 5.4))
    names = list(objectives)
    if len(names) >= 2:
        xm, ym = names[0], names[1]
        x, y = np.asarray(front[xm], float), np.asarray(front[ym], float)
        order = np.argsort(x)
        ax.plot(x[order], y[order], "-", color=FRONT_COLOR, lw=1.0, alpha=0.6)
        ax.scatter(x, y, s=22, color=FRONT_COLOR, zorder=3, label=f"optimised front ({len(x)} solutions)")
        for i in chosen(len(x)):
            ax.annotate(str(int(front["solution"][i])), (x[i], y[i]), textcoords="offset points", xytext=(4, 4),
                        fontsize=8, color=FRONT_COLOR)
        _mark_regimes(ax, regimes, xm, ym)
        ax.set_xlabel(label_for(xm) + f" ({_better(objectives[xm])})")
        ax.set_ylabel(label_for(ym) + f" ({_better(objectives[ym])})")
    else:
        m = names[0]
        v = np.asarray(front[m], float)
        ax.scatter(np.asarray(front["solution"]), v, s=30, color=FRONT_COLOR, zorder=3, label="optimised")
        for i, (name, r) in enumerate(regimes.items()):
            ax.axhline(r[m], color=PALETTE[(i + 1) % len(PALETTE)], lw=1.0, ls="--" if r["feasible"] else ":",
                       label=name + ("" if r["feasible"] else " (misses a constraint)"))
        ax.set_xlabel("Solution [-]")
        ax.set_ylabel(label_for(m) + f" ({_better(objectives[m])})")
    what = "" if aggregate == "mean" else f", {aggregate} over inflow members"
    note = "" if feasible else " — no candidate met the constraints: the least infeasible shown"
    ax.set_title((title + "\n" if title else "") + f"Optimised front and the scenario's regimes{what}{note}",
                 fontsize=10)
    style_axes(ax)
    ax.legend(fontsize=8, loc="best", frameon=False)
    return ax


def _better(sense: str) -> str:
    return "higher is better" if sense == "max" else "lower is better"


def _mark_regimes(ax, regimes: dict, xm: str, ym: str) -> None:
    for i, (name, r) in enumerate(regimes.items()):
        color = PALETTE[(i + 1) % len(PALETTE)]
        ok = r["feasible"]
        ax.scatter([r[xm]], [r[ym]], s=70, marker="D", zorder=4, edgecolors=color, linewidths=1.5,
                   facecolors=color if ok else "none", label=name + ("" if ok else " (misses a constraint)"))
        ax.annotate(name, (r[xm], r[ym]), textcoords="offset points", xytext=(6, -10), fontsize=8, color=color)


def plot_schedules(labels, schedules: dict, demand_m3s, regimes: dict | None = None, *, title: str = "", ax=None):
    """Decadal releases of the chosen solutions (and the regimes' realised ones, dashed) against
    downstream demand, by decade.

    Parameters
    ----------
    labels : list of str
        The decades (``"Apr I"`` ...).
    schedules : dict
        Name (``"solution 3"``) → decadal releases [m³/s].
    demand_m3s : array_like
        Downstream demand per decade (mean of its days) [m³/s].
    regimes : dict, optional
        Regime name → realised decadal mean release [m³/s].
    """
    ax = new_axes(ax, figsize=(10.0, 5.0))
    x = np.arange(len(labels))
    ax.bar(x, np.asarray(demand_m3s, float), width=0.8, color="#d9d9d9", edgecolor=REFERENCE_COLOR, linewidth=0.5,
           label="downstream demand")
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    for i, (name, values) in enumerate(schedules.items()):
        c = cmap(i / max(len(schedules) - 1, 1) * 0.9)
        ax.step(x, values, where="mid", color=c, lw=1.8, label=name)
    for i, (name, values) in enumerate((regimes or {}).items()):
        ax.step(x, values, where="mid", color=PALETTE[(i + 1) % len(PALETTE)], lw=1.0, ls="--", label=f"{name} (realised)")
    ax.set_xticks(x, labels, rotation=60, fontsize=8)
    ax.set_xlabel("Decade")
    ax.set_ylabel("Release, decadal mean [m³/s]")
    ax.set_title((title + "\n" if title else "") + "Chosen schedules by decade against downstream demand", fontsize=10)
    style_axes(ax, grid_axis="y")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return ax

