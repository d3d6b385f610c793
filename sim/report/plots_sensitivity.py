"""The sensitivity plot: Sobol' total indices of each metric to each uncertain input, by regime.

It takes the rows of ``sensitivity.csv`` (dicts with ``metric``, ``regime``, ``input``, ``ST``,
``ST_conf``), so a notebook can draw it from the file as well as from a result.
"""

from __future__ import annotations

import numpy as np

from sim.engine import metrics as metric_registry
from sim.report.bands import legend_right
from sim.report.style import new_figure, offscreen, regime_colors, style_axes

__all__ = ["plot_total_indices", "save_total_indices"]


def plot_total_indices(rows, *, title: str = "", input_labels: dict | None = None, conf_level: float = 0.95):
    """Horizontal bars of the total index ST of every input (rows of bars), one panel per metric,
    the regimes side by side, with the confidence half-width as whiskers. Returns the Figure.

    Parameters
    ----------
    rows : iterable of dict
        ``metric``, ``regime``, ``input``, ``ST``, ``ST_conf``.
    input_labels : dict, optional
        Input name → label on the axis (e.g. with its unit and range).
    """
    rows = list(rows)
    if not rows:
        raise ValueError("no sensitivity indices to plot")
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    regimes = list(dict.fromkeys(r["regime"] for r in rows))
    inputs = list(dict.fromkeys(r["input"] for r in rows))
    by = {(r["metric"], r["regime"], r["input"]): r for r in rows}
    colors = regime_colors(regimes)
    height = 1.2 + 0.22 * len(inputs) * max(len(regimes), 2) / 2
    fig = new_figure((3.6 * len(metrics) + 3.2, height))
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)
    y = np.arange(len(inputs))
    width = 0.8 / len(regimes)
    for ax, m in zip(axes[0], metrics, strict=True):
        meta = metric_registry.get(m)
        for k, reg in enumerate(regimes):
            st = np.array([by[(m, reg, i)]["ST"] if (m, reg, i) in by else np.nan for i in inputs])
            conf = np.array([by[(m, reg, i)]["ST_conf"] if (m, reg, i) in by else 0.0 for i in inputs])
            ax.barh(y - 0.4 + width * (k + 0.5), np.clip(st, 0, None), height=width, xerr=conf, color=colors[reg],
                    error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#333333"}, label=reg)
        ax.set_title(f"{meta.label} [{meta.unit}]", fontsize=10)
        ax.set_xlabel("total-order index S_T [-] (share of variance)")
        ax.set_xlim(0, max(1.05, ax.get_xlim()[1]))
        style_axes(ax, grid_axis="x")
    axes[0][0].set_yticks(y, [(input_labels or {}).get(i, i) for i in inputs], fontsize=8)
    axes[0][0].set_ylabel("uncertain input")
    axes[0][0].invert_yaxis()
    handles, labels = axes[0][0].get_legend_handles_labels()
    legend_right(axes[0][-1], handles, labels, title="regime")
    fig.suptitle(title or f"Which uncertain inputs matter: Sobol' total indices ({100 * conf_level:.0f} % confidence whiskers)",
                 fontsize=11)
    return fig


def save_total_indices(rows, path, *, dpi: int = 150, **kwargs):
    """Draw `plot_total_indices` into the PNG file `path` (its folder made if missing) and close it;
    without pyplot unless it is loaded (`sim.report.style.offscreen`)."""
    from pathlib import Path

    from sim.report.render import save_png

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with offscreen():
        fig = plot_total_indices(rows, **kwargs)
    save_png(fig, path, dpi)
    return path
