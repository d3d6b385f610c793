"""Sweep and ensemble plots: heat map over two parameters, trade-off with its Pareto front,
exceedance curves and the failure ranges by parameter.

They take a *table*: a dict of column name → 1-D array, one row per (regime, member), e.g.
``{"regime": ..., "member": ..., "inflow.scale": ..., "energy_gwh": ..., "deficit_hm3": ...}``.
Which way is better for a metric comes from the metric registry (`sim.engine.metrics`).
"""

from __future__ import annotations

import numpy as np

from sim.engine import metrics as metric_registry
from sim.report.bands import legend_right
from sim.report.labels import label_for, unit_of
from sim.report.style import REFERENCE_COLOR, new_axes, regime_colors, style_axes

__all__ = ["pareto_front", "plot_exceedance", "plot_failure_ranges", "plot_sweep_heatmap", "plot_tradeoff"]


def _table(table) -> dict:
    t = {k: np.asarray(v) for k, v in dict(table).items()}
    lengths = {v.shape[0] for v in t.values() if v.ndim >= 1}
    if len(lengths) > 1:
        raise ValueError(f"table columns differ in length: {sorted(lengths)}")
    return t


def _select_regime(t, regime, what):
    if "regime" not in t:
        return t
    regimes = list(dict.fromkeys(t["regime"].tolist()))
    if regime is None:
        if len(regimes) > 1:
            raise ValueError(f"{what}: the table holds regimes {', '.join(map(str, regimes))}; pass regime=")
        return t
    mask = t["regime"] == regime
    if not np.any(mask):
        raise ValueError(f"{what}: regime {regime!r} is not in the table (found {', '.join(map(str, regimes))})")
    return {k: v[mask] for k, v in t.items()}


def _bins(values, max_bins):
    """Bin labels and index: each unique value when few, else equal-width bins."""
    v = np.asarray(values, dtype=float)
    uniq = np.unique(v[np.isfinite(v)])
    if uniq.size <= max_bins:
        idx = np.searchsorted(uniq, v)
        return uniq, None, idx
    edges = np.linspace(uniq[0], uniq[-1], max_bins + 1)
    idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, max_bins - 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    return centres, edges, idx


