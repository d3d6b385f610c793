"""Bounded summaries of a sweep: what its plots and percentile table need, added chunk by chunk.

A streamed sweep (`sim.studies.stream`) never holds its rows: each chunk's rows are added to a
`SweepSummary` as they are written, and the plots and the printed percentile table come from
it. Its size depends on the bins, not on the number of members:

- `Distribution` (percentiles, exceedance curves): the values themselves up to
  `EXACT_MEMBERS` members per regime (percentiles exact, as `numpy.percentile`), beyond that a
  sparse histogram whose bins are `2 ** -MANTISSA_BITS` of a value wide (relative), holding
  count, sum, smallest and largest value. A percentile's order statistics are interpolated
  within their bin by rank (exact for a bin of one or two values, and within the bin always).
- `Grid` (heat maps): sum and count of a metric per cell of two parameters' bins.
- `Failures` (failure ranges): failing and all members per parameter bin.
- `Points` (trade-off): every k-th member (at most `POINTS` a regime) and the exact Pareto
  front candidates of every chunk.

Chunks must be added in a fixed order (the sweep's chunk order) for the float sums to be the
same, last bit included, whichever order the chunks were computed in.
"""

from __future__ import annotations

import math

import numpy as np

from sim.engine import metrics as metric_registry

__all__ = ["EXACT_MEMBERS", "MANTISSA_BITS", "POINTS", "Distribution", "Grid", "Failures", "Points",
           "SweepSummary", "bin_spec", "bin_index", "pareto_front"]

#: Members per regime up to which a `Distribution` keeps the values (exact percentiles).
EXACT_MEMBERS = 100_000
#: Values a histogram `Distribution` holds back before merging them in (memory: 8 bytes each).
PENDING = 1 << 18
#: Mantissa bits kept in a histogram key: bins 2⁻¹² ≈ 0.024 % of a value wide.
MANTISSA_BITS = 12
#: Members per regime drawn in the trade-off plot at most (every k-th member).
POINTS = 10_000
#: Metrics of the heat maps, and the failure criterion, of `sim.report.plotting.save_sweep_plots`.
HEAT_METRICS = ("reliability_volume", "deficit_hm3", "energy_gwh")
FAILURE = ("reliability_volume", 0.9)
TRADEOFF = ("deficit_hm3", "energy_gwh")
HEAT_BINS, FAILURE_BINS = 20, 8

_SHIFT = 52 - MANTISSA_BITS
_MAGNITUDE = np.int64(0x7FFF_FFFF_FFFF_FFFF)


def _keys(v: np.ndarray) -> np.ndarray:
    """Histogram key of each finite value: its bits as an integer in value order, the low
    mantissa bits dropped (so that keys grow with the values)."""
    b = np.ascontiguousarray(v, dtype=np.float64).view(np.int64)
    ordered = np.where(b < 0, -(b & _MAGNITUDE), b)
    return ordered >> _SHIFT


def _unique(keys: np.ndarray):
    """`numpy.unique(keys, return_inverse=True)`; by counting instead of sorting when the keys
    span a range not much wider than their number (a metric's values over a few octaves)."""
    if keys.size == 0:
        return keys, np.zeros(0, np.int64)
    lo, hi = int(keys.min()), int(keys.max())
    if hi - lo > 4 * keys.size:
        return np.unique(keys, return_inverse=True)
    present = np.bincount(keys - lo, minlength=hi - lo + 1) > 0
    where = np.cumsum(present) - 1
    return np.flatnonzero(present).astype(np.int64) + lo, where[keys - lo]


