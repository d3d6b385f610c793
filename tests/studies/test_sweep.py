"""sim.studies.sweep: grids, samples, --set parsing, and sweeps as one ensemble, whatever runs them."""

import csv
import importlib.util
import os
import subprocess
import sys
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from sim.engine.driver import simulate
from sim.engine.metrics import names as metric_names
from sim.scenario import ScenarioError, load_scenario
from sim.studies import sweep

ROOT = Path(__file__).resolve().parents[2]
FACTOR = "regimes.irrigation-first.hedging.factor"
FACTORS = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
SCALES = [0.6, 0.8, 1.0, 1.2]


@pytest.fixture(scope="module")
def hedging():
    return load_scenario(ROOT / "scenarios" / "sweep-hedging.toml")


@pytest.fixture(scope="module")
def hedging_result(hedging):
    return sweep.run(hedging)


@pytest.fixture(scope="module")
def ensemble():
    return load_scenario(ROOT / "scenarios" / "ensemble-dry.toml")


#: A small crossed sweep: 2 settings × 20 inflow members × 4 regimes.
CROSSED = {"inflow.scale": [0.9, 1.1]}


@pytest.fixture(scope="module")
def crossed(ensemble):
    return sweep.run(ensemble, CROSSED, inflow_members=20)


def assert_same_table(a: sweep.SweepResult, b: sweep.SweepResult) -> None:
    assert a.columns() == b.columns()
    for c in a.columns():
        x, y = np.asarray(a.table[c]), np.asarray(b.table[c])
        if x.dtype == object or x.dtype.kind in "US":
            assert list(x) == list(y), c
        else:
            np.testing.assert_array_equal(x, y, err_msg=c)


# --------------------------------------------------------------------------------------
# grid, sample, parse_set
# --------------------------------------------------------------------------------------


