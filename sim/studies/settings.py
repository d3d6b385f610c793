"""The parameter settings of a sweep, made for any range of setting indices.

A streamed sweep builds each chunk's model from that chunk's settings only (`Settings.rows`),
so memory does not grow with the number of settings: a full grid is never expanded (setting
``i`` is found from its index, first parameter varying slowest, as `sim.scenario.overrides.grid`),
and sampled settings are held once as the sample (``n_settings × parameters`` values).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

__all__ = ["Settings"]


class Settings:
    """Settings of a sweep: a full grid over `axes` (path → values), or explicit `values`
    (path → one value per setting, e.g. a Latin-hypercube sample)."""

    def __init__(self, axes: dict | None = None, values: dict | None = None):
        if (axes is None) == (values is None):
            raise ValueError("give the grid's axes or the settings' values")
        self.axes = None if axes is None else {p: np.asarray(v, dtype=float).ravel() for p, v in axes.items()}
        self.values = None if values is None else {p: np.asarray(v) for p, v in values.items()}

    @property
    def parameters(self) -> list[str]:
        return list(self.axes if self.axes is not None else self.values)

    @property
    def n_settings(self) -> int:
        if self.axes is not None:
            return math.prod(v.size for v in self.axes.values()) if self.axes else 1
        return len(next(iter(self.values.values()))) if self.values else 1

    def rows(self, start: int, stop: int) -> dict:
        """path → the values of settings ``start`` to ``stop - 1``."""
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
        """Values that `path` takes (what the plots' bins are made from): a grid's axis, or
        every sampled value."""
        return self.axes[path] if self.axes is not None else self.values[path]

    def digest(self) -> str:
        """SHA-256 of the settings (a grid by its axes): part of a sweep's input hash."""
        h = hashlib.sha256(b"grid" if self.axes is not None else b"values")
        for p, v in (self.axes if self.axes is not None else self.values).items():
            h.update(p.encode("utf-8") + b"\0")
            h.update(np.ascontiguousarray(v, dtype=float).tobytes())
        return h.hexdigest()
