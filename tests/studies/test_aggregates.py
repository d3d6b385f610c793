"""Bounded sweep summaries (sim/report/aggregates.py): percentiles, plots' data, resume-identical."""

import contextlib
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from sim.report import aggregates
from sim.report.aggregates import Distribution, SweepSummary, _keys
from sim.report.render import can_fork
from sim.scenario import load_scenario
from sim.studies import stream, sweep

ROOT = Path(__file__).resolve().parents[2]
PARAMS = {"inflow.scale": [0.8, 1.0, 1.2], "regimes.irrigation-first.hedging.factor": [0.6, 1.0]}
KW = dict(inflow_members=5, chunk_size=4, regimes=["irrigation-first", "energy-first"])  # 30 a regime


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "scenarios" / "ensemble-dry.toml")


def test_keys_grow_with_the_values():
    v = np.array([-1e9, -3.5, -1.0, -1e-300, -0.0, 0.0, 1e-300, 0.5, 1.0, 1.001, 2.0, 1e9, np.inf])
    k = _keys(v)
    assert np.all(np.diff(k) >= 0)
    assert k[4] == k[5] == 0  # -0.0 and 0.0 share a bin
    assert k[8] < k[9] < k[10]  # 1.001 is 4.1 bins above 1.0 (bins 2⁻¹² ≈ 0.000244 wide)


def test_exact_percentiles_are_numpys():
    v = np.random.default_rng(1).gamma(2.0, 300.0, 1000)
    d = Distribution(exact=True)
    for part in np.array_split(v, 7):
        d.add(part)
    np.testing.assert_array_equal(d.percentiles((10, 50, 90)), np.percentile(v, (10, 50, 90)))


@pytest.mark.parametrize("pending", [1, 7, 1000, aggregates.PENDING])
@pytest.mark.parametrize("kind", ["spread", "narrow", "signs"])
def test_histogram_is_the_one_of_all_values_at_once(monkeypatch, pending, kind):
    """Values added chunk by chunk and merged in batches (`PENDING`) give the bins, sums to the
    last bit included, of one bincount over all values in their order."""
    monkeypatch.setattr(aggregates, "PENDING", pending)
    rng = np.random.default_rng(5)
    if kind == "spread":  # keys far apart: sorted, not counted
        v = rng.lognormal(0, 20, 3000)
    elif kind == "narrow":
        v = rng.normal(800.0, 3.0, 3000)
    else:
        v = rng.normal(0.0, 1.0, 3000)
        v[::11], v[::13], v[5], v[7], v[::17] = 0.0, -0.0, np.inf, -np.inf, np.nan
    d = Distribution(exact=False)
    for part in np.array_split(v, 9):
        d.add(part)
    ok = v[~np.isnan(v)]
    keys, inv = np.unique(_keys(ok), return_inverse=True)
    assert d.keys.tobytes() == keys.tobytes()
    assert d.counts.tobytes() == np.bincount(inv, None, keys.size).astype(float).tobytes()
    assert d.sums.tobytes() == np.bincount(inv, ok, keys.size).tobytes()
    lo, hi = np.full(keys.size, np.inf), np.full(keys.size, -np.inf)
    np.minimum.at(lo, inv, ok)
    np.maximum.at(hi, inv, ok)
    assert d.lo.tobytes() == lo.tobytes() and d.hi.tobytes() == hi.tobytes()
    assert d.n == v.size


def test_binned_percentiles_of_few_values_are_exact():
    # each value alone in its bin, whose mean is the value: numpy's interpolation exactly
    d = Distribution(exact=False)
    d.add([4.0, 1.0])
    d.add([3.0, 2.0, 2.0])
    assert d.keys.size == 4 and d.n == 5
    # sorted 1, 2, 2, 3, 4: p10 at rank 0.4 → 1 + 0.4 × (2 - 1) = 1.4; p50 = 2; p90 at rank 3.6 → 3.6
    np.testing.assert_allclose(d.percentiles((10, 50, 90)), [1.4, 2.0, 3.6], rtol=0, atol=1e-15)
    v, p = d.exceedance()
    np.testing.assert_array_equal(v, [4, 4, 3, 3, 2, 2, 1, 1])
    np.testing.assert_array_equal(p * 6, [1, 1, 2, 2, 3, 4, 5, 5])


def test_binned_percentiles_are_within_a_bin():
    v = np.random.default_rng(2).gamma(2.0, 300.0, 200_000)
    d = Distribution(exact=False)
    for part in np.array_split(v, 20):
        d.add(part)
    got, want = d.percentiles((1, 10, 50, 90, 99)), np.percentile(v, (1, 10, 50, 90, 99))
    np.testing.assert_allclose(got, want, rtol=2.0**-12)
    assert d.n == v.size
    # bounded: at most 2¹² bins an octave whatever the count (here ~14 octaves hold values)
    assert d.keys.size < 15 * 4096 < v.size


