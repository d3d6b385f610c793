"""The reliability family of Hashimoto et al. (1982), from daily series: the oracle definitions.

The engine accumulates these metrics day by day in the kernel (`sim.engine.metrics.standard`
turns its sums into values); the functions here compute them from whole daily series, so the
tests can check the kernel against the definitions. Every function reduces over time (axis 0)
to one value per member, shape ``(n_members,)``.

Definitions (Hashimoto, Stedinger & Loucks 1982, Water Resources Research 18(1):14–20), with a
day a *failure* when its deficit exceeds `DEFICIT_TOLERANCE_M3S`:

- time reliability = share of days without failure (higher is better);
- volumetric reliability = supplied volume / demanded volume (1 where nothing is demanded;
  higher is better);
- resilience = recoveries / failure days, where a recovery is a failure day followed by a day
  without failure (a failure on the last day does not recover; 1 where nothing fails; higher
  is better);
- vulnerability = mean over failure events (runs of consecutive failure days) of the largest
  daily deficit volume in the event [hm³] (0 where nothing fails; lower is better).

Example (DATA.md): demand 10 per day, deficits [0, 0, 2, 4, 0, 0, 1, 0, 0, 0] give time
reliability 0.7, volumetric reliability 0.93, resilience 2/3, vulnerability 2.5.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DEFICIT_TOLERANCE_M3S",
    "reliability_time",
    "reliability_volume",
    "resilience",
    "vulnerability",
    "failure_events",
    "sequent_peak",
]

#: Deficits at or below this are not failures (round-off). [m³/s]
DEFICIT_TOLERANCE_M3S = 1e-6

def _failures(deficit):
    return np.asarray(deficit, dtype=float) > DEFICIT_TOLERANCE_M3S


def reliability_time(deficit_m3s):
    """Share of days without failure, per member (higher is better). [-]"""
    return 1.0 - _failures(deficit_m3s).mean(axis=0)


def reliability_volume(supply, demand):
    """Supplied over demanded volume, per member; 1 where nothing is demanded (higher is better). [-]"""
    s = np.asarray(supply, dtype=float).sum(axis=0)
    d = np.asarray(demand, dtype=float).sum(axis=0)
    return np.divide(s, d, out=np.ones_like(d, dtype=float), where=d > 0)


def resilience(deficit_m3s):
    """Recoveries per failure day, per member; 1 where nothing fails (higher is better). [-]"""
    f = _failures(deficit_m3s)
    recoveries = (f[:-1] & ~f[1:]).sum(axis=0)
    n_fail = f.sum(axis=0)
    return np.divide(recoveries, n_fail, out=np.ones(n_fail.shape), where=n_fail > 0)


def failure_events(deficit_m3s):
    """Event number of each day (1, 2, ... for runs of failure days; 0 outside failures)."""
    f = _failures(deficit_m3s)
    starts = f.copy()
    starts[1:] &= ~f[:-1]
    return np.where(f, np.cumsum(starts, axis=0), 0)


def vulnerability(deficit_m3s, deficit_volume=None):
    """Mean of the largest deficit of each failure event, per member (lower is better).

    Parameters
    ----------
    deficit_m3s : ndarray, shape (n_steps, ...)
        Daily deficit; decides which days fail. [m³/s]
    deficit_volume : ndarray, optional
        The quantity whose event maxima are averaged (e.g. daily deficit volume in hm³);
        defaults to `deficit_m3s` itself.

    Returns
    -------
    ndarray
        0 where nothing fails; in the unit of `deficit_volume`.
    """
    d = np.asarray(deficit_m3s, dtype=float)
    v = d if deficit_volume is None else np.asarray(deficit_volume, dtype=float)
    shape = d.shape[1:]
    d2 = d.reshape(d.shape[0], -1)
    v2 = v.reshape(d2.shape)
    f = d2 > DEFICIT_TOLERANCE_M3S
    # Running maximum within each event, read at each event's last day.
    run_max = np.zeros(d2.shape[1])
    total = np.zeros(d2.shape[1])
    count = np.zeros(d2.shape[1])
    for t in range(d2.shape[0]):
        run_max = np.where(f[t], np.maximum(run_max, v2[t]), 0.0)
        ends = f[t] & (~f[t + 1] if t + 1 < d2.shape[0] else True)
        total += np.where(ends, run_max, 0.0)
        count += ends
    out = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return out.reshape(shape)


def sequent_peak(inflow, demand, cyclic=False):
    """Storage needed to meet a demand from an inflow record (sequent-peak algorithm).

    .. math:: K_t = \\max(0, K_{t-1} + D_t - Q_t), \\qquad \\text{required} = \\max_t K_t

    Parameters
    ----------
    inflow, demand : array_like, shape (n_steps, ...)
        Inflow and demand per period, in the same unit (e.g. hm³ per period, or m³/s for
        equal periods). Demand may be a scalar.
    cyclic : bool
        Treat the record as repeating (the record is passed twice, which suffices when total
        inflow covers total demand); if demand exceeds inflow over the record no finite
        storage suffices and the result is ``inf``.

    Returns
    -------
    ndarray or float
        Required storage, per trailing dimension, in the unit of the inputs.

    Examples
    --------
    Inflow [1, 3, 3, 5, 8, 6, 7, 2, 1], constant demand 3.5: 4.0 in one pass, 7.5 cyclic.
    """
    q = np.asarray(inflow, dtype=float)
    d = np.broadcast_to(np.asarray(demand, dtype=float), q.shape)
    k = np.zeros(q.shape[1:])
    peak = np.zeros(q.shape[1:])
    for _ in range(2 if cyclic else 1):
        for t in range(q.shape[0]):
            k = np.maximum(0.0, k + d[t] - q[t])
            peak = np.maximum(peak, k)
    if cyclic:
        short = d.sum(axis=0) > q.sum(axis=0)
        peak = np.where(short, np.inf, peak)
    return peak[()] if peak.ndim == 0 else peak
