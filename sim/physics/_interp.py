"""Exact piecewise-linear interpolation on a small increasing table.

A table holds its abscissae, one or more ordinate tables and each segment's slope, so a
value is ``y[i] + slope[i] * (x - x[i])`` in the segment ``i`` that holds ``x``: exactly the
table's value on its points. The compiled engine reads these arrays and evaluates the same
expression itself; here they serve the Python-side look-ups (range checks, initial levels,
rule targets, reports).

A bucketed index finds the segment: a uniform grid of buckets over the table's x-range maps
each query to (a lower bound of) its segment in O(1), and at most a couple of forward steps
find the exact segment. Queries in the rare buckets that straddle many tiny segments (the
bottom of a power-law storage curve) fall back to `np.searchsorted`, so the segment is always
the one `np.searchsorted` gives.

Outside the table the end segments are extended linearly; callers that must not extrapolate
check the range themselves.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PiecewiseLinear"]


class PiecewiseLinear:
    """Piecewise-linear functions y_k(x) sharing one increasing abscissa table.

    Parameters
    ----------
    x : array_like, shape (n,)
        Strictly increasing abscissae, n >= 2.
    *ys : array_like, shape (n,)
        One or more ordinate tables.
    n_buckets : int
        Size of the bucket index (memory ~ 8 bytes per bucket).
    """

    def __init__(self, x, *ys, n_buckets: int = 4096):
        x = np.asarray(x, dtype=float)
        if x.ndim != 1 or x.size < 2 or not np.all(np.diff(x) > 0):
            raise ValueError("x must be a strictly increasing table of at least two values")
        self.x = x
        self.ys = [np.asarray(y, dtype=float) for y in ys]
        n = x.size
        # Segment k starts at x[k]; the last "segment" starts at x[-1] and carries the
        # slope of the one before it, so that every table point is hit exactly.
        self._slopes = []
        for y in self.ys:
            if y.shape != x.shape:
                raise ValueError("every y table must have the shape of x")
            s = np.diff(y) / np.diff(x)
            self._slopes.append(np.append(s, s[-1]))
        self._x_next = np.append(x[1:], np.inf)
        self._x0 = float(x[0])
        self._n_buckets = int(n_buckets)
        self._inv_width = n_buckets / (x[-1] - x[0])
        edges = x[0] + np.arange(n_buckets + 1) / self._inv_width
        seg = np.searchsorted(x, edges, side="right") - 1
        # One segment lower than the bucket edge's own, so rounding in the bucket index can
        # never put a query above its segment; the forward steps below catch up.
        self._lut = np.clip(seg - 1, 0, n - 1).astype(np.intp)
        self._last = n - 1

    @property
    def slopes(self) -> list:
        """Slope of each y table on each segment (the last repeats the one before), so that
        ``y_k(x) = ys[k][i] + slopes[k][i] * (x - x[i])`` on segment i: the compiled kernels'
        and the reference's tables."""
        return self._slopes

    def locate(self, xq):
        """Segment index of each query (the k with x[k] <= xq < x[k+1]); shape of `xq`."""
        xq = np.asarray(xq, dtype=float)
        j = np.clip((xq - self._x0) * self._inv_width, 0, self._n_buckets - 1)
        i = self._lut[j.astype(np.intp)]
        i += xq >= self._x_next[i]
        i += xq >= self._x_next[i]
        bad = xq >= self._x_next[i]
        if bad.any():
            i = np.array(i, ndmin=1)
            bad = np.array(bad, ndmin=1)
            i[bad] = np.clip(
                np.searchsorted(self.x, np.array(xq, ndmin=1)[bad], side="right") - 1, 0, self._last
            )
            i = i.reshape(xq.shape)
        return i

    def evaluate(self, k: int, i, xq):
        """Value of table `k` at queries `xq` already located in segments `i`."""
        return self.ys[k][i] + self._slopes[k][i] * (xq - self.x[i])

    def __call__(self, xq, k: int = 0):
        """Value of table `k` at `xq` (linear extrapolation beyond the ends)."""
        xq = np.asarray(xq, dtype=float)
        return self.evaluate(k, self.locate(xq), xq)
