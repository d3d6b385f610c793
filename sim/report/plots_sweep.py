"""Sweep and ensemble plots: heat map over two parameters, trade-off with its Pareto front,
exceedance curves and the failure ranges by parameter.

They take a *table*: a dict of column name → 1-D array, one row per (regime, member), e.g.
``{"regime": ..., "member": ..., "inflow.scale": ..., "energy_gwh": ..., "deficit_hm3": ...}``.
Which way is better for a metric comes from the metric registry (`sim.engine.metrics`).
"""

from __future__ import annotations

import numpy as np

from sim.engine import metrics as metric_registry
from sim.report.aggregates import FAILURE, Failures, Grid, bin_spec, failing, pareto_front
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


def _summary_regime(summary, regime, what):
    """A `SweepSummary`'s part of `regime` (it may be left out when there is one regime)."""
    names = list(summary.regimes)
    if regime is None:
        if len(names) > 1:
            raise ValueError(f"{what}: the summary holds regimes {', '.join(names)}; pass regime=")
        regime = names[0]
    if regime not in summary.regimes:
        raise ValueError(f"{what}: regime {regime!r} is not in the summary (found {', '.join(names)})")
    return summary.regimes[regime]


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
    if hasattr(table, "regimes"):  # a SweepSummary: its grids are over its first two parameters
        grid = _summary_regime(table, regime, "plot_sweep_heatmap").grids[metric]
    else:
        t = _select_regime(_table(table), regime, "plot_sweep_heatmap")
        for col in (x, y, metric):
            if col not in t:
                raise KeyError(f"column {col!r} is not in the table (columns: {', '.join(t)})")
        grid = Grid(bin_spec(t[x], max_bins), bin_spec(t[y], max_bins))
        grid.add(t[x], t[y], t[metric])
    ax = new_axes(ax, figsize=(7.0, 5.2))
    (xc, xe), (yc, ye) = grid.xspec, grid.yspec
    counts = grid.counts
    grid = grid.means()
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


def plot_tradeoff(table, x="deficit_hm3", y="energy_gwh", by="regime", ax=None, *, title=None):
    """Energy–irrigation trade-off scatter, with the Pareto front over all points highlighted.

    Which way is better for each axis comes from `sim.engine.metrics.direction` (deficit: lower,
    energy: higher).

    Returns
    -------
    matplotlib Axes
    """
    xb = metric_registry.direction(x) or "min"
    yb = metric_registry.direction(y) or "max"
    if hasattr(table, "regimes"):  # a SweepSummary: every k-th member, and the exact front
        points = {name: (r.points.x, r.points.y) for name, r in table.regimes.items()}
        fx = np.concatenate([r.points.front_x for r in table.regimes.values()])
        fy = np.concatenate([r.points.front_y for r in table.regimes.values()])
        shown = sum(v[0].size for v in points.values())
        total = sum(r.n_members for r in table.regimes.values())
    else:
        t = _table(table)
        for col in (x, y):
            if col not in t:
                raise KeyError(f"column {col!r} is not in the table (columns: {', '.join(t)})")
        fx, fy = np.asarray(t[x], dtype=float), np.asarray(t[y], dtype=float)
        groups = t[by] if by and by in t else np.array(["all"] * fx.size)
        points = {name: (fx[groups == name], fy[groups == name]) for name in dict.fromkeys(groups.tolist())}
        shown = total = fx.size
    ax = new_axes(ax, figsize=(7.0, 5.2))
    colors = regime_colors(list(points))
    markers = "osD^vP*X"
    for i, (name, (xv, yv)) in enumerate(points.items()):
        ax.scatter(xv, yv, s=18, color=colors[name], alpha=0.6, marker=markers[i % len(markers)],
                   edgecolor="none", label=str(name), zorder=2)
    front = pareto_front(fx, fy, xb, yb)
    xv, yv = fx, fy
    if front.size:
        ax.plot(xv[front], yv[front], color="black", linewidth=1.2,
                zorder=3, label=f"Pareto front ({front.size} run{'s' if front.size != 1 else ''})")
        ax.scatter(xv[front], yv[front], s=36, facecolor="none", edgecolor="black", linewidth=1.0, zorder=4)
    ax.set_xlabel(label_for(x) + {"min": " → worse", "max": " → better"}.get(xb, ""))
    ax.set_ylabel(label_for(y) + {"min": " → worse", "max": " → better"}.get(yb, ""))
    style_axes(ax)
    handles, labels = ax.get_legend_handles_labels()
    legend_right(ax, handles, labels)
    sample = f" (1 in {round(total / shown):,} of {total:,} runs shown; front of all)" if shown < total else ""
    ax.set_title(_wrap_title((title or f"Trade-off: {label_for(y).rsplit(' [', 1)[0]} vs "
                              f"{label_for(x).rsplit(' [', 1)[0]}") + sample), fontsize=10)
    return ax


