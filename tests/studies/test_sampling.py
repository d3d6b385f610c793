"""Sampled sweep settings made chunk by chunk (sim/studies/sampling.py): the values of the whole
sample, whichever rows are asked for, and a sampled streamed sweep resumes to the same table."""

import json
from pathlib import Path

import numpy as np
import pytest

from sim.scenario import load_scenario
from sim.studies import stream, sweep
from sim.studies.sampling import Sample
from sim.studies.settings import DISTINCT_ALL, Settings

ROOT = Path(__file__).resolve().parents[2]
BOUNDS = {"inflow.scale": (0.5, 1.5), "regimes.irrigation-first.hedging.factor": (0.5, 1.0), "fixed": (2.0, 2.0)}


@pytest.mark.parametrize("method", ["lhs", "sobol", "random"])
@pytest.mark.parametrize("n", [1, 5, 64, 1000, 1025])
def test_rows_are_the_whole_sample_in_any_chunks(method, n):
    whole = sweep.sample(BOUNDS, n, method, seed=42)
    s = Sample(BOUNDS, n, method, seed=42)
    for size in sorted({1, 3, 64, n}):
        starts = range(0, n, size)
        got = {p: np.concatenate([s.rows(a, min(a + size, n))[p] for a in starts]) for p in BOUNDS}
        for p in BOUNDS:
            assert got[p].tobytes() == whole[p].tobytes(), (method, n, size, p)  # bit for bit
    # out of order too (a resume, or workers finishing in any order)
    assert s.rows(n // 2, n)["inflow.scale"].tobytes() == whole["inflow.scale"][n // 2:].tobytes()


@pytest.mark.parametrize("method", ["lhs", "sobol", "random"])
def test_a_sample_is_a_sample(method):
    """Each value within its bounds; a Latin hypercube has one value in each of n strata."""
    n = 997
    v = Sample(BOUNDS, n, method, seed=3).rows(0, n)
    for p, (lo, hi) in BOUNDS.items():
        assert np.all((v[p] >= lo) & (v[p] <= hi))
    assert np.all(v["fixed"] == 2.0)
    if method == "lhs":
        strata = np.floor((v["inflow.scale"] - 0.5) / 1.0 * n).astype(int)
        assert sorted(strata) == list(range(n))


def test_no_seed_draws_one_for_the_whole_run():
    s = Sample(BOUNDS, 100, "random")
    assert s.rows(40, 60)["inflow.scale"].tobytes() == s.rows(0, 100)["inflow.scale"][40:60].tobytes()
    assert Sample(BOUNDS, 100, "random").seed != s.seed


def test_bad_method_and_size():
    with pytest.raises(ValueError, match='method is "halton"'):
        Sample(BOUNDS, 10, "halton")
    with pytest.raises(ValueError, match="samples is 0"):
        Sample(BOUNDS, 0, "lhs")


def test_distinct_of_a_large_sample_spans_its_values(monkeypatch):
    """Beyond DISTINCT_ALL, the plots' bins come from the sample's range, found in one pass."""
    import sim.studies.sampling as sampling

    monkeypatch.setattr(sampling, "BLOCK", 7)  # several blocks
    n = DISTINCT_ALL + 3
    settings = Settings(sample=Sample(BOUNDS, n, "random", seed=1))
    whole = sweep.sample(BOUNDS, n, "random", seed=1)["inflow.scale"]
    d = settings.distinct("inflow.scale")
    assert d.min() == whole.min() and d.max() == whole.max()
    assert list(settings.distinct("fixed")) == [2.0]
    small = Settings(sample=Sample(BOUNDS, 50, "sobol", seed=1))
    assert small.distinct("inflow.scale").tobytes() == sweep.sample(BOUNDS, 50, "sobol", seed=1)["inflow.scale"].tobytes()


def test_digest_is_of_the_sample():
    a = Settings(sample=Sample(BOUNDS, 100, "lhs", seed=1)).digest()
    assert a == Settings(sample=Sample(BOUNDS, 100, "lhs", seed=1)).digest()
    for other in (Sample(BOUNDS, 100, "lhs", seed=2), Sample(BOUNDS, 101, "lhs", seed=1),
                  Sample(BOUNDS, 100, "sobol", seed=1), Sample({**BOUNDS, "fixed": (2.0, 2.5)}, 100, "lhs", seed=1)):
        assert Settings(sample=other).digest() != a


# -- a sampled streamed sweep -------------------------------------------------------------------

PARAMS = {"inflow.scale": (0.6, 1.3), "regimes.irrigation-first.hedging.factor": (0.5, 1.0)}
KW = dict(method="sobol", samples=11, seed=5, inflow_members=3, chunk_size=4, regimes=["irrigation-first", "energy-first"])


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "scenarios" / "ensemble-dry.toml")


@pytest.mark.parametrize("method", ["lhs", "sobol", "random"])
def test_sampled_sweep_resumes_to_the_table_of_one_run(scenario, tmp_path, monkeypatch, interrupt_sweep_after, method):
    kw = {**KW, "method": method}
    whole = sweep.run(scenario, PARAMS, **kw)
    np.testing.assert_array_equal(whole.settings["inflow.scale"],
                                  sweep.sample(PARAMS, 11, method, seed=5)["inflow.scale"])
    undo = interrupt_sweep_after(3)
    with pytest.raises(KeyboardInterrupt):
        sweep.run(scenario, PARAMS, **kw, out=tmp_path)
    undo()
    real = stream._compute
    part = tmp_path / ".ensemble-dry-sweep.partial"
    assert len(json.loads((part / "progress.json").read_text())["chunks_done"]) == 3
    ran = []
    monkeypatch.setattr(stream, "_compute", lambda task: ran.append(1) or real(task))
    folder = sweep.run(scenario, PARAMS, **kw, out=tmp_path, resume=True)
    assert len(ran) == 2 * 9 - 3  # 33 members a regime: 9 chunks each; only the missing ones ran
    monkeypatch.setattr(stream, "_compute", real)
    back = sweep.load(folder).table
    for c in whole.table:
        np.testing.assert_array_equal(back[c], whole.table[c], err_msg=c)
    other = sweep.load(sweep.run(scenario, PARAMS, **{**kw, "chunk_size": 7}, out=tmp_path / "b", workers=2)).table
    for c in whole.table:
        np.testing.assert_array_equal(other[c], whole.table[c], err_msg=c)
