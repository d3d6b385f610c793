"""Ensembles and ten-day periods on time axes: median lines with percentile bands, decades.

For ensembles (``n_members > 1``) a line is the median over members and the shaded bands are
the 25–75 % (darker) and 10–90 % (lighter) ranges; single runs draw the line alone.
"""

from __future__ import annotations

import numpy as np

from sim.physics.calendar import decade0_of_day

__all__ = [
    "as_2d", "band_legend_handles", "decade_groups", "decade_means", "decade_sums", "ensemble_note",
    "legend_right", "line_widths", "line_with_bands", "outer_lines",
]


_BAND_OUTER = (10, 90)
_BAND_INNER = (25, 75)


def _decade_keys(dates):
    dates = np.asarray(dates).astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    dec0 = decade0_of_day(day)
    return months.astype(np.int64) * 3 + dec0, months, dec0


def decade_groups(dates):
    """Group days by calendar decade (days 1–10, 11–20, 21–end).

    Returns
    -------
    starts : ndarray of datetime64[D], shape (n_decades,)
        Calendar first day of each decade touched by `dates` (1st, 11th or 21st).
    edges : ndarray of datetime64[D], shape (n_decades + 1,)
        First day of each decade's days within `dates`, then the day after the last date:
        the step edges of a decadal plot.
    index : ndarray of int, shape (n_days,)
        Decade ordinal (0-based) of each day.
    """
    dates = np.asarray(dates).astype("datetime64[D]")
    keys, months, dec0 = _decade_keys(dates)
    uniq, first, index = np.unique(keys, return_index=True, return_inverse=True)
    starts = months[first].astype("datetime64[D]") + 10 * dec0[first]
    edges = np.concatenate([dates[first], dates[-1:] + 1])
    return starts, edges, index.ravel()


def decade_means(dates, values):
    """Decadal means of a daily series (decades: days 1–10, 11–20, 21–end of month).

    Parameters
    ----------
    dates : array_like of datetime64[D], shape (n_days,)
        The days.
    values : array_like, shape (n_days,) or (n_days, n_members)
        Daily values (e.g. flows [m³/s]).

    Returns
    -------
    decade_start_dates : ndarray of datetime64[D], shape (n_decades,)
        Calendar first day of each decade (the 1st, 11th or 21st).
    means : ndarray, shape (n_decades,) or (n_decades, n_members)
        Mean of the days of each decade inside `dates`, in the unit of `values`.
    """
    starts, _, index = decade_groups(dates)
    v = np.asarray(values, dtype=float)
    if v.shape[0] != index.size:
        raise ValueError(f"values have {v.shape[0]} days; dates have {index.size}")
    n_dec = starts.size
    counts = np.bincount(index, minlength=n_dec).astype(float)
    flat = v.reshape(v.shape[0], -1)
    sums = np.zeros((n_dec, flat.shape[1]))
    np.add.at(sums, index, flat)
    means = sums / counts[:, None]
    return starts, means.reshape((n_dec,) + v.shape[1:])


def decade_sums(dates, values):
    """Edges of the decades and the sum of `values` (axis 0: days) within each."""
    starts, edges, index = decade_groups(dates)
    v = np.asarray(values, dtype=float)
    flat = v.reshape(v.shape[0], -1)
    sums = np.zeros((starts.size, flat.shape[1]))
    np.add.at(sums, index, flat)
    return edges, sums.reshape((starts.size,) + v.shape[1:])


def as_2d(v):
    """`v` as float, shape (n_steps, n_members): a single series becomes one column."""
    v = np.asarray(v, dtype=float)
    return v[:, None] if v.ndim == 1 else v


def line_with_bands(ax, x, values, color, label, *, step=False, linestyle="-", linewidth=1.8, bands=True, zorder=3,
                     outer_lines=False):
    """Median line and 10–90 %, 25–75 % bands over members (axis 1); a plain line for one member."""
    v = as_2d(values)
    if step:
        x = np.asarray(x)
        v = np.vstack([v, v[-1:]])
    kw = dict(drawstyle="steps-post") if step else {}
    if v.shape[1] == 1:
        (line,) = ax.plot(x, v[:, 0], color=color, label=label, linestyle=linestyle, linewidth=linewidth,
                          zorder=zorder, **kw)
        return line
    p10, p25, p50, p75, p90 = np.percentile(v, [_BAND_OUTER[0], _BAND_INNER[0], 50, _BAND_INNER[1], _BAND_OUTER[1]], axis=1)
    if bands and np.any(p90 - p10 > 0):
        fb = dict(step="post") if step else {}
        if outer_lines:
            # Several regimes: filled 10–90 % bands would blend into mud; outline them instead.
            for edge in (p10, p90):
                ax.plot(x, edge, color=color, linewidth=0.7, linestyle=(0, (1, 1.2)), zorder=zorder - 1, **kw)
            ax.fill_between(x, p25, p75, color=color, alpha=0.22, linewidth=0, zorder=zorder - 1, **fb)
        else:
            ax.fill_between(x, p10, p90, color=color, alpha=0.15, linewidth=0, zorder=zorder - 1, **fb)
            ax.fill_between(x, p25, p75, color=color, alpha=0.30, linewidth=0, zorder=zorder - 1, **fb)
    (line,) = ax.plot(x, p50, color=color, label=f"{label} (median)", linestyle=linestyle, linewidth=linewidth,
                      zorder=zorder, **kw)
    return line


def legend_right(ax, handles, labels, **kw):
    """Legend outside the axes, to the right, so that it never covers data."""
    return ax.legend(handles, labels, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                     borderaxespad=0.0, **kw)


def line_widths(results, widest=3.2, narrowest=1.4):
    """Line width per regime, decreasing in plot order so that identical lines stay visible."""
    n = len(results)
    if n == 1:
        return {name: 2.0 for name in results}
    return {name: widest - (widest - narrowest) * i / (n - 1) for i, name in enumerate(results)}


def outer_lines(results) -> bool:
    """Outline (not fill) the 10–90 % bands when several regimes share an axes."""
    return len(results) > 1


def band_legend_handles(results, colors=None):
    """Legend entries explaining the ensemble bands, if any result is an ensemble."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if not any(r.n_members > 1 for r in results.values()):
        return []
    if outer_lines(results):
        return [
            Patch(facecolor="#888888", alpha=0.35, label="25–75 % of members"),
            Line2D([], [], color="#555555", linewidth=0.9, linestyle=(0, (1, 1.2)), label="10–90 % of members"),
        ]
    return [
        Patch(facecolor="#888888", alpha=0.45, label="25–75 % of members"),
        Patch(facecolor="#888888", alpha=0.18, label="10–90 % of members"),
    ]


def ensemble_note(results) -> str:
    """Title suffix naming the ensemble size (empty for single runs)."""
    n = max(r.n_members for r in results.values())
    return f" — ensemble of {n} members" if n > 1 else ""
