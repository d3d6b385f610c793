"""Saltelli's design on a scrambled Sobol' sequence, without importing SALib or scipy.stats.

`SALib.sample.sobol.sample` (``calc_second_order=False``, ``scramble=True``) draws its points
from `scipy.stats.qmc.Sobol`; importing the two costs 2.5-5 s on this 2-core machine, more than
the design itself or a quarter of a whole `bakhri sensitivity` run. `design` gives the same
array, bit for bit, from numpy alone: the same direction numbers (Joe and Kuo, read from the
file scipy ships), the same LMS + digital-shift scrambling drawn from the same
`numpy.random.default_rng(seed)` stream, the same Gray-code order, SALib's row order and its
scaling. tests/studies/test_saltelli.py holds it equal to SALib's sampler; where scipy's
direction file cannot be found, `design` calls SALib itself.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["design", "sobol_points", "direction_file"]

#: Bits of scipy's default Sobol' engine (points are multiples of 2⁻³⁰).
BITS = 30


def direction_file() -> Path | None:
    """scipy's table of Sobol' direction numbers (``poly``, ``vinit``), or None when absent."""
    spec = importlib.util.find_spec("scipy")  # imports scipy's small top package only
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "stats" / "_sobol_direction_numbers.npz"
    return path if path.is_file() else None


def _directions(dim: int, bits: int, path: Path) -> np.ndarray:
    """Direction numbers (dim, bits) as scipy's ``_initialize_v`` makes them (Bratley and Fox 1988)."""
    with np.load(path) as f:
        poly, vinit = f["poly"][:dim], f["vinit"][:dim]
    if poly.shape[0] < dim:
        raise ValueError(f"{dim} dimensions; scipy's direction numbers have {poly.shape[0]}")
    v = np.zeros((dim, bits), dtype=np.uint64)
    v[0, :] = 1
    for d in range(1, dim):
        p = int(poly[d])
        m = p.bit_length() - 1
        row = [int(x) for x in vinit[d, :m]]
        for j in range(m, bits):
            new = row[j - m]
            for k in range(m):
                if (p >> (m - 1 - k)) & 1:
                    new ^= row[j - k - 1] << (k + 1)
            row.append(new)
        v[d, :] = row[:bits]
    return v << np.arange(bits - 1, -1, -1, dtype=np.uint64)[None, :]


def _parity(x: np.ndarray) -> np.ndarray:
    """1 where an unsigned integer has an odd number of set bits, else 0."""
    x = x.copy()
    for s in (32, 16, 8, 4, 2, 1):
        x ^= x >> np.uint64(s)
    return x & np.uint64(1)


def sobol_points(dim: int, n: int, seed, bits: int = BITS, path: Path | None = None) -> np.ndarray:
    """The first `n` points of scipy's scrambled Sobol' sequence in `dim` dimensions:
    ``scipy.stats.qmc.Sobol(dim, scramble=True, seed=seed).random(n)``, shape (n, dim)."""
    path = path or direction_file()
    rng = np.random.default_rng(seed)
    sv = _directions(dim, bits, path)
    # the draws in scipy's order: the digital shift, then the lower-triangular scrambling matrices
    shift = np.dot(rng.integers(0, 2, size=(dim, bits), dtype=np.uint32), 2 ** np.arange(bits, dtype=np.uint32))
    ltm = np.tril(rng.integers(0, 2, size=(dim, bits, bits), dtype=np.uint32)).astype(np.uint64)
    ltm[:, np.arange(bits), np.arange(bits)] = 1
    rows = (ltm << np.arange(bits - 1, -1, -1, dtype=np.uint64)).sum(axis=2)  # each row as an integer
    scrambled = np.zeros_like(sv)
    for p in range(bits):
        scrambled |= _parity(rows[:, p, None] & sv) << np.uint64(bits - 1 - p)
    out = np.empty((n, dim))
    quasi = shift.astype(np.uint64)
    scale = 1.0 / 2**bits
    out[0] = quasi * scale
    if n > 1:
        # Gray code: point i + 1 flips the direction of the lowest zero bit of i
        i = np.arange(n - 1, dtype=np.uint64)
        low = np.zeros(n - 1, dtype=np.int64)
        while True:
            ones = (i & np.uint64(1)) == 1
            if not ones.any():
                break
            low += ones
            i = np.where(ones, i >> np.uint64(1), i)
        steps = np.vstack([quasi[None, :], scrambled[:, low].T])
        out[1:] = np.bitwise_xor.accumulate(steps, axis=0)[1:] * scale
    return out


def design(bounds, n: int, seed) -> np.ndarray:
    """Saltelli's design without second order over uniform `bounds` [(low, high), ...]:
    ``SALib.sample.sobol.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)``,
    shape (n × (D + 2), D): per base sample A, A with column i from B for each i, then B."""
    bounds = np.asarray(bounds, dtype=float).reshape(-1, 2)
    d = bounds.shape[0]
    path = direction_file()
    if path is None:
        from SALib.sample import sobol as sobol_sample

        problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": bounds.tolist()}
        return sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    if np.any(bounds[:, 0] >= bounds[:, 1]):
        raise ValueError("Bounds are not legal (upper bound must be greater than lower bound)")
    base = sobol_points(2 * d, n, seed, path=path)
    a, b = base[:, :d], base[:, d:]
    x = np.repeat(a[:, None, :], d + 2, axis=1)
    x[:, 1 : d + 1][:, np.arange(d), np.arange(d)] = b
    x[:, d + 1] = b
    x = x.reshape(n * (d + 2), d)
    # SALib's scaling, the same two operations in the same order
    np.multiply(x, bounds[:, 1] - bounds[:, 0], out=x)
    np.add(x, bounds[:, 0], out=x)
    return x