def plot_exceedance(values_by_label, ax=None, xlabel="Value [-]", *, column=None, title=None, threshold=None):
    """Exceedance curves: probability that a value is exceeded, with Weibull plotting positions.

    For ``n`` values sorted in decreasing order the ``i``-th (1-based) is exceeded with
    probability ``i / (n + 1)`` (Weibull).

    Parameters
    ----------
    values_by_label : dict of str → array_like or Distribution
        E.g. season energy of each regime over the ensemble members; or each regime's
        `sim.report.aggregates.Distribution` of it (a streamed sweep's summary).
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
        if hasattr(vals, "exceedance"):
            v, p = vals.exceedance()
        else:
            v = np.sort(np.asarray(vals, dtype=float).ravel())[::-1]
            v = v[np.isfinite(v)]
            p = np.arange(1, v.size + 1) / (v.size + 1)
        n = int(round(1 / p[0])) - 1 if p.size else 0  # p[0] = 1 / (n + 1)
        ax.plot(v, p, color=colors[name], linewidth=1.6, marker="o" if v.size <= 30 else None, markersize=3,
                label=f"{name} (n = {n})", drawstyle="default")
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
    params = [params] if isinstance(params, str) else list(params)
    groups = _failures(table, params, metric, threshold, by, max_bins)
    direction = metric_registry.direction(metric) or "max"
    ax = new_axes(ax, figsize=(max(7.0, 2.6 * len(params) + 2), 4.6))
    names = list(groups)
    colors = regime_colors(names)
    n_g = len(names)
    pos = 0.0
    ticks, ticklabels, group_mid, counts = [], [], [], []
    bars = {name: ([], []) for name in names}  # one bar call per regime: each call costs ~10 ms
    for k, param in enumerate(params):
        centres, edges = groups[names[0]].specs[param]
        start = pos
        for b in range(centres.size):
            for g, name in enumerate(names):
                n_fail, n_all = groups[name].failing[param][b], groups[name].total[param][b]
                share = n_fail / n_all if n_all else np.nan
                xb = pos + (g - (n_g - 1) / 2) * 0.8 / n_g
                bars[name][0].append(xb)
                bars[name][1].append(share)
                if n_all:  # failing / all members, so that a zero bar reads as "none failed"
                    counts.append((xb, share, f"{int(n_fail)}/{int(n_all)}"))
            ticks.append(pos)
            ticklabels.append(f"{centres[b]:.3g}" if edges is None else f"{edges[b]:.3g}–{edges[b + 1]:.3g}")
            pos += 1.0
        group_mid.append(((start + pos - 1.0) / 2, label_for(param)))
        if k < len(params) - 1:
            ax.axvline(pos - 0.0, color="#999999", linewidth=0.6)
            pos += 1.0
    for name, (xs, shares) in bars.items():
        ax.bar(xs, shares, width=0.8 / n_g, color=colors[name], label=str(name), edgecolor="white", linewidth=0.3)
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


def _failures(table, params, metric, threshold, by, max_bins) -> dict:
    """Per group (regime), the `Failures` of a table, or those of a `SweepSummary` (whose
    criterion is fixed: `sim.report.aggregates.FAILURE`)."""
    if hasattr(table, "regimes"):
        if (metric, threshold) != FAILURE:
            raise ValueError(f"a sweep summary counts failures of {FAILURE[0]} against {FAILURE[1]:g} only")
        return {name: r.failures for name, r in table.regimes.items()}
    t = _table(table)
    for col in params + [metric]:
        if col not in t:
            raise KeyError(f"column {col!r} is not in the table (columns: {', '.join(t)})")
    fail = failing(t[metric], metric, threshold)
    groups = t[by] if by and by in t else np.array(["all"] * fail.size)
    specs = {p: bin_spec(t[p], max_bins) for p in params}
    out = {}
    for name in dict.fromkeys(groups.tolist()):
        m = groups == name
        out[name] = Failures(specs)
        out[name].add({p: t[p][m] for p in params}, fail[m])
    return out
