r"""Stochastic decadal inflow ensembles, seeded and independent of chunking.

A :class:`StochasticInflow` turns a daily mean inflow profile (e.g. the ``mean-2001-2010``
preset, DATA.md) into an ensemble of inflow series. Each decade of the period gets one
lognormal multiplier per member (mean 1, coefficient of variation ``cv``), correlated from
decade to decade by a log-space AR(1) process; the profile's shape within the decade is kept.

The engine (`sim.engine`) generates members chunk by chunk through
:meth:`StochasticInflow.materialize`; member ``i`` is the same whatever the chunk size, the
executor, or the ensemble size beyond ``i``, because random numbers are drawn in fixed blocks
of members, each from its own stream ``np.random.default_rng([seed, block])``.

    >>> from sim import builtin, calendar
    >>> period = calendar.growing_season(2025)
    >>> ens = StochasticInflow.from_preset(period, n_members=500, seed=2025, cv=0.62)
    >>> ens.materialize(slice(0, 4), ens.n_members).shape
    (183, 4)

The module also has two helpers to summarise ensembles: :func:`exceedance` (Weibull plotting
positions) and :func:`percentiles`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from sim.inputs.presets import load_preset
from sim.physics import ieee
from sim.physics.calendar import Period

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_LAG1",
    "StochasticInflow",
    "ar1_phi",
    "lag1_lowest",
    "exceedance",
    "percentiles",
]

#: Members per random block. Part of the definition of the streams: changing it changes
#: every member, so it is fixed per ensemble (never derived from the chunk size).
DEFAULT_BLOCK_SIZE = 1024

#: Lag-one autocorrelation of successive decadal flows (real space). GUESS: DATA.md gives
#: the CV of April–September volumes (0.39) but no decade-to-decade correlation.
DEFAULT_LAG1 = 0.8

#: CV of each decade's flow. DERIVED: with `DEFAULT_LAG1` it gives April–September volumes
#: the CV 0.39 observed 2001–2010 (DATA.md); 0.39 itself is the season's CV, not a decade's,
#: and would give the season a CV of about 0.24.
DEFAULT_CV = 0.62


def lag1_lowest(cv: float) -> float:
    """The bound (exclusive) below which lognormal flows of coefficient of variation ``cv``
    cannot be correlated from one decade to the next: ``-1 / (1 + cv²)``."""
    return -1.0 / (1.0 + cv * cv)


def ar1_phi(cv: float, lag1: float) -> float:
    r"""Log-space AR(1) coefficient giving a lag-one correlation ``lag1`` of the flows.

    Parameters
    ----------
    cv : float
        Coefficient of variation of the lognormal multipliers, > 0. [-]
    lag1 : float
        Wanted lag-one correlation of the multipliers themselves (not their logs). [-]

    Returns
    -------
    float
        :math:`\phi`, the lag-one correlation of the logs. [-]

    Raises
    ------
    ValueError
        If no :math:`|\phi| \le 1` gives ``lag1`` (lognormal pairs cannot be more negatively
        correlated than :math:`-1/(1+cv^2)`).

    Notes
    -----
    For :math:`M_k = \exp(\sigma Z_k - \sigma^2/2)` with :math:`\operatorname{corr}(Z_k, Z_{k+1}) = \phi`,

    .. math::

        \sigma^2 = \ln(1 + cv^2), \qquad
        \operatorname{corr}(M_k, M_{k+1}) = \frac{e^{\sigma^2 \phi} - 1}{e^{\sigma^2} - 1}
        \;\Rightarrow\;
        \phi = \frac{\ln\left(1 + \mathrm{lag1}\,(e^{\sigma^2} - 1)\right)}{\sigma^2}
    """
    cv, lag1 = float(cv), float(lag1)
    if not (math.isfinite(cv) and cv > 0):
        raise ValueError(f"cv is {cv!r}; expected a finite number > 0 to define phi")
    sigma2 = math.log1p(cv * cv)
    # exp(sigma2) - 1 == cv**2 exactly in exact arithmetic; use cv**2 directly.
    arg = lag1 * cv * cv
    lowest = lag1_lowest(cv)
    if not lowest < lag1 < 1.0:
        raise ValueError(
            f"lag1 is {lag1!r}; with cv = {cv!r} the lag-one correlation of lognormal flows "
            f"must be in ({lowest:.6g}, 1)"
        )
    return math.log1p(arg) / sigma2


def _phis(cv: float, lags: np.ndarray):
    """Checked lag-one correlations and their log-space coefficients: (float, float) for one
    value, else (read-only array, array) with `ar1_phi` worked out once per distinct value."""
    bad = ~(np.isfinite(lags) & (lags > -1) & (lags < 1))
    if np.any(bad):
        raise ValueError(f"lag1 is {float(lags[bad][0]) if lags.ndim else float(lags)!r}; expected a number with -1 < lag1 < 1")
    if lags.ndim == 0:
        lag1 = float(lags)
        return lag1, (ar1_phi(cv, lag1) if cv > 0 else lag1)
    if cv == 0:
        phi = lags.copy()
    else:
        values, inverse = np.unique(lags, return_inverse=True)
        phi = np.array([ar1_phi(cv, float(v)) for v in values])[inverse]
    lags = lags.copy()
    lags.setflags(write=False)
    phi.setflags(write=False)
    return lags, phi


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} is {value!r}; expected an integer >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name} is {value!r}; expected an integer >= {minimum}")
    return int(value)


@dataclass(frozen=True, eq=False)
class StochasticInflow:
    r"""A seeded ensemble of daily inflow series with lognormal, autocorrelated decadal flows.

    Pass it as ``inflow_m3s`` of `sim.engine.driver.Model`; the engine reads :attr:`n_members` and
    calls :meth:`materialize` for each chunk of members.

    Parameters
    ----------
    profile_m3s : array_like of float, shape (n_steps,)
        Daily mean inflow over the period, e.g. ``builtin.inflow_m3s(period,
        "mean-2001-2010") * scale``; finite and >= 0. Its mean over each decade is the
        ensemble mean of that decade's flow. [m³/s]
    period : Period
        The simulated days; ``n_steps == period.n_days``.
    n_members : int
        Number of members, >= 1. [-]
    seed : int
        Seed, >= 0. Member ``i`` depends only on ``seed``, ``block_size``, the number of
        decades of the period, ``cv``, ``lag1`` and the profile, never on ``n_members``
        beyond ``i`` or on how the members are chunked. [-]
    cv : float, default 0.62
        Coefficient of variation of each decade's flow, >= 0. DERIVED: with ``lag1 = 0.8``
        it gives April–September volumes the CV 0.39 observed 2001–2010 (DATA.md); 0.39 is
        that season's CV, not a decade's. 0 reproduces the profile exactly. [-]
    lag1 : float or array_like of float, shape (n_members,), default 0.8
        Lag-one autocorrelation of successive decadal flows, in real space (not of the
        logs), in :math:`(-1/(1+cv^2), 1)`. **GUESS**: DATA.md gives no decade-to-decade
        correlation; 0.8 reflects the persistence of snow- and glacier-fed flow regulated
        upstream by Toktogul. Treat as a sensitivity parameter: one value per member is
        allowed (``ensemble.inflow_lag1`` swept); member ``i`` draws the same innovations
        whatever its correlation, so members differ only by it. Equal values are kept as
        one number (the members are then exactly those of that number). [-]
    block_size : int, default 1024
        Members per random block (each block has its own stream). Fixed per ensemble, so
        streams do not depend on the chunk size; changing it changes every member. [-]

    Attributes
    ----------
    n_decades : int
        Decades touched by the period (``len(period.decades())``).
    decade_mean_m3s : ndarray, shape (n_decades,)
        :math:`m_k`, the profile's mean over the days of decade ``k`` in the period. [m³/s]
    phi : float or ndarray (n_members,)
        :math:`\phi`, the log-space AR(1) coefficient (``lag1`` when ``cv == 0``), per member
        when ``lag1`` is. [-]

    Notes
    -----
    For decade :math:`k = 0, \dots, K-1` of the period with target mean :math:`m_k` [m³/s]:

    .. math::

        \sigma^2 &= \ln(1 + cv^2) \\
        Z_0 &= \varepsilon_0, \qquad
        Z_k = \phi Z_{k-1} + \sqrt{1 - \phi^2}\,\varepsilon_k, \qquad
        \varepsilon_k \sim N(0, 1) \text{ i.i.d.} \\
        Y_k &= \ln m_k - \sigma^2/2 + \sigma Z_k \qquad [\ln(\text{m³/s})] \\
        M_k &= \exp(Y_k - \ln m_k) = \exp(\sigma Z_k - \sigma^2/2) \qquad [-] \\
        Q_d &= q_d \, M_{k(d)} \qquad [\text{m³/s}]

    where :math:`q_d` is ``profile_m3s`` on day :math:`d` and :math:`k(d)` its decade
    (``period.period_decade_ordinal``). :math:`Z` is stationary N(0, 1), so each
    :math:`M_k` is lognormal with mean 1 and CV ``cv``, the decade's mean flow
    :math:`m_k M_k` has mean :math:`m_k`, and

    .. math::

        \operatorname{corr}(M_k, M_{k+1}) = \frac{e^{\sigma^2\phi} - 1}{e^{\sigma^2} - 1} = \mathrm{lag1}
        \quad\text{with}\quad
        \phi = \frac{\ln\left(1 + \mathrm{lag1}\,(e^{\sigma^2} - 1)\right)}{\sigma^2}.

    Random numbers: member ``i`` is row ``i % block_size`` of block ``b = i // block_size``;
    block ``b`` draws ``np.random.default_rng([seed, b]).standard_normal((block_size,
    n_decades))`` (C order, so a member's :math:`\varepsilon_0, \dots, \varepsilon_{K-1}` are
    consecutive draws). Each block is drawn whole even when a chunk needs part of it.

    The within-decade shape of the profile is kept (the presets are flat within a decade,
    so each member's flow is constant over a decade); day-to-day variability inside a
    decade is not modelled.
    """

    profile_m3s: np.ndarray
    period: Period
    n_members: int
    seed: int
    cv: float = DEFAULT_CV
    lag1: float = DEFAULT_LAG1
    block_size: int = DEFAULT_BLOCK_SIZE
    n_decades: int = field(init=False, repr=False)
    decade_mean_m3s: np.ndarray = field(init=False, repr=False)
    phi: float = field(init=False, repr=False)
    _ordinal: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.period, Period):
            raise ValueError(f"period is {type(self.period).__name__}; expected a sim.calendar.Period")
        n_members = _check_int(self.n_members, "n_members", 1)
        seed = _check_int(self.seed, "seed", 0)
        block_size = _check_int(self.block_size, "block_size", 1)
        try:
            cv = float(self.cv)
            lags = np.array(self.lag1, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"cv and lag1 must be numbers, found cv={self.cv!r}, lag1={self.lag1!r}") from None
        if not (math.isfinite(cv) and cv >= 0):
            raise ValueError(f"cv is {self.cv!r}; expected a finite number >= 0")
        if lags.ndim > 1 or (lags.ndim == 1 and lags.shape != (n_members,)):
            raise ValueError(f"lag1 has shape {lags.shape}; expected one number or one per member ({n_members},)")
        if lags.ndim == 1 and np.all(lags == lags[0]):
            lags = lags[0]  # one correlation: the members are exactly those of that number
        lag1, phi = _phis(cv, lags)

        try:
            profile = np.array(self.profile_m3s, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("profile_m3s must be an array of numbers, one per day of the period") from None
        n_days = self.period.n_days
        if profile.shape != (n_days,):
            raise ValueError(
                f"profile_m3s has shape {profile.shape}; expected ({n_days},), one value per day of {self.period}"
            )
        bad = ~np.isfinite(profile) | (profile < 0)
        if bad.any():
            i = int(np.argmax(bad))
            more = f" (and {int(bad.sum()) - 1} more)" if bad.sum() > 1 else ""
            raise ValueError(
                f"profile_m3s on {self.period.dates[i]} is {float(profile[i])!r}; "
                f"expected a finite number >= 0{more}"
            )
        profile.setflags(write=False)

        ordinal = self.period.period_decade_ordinal
        ordinal.setflags(write=False)
        n_decades = int(ordinal[-1]) + 1
        counts = np.bincount(ordinal, minlength=n_decades)
        means = np.bincount(ordinal, weights=profile, minlength=n_decades) / counts
        means.setflags(write=False)

        for name, value in (
            ("profile_m3s", profile), ("n_members", n_members), ("seed", seed), ("cv", cv),
            ("lag1", lag1), ("block_size", block_size), ("n_decades", n_decades),
            ("decade_mean_m3s", means), ("phi", phi), ("_ordinal", ordinal),
        ):  # fmt: skip
            object.__setattr__(self, name, value)

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_preset(
        cls,
        period: Period,
        name: str = "mean-2001-2010",
        *,
        scale: float = 1.0,
        n_members: int,
        seed: int,
        cv: float = DEFAULT_CV,
        lag1: float = DEFAULT_LAG1,
        block_size: int = DEFAULT_BLOCK_SIZE,
    ) -> StochasticInflow:
        """An ensemble around a built-in inflow profile (`sim.builtin.inflow_m3s`) × ``scale``."""
        scale = float(scale)
        if not (math.isfinite(scale) and scale >= 0):
            raise ValueError(f"scale is {scale!r}; expected a finite number >= 0")
        return cls(load_preset("inflow", name).flow_m3s(period) * scale, period, n_members, seed, cv, lag1, block_size)

    # -- generation -----------------------------------------------------------------------

    def _slice(self, sl) -> tuple[int, int]:
        if sl is None:
            return 0, self.n_members
        if not isinstance(sl, slice):
            raise ValueError(f"members must be a slice, found {type(sl).__name__}")
        if sl.step not in (None, 1):
            raise ValueError(f"members slice has step {sl.step}; expected a contiguous slice (step 1)")
        start, stop, _ = sl.indices(self.n_members)
        if sl.stop is not None and sl.stop > self.n_members:
            raise ValueError(f"members slice {sl.start}:{sl.stop} goes past the {self.n_members} members")
        return start, max(start, stop)

    def _block_normals(self, block: int) -> np.ndarray:
        """Standard normals of one block, shape ``(block_size, n_decades)``."""
        rng = np.random.default_rng([self.seed, block])
        return rng.standard_normal((self.block_size, self.n_decades))

    def _normals(self, start: int, stop: int) -> np.ndarray:
        """Innovations of members ``start..stop-1``, shape ``(stop - start, n_decades)``."""
        if stop <= start:
            return np.empty((0, self.n_decades))
        bs = self.block_size
        first, last = start // bs, (stop - 1) // bs
        eps = np.concatenate([self._block_normals(b) for b in range(first, last + 1)], axis=0)
        offset = first * bs
        return eps[start - offset : stop - offset]

    def decadal_multipliers(self, sl: slice | None = None) -> np.ndarray:
        r"""Decadal multipliers :math:`M_k` of members ``sl`` (all members if None).

        Parameters
        ----------
        sl : slice, optional
            Contiguous members, within ``0..n_members``.

        Returns
        -------
        ndarray of float64, shape (n_decades, k)
            Mean 1 and CV ``cv`` in each decade; ``k = sl.stop - sl.start``. [-]
        """
        start, stop = self._slice(sl)
        k = stop - start
        if self.cv == 0:
            return np.ones((self.n_decades, k))
        phi = self.phi if np.ndim(self.phi) == 0 else self.phi[start:stop]
        return self._ar1(self._normals(start, stop).T, phi)

    def _ar1(self, eps: np.ndarray, phi) -> np.ndarray:
        """Multipliers from innovations `eps` (n_decades, k) and the log-space coefficient `phi`
        (one number, or one per column)."""
        z = np.empty_like(eps)
        z[0] = eps[0]
        if np.ndim(phi) == 0:
            innovation = math.sqrt(max(0.0, 1.0 - phi * phi))
        else:  # the same operations column by column (IEEE square roots are exact to the bit)
            innovation = np.sqrt(np.maximum(0.0, 1.0 - phi * phi))
        for d in range(1, self.n_decades):
            z[d] = phi * z[d - 1] + innovation * eps[d]
        sigma2 = math.log1p(self.cv * self.cv)
        # exp with the same bits on every CPU (numpy's own np.exp differs with AVX-512).
        return ieee.exp(math.sqrt(sigma2) * z - 0.5 * sigma2)

    def materialize_members(self, members, lag1) -> np.ndarray:
        """Daily inflow of members `members` (indices, any order, repeats allowed), each with
        its own correlation `lag1` (shape like `members`): member ``members[j]``'s innovations
        with ``lag1[j]``, the flow `materialize` gives for an ensemble whose member has that
        correlation. A sweep crosses inflow members with settings this way
        (`sim.studies.sweep.CrossedInflow`). Shape (n_steps, len(members)). [m³/s]"""
        idx = np.asarray(members, dtype=np.int64)
        lags = np.asarray(lag1, dtype=np.float64)
        if idx.ndim != 1 or lags.shape != idx.shape:
            raise ValueError(f"members has shape {idx.shape} and lag1 {lags.shape}; expected two equal 1-D shapes")
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_members):
            raise ValueError(f"members go outside 0..{self.n_members - 1}")
        if idx.size == 0 or self.cv == 0:
            return self.profile_m3s[:, None] * np.ones((self.n_decades, idx.size))[self._ordinal]
        _, phi = _phis(self.cv, lags)
        lo, hi = int(idx.min()), int(idx.max()) + 1
        eps = self._normals(lo, hi)[idx - lo].T
        return self.profile_m3s[:, None] * self._ar1(eps, phi)[self._ordinal]

    def materialize(self, sl: slice, n_total: int | None = None) -> np.ndarray:
        """Daily inflow of members ``sl``, as the engine asks for it.

        Parameters
        ----------
        sl : slice
            Contiguous members, within ``0..n_members``.
        n_total : int, optional
            The ensemble size the caller expects (the engine passes its ``n_members``); if
            given it must equal :attr:`n_members`. The members themselves do not depend on it.

        Returns
        -------
        ndarray of float64, shape (n_steps, k)
            ``profile_m3s[d] * M[k(d), member]``; ``k = sl.stop - sl.start``. [m³/s]

        Raises
        ------
        ValueError
            Slice with a step, past the last member, or ``n_total != n_members``.
        """
        if n_total is not None and n_total != self.n_members:
            raise ValueError(f"asked for members of an ensemble of {n_total}; this one has {self.n_members}")
        multipliers = self.decadal_multipliers(sl)
        return self.profile_m3s[:, None] * multipliers[self._ordinal]

    def materialize_all(self) -> np.ndarray:
        """Daily inflow of every member, shape ``(n_steps, n_members)``. [m³/s]"""
        return self.materialize(slice(0, self.n_members), self.n_members)

    def __repr__(self) -> str:
        return (
            f"StochasticInflow(period={self.period}, n_members={self.n_members}, seed={self.seed}, "
            f"cv={self.cv}, lag1={self.lag1 if np.ndim(self.lag1) == 0 else 'one per member'}, "
            f"block_size={self.block_size})"
        )


# ---------------------------------------------------------------------------------------
# Summaries of ensembles
# ---------------------------------------------------------------------------------------


def exceedance(values, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Values sorted from largest to smallest, with their exceedance probabilities.

    Parameters
    ----------
    values : array_like of float
        E.g. one metric per member, shape ``(n_members,)``; or any array, ranked along
        ``axis``. NaN is not allowed.
    axis : int, default 0
        Axis along which to rank.

    Returns
    -------
    sorted_values : ndarray
        ``values`` sorted in descending order along ``axis`` (same shape).
    probability : ndarray, shape (n,)
        Weibull plotting positions :math:`p_i = i/(n+1)`, :math:`i = 1..n`: the estimated
        probability that a value is exceeded (or equalled) by the value of rank ``i``. [-]

    Raises
    ------
    ValueError
        Empty along ``axis``, or NaN values.

    Examples
    --------
    >>> v, p = exceedance([3.0, 1.0, 2.0])
    >>> v.tolist(), p.tolist()
    ([3.0, 2.0, 1.0], [0.25, 0.5, 0.75])
    """
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 0:
        a = a.reshape(1)
    n = a.shape[axis]
    if n == 0:
        raise ValueError("exceedance needs at least one value along the axis")
    if np.isnan(a).any():
        raise ValueError("exceedance: values contain NaN; remove or fill them first")
    ordered = np.flip(np.sort(a, axis=axis), axis=axis)
    probability = np.arange(1, n + 1, dtype=np.float64) / (n + 1)
    return ordered, probability


def percentiles(values, q=(10, 50, 90), axis: int = -1) -> np.ndarray:
    """Percentiles of an ensemble along the member axis.

    Parameters
    ----------
    values : array_like of float
        E.g. daily series ``(n_steps, n_members)`` or a metric ``(n_members,)``.
    q : float or sequence of float, default (10, 50, 90)
        Percentiles in ``[0, 100]``; q = 10 is the value 10 % of members fall below
        (a dry member for inflow), not an exceedance probability.
    axis : int, default -1
        The member axis (members are last throughout the package).

    Returns
    -------
    ndarray
        Shape ``(len(q),) + shape without axis`` (numpy's convention: the percentile axis
        first), or without the leading axis if ``q`` is a scalar. Linear interpolation
        between order statistics (``numpy.percentile`` default).

    Raises
    ------
    ValueError
        ``q`` outside ``[0, 100]`` or NaN values.
    """
    a = np.asarray(values, dtype=np.float64)
    qs = np.asarray(q, dtype=np.float64)
    if np.any(~np.isfinite(qs) | (qs < 0) | (qs > 100)):
        raise ValueError(f"percentiles q={q!r}; expected values in [0, 100]")
    if np.isnan(a).any():
        raise ValueError("percentiles: values contain NaN; remove or fill them first")
    return np.percentile(a, qs, axis=axis)