class Distribution:
    """The values of one metric over a regime's members (see the module docstring)."""

    def __init__(self, exact: bool):
        self.exact = exact
        self.parts: list[np.ndarray] = []
        # the histogram: keys (ascending), count, sum, smallest and largest value of each bin
        self._bins = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
        self.n_nan = 0
        self.pending: list[np.ndarray] = []
        self.n_pending = 0

    def add(self, values) -> None:
        v = np.asarray(values, dtype=float)
        if self.exact:
            self.parts.append(v.copy())
            return
        ok = ~np.isnan(v)
        self.n_nan += int(v.size - ok.sum())
        # Values wait until PENDING of them are there, then join the histogram at once: merging
        # costs the size of the histogram, so a merge per chunk cost 1-2 s for 10⁶ members.
        # The sums are the same either way (each bin's held sum, then its values in order).
        self.pending.append(v[ok])
        self.n_pending += self.pending[-1].size
        if self.n_pending >= PENDING:
            self._merge()

    def _merge(self) -> None:
        """Add the values waiting to the histogram."""
        if not self.pending:
            return
        v = np.concatenate(self.pending)
        self.pending, self.n_pending = [], 0
        held_keys, held_counts, held_sums, held_lo, held_hi = self._bins
        chunk_keys, inv = _unique(_keys(v))
        at = np.searchsorted(held_keys, chunk_keys)
        fresh = chunk_keys[(at == held_keys.size) | (held_keys[np.minimum(at, held_keys.size - 1)] != chunk_keys)] \
            if held_keys.size else chunk_keys
        keys = np.insert(held_keys, np.searchsorted(held_keys, fresh), fresh)
        old = np.arange(held_keys.size) + np.searchsorted(fresh, held_keys)  # where each held bin went
        idx = np.searchsorted(keys, chunk_keys)[inv]  # each value's bin
        counts, sums = np.zeros(keys.size), np.zeros(keys.size)
        counts[old], sums[old] = held_counts, held_sums
        counts += np.bincount(idx, None, keys.size)  # whole numbers: exact in any order
        # each bin's held sum first, then its values in order (as one bincount over both would)
        np.add.at(sums, idx, v)
        lo, hi = np.full(keys.size, np.inf), np.full(keys.size, -np.inf)
        lo[old], hi[old] = held_lo, held_hi
        np.minimum.at(lo, idx, v)
        np.maximum.at(hi, idx, v)
        self._bins = (keys, counts, sums, lo, hi)

    @property
    def keys(self) -> np.ndarray:
        """Histogram keys of the bins, ascending (`_keys`)."""
        self._merge()
        return self._bins[0]

    @property
    def counts(self) -> np.ndarray:
        """Members in each bin."""
        self._merge()
        return self._bins[1]

    @property
    def sums(self) -> np.ndarray:
        """Sum of each bin's values."""
        self._merge()
        return self._bins[2]

    @property
    def lo(self) -> np.ndarray:
        """Smallest value of each bin."""
        self._merge()
        return self._bins[3]

    @property
    def hi(self) -> np.ndarray:
        """Largest value of each bin."""
        self._merge()
        return self._bins[4]

    @property
    def n(self) -> int:
        """Members counted (NaN included)."""
        if self.exact:
            return sum(p.size for p in self.parts)
        return int(self.counts.sum()) + self.n_nan

    def _sorted(self):
        """Ascending values (bin means) and how many members each stands for."""
        if self.exact:
            v = np.concatenate(self.parts) if self.parts else np.zeros(0)
            v = np.sort(v[np.isfinite(v)])
            return v, np.ones(v.size)
        with np.errstate(invalid="ignore"):
            means = self.sums / self.counts
        return means, self.counts

    def percentiles(self, q) -> np.ndarray:
        """Percentiles `q` (linear interpolation between order statistics, as `numpy.percentile`)."""
        if self.exact:
            v = np.concatenate(self.parts) if self.parts else np.zeros(0)
            return np.percentile(v, q)
        n = int(self.counts.sum())
        if self.n_nan or n == 0:
            return np.full(np.shape(q), np.nan)
        h = (n - 1) * np.asarray(q, dtype=float) / 100.0
        lo = np.floor(h)
        x_lo, x_hi = self._order_statistic(lo), self._order_statistic(np.minimum(lo + 1, n - 1))
        return x_lo + (h - lo) * (x_hi - x_lo)

    def _order_statistic(self, rank):
        """Estimate of the values of 0-based `rank` in ascending order: in its bin, between
        the bin's smallest and largest value in proportion to its rank among the bin's."""
        upper = np.cumsum(self.counts)  # rank j lies in the first bin whose upper > j
        b = np.searchsorted(upper, rank, side="right")
        c = self.counts[b]
        t = (rank - (upper[b] - c)) / np.maximum(c - 1, 1)
        return self.lo[b] + t * (self.hi[b] - self.lo[b])

    def exceedance(self) -> tuple[np.ndarray, np.ndarray]:
        """Exceedance curve with Weibull plotting positions: values (descending) and the
        probability ``i / (n + 1)`` that each is exceeded; a bin gives the first and last rank
        it holds."""
        v, counts = self._sorted()
        v, counts = v[::-1], counts[::-1]
        n = counts.sum()
        if self.exact:
            return v, np.arange(1, v.size + 1) / (n + 1)
        before = np.cumsum(counts) - counts
        p = np.stack([before + 1, before + counts], axis=1).ravel() / (n + 1)
        return np.repeat(v, 2), p


