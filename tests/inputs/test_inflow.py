"""Tests of sim.inputs.inflow: statistics of the stochastic ensemble, chunk independence, summaries."""

import math
import pickle
import re
from math import comb

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import sim
from sim import builtin
from sim.inputs.inflow import StochasticInflow, ar1_phi, exceedance, percentiles
from sim.physics import calendar

PERIOD = calendar.growing_season(2025)  # 183 days, 18 decades
SEED = 20250401
CV = 0.39
LAG1 = 0.8
N_STAT = 20_000


def _profile():
    return builtin.inflow_m3s(PERIOD, "mean-2001-2010")


def _ensemble(n_members, seed=SEED, **kwargs):
    kwargs.setdefault("cv", CV)
    kwargs.setdefault("lag1", LAG1)
    return StochasticInflow(_profile(), PERIOD, n_members, seed, **kwargs)


@pytest.fixture(scope="module")
def multipliers():
    return _ensemble(N_STAT).decadal_multipliers()  # (18, N_STAT)


# ---------------------------------------------------------------------------------------
# Theory of the bivariate lognormal multipliers, for the tolerances
# ---------------------------------------------------------------------------------------


def _raw_moment(i, j, sigma2, rho_log):
    """E[M1^i M2^j] for M = exp(sigma Z - sigma2/2), corr(Z1, Z2) = rho_log."""
    return math.exp(0.5 * sigma2 * (i * i + j * j + 2 * i * j * rho_log - i - j))


def _std_moment(a, b, cv, rho_log):
    """E[x^a y^b] of the standardised multipliers x = (M1 - 1)/cv, y = (M2 - 1)/cv."""
    sigma2 = math.log1p(cv * cv)
    total = sum(
        comb(a, i) * comb(b, j) * (-1) ** (a - i + b - j) * _raw_moment(i, j, sigma2, rho_log)
        for i in range(a + 1)
        for j in range(b + 1)
    )
    return total / cv ** (a + b)


def _real_corr(cv, rho_log):
    sigma2 = math.log1p(cv * cv)
    return math.expm1(sigma2 * rho_log) / math.expm1(sigma2)


def _se_corr(cv, rho_log, n):
    """Asymptotic SE of Pearson's r from n i.i.d. pairs of any distribution (delta method):
    n Var(r) = rho²/4 (m40 + m04 + 2 m22) - rho (m31 + m13) + m22 (standardised moments)."""
    rho = _real_corr(cv, rho_log)
    m = lambda a, b: _std_moment(a, b, cv, rho_log)  # noqa: E731
    var = rho**2 / 4 * (m(4, 0) + m(0, 4) + 2 * m(2, 2)) - rho * (m(3, 1) + m(1, 3)) + m(2, 2)
    return math.sqrt(var / n)