def _value_format(metric, values):
    """Format of a metric's values in cell and bar annotations."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    big = v.size and np.nanmax(np.abs(v)) >= 100
    if unit_of(metric) == "-" and not big:
        return "{:.3f}"
    return "{:,.0f}" if big else "{:.3g}"


def _cell_edges(centres):
    c = np.asarray(centres, dtype=float)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = 0.5 * (c[:-1] + c[1:])
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def plot_sweep_heatmap(table, x, y, metric, regime=None, ax=None, *, max_bins=20, cmap=None, annotate=None,
                       title=None):
    """A metric over two swept parameters, averaged over the other parameters and members.

    Parameters
    ----------
    table : dict of str → 1-D array
        One row per (regime, member).
    x, y : str
        Parameter columns (grid values, or a random sample: binned into `max_bins`).
    metric : str
        Metric column; the colour bar is labelled with its unit (`label_for`).
    regime : str, optional
        Required when the table holds more than one regime.
    annotate : bool, optional
        Write each cell's value (default: when the grid has at most 12 × 12 cells).

    Returns
    -------
    matplotlib Axes
    """
    t = _select_regime(_table(table), regime, "plot_sweep_heatmap")
    for col in (x, y, metric):
        if col not in t:
            raise KeyError(f"column {col!r} is not in the table (columns: {', '.join(t)})")
    ax = new_axes(ax, figsize=(7.0, 5.2))
    xc, xe, xi = _bins(t[x], max_bins)
    yc, ye, yi = _bins(t[y], max_bins)
    val = np.asarray(t[metric], dtype=float)
    sums = np.zeros((yc.size, xc.size))
    counts = np.zeros((yc.size, xc.size))
    ok = np.isfinite(val)
    np.add.at(sums, (yi[ok], xi[ok]), val[ok])
    np.add.at(counts, (yi[ok], xi[ok]), 1)
    grid = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    direction = metric_registry.direction(metric)
    cmap = cmap or ("cividis" if direction != "min" else "cividis_r")
    mesh = ax.pcolormesh(_cell_edges(xc), _cell_edges(yc), np.ma.masked_invalid(grid), cmap=cmap, shading="flat")
    cbar = ax.figure.colorbar(mesh, ax=ax)
    better = {"max": " (higher is better)", "min": " (lower is better)"}.get(direction, "")
    cbar.set_label(label_for(metric) + better)
    if annotate is None:
        annotate = xc.size <= 12 and yc.size <= 12
    if annotate:
        from matplotlib.colors import to_rgb

        fmt = _value_format(metric, grid)
        for j in range(yc.size):
            for i in range(xc.size):
                if np.isfinite(grid[j, i]):
                    r_, g_, b_ = to_rgb(mesh.cmap(mesh.norm(grid[j, i])))
                    light = 0.2126 * r_ + 0.7152 * g_ + 0.0722 * b_ > 0.5  # text colour from cell luminance
                    ax.text(xc[i], yc[j], fmt.format(grid[j, i]), ha="center", va="center", fontsize=7.5,
                            color="black" if light else "white")
    for axis, centres, edges in ((ax.xaxis, xc, xe), (ax.yaxis, yc, ye)):
        if edges is None:  # grid values: one tick per cell, at its centre
            axis.set_ticks(centres, [f"{c:g}" for c in centres])
    ax.set_xlabel(label_for(x))
    ax.set_ylabel(label_for(y))
    n_per = counts[counts > 0]
    avg = f", mean of {int(n_per.min())}–{int(n_per.max())} runs per cell" if n_per.size and n_per.max() > 1 else ""
    ax.set_title(_wrap_title(title or f"{label_for(metric).rsplit(' [', 1)[0]}{' — ' + regime if regime else ''}{avg}"),
                 fontsize=10)
    return ax


def _wrap_title(text, width=70):
    """Break a long axes title onto at most two lines."""
    import textwrap

    lines = textwrap.wrap(" ".join(str(text).split()), width)
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder="…")]
    return "\n".join(lines)


def pareto_front(x, y, x_better="min", y_better="max"):
    """Indices of the non-dominated points, sorted by x.

    Parameters
    ----------
    x, y : array_like, shape (n,)
    x_better, y_better : {"min", "max"}

    Returns
    -------
    ndarray of int
    """
    xs = np.asarray(x, dtype=float) * (1 if x_better == "min" else -1)
    ys = np.asarray(y, dtype=float) * (1 if y_better == "min" else -1)
    ok = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys))
    order = ok[np.lexsort((ys[ok], xs[ok]))]
    front = []
    best = np.inf
    for i in order:
        if ys[i] < best:
            front.append(i)
            best = ys[i]
    front = np.array(front, dtype=int)
    return front[np.argsort(np.asarray(x, dtype=float)[front])] if front.size else front


def plot_tradeoff(table, x="deficit_hm3", y="energy_gwh", by="regime", ax=None, *, title=None):
    """Energy–irrigation trade-off scatter, with the Pareto front over all points highlighted.

    Which way is better for each axis comes from `sim.engine.metrics.direction` (deficit: lower,
    energy: higher).

    Returns
    -------
    matplotlib Axes
    """
    t = _table(table)
    for col in (x, y):
        if col not in t:
            raise KeyError(f"column {col!r} is not in the table (columns: {', '.join(t)})")
    ax = new_axes(ax, figsize=(7.0, 5.2))
    xv = np.asarray(t[x], dtype=float)
    yv = np.asarray(t[y], dtype=float)
    groups = t[by] if by and by in t else np.array(["all"] * xv.size)
    names = list(dict.fromkeys(groups.tolist()))
    colors = regime_colors(names)
    markers = "osD^vP*X"
    for i, name in enumerate(names):
        m = groups == name
        ax.scatter(xv[m], yv[m], s=18, color=colors[name], alpha=0.6, marker=markers[i % len(markers)],
                   edgecolor="none", label=str(name), zorder=2)
    xb = metric_registry.direction(x) or "min"
    yb = metric_registry.direction(y) or "max"
    front = pareto_front(xv, yv, xb, yb)
    if front.size:
        ax.plot(xv[front], yv[front], color="black", linewidth=1.2,
                zorder=3, label=f"Pareto front ({front.size} run{'s' if front.size != 1 else ''})")
        ax.scatter(xv[front], yv[front], s=36, facecolor="none", edgecolor="black", linewidth=1.0, zorder=4)
    ax.set_xlabel(label_for(x) + {"min": " → worse", "max": " → better"}.get(xb, ""))
    ax.set_ylabel(label_for(y) + {"min": " → worse", "max": " → better"}.get(yb, ""))
    style_axes(ax)
    handles, labels = ax.get_legend_handles_labels()
    legend_right(ax, handles, labels)
    ax.set_title(_wrap_title(title or f"Trade-off: {label_for(y).rsplit(' [', 1)[0]} vs "
                             f"{label_for(x).rsplit(' [', 1)[0]}"), fontsize=10)
    return ax


def plot_exceedance(values_by_label, ax=None, xlabel="Value [-]", *, column=None, title=None, threshold=None):
    """Exceedance curves: probability that a value is exceeded, with Weibull plotting positions.

    For ``n`` values sorted in decreasing order the ``i``-th (1-based) is exceeded with
    probability ``i / (n + 1)`` (Weibull).

    Parameters
    ----------
    values_by_label : dict of str → array_like
        E.g. season energy of each regime over the ensemble members.
    xlabel : str
        Label of the values (with unit); or give `column` to derive it with `label_for`.
    threshold : float, optional
        Draw a vertical reference line at this value.

    Returns
    -------
    matplotlib Axes
        Values on x, exceedance probability [-] on y.
    """
    if isinstance(values_by_label, dict):
        items = dict(values_by_label)
    else:
        items = {"values": values_by_label}
    ax = new_axes(ax, figsize=(7.0, 4.8))
    colors = regime_colors(items)
    for name, vals in items.items():
        v = np.sort(np.asarray(vals, dtype=float).ravel())[::-1]
        v = v[np.isfinite(v)]
        p = np.arange(1, v.size + 1) / (v.size + 1)
        ax.plot(v, p, color=colors[name], linewidth=1.6, marker="o" if v.size <= 30 else None, markersize=3,
                label=f"{name} (n = {v.size})", drawstyle="default")
    if threshold is not None:
        ax.axvline(threshold, color=REFERENCE_COLOR, linestyle=(0, (4, 2)), linewidth=0.9)
    ax.set_ylim(0, 1)
    ax.set_xlabel(label_for(column) if column else xlabel)
    ax.set_ylabel("Exceedance probability [-]")
    style_axes(ax)
    ax.legend(fontsize=8, frameon=False, loc="best")
    ax.set_title(_wrap_title(title or "Exceedance curves (Weibull plotting positions)"), fontsize=10)
    return ax


def plot_failure_ranges(table, params, metric="reliability_volume", threshold=0.9, ax=None, *, by="regime",
                        max_bins=8, title=None):
    """Which parameter ranges make a regime fail: share of failing members per parameter bin.

    A member *fails* when the metric is worse than `threshold` (below it where higher is
    better, above it where lower is better; `sim.engine.metrics.direction`). For each parameter
    the values are split into at most `max_bins` bins (each value its own bin when there are
    few), and the bars give the share of failing members in each bin, one bar per regime.
    The parameters sit side by side on one axes, separated by thin lines.

    Returns
    -------
    matplotlib Axes
        Share of failing members [-] per parameter bin.
    """
    t = _table(table)
    params = [params] if isinstance(params, str) else list(params)
    for col in params + [metric]:
        if col not in t:
            raise KeyError(f"column {col!r} is not in the table (columns: {', '.join(t)})")
    ax = new_axes(ax, figsize=(max(7.0, 2.6 * len(params) + 2), 4.6))
    value = np.asarray(t[metric], dtype=float)
    direction = metric_registry.direction(metric) or "max"
    fail = value < threshold if direction == "max" else value > threshold
    groups = t[by] if by and by in t else np.array(["all"] * value.size)
    names = list(dict.fromkeys(groups.tolist()))
    colors = regime_colors(names)
    n_g = len(names)
    pos = 0.0
    ticks, ticklabels, group_mid, counts = [], [], [], []
    for k, param in enumerate(params):
        centres, edges, idx = _bins(t[param], max_bins)
        start = pos
        for b in range(centres.size):
            in_bin = idx == b
            for g, name in enumerate(names):
                m = in_bin & (groups == name)
                share = fail[m].mean() if m.any() else np.nan
                xb = pos + (g - (n_g - 1) / 2) * 0.8 / n_g
                ax.bar(xb, share, width=0.8 / n_g, color=colors[name],
                       label=str(name) if (k == 0 and b == 0) else None, edgecolor="white", linewidth=0.3)
                if m.any():  # failing / all members, so that a zero bar reads as "none failed"
                    counts.append((xb, share, f"{int(fail[m].sum())}/{int(m.sum())}"))
            ticks.append(pos)
            if edges is None:
                ticklabels.append(f"{centres[b]:.3g}")
            else:
                ticklabels.append(f"{edges[b]:.3g}–{edges[b + 1]:.3g}")
            pos += 1.0
        group_mid.append(((start + pos - 1.0) / 2, label_for(param)))
        if k < len(params) - 1:
            ax.axvline(pos - 0.0, color="#999999", linewidth=0.6)
            pos += 1.0
    ax.set_xticks(ticks, ticklabels, fontsize=7, rotation=30 if max(len(s) for s in ticklabels) > 5 else 0)
    for mid, lab in group_mid:
        ax.text(mid, 1.12, lab, ha="center", va="center", fontsize=8.5, fontweight="bold")
    if len(counts) <= 60:
        size = 7 if len(counts) <= 24 else 6
        for xb, share, text in counts:
            ax.text(xb, share + 0.015, text, ha="center", va="bottom", fontsize=size, color="#333333",
                    rotation=0 if n_g * len(counts) <= 30 else 90)
    ax.set_ylim(0, 1.2)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("Share of failing members [-]")
    ax.set_xlabel("Parameter value or bin [unit in each group's label]")
    style_axes(ax, grid_axis="y")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    op = "<" if direction == "max" else ">"
    ax.set_title(_wrap_title(title or f"Failure: {label_for(metric)} {op} {threshold:g}, by parameter range "
                             "(labels: failing/all members)"), fontsize=10)
    return ax