def bin_spec(values, max_bins: int):
    """Bins of a parameter's values: each unique value when at most `max_bins` (``edges`` None),
    else `max_bins` equal-width bins from the smallest to the largest. Returns (centres, edges)."""
    v = np.asarray(values, dtype=float)
    uniq = np.unique(v[np.isfinite(v)])
    if uniq.size <= max_bins:
        return uniq, None
    edges = np.linspace(uniq[0], uniq[-1], max_bins + 1)
    return 0.5 * (edges[:-1] + edges[1:]), edges


def bin_index(spec, values) -> np.ndarray:
    """Index of each value's bin in `spec` (`bin_spec`)."""
    centres, edges = spec
    v = np.asarray(values, dtype=float)
    if edges is None:
        return np.searchsorted(centres, v)
    return np.clip(np.searchsorted(edges, v, side="right") - 1, 0, centres.size - 1)


class Grid:
    """Sum and count of a metric in each cell of two parameters' bins (rows: y, columns: x)."""

    def __init__(self, xspec, yspec):
        self.xspec, self.yspec = xspec, yspec
        self.sums = np.zeros((yspec[0].size, xspec[0].size))
        self.counts = np.zeros_like(self.sums)

    def cells(self, x, y) -> np.ndarray:
        """The cell of each (x, y) (row-major), for `add`."""
        return bin_index(self.yspec, y) * self.sums.shape[1] + bin_index(self.xspec, x)

    def add(self, x, y, values, cells=None) -> None:
        """Add `values` at (x, y); `cells` (of `cells`) when known already (grids of the same bins)."""
        val = np.asarray(values, dtype=float)
        ok = np.isfinite(val)
        cell = (self.cells(x, y) if cells is None else cells)[ok]
        self.sums += np.bincount(cell, val[ok], self.sums.size).reshape(self.sums.shape)
        self.counts += np.bincount(cell, None, self.sums.size).reshape(self.sums.shape)

    def means(self) -> np.ndarray:
        return np.where(self.counts > 0, self.sums / np.maximum(self.counts, 1), np.nan)


class Failures:
    """Failing and all members in each bin of each parameter, for one group (regime)."""

    def __init__(self, specs: dict):
        self.specs = specs
        self.failing = {p: np.zeros(s[0].size) for p, s in specs.items()}
        self.total = {p: np.zeros(s[0].size) for p, s in specs.items()}

    def add(self, params: dict, fail: np.ndarray) -> None:
        for p, spec in self.specs.items():
            idx = bin_index(spec, params[p])
            self.failing[p] += np.bincount(idx, fail.astype(float), self.failing[p].size)
            self.total[p] += np.bincount(idx, None, self.total[p].size)


def failing(values, metric: str, threshold: float) -> np.ndarray:
    """Members worse than `threshold` (below where higher is better, above where lower is)."""
    v = np.asarray(values, dtype=float)
    return v < threshold if (metric_registry.direction(metric) or "max") == "max" else v > threshold


def pareto_front(x, y, x_better="min", y_better="max"):
    """Indices of the non-dominated points, sorted by x.

    Parameters
    ----------
    x, y : array_like, shape (n,)
    x_better, y_better : {"min", "max"}

    Returns
    -------
    ndarray of int
    """
    xs = np.asarray(x, dtype=float) * (1 if x_better == "min" else -1)
    ys = np.asarray(y, dtype=float) * (1 if y_better == "min" else -1)
    ok = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys))
    order = ok[np.lexsort((ys[ok], xs[ok]))]
    # by x, then y: a point is on the front when its y beats every y before it
    best_before = np.concatenate([[np.inf], np.minimum.accumulate(ys[order])[:-1]])
    front = order[ys[order] < best_before].astype(int)
    return front[np.argsort(np.asarray(x, dtype=float)[front])] if front.size else front


