"""Small shared fixtures: the 2025 growing season and the built-in Bakhri Tojik objects.

The suite runs the compiled engine (numba), the path of sweeps and large runs, even for the
small models most tests build, which the automatic choice would run as plain Python
(sim.engine.driver.choose_engine); tests/engine/test_python_path.py holds the plain-Python
path to the same numbers, and tests that check the automatic choice clear the setting.
"""

import os

import pytest

from sim import builtin
from sim.physics.calendar import growing_season

os.environ.setdefault("BAKHRI_ENGINE", "compiled")


@pytest.fixture(scope="session")
def season():
    """1 April – 30 September 2025 (183 days)."""
    return growing_season(2025)


@pytest.fixture(scope="session")
def hyps():
    """The built-in (DERIVED placeholder) level–storage–area table."""
    return builtin.hypsometry()


@pytest.fixture(scope="session")
def reservoir():
    """The built-in reservoir (min 340.5 m, normal 347.5 m, max 349 m, spillway 3960 m³/s)."""
    return builtin.reservoir()


@pytest.fixture(scope="session")
def plant():
    """The rehabilitated plant: 6 × 29 MW, 6 × 180 m³/s, η = 0.9."""
    return builtin.plant("rehabilitated")


@pytest.fixture(scope="session")
def model(season):
    """builtin.model for the 2025 growing season (mean inflow, 3400 hm³ on 1 April)."""
    return builtin.model(season)


@pytest.fixture
def engine_paths(monkeypatch):
    """``spy(module)``: the engine path of every `simulate` call `module` makes is appended to the
    returned list; ``BAKHRI_ENGINE=auto`` and no compiled kernel loaded, as in a fresh process."""
    monkeypatch.setenv("BAKHRI_ENGINE", "auto")
    monkeypatch.setattr("sim.engine.dispatch.loaded", lambda: False)

    def spy(module) -> list:
        seen, real = [], module.simulate

        def simulate(*args, engine=None, **kwargs):
            seen.append(engine)
            return real(*args, engine=engine, **kwargs)

        monkeypatch.setattr(module, "simulate", simulate)
        return seen

    return spy


@pytest.fixture
def interrupt_sweep_after(monkeypatch):
    """``interrupt_sweep_after(k)``: a streamed sweep is interrupted (KeyboardInterrupt) when its
    chunk function is called after `k` chunks; undo with the returned function."""
    from sim.studies import stream

    real = stream._compute

    def arm(k):
        calls = []

        def compute(task):
            if len(calls) == k:
                raise KeyboardInterrupt
            calls.append(1)
            return real(task)

        monkeypatch.setattr(stream, "_compute", compute)
        return lambda: monkeypatch.setattr(stream, "_compute", real)

    return arm