def test_nan_gives_nan_percentiles_as_numpy():
    for exact in (True, False):
        d = Distribution(exact)
        d.add([1.0, np.nan, 2.0])
        assert np.isnan(d.percentiles((10, 50))).all()


def test_summary_of_a_table_gives_the_plots_data(scenario):
    result = sweep.run(scenario, PARAMS, **KW)
    s = SweepSummary.of_table(result.table, result.parameters, ["energy_gwh"])
    r = s.regimes["irrigation-first"]
    rows = result.table["regime"] == "irrigation-first"
    t = {c: v[rows] for c, v in result.table.items()}
    # heat map cell (factor 0.6, scale 0.8): mean of that setting's 5 inflow members
    cell = (t["regimes.irrigation-first.hedging.factor"] == 0.6) & (t["inflow.scale"] == 0.8)
    g = r.grids["deficit_hm3"]
    assert g.counts[0, 0] == 5
    assert g.means()[0, 0] == pytest.approx(t["deficit_hm3"][cell].mean(), rel=1e-12)
    # failures: members of scale 1.2 with volumetric reliability below 0.9
    f = r.failures
    assert f.total["inflow.scale"].tolist() == [10, 10, 10]
    assert f.failing["inflow.scale"][2] == np.sum((t["inflow.scale"] == 1.2) & (t["reliability_volume"] < 0.9))
    np.testing.assert_array_equal(s.percentiles(["energy_gwh"])["irrigation-first"]["energy_gwh"],
                                  np.percentile(t["energy_gwh"], (10, 50, 90)))
    # the Pareto candidates of the whole regime are its front
    front = aggregates.pareto_front(t["deficit_hm3"], t["energy_gwh"])
    np.testing.assert_array_equal(np.sort(r.points.front_x), np.sort(t["deficit_hm3"][front]))


def _state(summary: SweepSummary) -> dict:
    out = {}
    for name, r in summary.regimes.items():
        for m, d in r.distributions.items():
            out[f"{name}/{m}"] = (d.keys, d.counts, d.sums, np.concatenate(d.parts) if d.parts else None)
        for m, g in r.grids.items():
            out[f"{name}/grid/{m}"] = (g.sums, g.counts)
        out[f"{name}/points"] = (r.points.x, r.points.y, r.points.front_x, r.points.front_y)
        out[f"{name}/failures"] = tuple(r.failures.failing.values()) + tuple(r.failures.total.values())
    return out


def _same(a: dict, b: dict):
    assert list(a) == list(b)
    for k in a:
        for x, y in zip(a[k], b[k], strict=True):
            if x is None or y is None:
                assert x is y, k
            else:
                np.testing.assert_array_equal(x, y, err_msg=k)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_resumed_sweep_gives_the_same_summary(scenario, tmp_path, monkeypatch, interrupt_sweep_after, fmt):
    monkeypatch.setattr(aggregates, "EXACT_MEMBERS", 0)  # histograms, whose float sums depend on order
    monkeypatch.setattr(aggregates, "POINTS", 7)  # every 5th member in the trade-off
    made = []
    monkeypatch.setattr(stream, "SweepSummary", lambda *a: made.append(SweepSummary(*a)) or made[-1])
    whole = sweep.run(scenario, PARAMS, **KW, out=tmp_path / "whole", format=fmt, workers=2)
    assert made[0].regimes["irrigation-first"].points.x.size == 6
    undo = interrupt_sweep_after(5)
    with pytest.raises(KeyboardInterrupt):
        sweep.run(scenario, PARAMS, **KW, out=tmp_path / "resumed", format=fmt)
    undo()
    resumed = sweep.run(scenario, PARAMS, **KW, out=tmp_path / "resumed", format=fmt, resume=True)
    _same(_state(made[0]), _state(made[-1]))
    a, b = (json.loads((f / "run.json").read_text())["percentiles"] for f in (whole, resumed))
    assert a == b and list(a) == ["irrigation-first", "energy-first"]


def test_streamed_plots_come_from_the_summary(scenario, tmp_path, monkeypatch):
    def no_reading(*a, **k):
        raise AssertionError("the plots read the rows back")

    monkeypatch.setattr(stream, "_read", no_reading)
    folder = sweep.run(scenario, PARAMS, **KW, out=tmp_path, plots=True)
    names = sorted(p.name for p in (folder / "plots").iterdir())
    assert "tradeoff.png" in names and "failure_ranges.png" in names
    assert "heatmap_energy_gwh_energy-first.png" in names
    info = json.loads((folder / "run.json").read_text())
    assert info["timings"]["plots_s"] > 0


