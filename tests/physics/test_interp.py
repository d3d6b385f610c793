"""Tests for sim.physics._interp.PiecewiseLinear: exact on table points, equal to np.interp inside."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim.physics._interp import PiecewiseLinear
from sim.physics.hypsometry import power_law_table

# The built-in placeholder table: storage (m³) has tiny segments at the bottom (2900 m³ for
# the first 0.25 m) and ~100 hm³ ones at the top, so many segments share a bucket there.
LEVEL_M, STORAGE_HM3, AREA_KM2 = power_law_table(322.5, 347.5, 4160.0, 3.08, top_level_m=351.5)
STORAGE_M3 = STORAGE_HM3 * 1e6
AREA_M2 = AREA_KM2 * 1e6
BY_STORAGE = PiecewiseLinear(STORAGE_M3, LEVEL_M, AREA_M2)
BY_LEVEL = PiecewiseLinear(LEVEL_M, STORAGE_M3, AREA_M2)


def test_exact_on_table_points():
    assert_array_equal(BY_STORAGE(STORAGE_M3, 0), LEVEL_M)
    assert_array_equal(BY_STORAGE(STORAGE_M3, 1), AREA_M2)
    assert_array_equal(BY_LEVEL(LEVEL_M, 0), STORAGE_M3)
    assert_array_equal(BY_LEVEL(LEVEL_M, 1), AREA_M2)


def test_hand_checked_small_table():
    f = PiecewiseLinear([0.0, 1.0, 3.0], [0.0, 10.0, 30.0], [5.0, 5.0, 1.0])
    assert_allclose(f([0.5, 1.0, 2.0, 3.0]), [5.0, 10.0, 20.0, 30.0])
    assert_allclose(f([0.5, 2.0], 1), [5.0, 3.0])
    # Linear extrapolation with the end segments' slopes.
    assert_allclose(f([-1.0, 4.0]), [-10.0, 40.0])
    assert_allclose(f([-1.0, 4.0], 1), [5.0, -1.0])


def test_shapes_are_kept():
    f = PiecewiseLinear([0.0, 1.0, 2.0], [0.0, 1.0, 4.0])
    assert np.ndim(f(0.5)) == 0
    assert_allclose(f(0.5), 0.5)
    q = np.array([[0.25, 1.5], [2.0, 0.0]])
    assert f(q).shape == (2, 2)
    assert_allclose(f(q), np.interp(q, [0, 1, 2], [0, 1, 4]))


@pytest.mark.parametrize(
    "x, ys",
    [
        ([0.0], ([0.0],)),
        ([0.0, 0.0, 1.0], ([0.0, 1.0, 2.0],)),
        ([1.0, 0.0], ([0.0, 1.0],)),
    ],
)
def test_rejects_bad_abscissae(x, ys):
    with pytest.raises(ValueError, match="strictly increasing table of at least two values"):
        PiecewiseLinear(x, *ys)


def test_rejects_mismatched_ordinates():
    with pytest.raises(ValueError, match="every y table must have the shape of x"):
        PiecewiseLinear([0.0, 1.0, 2.0], [0.0, 1.0])


def _check_locate(f, xq):
    i = f.locate(xq)
    x = f.x
    inside = (xq >= x[0]) & (xq < x[-1])
    assert np.all(x[i[inside]] <= xq[inside])
    assert np.all(xq[inside] < x[i[inside] + 1])
    assert_array_equal(i, np.clip(np.searchsorted(x, xq, side="right") - 1, 0, x.size - 1))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=200),
    st.lists(st.floats(0.0, 2e7), min_size=1, max_size=50),
)
def test_storage_table_equals_np_interp(fractions, bottom_m3):
    # Queries over the whole range and, separately, inside the tiny bottom segments.
    xq = np.concatenate([np.asarray(fractions) * STORAGE_M3[-1], np.asarray(bottom_m3)])
    _check_locate(BY_STORAGE, xq)
    assert_allclose(BY_STORAGE(xq, 0), np.interp(xq, STORAGE_M3, LEVEL_M), rtol=1e-13, atol=1e-10)
    assert_allclose(BY_STORAGE(xq, 1), np.interp(xq, STORAGE_M3, AREA_M2), rtol=1e-12, atol=1e-3)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(322.5, 351.5), min_size=1, max_size=200))
def test_level_table_equals_np_interp(levels):
    xq = np.asarray(levels)
    _check_locate(BY_LEVEL, xq)
    assert_allclose(BY_LEVEL(xq, 0), np.interp(xq, LEVEL_M, STORAGE_M3), rtol=1e-12, atol=1e-4)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-12.0, 6.0), min_size=2, max_size=60),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=100),
    st.integers(1, 64),
)
def test_random_tables_equal_np_interp(log_steps, fractions, n_buckets):
    # Segment lengths spanning 18 orders of magnitude, and very few buckets: the fallback
    # search and the forward steps must still land on the exact segment.
    x = np.cumsum(10.0 ** np.asarray(log_steps))
    assume(np.all(np.diff(x) > 0))
    y = np.sin(np.arange(x.size)) * 100.0
    f = PiecewiseLinear(x, y, n_buckets=n_buckets)
    assert_array_equal(f(x), y)
    xq = x[0] + np.asarray(fractions) * (x[-1] - x[0])
    _check_locate(f, xq)
    assert_allclose(f(xq), np.interp(xq, x, y), rtol=1e-9, atol=1e-9)
