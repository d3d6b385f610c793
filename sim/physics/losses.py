"""Losses from the reservoir: evaporation, precipitation, seepage, direct withdrawals.

Depth rates (mm/day) act over the water-surface area at the start of the day. Losses can
never take the reservoir below empty: `cap_losses` takes them in a fixed order (evaporation,
then seepage and other losses, then direct withdrawals) from what the day holds, so a direct
withdrawal that cannot be met becomes a deficit of its user.

Seepage below the minimum operating level: the engine takes seepage only from the water above
that level (as it does releases), so seepage alone never draws the reservoir below it. The
seepage input is in practice a calibrated residual of the operating range (the
``residual-2001-2010`` preset: pumping, gauge error and seepage, up to 110 m³/s in July), which
says nothing about lower levels, and true seepage through the dam falls with the head. Below
the minimum level only evaporation and users at the reservoir keep taking water; the summary
column ``days_below_min_by_losses`` counts the days they take it (further) below.
"""

from __future__ import annotations

import numpy as np

from sim.physics import units

__all__ = ["evaporation_m3s", "precipitation_m3s", "cap_losses", "monthly_mm_to_daily_mm"]


def evaporation_m3s(area_m2, evaporation_mm_day):
    """Open-water evaporation as a flow: depth rate [mm/day] over area [m²] → [m³/s]."""
    return units.mm_day_over_area_to_m3s(evaporation_mm_day, area_m2)


def precipitation_m3s(area_m2, precipitation_mm_day):
    """Precipitation on the water surface as a flow: [mm/day] over [m²] → [m³/s]."""
    return units.mm_day_over_area_to_m3s(precipitation_mm_day, area_m2)


def cap_losses(water_m3s, *losses_m3s):
    """Take losses in order from the water the day holds, never more than is there.

    Parameters
    ----------
    water_m3s : ndarray
        Water the day holds, as a flow: storage / dt + inflow + precipitation. [m³/s]
    *losses_m3s : ndarray
        Requested losses, in the order they are served. [m³/s]

    Returns
    -------
    list of ndarray
        The losses actually taken, each <= its request, their sum <= `water_m3s`. [m³/s]
    """
    left = np.maximum(water_m3s, 0.0)
    taken = []
    for loss in losses_m3s:
        t = np.minimum(loss, left)
        left = left - t
        taken.append(t)
    return taken


def monthly_mm_to_daily_mm(monthly_mm, period):
    """Depth per calendar month [mm/month] → depth per day [mm/day] over a period.

    Each month's depth is spread evenly over all its days (28–31), so every full month keeps
    its total exactly; a period that starts or ends inside a month gets that month's share.

    Parameters
    ----------
    monthly_mm : array_like, shape (12,)
        Depth in each calendar month, January first. [mm/month]
    period : sim.physics.calendar.Period
        The simulated days.

    Returns
    -------
    ndarray, shape (n_days,)
        Depth on each day. [mm/day]
    """
    first = period.dates.astype("datetime64[M]")
    days_in_month = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(float)
    return np.asarray(monthly_mm, dtype=float)[period.month_index] / days_in_month
