"""Tests of sim.physics.ieee: exp and log from IEEE basic operations, the same bits on every CPU."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.physics import ieee


def _ulps(got, want):
    return abs(got - want) / math.ulp(want) if want != 0 else abs(got)


@given(st.floats(-745.0, 709.0))
def test_exp_is_within_one_ulp_of_the_c_library(x):
    want = math.exp(x)
    if want > 0.0 and math.isfinite(want) and want >= 2.2250738585072014e-308:  # normal results
        assert _ulps(float(ieee.exp(x)), want) <= 1.0


@given(st.floats(5e-324, 1.7e308))
def test_log_is_within_one_ulp_of_the_c_library(x):
    want = math.log(x)
    assert _ulps(float(ieee.log(x)), want) <= 1.0


def test_known_bits_and_limits():
    # fdlibm's own results (Java's StrictMath): exp(1) is one unit above the nearest double to e.
    assert float(ieee.exp(1.0)) == 2.7182818284590455
    assert float(ieee.exp(0.0)) == 1.0 and float(ieee.exp(-0.0)) == 1.0
    assert float(ieee.log(1.0)) == 0.0
    assert float(ieee.log(math.e)) == 1.0
    x = np.array([710.0, np.inf, -746.0, -np.inf, np.nan])
    np.testing.assert_array_equal(ieee.exp(x), [np.inf, np.inf, 0.0, 0.0, np.nan])
    y = np.array([0.0, -1.0, np.inf, np.nan, 5e-324])
    np.testing.assert_array_equal(ieee.log(y), [-np.inf, np.nan, np.inf, np.nan, math.log(5e-324)])
    assert ieee.exp(2.0).shape == () and ieee.log(np.ones((2, 3))).shape == (2, 3)


# numpy chooses its own exp and log by the CPU (AVX-512 vector routines where it can). A child
# with every feature numpy can dispatch to turned off must get the same bits as this process:
# stochastic inflow members and the member level–storage tables of a storage exponent factor.
_DRAW = """
import sys
import numpy as np
from sim import builtin
from sim.inputs.inflow import StochasticInflow
from sim.physics import calendar, ieee
from sim.physics.hypsometry import transform_table
period = calendar.growing_season(2025)
ens = StochasticInflow(builtin.inflow_m3s(period, "mean-2001-2010"), period, 2000, 7, cv=0.62, lag1=0.8)
x = np.linspace(-30.0, 30.0, 100_001)
hyps = builtin.reservoir().hypsometry
r = np.linspace(0.8, 1.2, 501)
shared = transform_table(hyps.storage_m3, hyps.area_m2, 0.9, r, np.full(r.size, hyps.storage_m3[80]))
own = transform_table(hyps.storage_m3, hyps.area_m2, 0.9, r, hyps.storage_m3[np.arange(r.size) % 50 + 60])
out = [ens.materialize(slice(0, 2000)), ieee.exp(x), ieee.log(x[x > 0]), *shared, *own]
sys.stdout.buffer.write(b"".join(a.tobytes() for a in out))
"""


def test_ensembles_and_member_tables_have_the_same_bits_whatever_numpy_dispatches_to():
    try:  # numpy 2; numpy 1.x (the project allows >= 1.24) keeps it in numpy.core
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    found = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
    if not found:
        pytest.skip("this CPU has none of the features numpy dispatches to beyond its baseline")
    here = subprocess.run([sys.executable, "-c", _DRAW], capture_output=True, check=True).stdout
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=" ".join(found))
    baseline = subprocess.run([sys.executable, "-c", _DRAW], capture_output=True, check=True, env=env).stdout
    assert len(here) > 2000 * 183 * 8
    assert here == baseline
