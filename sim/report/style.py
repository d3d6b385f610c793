"""Look of the briefing plots: colours, axes, date ticks, text that fits, the footnote.

Each regime keeps its colour in every plot (`regime_colors`: the colour-blind-safe Okabe–Ito
palette in the order of the results); the date axis marks months (and the year once); long
titles and notes are wrapped to the width of the figure, measured with the renderer's fonts.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import sys

import numpy as np
from matplotlib.ticker import Formatter, Locator

from sim.engine.results import SimulationResult

__all__ = [
    "DEFICIT_COLOR", "DPI_SAFETY", "MonthDayLocator", "PALETTE", "REFERENCE_COLOR", "USER_PALETTE",
    "add_footnote", "as_results", "break_word", "cut_lines", "daily_of", "date_axis", "figure_renderer",
    "new_axes", "new_figure", "offscreen", "regime_colors", "style_axes", "text_width_px", "wrap_to_width", "year_text",
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


def as_results(results) -> dict:
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


def daily_of(result: SimulationResult) -> dict:
    """The daily series of `result`; ValueError naming the regime when they were not kept."""
    if result.daily is None:
        raise ValueError(
            f"regime {result.regime!r}: daily series were not kept (simulate with keep_daily=True)"
        )
    return result.daily


def regime_colors(names) -> dict:
    """Colour of each regime: the Okabe–Ito palette in order (repeats after 8)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def new_axes(ax, figsize=(9.0, 4.8)):
    """`ax`, or the Axes of a new figure (constrained layout) when None."""
    if ax is not None:
        return ax
    return new_figure(figsize).subplots()


_OFFSCREEN = [False]


@contextlib.contextmanager
def offscreen():
    """While active, `new_figure` makes figures for files: without pyplot, unless it is loaded."""
    before = _OFFSCREEN[0]
    _OFFSCREEN[0] = True
    try:
        yield
    finally:
        _OFFSCREEN[0] = before


def new_figure(figsize, layout="constrained"):
    """A new figure: pyplot's (notebooks show it), or, for files (`offscreen`) when pyplot is
    not loaded, a bare Figure on an Agg canvas, the same pixels: importing pyplot costs a
    fifth of matplotlib's import, and a figure saved and closed needs none of its machinery."""
    if _OFFSCREEN[0] and "matplotlib.pyplot" not in sys.modules:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, layout=layout)
        FigureCanvasAgg(fig)
        return fig
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize, layout=layout)


def style_axes(ax, grid_axis="both"):
    """The house look: light grid behind the data, no top and right spines."""
    ax.grid(True, axis=grid_axis, color="#d9d9d9", linewidth=0.6, alpha=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def date_axis(ax):
    """Months as major ticks (labelled), decades (1st, 11th, 21st) as minor ticks.

    When the axis spans more than one calendar year, January ticks also carry the year
    (``"Jan\\n2025"``) so that a water year (October–September) reads unambiguously.

    The ticks are those of ``MonthLocator()`` and ``DayLocator(bymonthday=[11, 21])``,
    computed with numpy date arithmetic instead of dateutil rules (`MonthDayLocator`),
    which made up a large part of the time to save a figure.
    """
    ax.xaxis.set_major_locator(MonthDayLocator((1,)))
    ax.xaxis.set_major_formatter(_MonthFormatter())
    ax.xaxis.set_minor_locator(MonthDayLocator((11, 21)))
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


class MonthDayLocator(Locator):
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
                for y, m in zip(years, months, strict=True)]

    def __call__(self, x, pos=None):
        return self.format_ticks([x])[0]


def year_text(dates) -> str:
    """The year of `dates` ("2025"), or their first and last ("2025–2026")."""
    years = sorted({int(str(d)[:4]) for d in (dates[0], dates[-1])})
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def figure_renderer(fig):
    """A renderer to measure text with (the figure's canvas, or an Agg canvas)."""
    try:
        return fig.canvas.get_renderer()
    except AttributeError:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        return FigureCanvasAgg(fig).get_renderer()


DPI_SAFETY = 0.9


def text_width_px(fig, text, fontsize, fontweight="normal"):
    """Width [px] of one line of `text` in `fig` at its dpi."""
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


def wrap_to_width(fig, text, width_frac, *, fontsize, fontweight="normal", max_lines=3, ellipsis="…"):
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
    limit = fig.bbox.width * width_frac * DPI_SAFETY
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
        pieces, current = break_word(words[i], fits)
        lines += pieces
        i += 1
    lines.append(current)
    return cut_lines(lines, max_lines, fits, ellipsis)


def break_word(word, fits):
    """A word wider than a line: the full lines (ending in "-") it fills, and the rest."""
    lines = []
    while not fits(word):
        cut = len(word) - 1
        while cut > 1 and not fits(word[:cut] + "-"):
            cut -= 1
        lines.append(word[:cut] + "-")
        word = word[cut:]
    return lines, word


def cut_lines(lines, max_lines, fits, ellipsis):
    """At most `max_lines` lines, the last ending with `ellipsis` when lines were dropped."""
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and not fits(last + ellipsis):
            last = last[:-1]
        lines[-1] = last.rstrip(" ,;:.-") + ellipsis
    return lines


def add_footnote(fig, text, y=0.005, fontsize=7):
    """Small note at the bottom of the figure, wrapped to its width.

    Under constrained layout the axes are kept above the note, so that it never covers the
    axis labels or a legend under the axes.
    """
    if not text:
        return None
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    lines = wrap_to_width(fig, text, 0.98, fontsize=fontsize, max_lines=4)
    t = fig.text(0.01, y, "\n".join(lines), ha="left", va="bottom", fontsize=fontsize, color="#555555")
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        bb = t.get_window_extent(figure_renderer(fig))
        bottom = min(0.3, bb.y1 / fig.bbox.height + 0.01)
        engine.set(rect=(0.0, bottom, 1.0, 1.0 - bottom))
    return t