def test_grid_full_factorial_first_slowest():
    g = sweep.grid({"a": [1, 2], "b": [10, 20, 30]})
    assert list(g) == ["a", "b"]
    np.testing.assert_array_equal(g["a"], [1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(g["b"], [10, 20, 30, 10, 20, 30])


def test_grid_three_parameters_every_combination_once():
    p = {"x": [0, 1], "y": [0, 1, 2], "z": [5, 6, 7, 8]}
    g = sweep.grid(p)
    assert all(v.shape == (24,) for v in g.values())
    combos = list(zip(g["x"], g["y"], g["z"], strict=True))
    assert combos == [(x, y, z) for x in p["x"] for y in p["y"] for z in p["z"]]


def test_grid_single_and_empty():
    np.testing.assert_array_equal(sweep.grid({"a": [3.0]})["a"], [3.0])
    assert sweep.grid({}) == {}


BOUNDS = {"a": (0.0, 1.0), "b": (340.0, 347.5), "c": (-2.0, 2.0)}


@pytest.mark.parametrize("method", ["lhs", "sobol", "random"])
def test_sample_reproducible_and_within_bounds(method):
    s1 = sweep.sample(BOUNDS, 16, method, seed=42)
    s2 = sweep.sample(BOUNDS, 16, method, seed=42)
    s3 = sweep.sample(BOUNDS, 16, method, seed=43)
    assert list(s1) == list(BOUNDS)
    for k, (lo, hi) in BOUNDS.items():
        assert s1[k].shape == (16,)
        np.testing.assert_array_equal(s1[k], s2[k])
        assert not np.array_equal(s1[k], s3[k])
        assert np.all((s1[k] >= lo) & (s1[k] <= hi))
        assert np.unique(s1[k]).size == 16
    # the dimensions are not copies of each other
    assert not np.allclose((s1["a"] - 0) / 1, (s1["b"] - 340) / 7.5)


@pytest.mark.parametrize("n", [1, 7, 16, 100])
def test_lhs_stratified(n):
    s = sweep.sample(BOUNDS, n, "lhs", seed=5)
    for k, (lo, hi) in BOUNDS.items():
        bins = np.minimum(np.floor((s[k] - lo) / (hi - lo) * n).astype(int), n - 1)
        assert sorted(bins) == list(range(n)), k  # each of n equal bins holds exactly one sample


def test_sobol_non_power_of_two_gives_n():
    s = sweep.sample({"a": (1.0, 2.0)}, 10, "sobol", seed=1)
    assert s["a"].shape == (10,)


def test_sample_degenerate_range():
    s = sweep.sample({"a": (1.0, 1.0), "b": (0.0, 1.0)}, 4, "lhs", seed=0)
    np.testing.assert_array_equal(s["a"], [1.0] * 4)


def test_sample_errors():
    with pytest.raises(ValueError, match="samples is 0; expected >= 1"):
        sweep.sample(BOUNDS, 0, "lhs", seed=1)
    with pytest.raises(ValueError, match='method is "halton"'):
        sweep.sample(BOUNDS, 4, "halton", seed=1)


@pytest.mark.parametrize(
    "text,key,values",
    [
        ("inflow.scale=0.6:1.4:5", "inflow.scale", [0.6, 0.8, 1.0, 1.2, 1.4]),
        ("inflow.scale=1:1:1", "inflow.scale", [1.0]),
        ("regimes.irrigation-first.hedging.factor=0.5,0.75,1", FACTOR, [0.5, 0.75, 1.0]),
        ("a=2", "a", [2.0]),
        (" a =3, 4", "a", [3.0, 4.0]),
        ("a=-1:1:3", "a", [-1.0, 0.0, 1.0]),
        ("a=1e2", "a", [100.0]),
    ],
)
def test_parse_set(text, key, values):
    k, v = sweep.parse_set(text)
    assert k == key
    assert isinstance(v, np.ndarray)
    np.testing.assert_allclose(v, values)


@pytest.mark.parametrize("text", ["a=0.5:1.5", "a=0.5:1.5:0", "a=0.5:1.5:9", "a=0.5,1.5"])
def test_parse_set_sampling_ranges(text):
    """With --method lhs|sobol|random, from:to and from:to:num (num ignored) give the range."""
    k, v = sweep.parse_set(text, sampling=True)
    assert k == "a"
    assert (v.min(), v.max()) == (0.5, 1.5)


RANGE_MSG = 'expected KEY=from:to:num (num a whole number >= 1) or KEY=v1,v2,...'


@pytest.mark.parametrize(
    "text,message",
    [
        ("inflow.scale", '--set "inflow.scale": expected KEY=from:to:num or KEY=v1,v2,...'),
        ("a=1:2", f'--set "a=1:2": {RANGE_MSG}'),
        ("a=1:2:0", f'--set "a=1:2:0": {RANGE_MSG}'),
        ("a=1:2:-3", f'--set "a=1:2:-3": {RANGE_MSG}'),
        ("a=1:2:2.5", f'--set "a=1:2:2.5": {RANGE_MSG}'),
        ("a=1:2:3:4", f'--set "a=1:2:3:4": {RANGE_MSG}'),
        ("a=x", f'--set "a=x": {RANGE_MSG}'),
        ("a=", f'--set "a=": {RANGE_MSG}'),
        ("a=1,,2", f'--set "a=1,,2": {RANGE_MSG}'),
        ("a=nan", '--set "a=nan": values must be finite numbers'),
        ("a=1,inf", '--set "a=1,inf": values must be finite numbers'),
    ],
)
def test_parse_set_errors(text, message):
    with pytest.raises(ValueError) as exc:
        sweep.parse_set(text)
    assert str(exc.value) == message


# --------------------------------------------------------------------------------------
# a sweep is an ensemble
# --------------------------------------------------------------------------------------


def test_hedging_table_is_the_grid(hedging, hedging_result):
    r = hedging_result
    assert r.parameters == [FACTOR, "inflow.scale"]
    assert r.n_settings == 24 and r.n_inflow_members == 1 and r.n_members == 24
    assert list(r.results) == ["irrigation-first"]
    g = sweep.grid({FACTOR: FACTORS, "inflow.scale": SCALES})
    for k in g:
        np.testing.assert_allclose(r.settings[k], g[k])
        np.testing.assert_allclose(r.table[k], g[k])
    t = r.table
    assert list(t)[:6] == ["regime", "member", "setting", "inflow_member", FACTOR, "inflow.scale"]
    assert all(t[c].shape == (24,) for c in t)
    assert list(t["regime"]) == ["irrigation-first"] * 24
    np.testing.assert_array_equal(t["member"], np.arange(24))
    np.testing.assert_array_equal(t["setting"], np.arange(24))
    np.testing.assert_array_equal(t["inflow_member"], np.zeros(24))
    for m in metric_names():
        assert m in t
    assert "downstream-baseline.deficit_hm3" in t
    assert np.all(np.abs(t["balance_error_hm3"]) < 1e-9)
    # more inflow, more energy, at every hedging factor
    e = t["energy_gwh"].reshape(6, 4)
    assert np.all(np.diff(e, axis=1) > 0)


@pytest.mark.parametrize("setting", [0, 7, 13, 23])
def test_sweep_member_equals_the_setting_run_alone(hedging, hedging_result, setting):
    r = hedging_result
    overrides = {k: float(v[setting]) for k, v in r.settings.items()}
    model, regimes = hedging.build(overrides=overrides)
    alone = simulate(model, regimes["irrigation-first"], keep_daily=False)
    assert alone.n_members == 1
    for m in metric_names():
        assert r.table[m][setting] == alone.metrics[m][0], m
    for user, metrics in alone.user_metrics.items():
        for m, v in metrics.items():
            assert r.table[f"{user}.{m}"][setting] == v[0], (user, m)


def test_explicit_parameters_and_regimes(hedging):
    r = sweep.run(hedging, {"inflow.scale": [0.7, 1.3]}, regimes=["irrigation-first"])
    assert r.parameters == ["inflow.scale"] and r.n_settings == 2
    np.testing.assert_array_equal(r.table["inflow.scale"], [0.7, 1.3])
    assert FACTOR not in r.table


def test_unknown_regime_and_key(hedging):
    with pytest.raises(ValueError, match="unknown regime 'energy-first'"):
        sweep.run(hedging, {"inflow.scale": [1.0]}, regimes=["energy-first"])
    with pytest.raises(ScenarioError, match='did you mean "inflow.scale"'):
        sweep.run(hedging, {"inflow.scael": [1.0]})


def test_sampling_a_grid_file_covers_its_whole_range(hedging):
    """method="lhs" over a file's [sweep] lists samples from their min to their max."""
    r = sweep.run(hedging, method="lhs", samples=16, seed=3)
    assert r.n_settings == 16
    for k, values in ((FACTOR, FACTORS), ("inflow.scale", SCALES)):
        lo, hi = min(values), max(values)
        v = r.settings[k]
        assert np.all((v >= lo) & (v <= hi))
        assert sorted(np.minimum(np.floor((v - lo) / (hi - lo) * 16), 15).astype(int)) == list(range(16)), k
    again = sweep.run(hedging, method="lhs", samples=16, seed=3)
    assert_same_table(r, again)


def test_sampled_sweep_members_equal_runs_alone(hedging):
    r = sweep.run(hedging, {"inflow.scale": (0.6, 1.4), FACTOR: (0.5, 1.0)}, method="sobol", samples=8, seed=11)
    assert r.n_settings == 8
    i = 5
    model, regimes = hedging.build(overrides={k: float(v[i]) for k, v in r.settings.items()})
    alone = simulate(model, regimes["irrigation-first"], keep_daily=False)
    for m in metric_names():
        assert r.table[m][i] == alone.metrics[m][0], m


def test_sampling_needs_samples(hedging):
    with pytest.raises(ValueError, match="needs samples"):
        sweep.run(hedging, {"inflow.scale": (0.6, 1.4)}, method="lhs")


# --------------------------------------------------------------------------------------
# the same result whatever runs it
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 5, 7, 1000])
def test_chunk_size_does_not_change_results(ensemble, crossed, chunk_size):
    other = sweep.run(ensemble, CROSSED, inflow_members=20, chunk_size=chunk_size)
    assert_same_table(crossed, other)