@contextlib.contextmanager
def _another_thread():
    """A second thread runs in this process meanwhile (nothing is forked then)."""
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        yield
    finally:
        done.set()
        other.join()


def _drawn_by(summary, folder, **kwargs):
    """Stands in for the sweep's plots: says which process drew them."""
    import os

    (Path(folder) / "plots").mkdir(parents=True, exist_ok=True)
    (Path(folder) / "plots" / f"drawn-by-{os.getpid()}").write_text(kwargs["title"])


@pytest.mark.skipif(not can_fork(), reason="needs fork")
def test_sweep_plots_are_drawn_by_the_process_forked_at_the_start(scenario, tmp_path, monkeypatch):
    """The plots' process imports matplotlib while the sweep runs, then draws from the summary it
    is sent; with another thread running nothing is forked and the plots are drawn here."""
    import os

    monkeypatch.setattr(stream, "_draw_plots", _drawn_by)
    folder = sweep.run(scenario, PARAMS, **KW, out=tmp_path / "a", plots=True)
    (drawn,) = (folder / "plots").iterdir()
    assert drawn.name != f"drawn-by-{os.getpid()}" and drawn.read_text() == scenario.title
    with _another_thread():
        folder = sweep.run(scenario, PARAMS, **KW, out=tmp_path / "b", plots=True)
    assert [p.name for p in (folder / "plots").iterdir()] == [f"drawn-by-{os.getpid()}"]


def test_sweep_plots_drawn_ahead_are_the_plots_drawn_here(scenario, tmp_path):
    ahead = sweep.run(scenario, PARAMS, **KW, out=tmp_path / "a", plots=True)
    with _another_thread():  # no fork: drawn in this process
        here = sweep.run(scenario, PARAMS, **KW, out=tmp_path / "b", plots=True)
    names = sorted(p.name for p in (here / "plots").iterdir())
    assert names == sorted(p.name for p in (ahead / "plots").iterdir()) and len(names) == 10  # 3 heat maps a regime
    for name in names:
        assert (ahead / "plots" / name).read_bytes() == (here / "plots" / name).read_bytes(), name


# --------------------------------------------------------------------------------------
# settings made per chunk (sim/studies/settings.py)
# --------------------------------------------------------------------------------------


def test_grid_settings_of_any_range_are_the_grids():
    from sim.studies.settings import Settings

    axes = {"a": [1.0, 2.0, 3.0], "b": [10.0, 20.0], "c": [0.5, 0.25]}
    full = sweep.grid(axes)
    s = Settings(axes=axes)
    assert s.n_settings == 12 and s.parameters == ["a", "b", "c"]
    for start, stop in ((0, 12), (0, 1), (5, 9), (11, 12)):
        part = s.rows(start, stop)
        for p in axes:
            np.testing.assert_array_equal(part[p], full[p][start:stop])
    # setting 7 = a index 1, b index 1, c index 1 (the first parameter varies slowest)
    assert {p: float(v[0]) for p, v in s.rows(7, 8).items()} == {"a": 2.0, "b": 20.0, "c": 0.25}
    assert Settings(axes=axes).digest() == s.digest() != Settings(values=full).digest()


def test_a_streamed_sweep_builds_one_chunk_of_members_at_a_time(scenario, tmp_path, monkeypatch):
    in_memory = sweep.run(scenario, PARAMS, **KW)
    sizes = []
    real = type(scenario).build

    def build(self, overrides=None, n_members=None):
        sizes.append(n_members)
        return real(self, overrides=overrides, n_members=n_members)

    monkeypatch.setattr(type(scenario), "build", build)
    folder = sweep.run(scenario, PARAMS, **KW, out=tmp_path)
    assert max(sizes) == KW["chunk_size"]  # never the sweep's 30 members a regime
    back = sweep.load(folder).table
    for c in in_memory.table:
        np.testing.assert_array_equal(back[c], in_memory.table[c], err_msg=c)


def test_order_statistics_are_interpolated_within_a_bin():
    # three values in one bin [1, 1 + 2⁻¹²): by rank between the bin's smallest and largest
    d = Distribution(exact=False)
    d.add([1.0002, 1.0, 1.00005])
    assert d.keys.size == 1
    # ranks 0, 1, 2 → 1.0, 1.0001, 1.0002 (evenly between 1.0 and 1.0002); p25 at rank 0.5
    np.testing.assert_allclose(d.percentiles((0, 25, 50, 100)), [1.0, 1.00005, 1.0001, 1.0002], rtol=0, atol=1e-15)
