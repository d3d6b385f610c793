"""A Python callable as the rule: ``rule(day, **params)`` returns the release [m³/s].

The release is a scalar or an array of shape ``(n_members,)``; `day` is a `Day`. The engine
runs such a regime one day at a time: its kernel's losses (phase PRE), the callable, then the
limits and the rest of the day (phase POST) (sim.engine.kernels.advance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Day", "python_step"]


@dataclass(frozen=True)
class Day:
    """What a rule knows when it decides a day's release (all arrays shape (n_members,)).

    Attributes
    ----------
    t : int
        Day index in the period (0-based).
    date : numpy.datetime64
        The day.
    storage_m3 : ndarray
        Storage at the start of the day. [m³]
    level_m : ndarray
        Level at the start of the day. [m a.s.l.]
    inflow_m3s : ndarray
        Today's inflow. [m³/s]
    net_loss_m3s : ndarray
        Today's losses as taken: evaporation + seepage + withdrawals − precipitation. [m³/s]
    demand_m3s : ndarray
        Today's total downstream demand. [m³/s]
    lateral_inflow_m3s : ndarray
        Today's lateral inflow between the dam and the intakes. [m³/s]
    reach_loss_fraction : ndarray
        Share of the outflow lost in the reach. [-]
    previous_release_m3s : ndarray
        Yesterday's release (NaN on the first day unless the regime gives one). [m³/s]
    turbine_max_flow_m3s : ndarray
        Maximum flow of today's available units. [m³/s]
    capacity_w : ndarray
        Generator capacity of today's available units. [W]
    min_storage_m3 : ndarray
        Storage at the minimum operating level. [m³]
    model : object
        The engine's model (hypsometry, tailwater, plant), for rules that need them.
    """

    t: int
    date: Any
    storage_m3: np.ndarray
    level_m: np.ndarray
    inflow_m3s: np.ndarray
    net_loss_m3s: np.ndarray
    demand_m3s: np.ndarray
    lateral_inflow_m3s: np.ndarray
    reach_loss_fraction: np.ndarray
    previous_release_m3s: np.ndarray
    turbine_max_flow_m3s: np.ndarray
    capacity_w: np.ndarray
    min_storage_m3: np.ndarray
    model: Any = field(repr=False)


def python_step(rule, params):
    """``step(day) -> release_m3s`` of a callable rule with its parameters."""

    def step(day):
        return rule(day, **params)

    return step
