"""The metric registry: every per-member metric of a run, described once.

A `Metric` says what a metric is (name with unit suffix, unit, which way is better, label,
number format), where it shows (the printed table, the comparison page, the sweep table) and
how it is computed from the kernel's sums (a function of a `Context`). Summary columns,
tables, plots, sweeps and streams read the registry, so adding a metric is one `register`
call: it then appears in `SimulationResult.metrics`, summary.csv, sweep tables and, where its
`show` says so, in the printed tables.

Metrics keep the order they were registered in: that is the column order of summary.csv.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

__all__ = [
    "Metric",
    "Context",
    "VIEWS",
    "register",
    "unregister",
    "get",
    "metrics",
    "names",
    "user_names",
    "direction",
    "shown_in",
    "compute",
    "compute_user",
]

#: Where a metric can show: the table `bakhri run` prints, the table on the comparison page
#: (plots), and the percentile table `bakhri sweep` prints.
VIEWS = ("table", "page", "sweep")


@dataclass(frozen=True)
class Context:
    """What a metric is computed from: the kernel's sums at the end of a run.

    Attributes
    ----------
    acc : ndarray, shape (N_SUMMARY, n_members)
        The kernel's summary sums, indexed by `sim.engine.kernels` ``S_*`` (flows summed over
        days in m³/s·day, energy in MWh, storage in m³, counts in days).
    user : ndarray, shape (N_USER_STATS, n_members)
        The per-user sums, indexed by ``U_*``, of all users together (or of one user, see
        `for_user`).
    storage_start_m3, storage_end_m3 : ndarray, shape (n_members,)
        Storage at the start of the first and the end of the last day. [m³]
    level_end_m : ndarray, shape (n_members,)
        Level at the end of the last day. [m a.s.l.]
    hyps : Hypsometry
        The reservoir's level–area–storage tables (for levels of summed storages).
    n_steps : int
        Number of days simulated.
    """

    acc: np.ndarray
    user: np.ndarray
    storage_start_m3: np.ndarray
    storage_end_m3: np.ndarray
    level_end_m: np.ndarray
    hyps: object
    n_steps: int

    def for_user(self, user_sums) -> "Context":
        """The same run, with `user` the sums of one user."""
        return dataclasses.replace(self, user=user_sums)


@dataclass(frozen=True)
class Metric:
    """One per-member metric.

    Attributes
    ----------
    name : str
        Column name, unit suffix included (``"energy_gwh"``).
    unit : str
        Unit as printed in labels (``"GWh"``, ``"m a.s.l."``; ``"-"`` for ratios, ``"d"`` for
        day counts).
    direction : {"max", "min", None}
        Higher is better, lower is better, or neither (descriptive).
    label : str
        Name in axis labels and legends (``"Volumetric reliability"``).
    compute : callable
        ``compute(context) -> ndarray, shape (n_members,)``.
    short : str, optional
        Name in table headers (``"Vol. reliability"``); defaults to `label`.
    fmt : str
        Number format (`str.format`) in tables; `formats` overrides it per view.
    per_user : bool
        Computed from the user sums (`Context.user`): for all users together in the summary,
        and for each user as ``<user>.<name>``.
    show : mapping of view → number
        The `VIEWS` that show the metric; columns are sorted by the number.
    formats : mapping of view → str
        Number format in one view where it differs from `fmt`.
    worst_only : bool
        Tables show the worst member (the largest value) instead of the 10/50/90 % range: a
        check of the run rather than an outcome.
    """

    name: str
    unit: str
    direction: str | None
    label: str
    compute: Callable[[Context], np.ndarray]
    short: str | None = None
    fmt: str = "{:.4g}"
    per_user: bool = False
    show: Mapping[str, float] = field(default_factory=dict)
    formats: Mapping[str, str] = field(default_factory=dict)
    worst_only: bool = False

    def __post_init__(self):
        if self.direction not in ("max", "min", None):
            raise ValueError(f"metric {self.name!r}: direction is {self.direction!r}; expected 'max', 'min' or None")
        unknown = sorted(set(self.show) - set(VIEWS))
        if unknown:
            raise ValueError(f"metric {self.name!r}: unknown views {unknown}; expected some of {list(VIEWS)}")

    @property
    def header_name(self) -> str:
        """Name in table headers."""
        return self.short or self.label

    @property
    def plain_unit(self) -> str:
        """Unit without its datum, for plain-text tables (``"m a.s.l."`` → ``"m"``)."""
        return self.unit.split(" ")[0]

    def format_in(self, view: str) -> str:
        """Number format in `view`."""
        return self.formats.get(view, self.fmt)


_REGISTRY: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Add `metric` (after those already registered) and return it."""
    if metric.name in _REGISTRY:
        raise ValueError(f"a metric named {metric.name!r} is already registered")
    _REGISTRY[metric.name] = metric
    return metric


def unregister(name: str) -> None:
    """Remove the metric `name`."""
    del _REGISTRY[name]


def get(name: str) -> Metric | None:
    """The metric `name`, or None."""
    return _REGISTRY.get(name)


def metrics() -> list[Metric]:
    """Every metric, in summary order."""
    return list(_REGISTRY.values())


def names() -> tuple[str, ...]:
    """Every metric's name, in summary order (the summary.csv columns)."""
    return tuple(_REGISTRY)


def user_names() -> tuple[str, ...]:
    """Names of the metrics computed for each user, in summary order."""
    return tuple(m.name for m in _REGISTRY.values() if m.per_user)


def direction(name: str) -> str | None:
    """"max" (higher is better), "min" (lower is better) or None (descriptive, or not a metric)."""
    m = _REGISTRY.get(name)
    return None if m is None else m.direction


def shown_in(view: str) -> list[Metric]:
    """The metrics `view` shows, in its column order."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; expected one of {list(VIEWS)}")
    shown = [m for m in _REGISTRY.values() if view in m.show]
    return sorted(shown, key=lambda m: m.show[view])


def compute(context: Context) -> dict:
    """Every metric of a run, name → ndarray of shape (n_members,), in summary order (the
    per-user metrics from the sums of all users together)."""
    return {m.name: m.compute(context) for m in _REGISTRY.values()}


def compute_user(context: Context) -> dict:
    """The per-user metrics of the user whose sums `context.user` holds."""
    return {m.name: m.compute(context) for m in _REGISTRY.values() if m.per_user}
