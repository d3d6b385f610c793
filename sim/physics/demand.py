"""Water users, their priorities, and the sharing of what is released.

Downstream users take from the dam outflow after the reach between the dam and their intakes:
``water = outflow × (1 − reach loss fraction) + lateral inflow``. Reservoir users (pumping
stations such as Khojabakirgan and Samgar) take directly from the reservoir. Within each
place, users are served by priority (1 first); users of equal priority share in proportion
to their demands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["User", "LOCATIONS", "allocate", "downstream_water_m3s", "priority_groups"]

LOCATIONS = ("downstream", "reservoir")


@dataclass(frozen=True, eq=False)
class User:
    """A water user with a daily demand.

    Parameters
    ----------
    name : str
        Plain name, e.g. ``"kazakhstan-protocol"``.
    demand_m3s : ndarray, shape (n_steps, 1) or (n_steps, n_members)
        Demand on each day. [m³/s]
    priority : int
        1 is served first; equal priorities share in proportion to demand.
    location : {"downstream", "reservoir"}
        Where the user takes water: below the dam, or directly from the reservoir.
    scale : float or ndarray, shape (n_members,)
        Multiplier of the demand, per member (a swept demand volume is a scale). [-]
    """

    name: str
    demand_m3s: np.ndarray
    priority: int = 1
    location: str = "downstream"
    scale: object = 1.0

    def __post_init__(self):
        if self.location not in LOCATIONS:
            raise ValueError(f"user {self.name}: location is {self.location!r}; expected one of {LOCATIONS}")
        d = np.asarray(self.demand_m3s, dtype=float)
        if d.ndim == 1:
            d = d[:, None]
        if d.ndim != 2:
            raise ValueError(f"user {self.name}: demand must be a daily series")
        if not np.all(np.isfinite(d)) or np.any(d < 0):
            raise ValueError(f"user {self.name}: demand must be finite and >= 0")
        object.__setattr__(self, "demand_m3s", d)
        s = np.asarray(self.scale, dtype=float)
        if s.ndim > 1 or not np.all(np.isfinite(s)) or np.any(s < 0):
            raise ValueError(f"user {self.name}: scale must be a number or per-member array >= 0")
        object.__setattr__(self, "scale", s)


def priority_groups(priorities):
    """Indices of users grouped by priority, most urgent (lowest number) first."""
    priorities = list(priorities)
    return [[i for i, p in enumerate(priorities) if p == level] for level in sorted(set(priorities))]


def allocate(water_m3s, demands_m3s, groups):
    """Share the water among users by priority groups.

    Parameters
    ----------
    water_m3s : ndarray, shape (n_members,)
        Water available to these users. [m³/s]
    demands_m3s : sequence of ndarray, shape (n_members,)
        Demand of each user. [m³/s]
    groups : list of list of int
        User indices by priority, most urgent first (`priority_groups`).

    Returns
    -------
    list of ndarray
        Supply of each user, 0 <= supply <= demand; within a group, in proportion to demand.
        [m³/s]
    """
    left = np.maximum(water_m3s, 0.0)
    supplies = [None] * len(demands_m3s)
    for group in groups:
        if len(group) == 1:
            (i,) = group
            supplies[i] = np.minimum(demands_m3s[i], left)
            left = left - supplies[i]
            continue
        total = sum(demands_m3s[i] for i in group)
        given = np.minimum(total, left)
        share = np.divide(given, total, out=np.zeros_like(given), where=total > 0)
        for i in group:
            supplies[i] = demands_m3s[i] * share
        left = left - given
    return supplies


def downstream_water_m3s(outflow_m3s, reach_loss_fraction, lateral_inflow_m3s):
    """Water reaching the downstream intakes. [m³/s]"""
    return outflow_m3s * (1.0 - reach_loss_fraction) + lateral_inflow_m3s
