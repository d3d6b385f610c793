"""Tests of sim.report.output: daily/summary CSV, atomic run folders, refusal, run.json, table."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import sim
from sim import builtin, simulate
from sim.physics import calendar
from sim.report import output
from sim.rules.regimes import BINDING, Regime

DAILY_HEADER = (
    "date,inflow_m3s,release_m3s,turbine_flow_m3s,spill_m3s,evaporation_m3s,precipitation_m3s,seepage_m3s,"
    "withdrawal_m3s,storage_hm3,level_m,head_m,power_mw,energy_mwh,demand_m3s,supply_m3s,deficit_m3s,binding,"
    "overtopping_m3s"
).split(",")
TOML = '[scenario]\nname = "demo"\n\n[period]\nstart = 2025-04-01\nend = 2025-09-30\n'
REGIMES = (
    Regime("demand", min_release_m3s=150, name="irrigation-first"),
    Regime("power", params={"target_mw": 120}, name="energy-first"),
)


def _results(n_members=1):
    period = calendar.growing_season(2025)
    kw = {"inflow_scale": np.linspace(0.6, 1.4, n_members)} if n_members > 1 else {}
    model = builtin.model(period, **kw)
    return {r.name: simulate(model, r) for r in REGIMES}


@pytest.fixture(scope="module")
def single():
    return _results()


@pytest.fixture(scope="module")
def ensemble():
    return _results(7)


def _read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _snapshot(folder: Path):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _no_plots(results, folder, **kwargs):
    (Path(folder) / "plots").mkdir()
    (Path(folder) / "plots" / "stub.txt").write_text("no plots in this test")


# --------------------------------------------------------------------------------------


def test_daily_csv_header(single, tmp_path):
    r = single["irrigation-first"]
    path = output.write_daily_csv(tmp_path / "daily.csv", r)
    rows = _read(path)
    users = [u[0] for u in r.users]
    assert rows[0] == DAILY_HEADER + [f"{u}_{k}" for u in users for k in ("demand_m3s", "supply_m3s")]
    assert len(rows) == r.n_steps + 1
    assert rows[1][0] == "2025-04-01" and rows[-1][0] == "2025-09-30"
    assert {row[DAILY_HEADER.index("binding")] for row in rows[1:]} <= set(BINDING)


@pytest.mark.parametrize("regime", ["irrigation-first", "energy-first"])
def test_water_balance_closes_from_csv_alone(single, tmp_path, regime):
    r = single[regime]
    output.write_daily_csv(tmp_path / "daily.csv", r)
    output.write_summary_csv(tmp_path / "summary.csv", single)
    rows = _read(tmp_path / "daily.csv")
    col = {name: i for i, name in enumerate(rows[0])}
    header, *values = _read(tmp_path / "summary.csv")
    summary = [dict(zip(header, row, strict=True)) for row in values]
    start = float(next(s for s in summary if s["regime"] == regime)["storage_start_hm3"])
    prev = start
    worst = 0.0
    for row in rows[1:]:
        f = {k: float(row[col[k]]) for k in col if k not in ("date", "binding")}
        net = (f["inflow_m3s"] + f["precipitation_m3s"] - f["evaporation_m3s"] - f["seepage_m3s"]
               - f["withdrawal_m3s"] - f["release_m3s"])
        worst = max(worst, abs(f["storage_hm3"] - prev - net * 0.0864))
        prev = f["storage_hm3"]
    assert worst < 1e-6
    # Too few digits would not close: storage ~ 3400 hm³ with '%.10g' loses ~1e-6 hm³.
    assert any(len(row[col["storage_hm3"]].split(".")[-1]) > 8 for row in rows[1:])


def test_daily_csv_values_match_result(single, tmp_path):
    r = single["energy-first"]
    rows = _read(output.write_daily_csv(tmp_path / "d.csv", r))
    col = {name: i for i, name in enumerate(rows[0])}
    power = np.array([float(row[col["power_mw"]]) for row in rows[1:]])
    np.testing.assert_array_equal(power, r.daily["power_w"][:, 0] * 1e-6)
    assert [row[col["binding"]] for row in rows[1:]] == r.binding_names(0)


def test_summary_rows(single, ensemble, tmp_path):
    rows = output.summary_rows(single)
    assert [r["regime"] for r in rows] == list(single)
    assert list(rows[0])[:2] == ["regime", "member"]
    assert "energy_gwh" in rows[0] and "downstream-baseline.deficit_hm3" in rows[0]
    table = _read(output.write_summary_csv(tmp_path / "summary.csv", single))
    assert len(table) == 1 + len(single)
    assert table[0][:4] == ["regime", "member", "inflow_hm3", "release_hm3"]
    e = float(table[1][table[0].index("energy_gwh")])
    assert e == single["irrigation-first"].metrics["energy_gwh"][0]
    assert len(output.summary_rows(ensemble)) == 7 * len(ensemble)


def test_ensemble_daily_and_percentiles(ensemble, tmp_path):
    r = ensemble["irrigation-first"]
    rep = output.representative_members(r)
    inflow = r.metrics["inflow_hm3"]
    assert rep["p50"] == int(np.argmin(np.abs(inflow - np.median(inflow))))
    path = output.write_daily_csv(tmp_path / "daily.csv", r, member=None)
    rows = _read(path)
    assert rows[0][0] == "member" and rows[0][1 : 1 + len(DAILY_HEADER)] == DAILY_HEADER
    members = sorted({int(row[0]) for row in rows[1:]})
    assert members == sorted(set(rep.values()))
    assert len(rows) - 1 == len(members) * r.n_steps
    pct = _read(output.write_daily_percentiles_csv(tmp_path / "p.csv", r))
    assert pct[0][:4] == ["date", "inflow_m3s_p10", "inflow_m3s_p50", "inflow_m3s_p90"]
    assert "level_m_p50" in pct[0] and "power_mw_p90" in pct[0]
    i = pct[0].index("level_m_p50")
    np.testing.assert_allclose([float(row[i]) for row in pct[1:]], np.median(r.daily["level_m"], axis=1))


def test_write_run_layout_and_run_json(single, tmp_path):
    folder = output.write_run(tmp_path / "out", "demo", single, TOML, {"seed": 2025, "timings": {"load_s": 0.01}},
                              plot_kwargs={"limits": {"min": 340.5, "normal": 347.5, "max": 349.0}})
    assert folder == tmp_path / "out" / "demo"
    for rel in ("summary.csv", "irrigation-first/daily.csv", "energy-first/daily.csv", "scenario.resolved.toml",
                "run.json", "plots/comparison.png", "plots/release.png", "plots/level.png", "plots/power.png",
                "plots/supply_deficit_irrigation-first.png"):
        assert (folder / rel).is_file(), rel
    assert (folder / "scenario.resolved.toml").read_text(encoding="utf-8") == TOML
    info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert info["written_by"] == "bakhri"
    assert info["version"] == sim.__version__
    assert info["seed"] == 2025
    assert info["input_sha256"] == hashlib.sha256(TOML.encode()).hexdigest()
    assert info["timings"]["load_s"] == 0.01 and "write_s" in info["timings"]
    assert info["python"] and info["numpy"] == np.__version__
    assert info["created_utc"].endswith("+00:00")
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_write_run_ensemble_files(ensemble, tmp_path):
    folder = output.write_run(tmp_path, "ens", ensemble, TOML, {"seed": 1}, plots=False)
    assert (folder / "irrigation-first" / "daily_percentiles.csv").is_file()
    assert _read(folder / "irrigation-first" / "daily.csv")[0][0] == "member"
    assert len(_read(folder / "summary.csv")) == 1 + 7 * 2
    assert not (folder / "plots").exists()


def test_write_run_replaces_own_earlier_result(single, tmp_path):
    first = output.write_run(tmp_path, "demo", single, TOML, {"seed": 1}, plot_fn=_no_plots)
    (first / "stale.txt").write_text("from the earlier run")
    second = output.write_run(tmp_path, "demo", single, TOML + "# changed\n", {"seed": 2}, plot_fn=_no_plots)
    assert second == first
    assert not (second / "stale.txt").exists()
    assert json.loads((second / "run.json").read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_write_run_is_atomic_on_failure(single, tmp_path):
    earlier = output.write_run(tmp_path, "demo", single, TOML, {"seed": 1}, plot_fn=_no_plots)
    before = _snapshot(earlier)

    def broken_plots(results, folder, **kwargs):
        (Path(folder) / "plots").mkdir()
        (Path(folder) / "plots" / "half.png").write_bytes(b"\x89PNG")
        raise RuntimeError("plotting failed halfway")

    with pytest.raises(RuntimeError, match="halfway"):
        output.write_run(tmp_path, "demo", single, TOML + "# new\n", {"seed": 9}, plot_fn=broken_plots)
    assert _snapshot(earlier) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # no temp folder left

    class Exploding(dict):
        def items(self):
            raise KeyError("results broke while writing")

    bad = dict(single)
    bad_result = single["energy-first"].member(0)
    bad_result.daily = {k: v for k, v in bad_result.daily.items() if k != "binding"}  # daily.csv fails
    bad["energy-first"] = bad_result
    with pytest.raises(KeyError):
        output.write_run(tmp_path, "demo", bad, TOML, {"seed": 3}, plot_fn=_no_plots)
    assert _snapshot(earlier) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_write_run_fresh_failure_leaves_nothing(single, tmp_path):
    def broken(results, folder, **kwargs):
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        output.write_run(tmp_path / "out", "demo", single, TOML, {}, plot_fn=broken)
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("run_json", [None, '{"written_by": "someone else"}', "not json"])
def test_refuses_foreign_folder(single, tmp_path, run_json):
    foreign = tmp_path / "demo"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("my own work")
    if run_json is not None:
        (foreign / "run.json").write_text(run_json)
    before = _snapshot(foreign)
    with pytest.raises(output.OutputError) as err:
        output.write_run(tmp_path, "demo", single, TOML, {}, plot_fn=_no_plots)
    assert str(err.value) == f"{foreign} exists and was not written by bakhri; choose another --out"
    assert _snapshot(foreign) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]
    assert not output.is_ours(foreign)
    assert output.is_ours(output.write_run(tmp_path / "ours", "demo", single, TOML, {}, plot_fn=_no_plots))


def test_refuses_foreign_file(single, tmp_path):
    (tmp_path / "demo").write_text("a file")
    with pytest.raises(output.OutputError, match="not written by bakhri"):
        output.write_run(tmp_path, "demo", single, TOML, {}, plot_fn=_no_plots)
    assert (tmp_path / "demo").read_text() == "a file"


def test_rejects_unsafe_names(single, tmp_path):
    with pytest.raises(output.OutputError, match="cannot name a folder"):
        output.write_run(tmp_path, "../escape", single, TOML, {}, plot_fn=_no_plots)
    with pytest.raises(output.OutputError, match="cannot name a folder"):
        output.write_run(tmp_path, "demo", {"a/b": single["energy-first"]}, TOML, {}, plot_fn=_no_plots)
    assert list(tmp_path.iterdir()) == []


def test_format_table(single, ensemble):
    text = output.format_table(single)
    lines = text.splitlines()
    for h in ("Energy [GWh]", "Release [hm³]", "Spill [hm³]", "Deficit [hm³]", "Vol. reliability [-]",
              "Time reliability [-]", "Min level [m]", "End level [m]", "End storage [hm³]", "Balance error [hm³]"):
        assert h in lines[0]
    assert len(lines) == 2 + len(single)
    assert lines[2].startswith("irrigation-first") and lines[3].startswith("energy-first")
    e = single["irrigation-first"].metrics["energy_gwh"][0]
    assert f"{e:,.1f}" in lines[2]
    # aligned: every data line ends where the header's last column ends
    assert len({len(line) for line in lines[:4]}) == 1
    ens = output.format_table(ensemble).splitlines()
    assert "10–90 %" in ens[3] and "(" in ens[3]
    assert ens[-1].startswith("Ensembles: median")


# --------------------------------------------------------------------------------------
# concurrency, interrupts, stale temporary folders, OS errors
# --------------------------------------------------------------------------------------


def _writer(out_dir, writer, n, single, failures):
    """Write `n` runs of `single` into out_dir/demo, tagging run.json with `writer`."""
    for i in range(n):
        try:
            output.write_run(out_dir, "demo", single, TOML, {"writer": writer, "i": i}, plots=False)
        except Exception as err:  # noqa: BLE001 - counted, reported by the test
            failures.put(f"{writer}#{i}: {type(err).__name__}: {err}")


def test_concurrent_writers_take_turns_and_end_consistent(tmp_path):
    """Two processes × 400 swaps into one folder: no failure, the folder is one writer's
    complete output, nothing hidden left. Ten-day results, so that the swaps collide often
    (before: 3–10 of 800 swaps failed with ENOTEMPTY, FileNotFoundError or a false "not
    written by bakhri", and set-aside folders were left behind)."""
    import datetime
    import multiprocessing

    period = calendar.Period(datetime.date(2025, 4, 1), datetime.date(2025, 4, 10))
    single = {r.name: simulate(builtin.model(period), r) for r in REGIMES[:1]}
    ctx = multiprocessing.get_context("fork")
    failures = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(tmp_path, w, 400, single, failures)) for w in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    errors = []
    while not failures.empty():
        errors.append(failures.get())
    assert errors == []
    assert [p.exitcode for p in procs] == [0, 0]
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]
    alone = output.write_run(tmp_path / "alone", "demo", single, TOML, {"writer": "a", "i": 399}, plots=False)
    final = tmp_path / "demo"
    info = json.loads((final / "run.json").read_text())
    assert (info["writer"], info["i"]) in (("a", 399), ("b", 399))
    names = sorted(str(p.relative_to(final)) for p in final.rglob("*"))
    assert names == sorted(str(p.relative_to(alone)) for p in alone.rglob("*"))
    for p in final.rglob("*.csv"):
        assert p.read_bytes() == (alone / p.relative_to(final)).read_bytes()


