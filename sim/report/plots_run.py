"""The plots of one run: release, level, supply and deficit, power and energy over the season.

Every plot function takes results (``dict[str, SimulationResult]`` keyed by regime name, or
one `SimulationResult`) and ``ax=None`` (a new figure when None), and returns the `Axes`.
"""

from __future__ import annotations

import numpy as np

from sim.physics import units
from sim.report.bands import (
    as_2d,
    band_legend_handles,
    decade_groups,
    decade_means,
    decade_sums,
    ensemble_note,
    legend_right,
    line_widths,
    line_with_bands,
    outer_lines,
)
from sim.report.style import (
    DEFICIT_COLOR,
    REFERENCE_COLOR,
    USER_PALETTE,
    add_footnote,
    as_results,
    daily_of,
    date_axis,
    new_axes,
    regime_colors,
    style_axes,
    year_text,
)

__all__ = ["plot_deficits", "plot_energy", "plot_level", "plot_power", "plot_release", "plot_supply_deficit"]


#: Daily mean flow [m³/s] to volume [hm³]: 86,400 × 1e-6 (the product, not
#: `units.HM3_PER_M3S_DAY`'s quotient, whose last bit differs: the plots stay as they were).
_HM3_PER_M3S_DAY = units.SECONDS_PER_DAY * units.HM3_PER_M3


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


def _finish_time_axes(ax, results, colors, title, legend, footnote):
    """Date ticks, style, title, the legend (with ensemble bands) right of the axes, footnote."""
    date_axis(ax)
    style_axes(ax)
    ax.set_title(title)
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        extra = band_legend_handles(results, colors)
        legend_right(ax, handles + extra, labels + [h.get_label() for h in extra])
    add_footnote(ax.figure, footnote)
    return ax


def _start(results, ax):
    """What a time-series plot starts from: the results as a dict, the Axes to draw on (a new
    figure when `ax` is None), the regime colours and the first result (its dates)."""
    results = as_results(results)
    return results, new_axes(ax), regime_colors(results), next(iter(results.values()))


