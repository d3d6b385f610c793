"""The parameter settings of a sweep, made for any range of setting indices.

A streamed sweep builds each chunk's model from that chunk's settings only (`Settings.rows`),
so memory does not grow with the number of settings: a full grid is never expanded (setting
``i`` is found from its index, first parameter varying slowest, as `sim.scenario.overrides.grid`),
and a sample (`sim.studies.sampling.Sample`) makes the rows asked for (a Latin hypercube holds
its permutations: 4 bytes per setting and parameter).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

__all__ = ["Settings"]


#: Sampled settings up to which `Settings.distinct` gives every value (beyond: the range only).
DISTINCT_ALL = 100_000


class Settings:
    """Settings of a sweep: a full grid over `axes` (path → values), explicit `values` (path →
    one value per setting), or a `sample` (`sim.studies.sampling.Sample`: Latin hypercube,
    Sobol' or random, made chunk by chunk)."""

    def __init__(self, axes: dict | None = None, values: dict | None = None, sample=None):
        if sum(x is not None for x in (axes, values, sample)) != 1:
            raise ValueError("give the grid's axes, the settings' values or a sample")
        self.axes = None if axes is None else {p: np.asarray(v, dtype=float).ravel() for p, v in axes.items()}
        self.values = None if values is None else {p: np.asarray(v) for p, v in values.items()}
        self.sample = sample

    @property
    def parameters(self) -> list[str]:
        if self.sample is not None:
            return list(self.sample.paths)
        return list(self.axes if self.axes is not None else self.values)

    @property
    def n_settings(self) -> int:
        if self.sample is not None:
            return self.sample.n
        if self.axes is not None:
            return math.prod(v.size for v in self.axes.values()) if self.axes else 1
        return len(next(iter(self.values.values()))) if self.values else 1

    def rows(self, start: int, stop: int) -> dict:
        """path → the values of settings ``start`` to ``stop - 1``."""
        if self.sample is not None:
            return self.sample.rows(start, stop)
        if self.values is not None:
            return {p: v[start:stop] for p, v in self.values.items()}
        if not self.axes:
            return {}
        shape = tuple(v.size for v in self.axes.values())
        index = np.unravel_index(np.arange(start, stop), shape)  # C order: the first varies slowest
        return {p: v[i] for (p, v), i in zip(self.axes.items(), index, strict=True)}

    def all(self) -> dict:
        """path → every setting's value (n_settings values each)."""
        return self.rows(0, self.n_settings)

    def distinct(self, path: str) -> np.ndarray:
        """Values that `path` takes (what the plots' bins are made from: `sim.report.aggregates.
        bin_spec`): a grid's axis, or every sampled value; for a sample of more than
        `DISTINCT_ALL`, the range its values span (4097 points from the smallest to the
        largest: the bins need only those two), found in one pass over the sample."""
        if self.sample is None:
            return self.axes[path] if self.axes is not None else self.values[path]
        if self.sample.n <= DISTINCT_ALL:
            return self.sample.rows(0, self.sample.n)[path]
        lo, hi = self.sample.extremes(path)
        return np.array([lo]) if lo == hi else np.linspace(lo, hi, 4097)

    def digest(self) -> str:
        """SHA-256 of the settings (a grid by its axes, a sample by its method, size, seed and
        bounds): part of a sweep's input hash."""
        if self.sample is not None:
            h = hashlib.sha256(b"sample")
            self.sample.digest(h)
            return h.hexdigest()
        h = hashlib.sha256(b"grid" if self.axes is not None else b"values")
        for p, v in (self.axes if self.axes is not None else self.values).items():
            h.update(p.encode("utf-8") + b"\0")
            h.update(np.ascontiguousarray(v, dtype=float).tobytes())
        return h.hexdigest()
