"""Plain records a checked scenario is made of: ensemble and sweep specs, demands, compiled arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.inputs.inflow import DEFAULT_LAG1
from sim.scenario.overrides import grid


@dataclass(frozen=True)
class EnsembleSpec:
    """Stochastic inflow ensemble (``[ensemble]``): see `sim.inflow.StochasticInflow`.

    Attributes
    ----------
    members : int
        Number of members. [-]
    seed : int
        Seed of the random streams, >= 0. [-]
    inflow_cv : float
        Coefficient of variation of each decade's inflow, >= 0. [-]
    inflow_lag1 : float
        Lag-one autocorrelation of successive decadal inflows (GUESS default 0.8). [-]
    """

    members: int
    seed: int
    inflow_cv: float
    inflow_lag1: float = DEFAULT_LAG1


@dataclass(frozen=True)
class SweepSpec:
    """Parameter sweep (``[sweep]``); executed by the sweep module, as one ensemble.

    Attributes
    ----------
    parameters : dict
        Dotted key path → values. For ``method = "grid"`` a tuple of the values to take; for
        ``"lhs"`` / ``"sobol"`` / ``"random"`` the range ``(lo, hi)`` to sample.
    method : {"grid", "lhs", "sobol", "random"}
        Full factorial grid, Latin hypercube, Sobol' or plain uniform samples (`SWEEP_METHODS`).
    samples : int or None
        Number of samples (sampling methods).
    seed : int or None
        Seed of the sampler (sampling methods).
    """

    parameters: dict
    method: str = "grid"
    samples: int | None = None
    seed: int | None = None

    @property
    def n_members(self) -> int:
        """Members of the sweep: the grid's size, or the number of samples."""
        if self.method == "grid":
            return math.prod(len(v) for v in self.parameters.values())
        return int(self.samples or 0)

    def grid(self) -> dict[str, np.ndarray]:
        """The full factorial grid (method "grid"): path → values, shape ``(n_members,)``.

        The first parameter varies slowest. Pass the result as ``Scenario.build(overrides=...)``.
        """
        if self.method != "grid":
            raise ValueError(f'grid() needs method "grid", not "{self.method}"')
        return grid(self.parameters)


@dataclass(frozen=True)
class Variable:
    """One decision variable of ``[optimise]``.

    Attributes
    ----------
    key : str
        Its dotted key: a numeric key of the scenario (`Scenario.sweepable`), or
        ``regimes.<regime>.decadal_m3s``, the whole decadal release schedule of a schedule regime.
    lo, hi : tuple of float
        Lower and upper bound of each value: one for a numeric key, one per decade of the
        period for a schedule. [unit of the key]
    max_step : float or None
        Largest change between consecutive decades of a schedule (None: any). [m³/s]
    """

    key: str
    lo: tuple
    hi: tuple
    max_step: float | None = None

    @property
    def size(self) -> int:
        """Number of values: 1, or the decades of the period."""
        return len(self.lo)

    @property
    def is_schedule(self) -> bool:
        """Whether it is a whole decadal schedule (a vector of values)."""
        return self.key.endswith(".decadal_m3s")


@dataclass(frozen=True)
class OptimiseSpec:
    """The search of ``bakhri optimise`` (``[optimise]``); run by `sim.studies.optimise`.

    Attributes
    ----------
    regime : str
        The regime whose parameters are searched; each solution is a copy of it with the
        solution's values.
    variables : tuple of Variable
        Decision variables.
    objectives : dict
        Metric name (``energy_gwh``, or ``<user>.<metric>``) → ``"max"`` or ``"min"``.
    constraints : dict
        Metric name → ``(min, max)``, either None when not bounded on that side.
    aggregate : str
        How metrics are summed up over the inflow members: ``"mean"``, ``"median"``,
        ``"worst"`` or ``"pNN"`` (the NN % worst case).
    population, generations, seed : int
        Candidates per generation, generations, seed of the search.
    """

    regime: str
    variables: tuple
    objectives: dict
    constraints: dict = field(default_factory=dict)
    aggregate: str = "mean"
    population: int = 100
    generations: int = 100
    seed: int = 0

    @property
    def n_var(self) -> int:
        """Number of numbers a candidate is made of."""
        return sum(v.size for v in self.variables)


@dataclass
class UserSpec:
    name: str
    priority: int
    location: str
    scale: float
    demand_m3s: np.ndarray  # (n_steps,), before scale
    kind: str  # "series", "constant", "volume"
    volume_hm3: float = 0.0
    unit_m3s: np.ndarray | None = None  # flow of 1 hm³ spread over the window
    extra_m3s: np.ndarray | None = None  # the extra flow (volume kind)
    source: str = ""


@dataclass
class Compiled:
    """The daily arrays and engine objects of a valid scenario (one member)."""

    hypsometry: Any = None
    reservoir: Any = None
    initial_storage_m3: float = 0.0
    #: The initial storage in the table as given (before the file's storage factors): a member
    #: with its own level–storage table (a storage factor swept) starts at its level.
    initial_in_table_m3: float = 0.0
    #: The initial level when the file gives one (None when it gives a storage).
    initial_level_m: Any = None
    plant: Any = None
    units_available: np.ndarray | None = None
    inflow_m3s: np.ndarray | None = None
    inflow_scale: float = 1.0
    inflow_source: str = ""
    evaporation_mm_day: np.ndarray | None = None
    evaporation_factor: float = 1.0
    precipitation_mm_day: np.ndarray | None = None
    seepage_m3s: np.ndarray | None = None
    seepage_factor: float = 1.0
    sensitivity: Any = None
    reach_loss_fraction: float = 0.0
    lateral_inflow_m3s: np.ndarray | None = None
    users: list = field(default_factory=list)
    regimes: dict = field(default_factory=dict)
    sweepable: dict = field(default_factory=dict)