def test_interrupt_while_writing_leaves_nothing(single, tmp_path):
    earlier = output.write_run(tmp_path, "demo", single, TOML, {"seed": 1}, plot_fn=_no_plots)
    before = _snapshot(earlier)

    def interrupted(results, folder, **kwargs):
        (Path(folder) / "plots").mkdir()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        output.write_run(tmp_path, "demo", single, TOML, {"seed": 2}, plot_fn=interrupted)
    assert _snapshot(earlier) == before
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def _dead_pid():
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _leftover(folder, kind, pid, *, marker=True, run_json=False, host=None):
    import platform

    folder.mkdir(exist_ok=True)
    left = folder / f".demo.{kind}-{pid}-0123abcd"
    left.mkdir()
    (left / "summary.csv").write_text("half")
    if marker:
        info = {"written_by": "bakhri", "pid": pid, "host": host or platform.node()}
        (left / ".bakhri-writing").write_text(json.dumps(info))
    if run_json:
        (left / "run.json").write_text('{"written_by": "bakhri"}')
    return left


def test_stale_temporary_folders_of_killed_writers_are_cleared(single, tmp_path):
    dead = _dead_pid()
    being_filled = _leftover(tmp_path, "tmp", dead)
    live = _leftover(tmp_path, "tmp", os.getpid())
    older_name = tmp_path / ".demo.tmp-0123abcd"  # no pid in the name: not ours to judge
    older_name.mkdir()
    output.write_run(tmp_path, "demo", single, TOML, {}, plot_fn=_no_plots)
    assert not being_filled.exists()
    assert live.exists() and older_name.exists()
    complete = _leftover(tmp_path / "complete", "tmp", dead, marker=False, run_json=True)
    assert output.clear_stale(tmp_path / "complete") == [complete] and not complete.exists()
    for case, kw in (("unproven", {"marker": False}), ("other-host", {"host": "elsewhere"})):
        left = _leftover(tmp_path / case, "tmp", dead, **kw)
        assert output.clear_stale(tmp_path / case) == [] and left.exists()


