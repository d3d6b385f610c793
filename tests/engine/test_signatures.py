"""The compiled kernel is compiled once, whatever the inputs' origin.

numba compiles `advance` once per combination of argument types, and a read-only array is
another type than a writable one. Tables frozen in this process but writable once unpickled
in a sweep's worker, or member tables fresh on one call and reused on the next, each cost
another compilation (30 s or more, in every worker); the driver passes every array the
kernel only reads as a read-only view (sim.engine.driver._readonly), so one signature serves.
"""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from sim.engine import dispatch, driver
from sim.engine.driver import simulate
from sim.rules.regimes import Regime

DEMAND = Regime("demand", {"hedging_trigger_level_m": 343.0, "hedging_factor": 0.8}, min_release_m3s=150.0)


def _signatures():
    return set(dispatch.advance().signatures)


def _runs(scenario_model):
    """Runs of the same kernel from inputs of every origin the engine meets."""
    model = scenario_model
    simulate(model, DEMAND, engine="compiled")
    simulate(model, DEMAND, engine="compiled")  # member tables reused from the first call
    worker = pickle.loads(pickle.dumps(model))  # what a worker process unpickles
    simulate(worker, DEMAND, engine="compiled", keep_daily=False)


@pytest.fixture
def own_tables(model):
    """The built-in model with three members, each with its own level-storage table."""
    res = dataclasses.replace(model.reservoir, storage_factor=np.array([0.9, 1.0, 1.1]))
    return dataclasses.replace(model, reservoir=res)


def test_inputs_of_every_origin_share_one_signature(model, own_tables):
    simulate(model, DEMAND, engine="compiled")
    before = _signatures()
    _runs(model)
    _runs(own_tables)
    assert _signatures() == before


def test_the_kernel_only_reads_what_it_is_given_read_only(model, own_tables, monkeypatch):
    seen = []
    real = dispatch.advance

    def spy():
        kernel = real()

        def advance(*args):
            seen.append(args)
            return kernel(*args)

        return advance

    monkeypatch.setattr(driver.dispatch, "advance", spy)
    simulate(own_tables, DEMAND, engine="compiled")
    (args,) = seen
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    arrays += [item for a in args if isinstance(a, tuple) for item in a]
    read_only = [a for a in arrays if not a.flags.writeable]
    # The rule's fields, the 20 input fields, 13 tables, 2 demand blocks and 4 priority orders.
    assert len(read_only) == dispatch.n_fields() + 20 + 13 + 2 + 4
