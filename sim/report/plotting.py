"""Briefing plots of simulation results: the only module that imports matplotlib.

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

import datetime
import functools
import os
import re
import signal
import sys
from pathlib import Path

import numpy as np
from matplotlib.ticker import Formatter, Locator

from sim.physics import units
from sim.engine import metrics as metric_registry
from sim.engine.results import SimulationResult

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
]

#: Okabe & Ito (2008) colour-blind-safe palette, in the order regimes receive them.
PALETTE = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
#: Demand, limits and other reference lines.
REFERENCE_COLOR = "#333333"
#: Deficits.
DEFICIT_COLOR = "#C0392B"
#: User colours in supply plots (distinct from the regime palette's first entries).
USER_PALETTE = ("#56B4E9", "#009E73", "#E69F00", "#CC79A7", "#0072B2", "#F0E442", "#999999")

_HM3_PER_M3S_DAY = units.SECONDS_PER_DAY * 1e-6
_BAND_OUTER = (10, 90)
_BAND_INNER = (25, 75)

# --------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------

#: Unit of each column suffix, longest first.
_SUFFIX_UNITS = (
    ("_mm_month", "mm/month"),
    ("_mm_day", "mm/day"),
    ("_m3s_day", "m³/s per day"),
    ("_m3s", "m³/s"),
    ("_hm3", "hm³"),
    ("_m3", "m³"),
    ("_gwh", "GWh"),
    ("_mwh", "MWh"),
    ("_mw", "MW"),
    ("_w", "W"),
    ("_km2", "km²"),
    ("_m2", "m²"),
    ("_mm", "mm"),
    ("_days", "d"),
    ("_s", "s"),
    ("_m", "m"),
)

#: Names that read better than their column, without the unit suffix, for daily series and
#: parameters (metrics have theirs in the metric registry).
_NAMES = {
    "energy": "Energy",
    "deficit": "Deficit",
    "supply": "Supply",
    "demand": "Demand",
    "release": "Release",
    "turbine": "Turbine flow",
    "turbine_flow": "Turbine flow",
    "spill": "Spill",
    "inflow": "Inflow",
    "evaporation": "Evaporation",
    "precipitation": "Precipitation",
    "seepage": "Seepage",
    "withdrawal": "Withdrawal",
    "storage": "Storage",
    "level": "Level",
    "head": "Head",
    "power": "Power",
    "inflow.scale": "Inflow scale",
    "target": "Target power",
    "min_release": "Minimum release",
    "max_release": "Maximum release",
    "ensemble.inflow_cv": "Inflow CV",
}

#: Dimensionless columns (no unit suffix).
_DIMENSIONLESS = re.compile(r"(reliability|resilience|scale|factor|fraction|cv|efficiency|share|ratio|member)$")
_COUNTS = re.compile(r"(^days_|_days$)")


def label_for(column: str) -> str:
    """Axis label with unit in brackets for a column or parameter name.

    The unit comes from the suffix (DESIGN.md "Units"); levels are in m a.s.l.; ratios,
    scales and factors are dimensionless ``[-]``; day counts are ``[d]``. Dotted parameter
    paths are shortened: ``"regimes.irrigation-first.hedging.factor"`` →
    ``"Hedging factor (irrigation-first) [-]"``; per-user summary columns
    ``"<user>.<metric>"`` name the user in parentheses.

    Examples
    --------
    >>> label_for("energy_gwh"), label_for("deficit_hm3"), label_for("level_end_m")
    ('Energy [GWh]', 'Deficit [hm³]', 'End level [m a.s.l.]')
    >>> label_for("inflow.scale"), label_for("reliability_volume")
    ('Inflow scale [-]', 'Volumetric reliability [-]')
    """
    col = str(column)
    metric = _metric_of(col)
    if metric is not None:
        owner = col.split(".")[0] if "." in col else None
        return f"{metric.label}{f' ({owner})' if owner else ''} [{metric.unit}]"
    if col in _NAMES:
        name, stem = _NAMES[col], col
        unit = None
    else:
        owner = None
        parts = col.split(".")
        if len(parts) >= 3 and parts[0] in ("regimes", "demand"):
            owner, parts = parts[1], parts[2:]
        elif len(parts) >= 2 and parts[0] in ("reservoir", "plant", "losses", "ensemble", "period", "scenario"):
            parts = parts[1:]
        elif len(parts) == 2 and parts[0] not in ("inflow", "demand"):
            owner, parts = parts[0], parts[1:]  # "<user>.<metric>" summary columns
        last = parts[-1]
        stem, unit = last, None
        if not _COUNTS.search(last):
            for suffix, u in _SUFFIX_UNITS:
                if last.endswith(suffix) and len(last) > len(suffix):
                    stem, unit = last[: -len(suffix)], u
                    break
        full_stem = "_".join(parts[:-1] + [stem])
        name = _NAMES.get(full_stem) or _NAMES.get(stem)
        if name is None:
            words = " ".join(p.replace("_", " ").replace("-", " ") for p in parts[:-1] + [stem])
            name = words[:1].upper() + words[1:]
        if owner is not None:
            name = f"{name} ({owner})"
    if unit is None:
        unit = "d" if _COUNTS.search(stem) else "-"
    if unit == "m" and "level" in stem:
        unit = "m a.s.l."
    return f"{name} [{unit}]"


def _metric_of(column: str):
    """The registered metric a column holds (``<metric>``, or ``<user>.<metric>`` of a per-user
    metric), or None."""
    owner, _, name = column.rpartition(".")
    metric = metric_registry.get(name)
    if metric is None or (owner and (not metric.per_user or "." in owner)):
        return None
    return metric


def _unit_of(column: str) -> str:
    label = label_for(column)
    return label[label.rindex("[") + 1 : -1]


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _as_dict(results) -> dict:
    """Results as an ordered dict name → SimulationResult."""
    if isinstance(results, SimulationResult):
        return {results.regime or "result": results}
    if isinstance(results, dict):
        if not results:
            raise ValueError("no results to plot")
        return dict(results)
    out = {}
    for r in results:
        out[r.regime or f"regime {len(out) + 1}"] = r
    if not out:
        raise ValueError("no results to plot")
    return out


def _daily(result: SimulationResult) -> dict:
    if result.daily is None:
        raise ValueError(
            f"regime {result.regime!r}: daily series were not kept (simulate with keep_daily=True)"
        )
    return result.daily


def regime_colors(names) -> dict:
    """Colour of each regime: the Okabe–Ito palette in order (repeats after 8)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def _new_ax(ax, figsize=(9.0, 4.8)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _style(ax, grid_axis="both"):
    ax.grid(True, axis=grid_axis, color="#d9d9d9", linewidth=0.6, alpha=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _date_axis(ax):
    """Months as major ticks (labelled), decades (1st, 11th, 21st) as minor ticks.

    When the axis spans more than one calendar year, January ticks also carry the year
    (``"Jan\\n2025"``) so that a water year (October–September) reads unambiguously.

    The ticks are those of ``MonthLocator()`` and ``DayLocator(bymonthday=[11, 21])``,
    computed with numpy date arithmetic instead of dateutil rules (`_MonthDayLocator`),
    which made up a large part of the time to save a figure.
    """
    ax.xaxis.set_major_locator(_MonthDayLocator((1,)))
    ax.xaxis.set_major_formatter(_MonthFormatter())
    ax.xaxis.set_minor_locator(_MonthDayLocator((11, 21)))
    ax.tick_params(axis="x", which="minor", length=3)
    ax.tick_params(axis="x", which="major", length=6)


def _date_epoch():
    import matplotlib.dates as mdates

    return np.datetime64(mdates.get_epoch(), "D")


def _month_days(vmin, vmax, days):
    """Matplotlib date numbers of the given days of every month within ``[vmin, vmax]``
    (the two ends when there are none)."""
    vmin, vmax = sorted((float(vmin), float(vmax)))
    if not (np.isfinite(vmin) and np.isfinite(vmax)):
        return np.array([])
    epoch = _date_epoch()
    first = (epoch + int(np.floor(vmin))).astype("datetime64[M]")
    last = (epoch + int(np.floor(vmax))).astype("datetime64[M]")
    months = np.arange(first, last + 1).astype("datetime64[D]")
    out = np.sort(np.concatenate([(months + (d - 1) - epoch).astype(float) for d in days]))
    out = out[(out >= vmin) & (out <= vmax)]
    return out if out.size else np.array([vmin, vmax])  # as matplotlib's date locators do


_MONTH_ABBR = [datetime.date(2001, m, 1).strftime("%b") for m in range(1, 13)]


class _MonthDayLocator(Locator):
    """Ticks on fixed days of every month (``(1,)`` ≙ ``MonthLocator()``), from numpy dates."""

    def __init__(self, days):
        self.days = tuple(days)

    def __call__(self):
        return self.tick_values(*self.axis.get_view_interval())

    def tick_values(self, vmin, vmax):
        return _month_days(vmin, vmax, self.days)


class _MonthFormatter(Formatter):
    """``"%b"`` of each month tick; January also gets the year when the axis spans years."""

    @staticmethod
    def _years_months(values):
        days = _date_epoch() + np.floor(np.asarray(values, dtype=float)).astype("int64")
        months = days.astype("datetime64[M]").astype("int64")  # months since 1970-01
        return months // 12 + 1970, months % 12

    def format_ticks(self, values):
        if len(values) == 0:
            return []
        lo, hi = sorted(self.axis.get_view_interval())
        bounds, _ = self._years_months([lo, hi - 1e-6])
        several_years = bounds[0] != bounds[1]
        years, months = self._years_months(values)
        return [f"{_MONTH_ABBR[m]}\n{y}" if several_years and m == 0 else _MONTH_ABBR[m]
                for y, m in zip(years, months)]

    def __call__(self, x, pos=None):
        return self.format_ticks([x])[0]


def _year_text(dates) -> str:
    years = sorted({int(str(d)[:4]) for d in (dates[0], dates[-1])})
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def _renderer(fig):
    """A renderer to measure text with (the figure's canvas, or an Agg canvas)."""
    try:
        return fig.canvas.get_renderer()
    except AttributeError:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        return FigureCanvasAgg(fig).get_renderer()


_DPI_SAFETY = 0.9


def _text_width_px(fig, text, fontsize, fontweight="normal"):
    return _text_width_at(str(text), float(fontsize), str(fontweight), float(fig.dpi))


@functools.lru_cache(maxsize=8192)
def _text_width_at(text, fontsize, fontweight, dpi):
    """Width [px] of one line of `text` as the Agg renderer draws it at `dpi` (cached)."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(size=fontsize, weight=fontweight)
    w, _, _ = RendererAgg(1, 1, dpi).get_text_width_height_descent(text, prop, ismath=False)
    return w


@functools.lru_cache(maxsize=4096)
def _char_advance(char, fontsize, fontweight, dpi):
    """Approximate advance [px] of one character (its width between two x's)."""
    return (_text_width_at(f"x{char}x", fontsize, fontweight, dpi)
            - _text_width_at("xx", fontsize, fontweight, dpi))


def _wrap_to_width(fig, text, width_frac, *, fontsize, fontweight="normal", max_lines=3, ellipsis="…"):
    """Wrap `text` into lines no wider than `width_frac` of the figure width.

    Whitespace (including newlines from multi-line TOML strings) is collapsed first. Words
    longer than a line are broken. When more than `max_lines` lines are needed, the last
    kept line ends with `ellipsis`.

    Each line takes as many words as fit (greedy). Measuring text is slow (~15 µs per
    character), so the number of words is first estimated from per-character advances and
    then confirmed with one or two exact measurements: the lines are those of the plain
    word-by-word greedy loop.

    Returns
    -------
    list of str
    """
    words = str(text).split()
    if not words:
        return []
    # Hinted text widths do not scale exactly with dpi (up to ~7 % wider at 110 than at
    # 100 dpi): keep a margin so that the text fits at any dpi it is saved at.
    limit = fig.bbox.width * width_frac * _DPI_SAFETY
    key = (float(fontsize), str(fontweight), float(fig.dpi))

    def fits(s):
        return _text_width_at(s, *key) <= limit

    def estimate(s):
        return sum(_char_advance(c, *key) for c in s)

    lines, current, i = [], "", 0
    while True:
        # The most words after `current` that fit: estimated, then checked exactly.
        head = [current] if current else []
        width = estimate(current)
        k = 0
        while i + k < len(words):
            width += estimate((" " if head or k else "") + words[i + k])
            if width > limit:
                break
            k += 1
        while k > 0 and not fits(" ".join(head + words[i:i + k])):
            k -= 1
        while i + k < len(words) and fits(" ".join(head + words[i:i + k + 1])):
            k += 1
        current = " ".join(head + words[i:i + k])
        i += k
        if i == len(words):
            break
        if current:
            lines.append(current)
        pieces, current = _break_word(words[i], fits)
        lines += pieces
        i += 1
    lines.append(current)
    return _cut_lines(lines, max_lines, fits, ellipsis)


def _break_word(word, fits):
    """A word wider than a line: the full lines (ending in "-") it fills, and the rest."""
    lines = []
    while not fits(word):
        cut = len(word) - 1
        while cut > 1 and not fits(word[:cut] + "-"):
            cut -= 1
        lines.append(word[:cut] + "-")
        word = word[cut:]
    return lines, word


def _cut_lines(lines, max_lines, fits, ellipsis):
    """At most `max_lines` lines, the last ending with `ellipsis` when lines were dropped."""
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and not fits(last + ellipsis):
            last = last[:-1]
        lines[-1] = last.rstrip(" ,;:.-") + ellipsis
    return lines


def _footnote(fig, text, y=0.005, fontsize=7):
    """Small note at the bottom of the figure, wrapped to its width.

    Under constrained layout the axes are kept above the note, so that it never covers the
    axis labels or a legend under the axes.
    """
    if not text:
        return None
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    lines = _wrap_to_width(fig, text, 0.98, fontsize=fontsize, max_lines=4)
    t = fig.text(0.01, y, "\n".join(lines), ha="left", va="bottom", fontsize=fontsize, color="#555555")
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        bb = t.get_window_extent(_renderer(fig))
        bottom = min(0.3, bb.y1 / fig.bbox.height + 0.01)
        engine.set(rect=(0.0, bottom, 1.0, 1.0 - bottom))
    return t


def _decade_keys(dates):
    dates = np.asarray(dates).astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    dec0 = np.minimum((day - 1) // 10, 2)
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


def _decade_sums(dates, values):
    starts, edges, index = decade_groups(dates)
    v = np.asarray(values, dtype=float)
    flat = v.reshape(v.shape[0], -1)
    sums = np.zeros((starts.size, flat.shape[1]))
    np.add.at(sums, index, flat)
    return edges, sums.reshape((starts.size,) + v.shape[1:])


def _as_2d(v):
    v = np.asarray(v, dtype=float)
    return v[:, None] if v.ndim == 1 else v


def _line_with_bands(ax, x, values, color, label, *, step=False, linestyle="-", linewidth=1.8, bands=True, zorder=3,
                     outer_lines=False):
    """Median line and 10–90 %, 25–75 % bands over members (axis 1); a plain line for one member."""
    v = _as_2d(values)
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


def _legend_right(ax, handles, labels, **kw):
    """Legend outside the axes, to the right, so that it never covers data."""
    return ax.legend(handles, labels, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                     borderaxespad=0.0, **kw)


def _widths(results, widest=3.2, narrowest=1.4):
    """Line width per regime, decreasing in plot order so that identical lines stay visible."""
    n = len(results)
    if n == 1:
        return {name: 2.0 for name in results}
    return {name: widest - (widest - narrowest) * i / (n - 1) for i, name in enumerate(results)}


def _outer_lines(results) -> bool:
    """Outline (not fill) the 10–90 % bands when several regimes share an axes."""
    return len(results) > 1


def _band_legend_handles(results, colors=None):
    """Legend entries explaining the ensemble bands, if any result is an ensemble."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if not any(r.n_members > 1 for r in results.values()):
        return []
    if _outer_lines(results):
        return [
            Patch(facecolor="#888888", alpha=0.35, label="25–75 % of members"),
            Line2D([], [], color="#555555", linewidth=0.9, linestyle=(0, (1, 1.2)), label="10–90 % of members"),
        ]
    return [
        Patch(facecolor="#888888", alpha=0.45, label="25–75 % of members"),
        Patch(facecolor="#888888", alpha=0.18, label="10–90 % of members"),
    ]


def _ensemble_note(results) -> str:
    n = max(r.n_members for r in results.values())
    return f" — ensemble of {n} members" if n > 1 else ""


def _limits_from(reservoir, limits):
    if limits is not None:
        return dict(limits)
    if reservoir is None:
        return {}
    out = {}
    for key, attr in (("min", "min_level_m"), ("normal", "normal_level_m"), ("max", "max_level_m")):
        v = np.asarray(getattr(reservoir, attr, np.nan), dtype=float)
        if v.size and np.all(np.isfinite(v)):
            out[key] = float(np.median(v))
    return out


_LIMIT_NAMES = {"min": "Minimum operating level", "normal": "Normal pool level", "max": "Maximum level"}
_LIMIT_STYLES = {"min": (0, (4, 2)), "normal": "-", "max": (0, (1, 1.5))}


# --------------------------------------------------------------------------------------
# Time-series plots
# --------------------------------------------------------------------------------------


def _finish_time_axes(ax, results, colors, title, legend, footnote):
    """Date ticks, style, title, the legend (with ensemble bands) right of the axes, footnote."""
    _date_axis(ax)
    _style(ax)
    ax.set_title(title)
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        extra = _band_legend_handles(results, colors)
        _legend_right(ax, handles + extra, labels + [h.get_label() for h in extra])
    _footnote(ax.figure, footnote)
    return ax


def _downstream(result, key):
    """Daily ``"demand"`` or ``"deficit"`` of the users downstream of the dam, summed, shape
    (n_steps, n_members) [m³/s]: what the release serves (the totals count the users at the
    reservoir too)."""
    _daily(result)
    total = np.zeros((result.n_steps, result.n_members))
    for name, location, _ in result.users:
        if location == "downstream":
            u = result.user_daily[name]
            dem = np.broadcast_to(u["demand_m3s"], total.shape)
            total = total + (dem if key == "demand" else np.maximum(dem - u["supply_m3s"], 0.0))
    return total


def plot_release(results, ax=None, demand=True, *, title=None, legend=True, footnote=None):
    """Release schedule of every regime by decade, against total downstream demand.

    Parameters
    ----------
    results : dict of str → SimulationResult, or SimulationResult
        The regimes (daily series kept).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    demand : bool
        Draw the total downstream demand (decadal mean of the first result's downstream
        users' demand) as a black dashed step.
    title, footnote : str, optional
        Title (a default is given) and a small source/assumption note under the figure.
    legend : bool
        Draw a legend.

    Returns
    -------
    matplotlib Axes
        Decadal means as steps [m³/s]; ensembles as median and percentile bands.
    """
    results = _as_dict(results)
    ax = _new_ax(ax)
    colors = regime_colors(results)
    first = next(iter(results.values()))
    widths = _widths(results)
    for name, r in results.items():
        d = _daily(r)
        _, means = decade_means(r.dates, d["release_m3s"])
        _, edges, _ = decade_groups(r.dates)
        _line_with_bands(ax, edges, means, colors[name], name, step=True, linewidth=widths[name],
                         outer_lines=_outer_lines(results))
    if demand:
        _, means = decade_means(first.dates, _downstream(first, "demand"))
        _, edges, _ = decade_groups(first.dates)
        _line_with_bands(ax, edges, means, REFERENCE_COLOR, "Total downstream demand", step=True,
                         linestyle=(0, (5, 2)), linewidth=1.5, bands=False, zorder=4)
    _, edges, _ = decade_groups(first.dates)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylabel("Release [m³/s]")
    ax.set_xlabel(f"Decade ({_year_text(first.dates)}; ticks at days 1, 11, 21)")
    ax.set_ylim(bottom=0)
    return _finish_time_axes(ax, results, colors, title or f"Release by decade vs downstream demand{_ensemble_note(results)}",
                             legend, footnote)


def plot_level(results, ax=None, reservoir=None, guide_curves=None, *, limits=None, title=None, legend=True,
               footnote=None):
    """End-of-day reservoir level per regime, with operating limits and guide curves.

    Parameters
    ----------
    results : dict of str → SimulationResult, or SimulationResult
        The regimes.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    reservoir : sim.Reservoir, optional
        Source of the limits when `limits` is not given.
    guide_curves : dict of str → array_like, shape (n_days,), optional
        Target level per regime name (drawn dashed in the regime's colour). [m a.s.l.]
    limits : dict, optional
        ``{"min": 340.5, "normal": 347.5, "max": 349.0}`` (any subset). [m a.s.l.]

    Returns
    -------
    matplotlib Axes
    """
    results = _as_dict(results)
    ax = _new_ax(ax)
    colors = regime_colors(results)
    first = next(iter(results.values()))
    widths = _widths(results)
    for name, r in results.items():
        _line_with_bands(ax, r.dates, _daily(r)["level_m"], colors[name], name, linewidth=widths[name],
                         outer_lines=_outer_lines(results))
    for name, curve in (guide_curves or {}).items():
        color = colors.get(name, REFERENCE_COLOR)
        c = np.asarray(curve, dtype=float)
        ax.plot(first.dates[: c.size], c[: first.dates.size], color=color, linestyle=(0, (2, 2)), linewidth=1.2,
                label=f"{name}: guide curve", zorder=2)
    lim = _limits_from(reservoir, limits)
    x_end = first.dates[-1] + 1
    for key in ("max", "normal", "min"):
        if key in lim and lim[key] is not None:
            ax.axhline(lim[key], color=REFERENCE_COLOR, linewidth=0.9, linestyle=_LIMIT_STYLES.get(key, "--"),
                       zorder=1)
            ax.annotate(f"{_LIMIT_NAMES.get(key, key)} {lim[key]:.1f} m", xy=(x_end, lim[key]),
                        xytext=(-2, 2 if key != "min" else -2), textcoords="offset points",
                        ha="right", va="bottom" if key != "min" else "top", fontsize=7, color=REFERENCE_COLOR)
    # Leave room for the limit lines and their labels.
    lo, hi = ax.get_ylim()
    vals = [v for v in lim.values() if v is not None]
    if vals:
        lo, hi = min(lo, min(vals) - 0.6), max(hi, max(vals) + 0.4)
        ax.set_ylim(lo, hi)
    ax.set_xlim(first.dates[0], x_end)
    ax.set_ylabel("Level [m a.s.l.]")
    ax.set_xlabel(f"Date ({_year_text(first.dates)})")
    return _finish_time_axes(ax, results, colors, title or f"Reservoir level (end of day){_ensemble_note(results)}",
                             legend, footnote)


def _user_decade_volumes(result):
    """Per user: decade edges, median supply and deficit volumes per decade [hm³]."""
    if result.user_daily is None:
        raise ValueError(f"regime {result.regime!r}: daily series were not kept (simulate with keep_daily=True)")
    out = {}
    edges = None
    for user, d in result.user_daily.items():
        dem = _as_2d(np.broadcast_to(d["demand_m3s"], d["supply_m3s"].shape))
        sup = _as_2d(d["supply_m3s"])
        edges, sup_v = _decade_sums(result.dates, sup * _HM3_PER_M3S_DAY)
        _, def_v = _decade_sums(result.dates, np.maximum(dem - sup, 0.0) * _HM3_PER_M3S_DAY)
        out[user] = (np.median(sup_v, axis=1), np.median(def_v, axis=1))
    return edges, out


def plot_supply_deficit(result, ax=None, *, title=None, legend=True, footnote=None):
    """Supply and deficit by user and decade for one regime (stacked bars).

    Supply of each user is stacked in the user's colour; the deficits of all users are
    stacked on top, red and hatched. Ensembles show the member median of each volume.

    Parameters
    ----------
    result : SimulationResult
        One regime (a one-entry dict is accepted).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        Volumes per decade [hm³].
    """
    if isinstance(result, dict):
        if len(result) != 1:
            raise ValueError("plot_supply_deficit draws one regime; pass one result")
        result = next(iter(result.values()))
    ax = _new_ax(ax)
    edges, vols = _user_decade_volumes(result)
    starts = edges[:-1]
    width = (edges[1:] - edges[:-1]).astype(float) * 0.85
    bottom = np.zeros(starts.size)
    for i, (user, (sup, _)) in enumerate(vols.items()):
        ax.bar(starts, sup, width=width, bottom=bottom, align="edge", color=USER_PALETTE[i % len(USER_PALETTE)],
               edgecolor="white", linewidth=0.4, label=f"Supply: {user}")
        bottom = bottom + sup
    for i, (user, (_, dfc)) in enumerate(vols.items()):
        lab = f"Deficit: {user}" if len(vols) > 1 else "Deficit"
        bars = ax.bar(starts, dfc, width=width, bottom=bottom, align="edge", facecolor="#f4c7c3",
                      edgecolor=DEFICIT_COLOR, hatch="////" if i % 2 == 0 else "\\\\\\\\", linewidth=0.6,
                      label=lab)
        for patch, v in zip(bars, dfc):
            patch.set_visible(bool(v > 0))  # no red hairline on top of fully supplied decades
        bottom = bottom + dfc
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylabel("Volume per decade [hm³]")
    ax.set_xlabel(f"Decade ({_year_text(result.dates)})")
    _date_axis(ax)
    _style(ax, grid_axis="y")
    note = f" — median of {result.n_members} members" if result.n_members > 1 else ""
    ax.set_title(title or f"Supply and deficit by user and decade: {result.regime}{note}")
    ax.set_ylim(0, max(float(np.max(bottom)), 1e-9) * 1.05)
    if legend:
        from matplotlib.patches import Patch

        handles = [Patch(facecolor=USER_PALETTE[i % len(USER_PALETTE)], edgecolor="white", label=f"Supply: {u}")
                   for i, u in enumerate(vols)]
        handles += [Patch(facecolor="#f4c7c3", edgecolor=DEFICIT_COLOR, linewidth=0.6,
                          hatch="////" if i % 2 == 0 else "\\\\\\\\",
                          label=f"Deficit: {u}" if len(vols) > 1 else "Deficit") for i, u in enumerate(vols)]
        _legend_right(ax, handles, [h.get_label() for h in handles])
    _footnote(ax.figure, footnote)
    return ax


def plot_deficits(results, ax=None, *, title=None, legend=True, footnote=None):
    """Total downstream deficit by decade, one bar per regime in each decade.

    Ensembles: bar = member median, whisker = 10–90 % range.

    Returns
    -------
    matplotlib Axes
        Deficit volume per decade [hm³].
    """
    results = _as_dict(results)
    ax = _new_ax(ax)
    colors = regime_colors(results)
    n = len(results)
    first = next(iter(results.values()))
    _, edges, _ = decade_groups(first.dates)
    length = (edges[1:] - edges[:-1]).astype(float)
    group = length * 0.84
    w = group / n
    any_deficit = False
    for i, (name, r) in enumerate(results.items()):
        _, vol = _decade_sums(r.dates, _downstream(r, "deficit") * _HM3_PER_M3S_DAY)
        med = np.median(vol, axis=1)
        any_deficit |= bool(np.any(vol > 0))
        x = edges[:-1].astype("datetime64[h]") + ((length - group) / 2 * 24 + i * w * 24).astype("timedelta64[h]")
        if r.n_members > 1:
            p90 = np.percentile(vol, 90, axis=1)
            ax.bar(x, p90, width=w, align="edge", color=colors[name], alpha=0.28, edgecolor="none")
        ax.bar(x, med, width=w, align="edge", color=colors[name], label=name, edgecolor="white", linewidth=0.3)
    ax.set_xlim(edges[0], edges[-1])
    if not any_deficit:
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, "No deficit in any regime", transform=ax.transAxes, ha="center", va="center",
                color="#555555")
    ax.set_ylabel("Deficit per decade [hm³]")
    ax.set_xlabel(f"Decade ({_year_text(first.dates)})")
    _date_axis(ax)
    _style(ax, grid_axis="y")
    note = " — median (solid), 90th percentile (light)" if any(r.n_members > 1 for r in results.values()) else ""
    ax.set_title(title or f"Downstream deficit by decade{note}")
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        _legend_right(ax, handles, labels)
    _footnote(ax.figure, footnote)
    return ax


def plot_power(results, ax=None, *, energy=True, title=None, legend=True, footnote=None):
    """Daily power per regime, with cumulative energy on a twin axis.

    Returns
    -------
    matplotlib Axes
        The power axes [MW]; the cumulative-energy twin [GWh] is ``ax.energy_ax`` (None
        when ``energy=False``).
    """
    results = _as_dict(results)
    ax = _new_ax(ax)
    colors = regime_colors(results)
    first = next(iter(results.values()))
    twin = ax.twinx() if energy else None
    pw = _widths(results, widest=2.4, narrowest=1.0)
    for name, r in results.items():
        d = _daily(r)
        _line_with_bands(ax, r.dates, _as_2d(d["power_w"]) * 1e-6, colors[name], name, linewidth=pw[name],
                         outer_lines=_outer_lines(results))
        if twin is not None:
            cum = np.cumsum(_as_2d(d["energy_mwh"]), axis=0) * 1e-3
            _line_with_bands(twin, r.dates, cum, colors[name], f"{name}: cumulative energy", linestyle=(0, (4, 2)),
                             linewidth=1.4, bands=False)
    ax.set_ylabel("Power [MW]")
    ax.set_ylim(bottom=0)
    ax.set_xlim(first.dates[0], first.dates[-1] + 1)
    ax.set_xlabel(f"Date ({_year_text(first.dates)})")
    _date_axis(ax)
    _style(ax)
    if twin is not None:
        twin.set_ylabel("Cumulative energy [GWh] (dashed)")
        twin.set_ylim(bottom=0)
        twin.spines["top"].set_visible(False)
    ax.energy_ax = twin
    ax.set_title(title or f"Daily power and cumulative energy{_ensemble_note(results)}")
    if legend:
        from matplotlib.lines import Line2D

        handles, labels = ax.get_legend_handles_labels()
        if twin is not None:
            handles.append(Line2D([], [], color="#555555", linestyle=(0, (4, 2))))
            labels.append("Cumulative energy (right axis)")
        extra = _band_legend_handles(results, colors)
        handles, labels = handles + extra, labels + [h.get_label() for h in extra]
        n = len(handles)
        ncol = -(-n // -(-n // 4))  # at most 4 columns, rows filled evenly
        from matplotlib.layout_engine import ConstrainedLayoutEngine

        if isinstance(ax.figure.get_layout_engine(), ConstrainedLayoutEngine) and len(ax.figure.axes) <= 2:
            # Own figure: a figure legend right of the energy axis, kept clear by the layout.
            ax.figure.legend(handles, labels, fontsize=8, frameon=False, loc="outside right upper")
        else:
            ax.legend(handles, labels, fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.13),
                      ncol=ncol)
    _footnote(ax.figure, footnote)
    return ax


def plot_energy(results, ax=None, *, title=None, annotate_level=True, legend=False, footnote=None):
    """Season energy per regime as bars, with the end-of-season level written on each bar.

    Ensembles: bar = member median, whisker = 10–90 % range.

    Returns
    -------
    matplotlib Axes
        Energy [GWh].
    """
    results = _as_dict(results)
    ax = _new_ax(ax, figsize=(6.0, 4.5))
    colors = regime_colors(results)
    names = list(results)
    x = np.arange(len(names))
    for i, name in enumerate(names):
        r = results[name]
        e = np.asarray(r.metrics["energy_gwh"], dtype=float)
        med = float(np.median(e))
        kw = {}
        top = med
        if e.size > 1:
            p10, p90 = np.percentile(e, [10, 90])
            top = p90
            kw = dict(yerr=[[med - p10], [p90 - med]], error_kw=dict(elinewidth=0.9, capsize=3, ecolor="#333333"))
        ax.bar(x[i], med, width=0.6, color=colors[name], label=name, **kw)
        ax.annotate(f"{med:,.0f} GWh", xy=(x[i], top), xytext=(0, 3), textcoords="offset points", ha="center",
                    va="bottom", fontsize=8, fontweight="bold")
        if annotate_level:
            lv = np.asarray(r.metrics["level_end_m"], dtype=float)
            text = f"end level\n{np.median(lv):.2f} m"
            if lv.size > 1:
                p10, p90 = np.percentile(lv, [10, 90])
                text += f"\n({p10:.1f}–{p90:.1f})"
            ax.text(x[i], med * 0.5 if med > 0 else 0, text, ha="center", va="center", fontsize=7.5, color="white",
                    fontweight="bold",
                    bbox=dict(boxstyle="round,pad=0.2", facecolor="black", alpha=0.25, linewidth=0))
    ax.set_xticks(x, names, rotation=0 if len(names) <= 4 else 20, ha="center" if len(names) <= 4 else "right",
                  fontsize=8)
    ax.set_ylabel("Energy [GWh]")
    ax.set_xlabel("Regime [-]")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.08)
    _style(ax, grid_axis="y")
    note = " — median, whiskers 10–90 %" if any(r.n_members > 1 for r in results.values()) else ""
    ax.set_title(title or f"Season energy and end level{note}")
    if legend:
        ax.legend(fontsize=8, frameon=False)
    _footnote(ax.figure, footnote)
    return ax


# --------------------------------------------------------------------------------------
# One-page comparison
# --------------------------------------------------------------------------------------

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
    renderer = _renderer(fig)
    height = fig.bbox.height
    width_frac = 1.0 - 2 * _MARGIN_X
    gap = 6.0 / 72.0 * fig.dpi / height  # 6 pt, as a figure fraction

    def below(artist):
        return artist.get_window_extent(renderer).y0 / height

    title_lines = _wrap_to_width(fig, title, width_frac, fontsize=15, fontweight="bold", max_lines=2)
    t = fig.text(_MARGIN_X, 0.985, "\n".join(title_lines), ha="left", va="top", fontsize=15, fontweight="bold")
    t.set_gid("comparison-title")
    y = below(t) - gap
    if question:
        q_lines = _wrap_to_width(fig, question, width_frac, fontsize=9.5, max_lines=_QUESTION_MAX_LINES)
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
        if legend.get_window_extent(renderer).width <= width_frac * _DPI_SAFETY * fig.bbox.width:
            break
    legend.set_in_layout(False)
    top = below(legend) - gap
    bottom = 0.01
    if notes:
        lines = []
        for note in notes:
            lines += _wrap_to_width(fig, note, width_frac, fontsize=7, max_lines=3)
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
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    results = _as_dict(results)
    colors = regime_colors(results)
    first = next(iter(results.values()))
    ens = _ensemble_note(results)
    notes = []
    if ens:
        notes.append("Ensembles: lines and bars are member medians; shaded 25–75 %"
                     + (", dotted 10–90 %" if _outer_lines(results) else ", light 10–90 %")
                     + " of members; deficit light bars: 90th percentile; energy whiskers and table ranges: 10–90 %.")
    if footnote:
        notes.append(str(footnote))
    # Header (title, question, run line, legend) and notes are placed and measured first;
    # the panels and the table share the rest under constrained layout, so nothing overlaps
    # whatever the length of the question or the number of legend entries.
    fig = plt.figure(figsize=figsize, layout="constrained")
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
    handles += _band_legend_handles(results)
    period = f"{first.dates[0]} to {first.dates[-1]}"
    n_reg = len(results)
    run_line = f"{period} · {n_reg} regime{'s' if n_reg > 1 else ''}{ens.replace(' — ', ' · ')}"
    top, bottom = _comparison_header(fig, title or "Regime comparison", question, run_line, handles, notes)
    fig.get_layout_engine().set(rect=(0.0, bottom, 1.0, top - bottom), h_pad=0.05, w_pad=0.06, hspace=0.03,
                                wspace=0.03)
    return fig


# --------------------------------------------------------------------------------------
# Sweeps and ensembles
# --------------------------------------------------------------------------------------


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
    if _unit_of(metric) == "-" and not big:
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
    ax = _new_ax(ax, figsize=(7.0, 5.2))
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
    ax = _new_ax(ax, figsize=(7.0, 5.2))
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
    _style(ax)
    handles, labels = ax.get_legend_handles_labels()
    _legend_right(ax, handles, labels)
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
    ax = _new_ax(ax, figsize=(7.0, 4.8))
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
    _style(ax)
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
    ax = _new_ax(ax, figsize=(max(7.0, 2.6 * len(params) + 2), 4.6))
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
    _style(ax, grid_axis="y")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    op = "<" if direction == "max" else ">"
    ax.set_title(_wrap_title(title or f"Failure: {label_for(metric)} {op} {threshold:g}, by parameter range "
                             "(labels: failing/all members)"), fontsize=10)
    return ax


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(name)).strip(".-") or "regime"


#: zlib level of the PNG files: the pixels are the same at every level; level 1 encodes in
#: about half the time of PIL's default (6), for files ~15 % larger.
PNG_COMPRESS_LEVEL = 1


def _save_png(fig, path, dpi):
    """Save `fig` as a PNG at `dpi` with one layout pass, then close it.

    ``savefig`` of a figure with a layout engine first draws the whole figure without
    rendering to run the layout, then draws it again to render. Running the layout engine
    directly at the saving dpi and removing it before saving skips that extra draw; the
    pixels are the same.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    try:
        engine = fig.get_layout_engine()
        screen_dpi = fig.dpi
        fig.dpi = dpi
        try:
            # The renderer savefig will draw with (the canvas keeps one per size and dpi).
            _FontHeights.attach(fig.canvas.get_renderer())
            if engine is not None:
                engine.execute(fig)
        finally:
            fig.dpi = screen_dpi
        if engine is not None:
            # No layout engine at all: with a placeholder engine savefig would still draw once
            # without rendering. The rc settings keep None from meaning a default engine.
            with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
                fig.set_layout_engine(None)
        fig.savefig(path, dpi=dpi, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    finally:
        plt.close(fig)


class _FontHeights:
    """Cached font height metrics for a renderer.

    matplotlib (>= 3.10) looks up the font file and reads its OS/2 or hhea table for every
    layout of every text, several times per text and figure, unless the renderer answers
    ``_get_font_height_metrics(prop)``. This gives the same numbers from a cache (per font
    properties and dpi). It is attached to the renderers of the figures we save, only.
    """

    _cache: dict = {}

    def __init__(self, dpi):
        self.dpi = dpi

    @classmethod
    def attach(cls, renderer):
        from matplotlib.font_manager import fontManager

        if hasattr(fontManager, "_find_fonts_by_props") and hasattr(renderer, "dpi"):
            renderer._get_font_height_metrics = cls(renderer.dpi)

    def __call__(self, prop):
        key = (prop, self.dpi)
        if key not in self._cache:
            self._cache[(prop.copy(), self.dpi)] = self._measure(prop, self.dpi)
        return self._cache[key]

    @staticmethod
    def _measure(prop, dpi):
        # As matplotlib.text.Text._get_layout does without the hook.
        from matplotlib.font_manager import fontManager, get_font

        font = get_font(fontManager._find_fonts_by_props(prop))
        for table_name, gap_key, ascent_key, descent_key in (
            ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
            ("hhea", "lineGap", "ascent", "descent"),
        ):
            table = font.get_sfnt_table(table_name)
            if table is None:
                continue
            scale = 1 / font.get_sfnt_table("head")["unitsPerEm"] * prop.get_size_in_points() * dpi / 72
            return table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale
        return None, None, None


#: Environment variable: number of processes that render plots (1: all in this process).
WORKERS_ENV = "BAKHRI_PLOT_WORKERS"


def _can_fork() -> bool:
    # fork is missing on Windows and unsafe with macOS system frameworks.
    return hasattr(os, "fork") and sys.platform != "darwin"


def plot_workers(workers=None, n_jobs=None) -> int:
    """Number of processes that render plots: `workers`, else ``$BAKHRI_PLOT_WORKERS``, else
    the usable CPU cores (at most 4); never more than `n_jobs`, and 1 where processes cannot
    be forked."""
    if workers is None:
        env = os.environ.get(WORKERS_ENV, "").strip()
        if env:
            try:
                workers = int(env)
            except ValueError:
                raise ValueError(f"${WORKERS_ENV} is {env!r}; expected a whole number >= 1") from None
        else:
            try:
                workers = min(len(os.sched_getaffinity(0)), 4)
            except AttributeError:
                workers = min(os.cpu_count() or 1, 4)
    workers = max(1, int(workers))
    if n_jobs is not None:
        workers = min(workers, max(1, n_jobs))
    return workers if _can_fork() else 1


def _shares(weights, n):
    """Split job indices over `n` processes, heaviest first onto the least loaded (LPT)."""
    loads = [0.0] * n
    shares = [[] for _ in range(n)]
    for i in sorted(range(len(weights)), key=lambda i: -weights[i]):
        k = loads.index(min(loads))
        shares[k].append(i)
        loads[k] += weights[i]
    return [sorted(s) for s in shares]


def _run_share(jobs, share, plots, dpi):
    for i in share:
        name, make, _ = jobs[i]
        _save_png(make(), plots / name, dpi)


def _end_with_parent(parent):
    """In a forked child: be sent SIGTERM when the parent process ends (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request was made
        os._exit(1)


def _fork_share(jobs, share, plots, dpi):
    """Render `share` in a forked child; return its pid.

    The child inherits the results and the plot functions (nothing is pickled), writes its
    files and leaves with ``os._exit`` (status 0 when all were written), so that none of the
    parent's cleanup (e.g. removing a temporary output folder) runs in it. Ctrl-C and SIGTERM
    end it at once, and so does the end of the parent, even by SIGKILL (Linux).
    """
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # child
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _end_with_parent(parent)
            _run_share(jobs, share, plots, dpi)
            status = 0
        except BaseException:
            pass  # the parent renders this share again and reports the error itself
        finally:
            os._exit(status)
    return pid


def _exited_cleanly(pid) -> bool:
    """Wait for child `pid`; True if it exited with status 0 (False when it cannot be told,
    e.g. when SIGCHLD is ignored and the system reaped it)."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return False
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def write_pngs(out_dir, jobs, dpi=150, *, workers=None) -> list[Path]:
    """Render figures and write them to ``out_dir/plots/``, in parallel processes if possible.

    Parameters
    ----------
    out_dir : path-like
    jobs : list of (str, callable, float)
        ``(file name, make, weight)``: ``make()`` returns the `Figure` to save; `weight` is
        its relative cost, used to balance the processes.
    dpi : float
    workers : int, optional
        Processes to use (`plot_workers`). With more than one, the jobs are shared out and
        all but the first share are rendered in forked children (Linux and other POSIX
        systems but macOS); elsewhere, or with one worker, all are rendered here in turn.
        A child that fails has its share rendered again here, so errors are raised from
        this process as in a serial run. Children are ended and reaped on any exception,
        Ctrl-C included.

    Returns
    -------
    list of Path
        The files, in the order of `jobs`.
    """
    plots = Path(out_dir) / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    n = plot_workers(workers, len(jobs))
    shares = _shares([w for _, _, w in jobs], n)
    children = {}
    here = list(shares[0])
    try:
        for share in filter(None, shares[1:]):
            try:
                children[_fork_share(jobs, share, plots, dpi)] = share
            except OSError:  # no process to be had (e.g. EAGAIN): render the share here
                here.extend(share)
        _run_share(jobs, sorted(here), plots, dpi)
        failed = []
        while children:
            pid = next(iter(children))
            if not _exited_cleanly(pid):
                failed.extend(children[pid])
            del children[pid]
        _run_share(jobs, sorted(failed), plots, dpi)
    finally:
        for pid in children:  # still running: we are leaving on an exception
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            _exited_cleanly(pid)
    return [plots / name for name, _, _ in jobs]


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
    results = _as_dict(results)

    def supply(r):
        return lambda: plot_supply_deficit(r, footnote=footnote).figure

    # Weights: CPU time relative to a one-axes plot (baseline scenario: ~0.19 s each, the
    # comparison page ~0.86 s), so that the processes finish together.
    jobs = [
        ("release.png", lambda: plot_release(results, footnote=footnote).figure, 1.0),
        ("level.png", lambda: plot_level(results, reservoir=reservoir, guide_curves=guide_curves, limits=limits,
                                         footnote=footnote).figure, 1.0),
    ]
    jobs += [(f"supply_deficit_{_safe_name(name)}.png", supply(r), 1.0) for name, r in results.items()]
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
    """
    table = sweep_result.table
    suffix = f" — {title}" if title else ""
    part = functools.partial

    jobs = [("tradeoff.png", part(_figure_of, plot_tradeoff, table, x="deficit_hm3", y="energy_gwh", by="regime",
                                  title=f"Energy–irrigation trade-off across the sweep{suffix}"), 1.0)]
    for metric, name in (("deficit_hm3", "deficit"), ("energy_gwh", "energy")):
        values = {regime: r.metrics[metric] for regime, r in sweep_result.results.items()}
        jobs.append((f"exceedance_{name}.png", part(
            _figure_of, plot_exceedance, values, xlabel=label_for(metric), column=metric,
            title=f"Exceedance of season {label_for(metric).split(' [')[0].lower()}{suffix}"), 1.0))
    params = list(sweep_result.parameters)
    if len(params) >= 2:
        for metric in ("reliability_volume", "deficit_hm3", "energy_gwh"):
            for regime in sweep_result.results:
                jobs.append((f"heatmap_{metric}_{_safe_name(regime)}.png", part(
                    _figure_of, plot_sweep_heatmap, table, params[0], params[1], metric, regime=regime), 1.0))
    if params:
        jobs.append(("failure_ranges.png", part(_figure_of, plot_failure_ranges, table, params,
                                                metric="reliability_volume", threshold=0.9), 1.0))
    return write_pngs(out_dir, jobs, dpi, workers=workers)