class Points:
    """Every `stride`-th member's (x, y) and the Pareto front of all members added."""

    def __init__(self, stride: int, x: str, y: str):
        self.stride, self.x_name, self.y_name = stride, x, y
        self.better = (metric_registry.direction(x) or "min", metric_registry.direction(y) or "max")
        self.x, self.y = np.zeros(0), np.zeros(0)
        self.front_x, self.front_y = np.zeros(0), np.zeros(0)

    def add(self, member: np.ndarray, x, y) -> None:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        keep = member % self.stride == 0
        self.x, self.y = np.concatenate([self.x, x[keep]]), np.concatenate([self.y, y[keep]])
        fx, fy = np.concatenate([self.front_x, x]), np.concatenate([self.front_y, y])
        front = pareto_front(fx, fy, *self.better)
        self.front_x, self.front_y = fx[front], fy[front]


class RegimeSummary:
    """One regime's `Distribution` per metric, trade-off `Points`, heat map `Grid` per metric
    (two parameters or more) and `Failures`."""

    def __init__(self, n_members: int, metrics, specs: dict):
        exact = n_members <= EXACT_MEMBERS
        self.n_members = n_members
        self.distributions = {m: Distribution(exact) for m in metrics}
        self.points = Points(max(1, math.ceil(n_members / POINTS)), *TRADEOFF)
        params = list(specs)
        self.grids = {}
        if len(params) >= 2:
            heat = {p: specs[p]["heat"] for p in params[:2]}
            self.grids = {m: Grid(heat[params[0]], heat[params[1]]) for m in HEAT_METRICS}
        self.failures = Failures({p: s["failure"] for p, s in specs.items()})

    def add(self, cols: dict) -> None:
        """Add rows of this regime (table columns, as `sim.studies.sweep.rows`)."""
        for m, d in self.distributions.items():
            d.add(cols[m])
        self.points.add(np.asarray(cols["member"]), cols[TRADEOFF[0]], cols[TRADEOFF[1]])
        if self.grids:
            x, y = list(self.failures.specs)[:2]
            cells = next(iter(self.grids.values())).cells(cols[x], cols[y])  # the grids share their bins
            for m, g in self.grids.items():
                g.add(cols[x], cols[y], cols[m], cells)
        metric, threshold = FAILURE
        self.failures.add(cols, failing(cols[metric], metric, threshold))


class SweepSummary:
    """Per regime, the bounded summary of a sweep's rows (`RegimeSummary`); rows are added
    chunk by chunk with `add` in the sweep's chunk order.

    Parameters
    ----------
    names : list of str
        Regimes.
    n_members : int
        Members per regime.
    settings : dict of str → array
        Swept values of each parameter (their bins are fixed from them before any row).
    metrics : sequence of str
        Metrics whose distribution is kept (percentile table, exceedance curves).
    """

    def __init__(self, names, n_members: int, settings: dict, metrics):
        self.parameters = list(settings)
        self.metrics = list(dict.fromkeys(metrics))
        specs = {p: {"heat": bin_spec(v, HEAT_BINS), "failure": bin_spec(v, FAILURE_BINS)} for p, v in settings.items()}
        self.regimes = {r: RegimeSummary(n_members, self.metrics, specs) for r in names}

    @classmethod
    def of_table(cls, table: dict, parameters, metrics) -> SweepSummary:
        """The summary of a whole table (`SweepResult.table`)."""
        names = list(dict.fromkeys(np.asarray(table["regime"]).tolist()))
        regime = np.asarray(table["regime"])
        n = int(np.sum(regime == names[0])) if names else 0
        out = cls(names, n, {p: table[p] for p in parameters}, metrics)
        for r in names:
            mask = regime == r
            out.add(r, {c: np.asarray(v)[mask] for c, v in table.items()})
        return out

    def columns(self) -> set:
        """The table columns `add` reads."""
        return {"member", *self.metrics, *self.parameters, *HEAT_METRICS, FAILURE[0], *TRADEOFF}

    def add(self, regime: str, cols: dict) -> None:
        """Add rows of `regime` (table columns: at least `columns`)."""
        self.regimes[regime].add(cols)

    def percentiles(self, metrics, q=(10, 50, 90)) -> dict:
        """``{regime: {metric: ndarray (len(q),)}}``."""
        return {r: {m: s.distributions[m].percentiles(q) for m in metrics} for r, s in self.regimes.items()}