def test_chunks_that_straddle_settings_in_hedging(hedging, hedging_result):
    assert_same_table(hedging_result, sweep.run(hedging, chunk_size=5))


def test_process_workers(ensemble, crossed):
    assert_same_table(crossed, sweep.run(ensemble, CROSSED, inflow_members=20, chunk_size=7, workers=2))


def test_thread_pool_executor(ensemble, crossed):
    with ThreadPoolExecutor(max_workers=2) as pool:
        other = sweep.run(ensemble, CROSSED, inflow_members=20, chunk_size=6, executor=pool)
    assert_same_table(crossed, other)


def test_progress_callback(ensemble):
    seen = []
    sweep.run(ensemble, CROSSED, inflow_members=5, chunk_size=3, regimes=["irrigation-first", "energy-first"],
              progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 2 * 10


#: The sweep on a Dask cluster, in its own process: a Dask client leaves a thread in the process
#: that made it (its offload thread), and with threads running nothing is forked (the plot
#: processes, `sim.report.render.PlotAhead`): the other tests would then not fork what they check.
DASK_SWEEP = """
import pickle, sys
from distributed import Client, LocalCluster
from sim.scenario import load_scenario
from sim.studies import sweep
ensemble, out = load_scenario(sys.argv[1]), sys.argv[2]
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
client = Client(cluster)
try:
    r = sweep.run(ensemble, {"inflow.scale": [0.9, 1.1]}, inflow_members=20, chunk_size=7,
                  executor=client.get_executor())
    folder = sweep.run(ensemble, {"inflow.scale": [0.9, 1.1]}, inflow_members=20, chunk_size=7,
                       executor=client.get_executor(), regimes=["irrigation-first"], out=out, plots=True)
finally:
    client.close()
    cluster.close()
with open(f"{out}/table.pickle", "wb") as f:
    pickle.dump({c: r.table[c] for c in r.columns()}, f)
"""


@pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="distributed is not installed")
def test_dask_executor(ensemble, crossed, tmp_path):
    """The same table on a Dask cluster; with its client's threads in the process the plots
    are drawn in it (nothing forked) and are all there."""
    import pickle

    p = subprocess.run([sys.executable, "-c", DASK_SWEEP, str(ROOT / "scenarios" / "ensemble-dry.toml"), str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    with open(tmp_path / "table.pickle", "rb") as f:
        table = pickle.load(f)
    assert_same_table(crossed, types.SimpleNamespace(table=table, columns=lambda: list(table)))
    plots = sorted(p.name for p in (tmp_path / f"{ensemble.name}-sweep" / "plots").iterdir())
    assert "tradeoff.png" in plots and "failure_ranges.png" in plots, plots


# --------------------------------------------------------------------------------------
# ensembles crossed with settings: common random numbers
# --------------------------------------------------------------------------------------


def test_common_random_numbers(ensemble):
    r = sweep.run(ensemble, {"inflow.scale": [1.0, 1.0]}, inflow_members=20)
    assert r.n_settings == 2 and r.n_inflow_members == 20 and r.n_members == 40
    for regime, res in r.results.items():
        for m, v in res.metrics.items():
            a, b = v[:20], v[20:]
            np.testing.assert_array_equal(a, b, err_msg=f"{regime} {m}")
        assert np.unique(res.metrics["inflow_hm3"][:20]).size == 20  # the inflow members differ
    np.testing.assert_array_equal(r.table["setting"][:40], np.repeat([0, 1], 20))
    np.testing.assert_array_equal(r.table["inflow_member"][:40], np.tile(np.arange(20), 2))


def test_crossed_members_are_the_plain_ensemble(ensemble, crossed):
    """Inflow member k of every setting is member k of the scenario's own ensemble."""
    model, regimes = ensemble.build(n_members=20)
    plain = simulate(model, regimes["irrigation-first"], keep_daily=False)
    inflow = crossed.results["irrigation-first"].metrics["inflow_hm3"]
    np.testing.assert_allclose(inflow[:20], 0.9 * plain.metrics["inflow_hm3"], rtol=1e-12)
    np.testing.assert_allclose(inflow[20:], 1.1 * plain.metrics["inflow_hm3"], rtol=1e-12)


def test_settings_shift_the_same_members(crossed):
    e = crossed.results["irrigation-first"].metrics["inflow_hm3"].reshape(2, 20)
    assert np.all(e[1] > e[0])


# --------------------------------------------------------------------------------------
# views of the table
# --------------------------------------------------------------------------------------


def test_to_csv_round_trip(crossed, tmp_path):
    path = tmp_path / "sweep.csv"
    crossed.to_csv(path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header == crossed.columns()
    assert len(body) == 4 * 2 * 20
    col = {c: i for i, c in enumerate(header)}
    assert [r[col["regime"]] for r in body] == list(crossed.table["regime"])
    assert [r[col["member"]] for r in body] == [str(i) for i in crossed.table["member"]]
    for c in ("inflow.scale", "energy_gwh", "deficit_hm3", "storage_end_hm3"):
        np.testing.assert_array_equal([float(r[col[c]]) for r in body], crossed.table[c])


def test_to_parquet_round_trip(crossed, tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "sweep.parquet"
    crossed.to_parquet(path)
    table = pq.read_table(path)
    assert table.column_names == crossed.columns() and table.num_rows == 4 * 2 * 20
    assert table.column("regime").to_pylist() == list(crossed.table["regime"])
    for c in ("member", "inflow.scale", "energy_gwh", "deficit_hm3"):
        np.testing.assert_array_equal(table.column(c).to_numpy(), crossed.table[c])


def test_to_pandas(crossed):
    pytest.importorskip("pandas")
    df = crossed.to_pandas()
    assert df.shape == (160, len(crossed.columns()))
    assert list(df.columns) == crossed.columns()
    np.testing.assert_array_equal(df["energy_gwh"].to_numpy(), crossed.table["energy_gwh"])


def test_to_xarray(crossed):
    pytest.importorskip("xarray")
    ds = crossed.to_xarray()
    assert dict(ds.sizes) == {"regime": 4, "setting": 2, "inflow_member": 20}
    assert ds["energy_gwh"].dims == ("regime", "setting", "inflow_member")
    assert list(ds["regime"].values) == list(crossed.results)
    np.testing.assert_array_equal(ds["inflow.scale"].values, [0.9, 1.1])
    assert ds["inflow.scale"].dims == ("setting",)
    for regime in crossed.results:
        np.testing.assert_array_equal(
            ds["deficit_hm3"].sel(regime=regime).values,
            crossed.results[regime].metrics["deficit_hm3"].reshape(2, 20),
        )


def test_by_setting_percentiles(crossed, hedging_result):
    p = crossed.by_setting("energy_gwh", "guide-curve")
    assert p.shape == (3, 2)
    v = crossed.results["guide-curve"].metrics["energy_gwh"].reshape(2, 20)
    np.testing.assert_allclose(p, np.percentile(v, [10, 50, 90], axis=1))
    assert np.all(p[0] <= p[1]) and np.all(p[1] <= p[2])
    assert crossed.by_setting("deficit_hm3", "irrigation-first", q=(5, 50, 95, 99)).shape == (4, 2)
    # without an ensemble every percentile is the setting's one value
    h = hedging_result.by_setting("energy_gwh", "irrigation-first")
    assert h.shape == (3, 24)
    np.testing.assert_array_equal(h[0], hedging_result.table["energy_gwh"])


def test_sweep_reports_overtopping_only_for_the_members_that_overtop():
    # Issue 7: one member over the dam crest stopped the whole sweep. Now it is reported:
    # a scale of 10 (the plausibility bound) overtops; 0.6-1.4 stay below the
    # crest. (Absurd flows, 1e9 m³/s, are the engine tests' business: the scenario refuses them.)
    baseline = load_scenario(ROOT / "scenarios" / "baseline.toml")
    scales = [0.6, 1.0, 1.4, 10.0]
    result = sweep.run(baseline, {"inflow.scale": scales}, regimes=["irrigation-first", "energy-first"])
    table = result.table
    for name in ("irrigation-first", "energy-first"):
        mine = np.asarray(table["regime"]) == name
        days = np.asarray(table["overtopping_days"])[mine]
        volume = np.asarray(table["overtopping_hm3"])[mine]
        assert days.tolist()[:3] == [0, 0, 0] and np.all(days[3:] > 0), name
        assert np.all(volume[:3] == 0) and np.all(volume[3:] > 0), name
        assert np.all(np.asarray(table["level_max_m"])[mine] <= 351.5)
        assert np.all(np.abs(np.asarray(table["balance_error_hm3"])[mine]) < 1e-8)


# --------------------------------------------------------------------------------------
# limits: memory refused before allocating; an interrupted pool stops at once
# --------------------------------------------------------------------------------------


def test_sweep_too_big_for_memory_is_refused_before_building(ensemble, monkeypatch):
    from sim.engine import memory

    def build(*a, **k):
        raise AssertionError("built the members before the memory check")

    monkeypatch.setenv(memory.ENV, "1G")
    monkeypatch.setattr(type(ensemble), "build", build)
    with pytest.raises(memory.MemoryLimitError) as err:
        sweep.run(ensemble, {"inflow.scale": np.linspace(0.5, 1.5, 1000)}, inflow_members=1000)
    assert "the sweep of 1,000 settings × 1,000 inflow members × 4 regimes needs about 3.0 GiB" in str(err.value)  # 30 + 7 metrics a member
    assert "Use fewer settings" in str(err.value)


def test_parse_set_refuses_a_range_too_big_to_hold(monkeypatch):
    from sim.engine import memory

    # above the count cap (10,000,000) it is refused by count; below it, by memory
    with pytest.raises(ValueError, match=r'--set "inflow.scale=0:1:100000000": 100,000,000 values; expected at most'):
        sweep.parse_set("inflow.scale=0:1:100000000")
    monkeypatch.setenv(memory.ENV, "16M")
    with pytest.raises(memory.MemoryLimitError, match=r'--set "inflow.scale=0:1:5000000" \(5,000,000 values\)'):
        sweep.parse_set("inflow.scale=0:1:5000000")
    monkeypatch.setenv(memory.ENV, "1G")
    assert sweep.parse_set("inflow.scale=0:1:1000")[1].size == 1000


def _children():
    me = str(os.getpid())
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def _slow_last_chunk(task):
    """The engine's chunk runner, but the last (short) chunk takes a minute."""
    import time

    from sim.engine import driver as engine
    from sim.engine.model import realize

    if task[2] != 1000:
        time.sleep(60)
    return engine._chunk(realize(task[0]), task[1], task[2], task[3])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_interrupt_terminates_the_worker_pool_at_once(ensemble, monkeypatch):
    """Ctrl-C after the first chunk, while a worker is busy for a minute with the second:
    the pool is terminated, not waited for, and no worker is left (before: a minute)."""
    import time

    from sim.engine import driver as engine

    monkeypatch.setattr(engine, "run_chunk", _slow_last_chunk)
    before = set(_children())
    t = {}

    def interrupt(done):
        t["signal"] = time.monotonic()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep.run(ensemble, {"inflow.scale": [0.9, 1.1]}, inflow_members=750, chunk_size=1000, workers=2,
                  regimes=["irrigation-first"], progress=interrupt)
    elapsed = time.monotonic() - t["signal"]
    assert elapsed < 2.0, f"{elapsed:.1f} s"
    assert set(_children()) - before == set()


def test_a_streamed_sweep_is_not_refused_for_its_size(ensemble, monkeypatch):
    from sim.engine import memory

    monkeypatch.setenv(memory.ENV, "2G")
    # 10⁸ members held in memory (~65 GB): refused; streamed to disk: base + one chunk + the swept values
    with pytest.raises(memory.MemoryLimitError):
        sweep.check_memory(ensemble, 10**8, 1, 1, 1)
    need = sweep.check_memory(ensemble, 10**8, 1, 1, 1, streamed=True)
    chunk = 10_000 * 183 * 8 * (15 + 1 + 2 + 0.125 + 2)  # one chunk's daily series, one user
    assert need == pytest.approx(memory.BASE_BYTES + 10**8 * 8 + chunk, rel=1e-9)
