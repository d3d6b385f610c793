"""Sampled sweep settings made chunk by chunk: the same values as `sim.studies.sweep.sample`,
for any range of setting indices, without holding the whole sample.

A streamed sweep of 10⁷ sampled settings asks each chunk's values only (`Sample.rows`); they
must be the same whichever chunk size, workers or resume asked for them, and the same as the
whole sample drawn at once (`sweep.sample`, which results and tests were made with):

- ``random``: `numpy.random.default_rng(seed).random((n, d))` draws row by row from one PCG64
  stream, one 64-bit draw per value, so rows ``a:b`` are that stream advanced by ``a·d`` draws
  (`PCG64.advance`).
- ``sobol``: scrambled Sobol' points are a sequence; rows ``a:b`` are the sequence
  fast-forwarded by ``a`` points (`scipy.stats.qmc.Sobol.fast_forward`).
- ``lhs``: `scipy.stats.qmc.LatinHypercube` draws the ``n × d`` uniforms first (jumped to as
  for ``random``), then shuffles one permutation of ``1..n`` per parameter. A permutation needs
  the whole of it, so the ``d`` permutations are drawn once, at set-up, and held as int32:
  ``4·n·d`` bytes (80 MB for 10⁷ settings of 2 parameters), against ``8·n·d`` for the values
  and a peak of ``32·n·d`` while scipy draws them.

Without a seed, one is drawn once (`numpy.random.SeedSequence`) so that every chunk of the
run shares it.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np

__all__ = ["Sample", "METHODS"]

METHODS = ("lhs", "sobol", "random")
#: Settings generated at a time when a whole sample is scanned (its smallest and largest values).
BLOCK = 1 << 20


class Sample:
    """The `n` samples of `bounds` (path → (low, high)) by `method` with `seed`; values of any
    range of rows by `rows`, equal to `sim.studies.sweep.sample(bounds, n, method, seed)`'s."""

    def __init__(self, bounds: dict, n: int, method: str = "lhs", seed: int | None = None):
        if n < 1:
            raise ValueError(f"samples is {n}; expected >= 1")
        if method not in METHODS:
            raise ValueError(f'method is "{method}"; expected "grid", "lhs", "sobol" or "random"')
        self.paths = list(bounds)
        self.n, self.method = int(n), method
        self.seed = int(np.random.SeedSequence().entropy) if seed is None else int(seed)
        self.lo = np.array([b[0] for b in bounds.values()], dtype=float)
        self.hi = np.array([b[1] for b in bounds.values()], dtype=float)
        self.perms = self._permutations() if method == "lhs" else None
        self._extremes: dict = {}

    @property
    def d(self) -> int:
        return len(self.paths)

    def _stream(self, skip: int) -> np.random.Generator:
        """`numpy.random.default_rng(seed)` after `skip` 64-bit draws."""
        bits = np.random.PCG64(self.seed)
        if skip:
            bits.advance(skip)
        return np.random.Generator(bits)

    def _permutations(self) -> np.ndarray:
        """The LHS permutations of 1..n, one row per parameter (drawn after the n·d uniforms)."""
        dtype = np.int32 if self.n < 2**31 else np.int64
        perms = np.tile(np.arange(1, self.n + 1, dtype=dtype), (self.d, 1))
        rng = self._stream(self.n * self.d)
        for i in range(self.d):
            rng.shuffle(perms[i, :])
        return perms

    def unit(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of the sample in the unit hypercube, shape ``(stop - start, d)``."""
        k = stop - start
        if self.method == "random":
            return self._stream(start * self.d).random((k, self.d))
        if self.method == "lhs":
            u = self._stream(start * self.d).uniform(size=(k, self.d))
            return (self.perms[:, start:stop].T - u) / self.n
        from scipy.stats import qmc

        sobol = qmc.Sobol(d=self.d, scramble=True, seed=self.seed)
        if start:
            sobol.fast_forward(start)
        with warnings.catch_warnings():  # "balance properties ... power of 2": true of the whole sample
            warnings.simplefilter("ignore", UserWarning)
            return sobol.random(k)

    def rows(self, start: int, stop: int) -> dict:
        """path → the values of settings ``start`` to ``stop - 1``."""
        unit = self.unit(start, stop)
        if np.all(self.hi > self.lo):
            from scipy.stats import qmc

            values = qmc.scale(unit, self.lo, self.hi)
        else:
            values = self.lo + unit * (self.hi - self.lo)
        return {p: values[:, i] for i, p in enumerate(self.paths)}

    def extremes(self, path: str) -> tuple[float, float]:
        """The smallest and largest value `path` takes over the whole sample (one pass, in blocks)."""
        if path not in self._extremes:
            lo = {p: np.inf for p in self.paths}
            hi = {p: -np.inf for p in self.paths}
            for a in range(0, self.n, BLOCK):  # memory: BLOCK × d values at a time
                for p, v in self.rows(a, min(a + BLOCK, self.n)).items():
                    lo[p], hi[p] = min(lo[p], float(v.min())), max(hi[p], float(v.max()))
            self._extremes = {p: (lo[p], hi[p]) for p in self.paths}
        return self._extremes[path]

    def digest(self, h: hashlib._Hash) -> None:
        """Add what decides the sample to hash `h`."""
        h.update(f"{self.method}\0{self.n}\0{self.seed}\0".encode())
        for p, lo, hi in zip(self.paths, self.lo, self.hi, strict=True):
            h.update(p.encode("utf-8") + b"\0" + np.array([lo, hi]).tobytes())