def test_earlier_result_set_aside_by_a_killed_writer_is_restored(single, tmp_path):
    """Killed between moving the earlier result aside and moving the new one in."""
    earlier = output.write_run(tmp_path, "demo", single, TOML, {"seed": 1}, plot_fn=_no_plots)
    before = _snapshot(earlier)
    aside = tmp_path / f".demo.old-{_dead_pid()}-0123abcd"
    os.rename(earlier, aside)
    assert output.clear_stale(tmp_path) == [earlier]
    assert _snapshot(earlier) == before and not aside.exists()


@pytest.mark.parametrize("errno_name", ["ENOSPC", "EROFS", "EACCES", "EIO"])
def test_os_error_while_writing_is_an_output_error(single, tmp_path, monkeypatch, errno_name):
    import errno

    code = getattr(errno, errno_name)

    def failing(path, result, member=0):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(output, "write_daily_csv", failing)
    with pytest.raises(output.OutputError) as err:
        output.write_run(tmp_path, "demo", single, TOML, {}, plot_fn=_no_plots)
    assert str(err.value) == f"cannot write {tmp_path / 'demo'}: {os.strerror(code)} (writing daily.csv); nothing was changed there"
    assert list(tmp_path.iterdir()) == []


def test_prepare_refuses_before_any_work(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(output.OutputError, match="is a file, not a folder"):
        output.prepare(tmp_path / "f", "demo")
    with pytest.raises(output.OutputError, match="its parent .* is a file"):
        output.prepare(tmp_path / "f" / "g", "demo")
    assert output.prepare(tmp_path / "new" / "deeper", "demo") == tmp_path / "new" / "deeper" / "demo"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]  # prepare creates nothing
