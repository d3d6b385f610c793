"""`sim.studies.saltelli`: the Saltelli design from numpy alone equals SALib's sampler bit for bit
(and the Sobol' points scipy's), so results do not change with the faster import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from sim.studies import saltelli


@pytest.mark.parametrize("dim,n,seed", [(1, 1, 0), (2, 2, 5), (4, 8, 3), (24, 4096, 0), (60, 256, 12345)])
def test_sobol_points_are_scipys(dim, n, seed):
    from scipy.stats import qmc

    np.testing.assert_array_equal(saltelli.sobol_points(dim, n, seed), qmc.Sobol(dim, scramble=True, seed=seed).random(n))


@pytest.mark.parametrize("d,n,seed", [(1, 4, 0), (3, 1024, 1), (12, 4096, 0), (12, 64, 7), (30, 32, 2)])
def test_design_is_salibs(d, n, seed):
    from SALib.sample import sobol as sobol_sample

    rng = np.random.default_rng(seed + 100)
    low = rng.uniform(-1000.0, 1000.0, d)
    bounds = np.column_stack([low, low + rng.uniform(1e-3, 500.0, d)])
    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": bounds.tolist()}
    expected = sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    np.testing.assert_array_equal(saltelli.design(bounds, n, seed), expected)


def test_design_rejects_empty_ranges_like_salib():
    with pytest.raises(ValueError, match="upper bound must be greater"):
        saltelli.design([(0.0, 1.0), (2.0, 2.0)], 8, 0)


def test_falls_back_to_salib_without_scipys_table(monkeypatch):
    monkeypatch.setattr(saltelli, "direction_file", lambda: None)
    x = saltelli.design([(0.0, 1.0), (5.0, 7.0)], 16, 4)
    monkeypatch.undo()
    np.testing.assert_array_equal(x, saltelli.design([(0.0, 1.0), (5.0, 7.0)], 16, 4))


def test_the_design_imports_neither_salib_nor_scipy_stats():
    code = ("import sys; from sim.studies import saltelli; saltelli.design([(0, 1)] * 12, 4096, 0); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'SALib' or m.startswith('scipy.stats')))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.strip() == "[]", p.stderr