def test_moment_helpers_reproduce_the_bivariate_normal_limit():
    # For a tiny cv the lognormal is almost normal: SE(r) -> (1 - rho²)/sqrt(n).
    phi = 0.5
    assert_allclose(_se_corr(1e-3, phi, 100), (1 - 0.25) / 10, rtol=1e-2)
    assert_allclose(_std_moment(2, 0, CV, 0.3), 1.0, rtol=1e-12)
    assert_allclose(_std_moment(1, 1, CV, 0.3), _real_corr(CV, 0.3), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# Statistics over many members
# ---------------------------------------------------------------------------------------


def test_phi_gives_the_requested_real_space_correlation():
    phi = ar1_phi(CV, LAG1)
    assert 0.8 < phi < 1
    assert_allclose(_real_corr(CV, phi), LAG1, rtol=1e-12)
    assert_allclose(ar1_phi(CV, 0.0), 0.0, atol=1e-15)
    assert_allclose(_real_corr(CV, ar1_phi(CV, -0.3)), -0.3, rtol=1e-12)


def test_mean_of_decadal_multipliers(multipliers):
    n_decades, n = multipliers.shape
    # Each decade: N independent members, SE of the mean = cv / sqrt(N).
    se_decade = CV / math.sqrt(n)
    assert np.all(np.abs(multipliers.mean(axis=1) - 1.0) < 4 * se_decade)
    # Grand mean over the 18 correlated decades: Var = sum_ij cov(M_i, M_j) / 18² / N,
    # cov(M_i, M_j) = exp(sigma² phi^|i-j|) - 1.
    sigma2, phi = math.log1p(CV**2), ar1_phi(CV, LAG1)
    lags = np.abs(np.subtract.outer(np.arange(n_decades), np.arange(n_decades)))
    cov = np.expm1(sigma2 * phi**lags)
    se_grand = math.sqrt(cov.sum() / n_decades**2 / n)
    assert abs(multipliers.mean() - 1.0) < 4 * se_grand


def test_cv_of_decadal_multipliers(multipliers):
    n = multipliers.shape[1]
    # One decade: SE(sd) ~ sqrt((mu4 - sd^4) / n) / (2 sd), mu4 = m40 cv^4 (lognormal
    # kurtosis); pooling 18 equally distributed, correlated decades cannot increase the
    # variance of the averaged estimator (Cauchy–Schwarz), so the one-decade SE bounds it.
    se_sd = CV * math.sqrt((_std_moment(4, 0, CV, 0.0) - 1) / n) / 2
    se_mean = CV / math.sqrt(n)
    tolerance = 4 * (se_sd + CV * se_mean)
    measured = multipliers.std() / multipliers.mean()
    assert abs(measured - CV) < tolerance
    per_decade = multipliers.std(axis=1) / multipliers.mean(axis=1)
    assert np.all(np.abs(per_decade - CV) < tolerance)


@pytest.mark.parametrize("lag", [1, 2, 5])
def test_autocorrelation_of_decadal_flows(multipliers, lag):
    phi = ar1_phi(CV, LAG1)
    target = _real_corr(CV, phi**lag)  # lag 1: LAG1 exactly
    x, y = multipliers[:-lag].ravel(), multipliers[lag:].ravel()  # pooled over members
    measured = np.corrcoef(x, y)[0, 1]
    # SE from n = N_STAT i.i.d. pairs (one decade pair); pooling pairs does not increase it.
    assert abs(measured - target) < 4 * _se_corr(CV, phi**lag, multipliers.shape[1])
    if lag == 1:
        assert target == pytest.approx(LAG1)


def test_daily_inflow_is_profile_times_decadal_multiplier():
    ens = _ensemble(30)
    daily = ens.materialize_all()
    m = ens.decadal_multipliers()
    profile = _profile()
    assert daily.shape == (PERIOD.n_days, 30) and daily.dtype == np.float64
    assert_array_equal(daily, profile[:, None] * m[PERIOD.period_decade_ordinal])
    # decade means of a member = target mean × multiplier
    ordinal = PERIOD.period_decade_ordinal
    decade_means = np.stack([daily[ordinal == k].mean(axis=0) for k in range(ens.n_decades)])
    assert_allclose(decade_means, ens.decade_mean_m3s[:, None] * m, rtol=1e-12)


# ---------------------------------------------------------------------------------------
# Member i never depends on the chunking or the ensemble size
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_members_identical_whatever_the_chunking(chunk):
    n = 2100  # spans three random blocks of 1024
    ens = _ensemble(n)
    whole = ens.materialize_all()
    parts = [ens.materialize(slice(a, min(a + chunk, n)), n) for a in range(0, n, chunk)]
    assert_array_equal(np.concatenate(parts, axis=1), whole)


def test_members_identical_with_a_small_block_size():
    ens = _ensemble(50, block_size=4)
    whole = ens.materialize_all()
    for chunk in (1, 3, 7):
        parts = [ens.materialize(slice(a, min(a + chunk, 50)), 50) for a in range(0, 50, chunk)]
        assert_array_equal(np.concatenate(parts, axis=1), whole)


def test_members_independent_of_ensemble_size():
    small = _ensemble(10).materialize_all()
    large = _ensemble(5000).materialize(slice(0, 10), 5000)
    assert_array_equal(small, large)
    assert_array_equal(_ensemble(5000).decadal_multipliers(slice(0, 10)), _ensemble(10).decadal_multipliers())


def test_seeds_differ_and_repeat():
    a = _ensemble(20, seed=1).materialize_all()
    assert_array_equal(a, _ensemble(20, seed=1).materialize_all())
    b = _ensemble(20, seed=2).materialize_all()
    assert not np.any(a == b)
    # and members within one ensemble differ from each other
    assert np.unique(a[0]).size == 20


def test_cv_zero_reproduces_the_profile_exactly():
    ens = _ensemble(5, cv=0.0)
    assert_array_equal(ens.materialize_all(), np.repeat(_profile()[:, None], 5, axis=1))


def test_pickles_for_executors():
    ens = _ensemble(40)
    again = pickle.loads(pickle.dumps(ens))
    assert_array_equal(again.materialize(slice(3, 11), 40), ens.materialize(slice(3, 11), 40))


def test_from_preset_scales_the_profile():
    ens = StochasticInflow.from_preset(PERIOD, scale=0.5, n_members=3, seed=1, cv=0.0)
    assert_array_equal(ens.materialize_all()[:, 0], 0.5 * _profile())
    assert ens.n_members == 3 and ens.lag1 == 0.8 and ens.block_size == 1024


# ---------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cv": -0.1}, "cv is -0.1; expected a finite number >= 0"),
        ({"cv": float("nan")}, "cv is nan; expected a finite number >= 0"),
        ({"lag1": 1.0}, "lag1 is 1.0; expected a number with -1 < lag1 < 1"),
        ({"lag1": -1.0}, "lag1 is -1.0; expected a number with -1 < lag1 < 1"),
        ({"lag1": -0.9}, "lag1 is -0.9; with cv = 0.39 the lag-one correlation of lognormal flows must be in"),
        ({"block_size": 0}, "block_size is 0; expected an integer >= 1"),
    ],
)
def test_invalid_parameters(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        _ensemble(10, **kwargs)


def test_invalid_members_seed_and_profile():
    profile = _profile()
    with pytest.raises(ValueError, match=re.escape("n_members is 0; expected an integer >= 1")):
        StochasticInflow(profile, PERIOD, 0, 1)
    with pytest.raises(ValueError, match=re.escape("n_members is 2.5; expected an integer >= 1")):
        StochasticInflow(profile, PERIOD, 2.5, 1)
    with pytest.raises(ValueError, match=re.escape("seed is -1; expected an integer >= 0")):
        StochasticInflow(profile, PERIOD, 3, -1)
    with pytest.raises(ValueError, match=re.escape("profile_m3s has shape (182,); expected (183,)")):
        StochasticInflow(profile[:-1], PERIOD, 3, 1)
    bad = profile.copy()
    bad[[10, 20]] = [np.nan, -1.0]
    with pytest.raises(ValueError, match=re.escape("profile_m3s on 2025-04-11 is nan; expected a finite number >= 0 (and 1 more)")):
        StochasticInflow(bad, PERIOD, 3, 1)


def test_invalid_slices():
    ens = _ensemble(10)
    with pytest.raises(ValueError, match="goes past the 10 members"):
        ens.materialize(slice(5, 11), 10)
    with pytest.raises(ValueError, match="step 2"):
        ens.materialize(slice(0, 10, 2), 10)
    with pytest.raises(ValueError, match="ensemble of 20; this one has 10"):
        ens.materialize(slice(0, 5), 20)
    assert ens.materialize(slice(4, 4), 10).shape == (PERIOD.n_days, 0)


# ---------------------------------------------------------------------------------------
# With the engine
# ---------------------------------------------------------------------------------------


def test_engine_results_do_not_depend_on_chunk_size():
    ens = _ensemble(200)
    model = builtin.model(PERIOD, inflow_m3s=ens)
    assert sim.engine.driver.n_members_of(model) == 200
    regime = sim.rules.regimes.Regime("demand", min_release_m3s=150)
    small = sim.simulate(model, regime, keep_daily=False, chunk_size=64)
    whole = sim.simulate(model, regime, keep_daily=False, chunk_size=200)
    assert small.n_members == whole.n_members == 200
    assert small.metrics.keys() == whole.metrics.keys()
    for name in whole.metrics:
        assert_array_equal(small.metrics[name], whole.metrics[name], err_msg=name)
    # the engine saw the ensemble's inflow, member by member
    inflow_hm3 = ens.materialize_all().sum(axis=0) * 86_400.0 / 1e6
    assert_allclose(whole.metrics["inflow_hm3"], inflow_hm3, rtol=1e-12)
    assert np.std(whole.metrics["inflow_hm3"]) > 0


# ---------------------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------------------


def test_exceedance_weibull_positions():
    values, p = exceedance([2.0, 5.0, 1.0, 4.0])
    assert_array_equal(values, [5.0, 4.0, 2.0, 1.0])
    assert_allclose(p, [0.2, 0.4, 0.6, 0.8])
    table = np.array([[1.0, 9.0], [3.0, 7.0], [2.0, 8.0]])
    values, p = exceedance(table, axis=0)
    assert_array_equal(values, [[3.0, 9.0], [2.0, 8.0], [1.0, 7.0]])
    assert_allclose(p, [0.25, 0.5, 0.75])
    values, p = exceedance(table, axis=1)
    assert_array_equal(values, [[9.0, 1.0], [7.0, 3.0], [8.0, 2.0]])
    assert_allclose(p, [1 / 3, 2 / 3])
    with pytest.raises(ValueError, match="NaN"):
        exceedance([1.0, np.nan])


def test_percentiles_over_members():
    daily = np.tile(np.arange(101.0), (4, 1))  # 4 days × 101 members
    out = percentiles(daily)
    assert out.shape == (3, 4)
    assert_array_equal(out[:, 0], [10.0, 50.0, 90.0])
    assert percentiles(np.arange(11.0), q=50) == 5.0
    with pytest.raises(ValueError, match=re.escape("expected values in [0, 100]")):
        percentiles(daily, q=(10, 150))


def test_default_cv_gives_the_observed_season_volume_cv():
    # DATA.md: April–September volumes 2001–2010 have a CV of 0.39. That is the season's CV;
    # the decadal CV that gives it (with the default lag-one 0.8) is 0.62, the default.
    ens = StochasticInflow.from_preset(PERIOD, n_members=20_000, seed=7)
    assert (ens.cv, ens.lag1) == (0.62, 0.8)
    volumes = ens.materialize(slice(0, ens.n_members), ens.n_members).sum(axis=0)
    assert volumes.std() / volumes.mean() == pytest.approx(0.39, abs=0.01)
    low = StochasticInflow.from_preset(PERIOD, n_members=20_000, seed=7, cv=0.39)
    v = low.materialize(slice(0, low.n_members), low.n_members).sum(axis=0)
    assert v.std() / v.mean() < 0.3  # the old default: far too little variability


# ---------------------------------------------------------------------------------------
# One lag-one correlation per member (ensemble.inflow_lag1 swept)
# ---------------------------------------------------------------------------------------

LAGS = np.array([0.2, 0.5, 0.8, 0.95, -0.3, 0.0])


def test_equal_per_member_correlations_are_the_single_number_to_the_bit():
    one = _ensemble(40)
    each = _ensemble(40, lag1=np.full(40, LAG1))
    assert each.lag1 == LAG1 and each.phi == one.phi
    assert each.materialize_all().tobytes() == one.materialize_all().tobytes()


def test_members_with_different_correlations_equal_separate_ensembles():
    n = 30
    lags = np.resize(LAGS, n)
    ens = _ensemble(n, lag1=lags)
    daily = ens.materialize_all()
    for i in range(n):
        alone = _ensemble(n, lag1=float(lags[i])).materialize(slice(i, i + 1))
        assert daily[:, i].tobytes() == alone[:, 0].tobytes(), i
    # chunks give the same members, and materialize_members the same flows in any order
    np.testing.assert_array_equal(np.hstack([ens.materialize(slice(a, min(a + 7, n))) for a in range(0, n, 7)]), daily)
    idx = np.array([29, 3, 3, 0, 17])
    np.testing.assert_array_equal(ens.materialize_members(idx, lags[idx]), daily[:, idx])
    # a member's innovations are its own whatever its correlation: at lag1 = 0 (phi = 0) its
    # log-multipliers are the i.i.d. innovations themselves
    white = _ensemble(n, lag1=np.where(np.arange(n) == 4, 0.0, 0.9)).decadal_multipliers()[:, 4]
    sigma2 = math.log1p(CV * CV)
    eps = (np.log(white) + 0.5 * sigma2) / math.sqrt(sigma2)
    assert_allclose(eps, np.random.default_rng([SEED, 0]).standard_normal((1024, 18))[4], rtol=0, atol=1e-12)


@pytest.mark.parametrize("bad,message", [
    (np.array([0.5, 1.0, 0.2]), "lag1 is 1.0; expected a number with -1 < lag1 < 1"),
    (np.array([0.5, np.nan, 0.2]), "lag1 is nan"),
    (np.array([0.5, 0.2]), "lag1 has shape (2,); expected one number or one per member (3,)"),
    (np.array([0.5, -0.9, 0.2]), "lag1 is -0.9; with cv = 0.39 the lag-one correlation of lognormal flows must be in"),
])  # fmt: skip
def test_bad_per_member_correlations_are_refused(bad, message):
    with pytest.raises(ValueError) as err:
        _ensemble(3, lag1=bad)
    assert message in str(err.value)


def test_long_series_reach_each_members_lag_one_correlation():
    """Statistical: over 40 years (~1440 decades) the pooled lag-one correlation of each value's
    members is its value, within 5 standard errors (Pearson's r of lognormal pairs, `_se_corr`,
    with the AR(1) inflation (1 + φ²)/(1 − φ²) of the pairs' dependence: Bartlett)."""
    cv = 0.62
    period = calendar.Period("1990-01-01", "2029-12-31")
    profile = np.full(period.n_days, 500.0)
    per_value = 60
    lags = np.repeat(LAGS, per_value)
    ens = StochasticInflow(profile, period, lags.size, 11, cv=cv, lag1=lags)
    m = ens.decadal_multipliers()  # (n_decades, members)
    assert m.shape[0] > 1400
    for j, lag in enumerate(LAGS):
        cols = m[:, j * per_value:(j + 1) * per_value]
        x, y = cols[:-1].ravel(), cols[1:].ravel()
        measured = np.corrcoef(x, y)[0, 1]
        phi = ar1_phi(cv, lag)
        n_eff = x.size * (1 - phi * phi) / (1 + phi * phi)
        tolerance = 5 * _se_corr(cv, phi, n_eff)
        assert abs(measured - lag) < tolerance, (lag, measured, tolerance)
        assert tolerance < 0.1  # tight enough to tell the values apart