def _downstream(result, key):
    """Daily ``"demand"`` or ``"deficit"`` of the users downstream of the dam, summed, shape
    (n_steps, n_members) [m³/s]: what the release serves (the totals count the users at the
    reservoir too)."""
    daily_of(result)
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
    results, ax, colors, first = _start(results, ax)
    widths = line_widths(results)
    for name, r in results.items():
        d = daily_of(r)
        _, means = decade_means(r.dates, d["release_m3s"])
        _, edges, _ = decade_groups(r.dates)
        line_with_bands(ax, edges, means, colors[name], name, step=True, linewidth=widths[name],
                         outer_lines=outer_lines(results))
    if demand:
        _, means = decade_means(first.dates, _downstream(first, "demand"))
        _, edges, _ = decade_groups(first.dates)
        line_with_bands(ax, edges, means, REFERENCE_COLOR, "Total downstream demand", step=True,
                         linestyle=(0, (5, 2)), linewidth=1.5, bands=False, zorder=4)
    _, edges, _ = decade_groups(first.dates)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylabel("Release [m³/s]")
    ax.set_xlabel(f"Decade ({year_text(first.dates)}; ticks at days 1, 11, 21)")
    ax.set_ylim(bottom=0)
    return _finish_time_axes(ax, results, colors, title or f"Release by decade vs downstream demand{ensemble_note(results)}",
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
    results, ax, colors, first = _start(results, ax)
    widths = line_widths(results)
    for name, r in results.items():
        line_with_bands(ax, r.dates, daily_of(r)["level_m"], colors[name], name, linewidth=widths[name],
                         outer_lines=outer_lines(results))
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
    ax.set_xlabel(f"Date ({year_text(first.dates)})")
    return _finish_time_axes(ax, results, colors, title or f"Reservoir level (end of day){ensemble_note(results)}",
                             legend, footnote)


def _user_decade_volumes(result):
    """Per user: decade edges, median supply and deficit volumes per decade [hm³]."""
    if result.user_daily is None:
        raise ValueError(f"regime {result.regime!r}: daily series were not kept (simulate with keep_daily=True)")
    out = {}
    edges = None
    for user, d in result.user_daily.items():
        dem = as_2d(np.broadcast_to(d["demand_m3s"], d["supply_m3s"].shape))
        sup = as_2d(d["supply_m3s"])
        edges, sup_v = decade_sums(result.dates, sup * _HM3_PER_M3S_DAY)
        _, def_v = decade_sums(result.dates, np.maximum(dem - sup, 0.0) * _HM3_PER_M3S_DAY)
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
    ax = new_axes(ax)
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
        for patch, v in zip(bars, dfc, strict=True):
            patch.set_visible(bool(v > 0))  # no red hairline on top of fully supplied decades
        bottom = bottom + dfc
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylabel("Volume per decade [hm³]")
    ax.set_xlabel(f"Decade ({year_text(result.dates)})")
    date_axis(ax)
    style_axes(ax, grid_axis="y")
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
        legend_right(ax, handles, [h.get_label() for h in handles])
    add_footnote(ax.figure, footnote)
    return ax


def plot_deficits(results, ax=None, *, title=None, legend=True, footnote=None):
    """Total downstream deficit by decade, one bar per regime in each decade.

    Ensembles: bar = member median, whisker = 10–90 % range.

    Returns
    -------
    matplotlib Axes
        Deficit volume per decade [hm³].
    """
    results, ax, colors, first = _start(results, ax)
    n = len(results)
    _, edges, _ = decade_groups(first.dates)
    length = (edges[1:] - edges[:-1]).astype(float)
    group = length * 0.84
    w = group / n
    any_deficit = False
    for i, (name, r) in enumerate(results.items()):
        _, vol = decade_sums(r.dates, _downstream(r, "deficit") * _HM3_PER_M3S_DAY)
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
    ax.set_xlabel(f"Decade ({year_text(first.dates)})")
    date_axis(ax)
    style_axes(ax, grid_axis="y")
    note = " — median (solid), 90th percentile (light)" if any(r.n_members > 1 for r in results.values()) else ""
    ax.set_title(title or f"Downstream deficit by decade{note}")
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        legend_right(ax, handles, labels)
    add_footnote(ax.figure, footnote)
    return ax


def plot_power(results, ax=None, *, energy=True, title=None, legend=True, footnote=None):
    """Daily power per regime, with cumulative energy on a twin axis.

    Returns
    -------
    matplotlib Axes
        The power axes [MW]; the cumulative-energy twin [GWh] is ``ax.energy_ax`` (None
        when ``energy=False``).
    """
    results, ax, colors, first = _start(results, ax)
    twin = ax.twinx() if energy else None
    pw = line_widths(results, widest=2.4, narrowest=1.0)
    for name, r in results.items():
        d = daily_of(r)
        line_with_bands(ax, r.dates, as_2d(d["power_w"]) * units.MW_PER_W, colors[name], name, linewidth=pw[name],
                         outer_lines=outer_lines(results))
        if twin is not None:
            cum = np.cumsum(as_2d(d["energy_mwh"]), axis=0) * units.GWH_PER_MWH
            line_with_bands(twin, r.dates, cum, colors[name], f"{name}: cumulative energy", linestyle=(0, (4, 2)),
                             linewidth=1.4, bands=False)
    ax.set_ylabel("Power [MW]")
    ax.set_ylim(bottom=0)
    ax.set_xlim(first.dates[0], first.dates[-1] + 1)
    ax.set_xlabel(f"Date ({year_text(first.dates)})")
    date_axis(ax)
    style_axes(ax)
    if twin is not None:
        twin.set_ylabel("Cumulative energy [GWh] (dashed)")
        twin.set_ylim(bottom=0)
        twin.spines["top"].set_visible(False)
    ax.energy_ax = twin
    ax.set_title(title or f"Daily power and cumulative energy{ensemble_note(results)}")
    if legend:
        from matplotlib.lines import Line2D

        handles, labels = ax.get_legend_handles_labels()
        if twin is not None:
            handles.append(Line2D([], [], color="#555555", linestyle=(0, (4, 2))))
            labels.append("Cumulative energy (right axis)")
        extra = band_legend_handles(results, colors)
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
    add_footnote(ax.figure, footnote)
    return ax


def plot_energy(results, ax=None, *, title=None, annotate_level=True, legend=False, footnote=None):
    """Season energy per regime as bars, with the end-of-season level written on each bar.

    Ensembles: bar = member median, whisker = 10–90 % range.

    Returns
    -------
    matplotlib Axes
        Energy [GWh].
    """
    results = as_results(results)
    ax = new_axes(ax, figsize=(6.0, 4.5))
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
    style_axes(ax, grid_axis="y")
    note = " — median, whiskers 10–90 %" if any(r.n_members > 1 for r in results.values()) else ""
    ax.set_title(title or f"Season energy and end level{note}")
    if legend:
        ax.legend(fontsize=8, frameon=False)
    add_footnote(ax.figure, footnote)
    return ax
