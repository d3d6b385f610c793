"""Streamed, resumable sweeps (sim/stream.py): rows on disk chunk by chunk, read back equal."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.scenario import load_scenario
from sim.studies import stream, sweep

ROOT = Path(__file__).resolve().parents[2]
ENSEMBLE = ROOT / "scenarios" / "ensemble-dry.toml"
HEDGING = ROOT / "scenarios" / "sweep-hedging.toml"
PARAMS = {"inflow.scale": [0.8, 1.0, 1.2]}
KW = dict(inflow_members=7, chunk_size=4)  # 21 members per regime: 6 chunks each, the last one short
R = 4  # regimes of the scenario


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ENSEMBLE)


@pytest.fixture(scope="module")
def in_memory(scenario):
    return sweep.run(scenario, PARAMS, **KW)


def assert_same_table(a: dict, b: dict):
    assert list(a) == list(b)
    for c in b:
        assert a[c].dtype == b[c].dtype, c
        np.testing.assert_array_equal(a[c], b[c], err_msg=c)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_load_gives_the_table_the_run_returned(scenario, in_memory, tmp_path, fmt):
    folder = sweep.run(scenario, PARAMS, **KW, out=tmp_path, format=fmt)
    assert folder == tmp_path / "ensemble-dry-sweep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ensemble-dry-sweep"]  # no partial folder left
    assert (folder / f"sweep.{fmt}").is_file()
    back = sweep.load(folder)
    assert_same_table(back.table, in_memory.table)
    assert back.n_settings == 3 and back.n_inflow_members == 7 and list(back.results) == list(in_memory.results)
    np.testing.assert_array_equal(back.by_setting("energy_gwh", "irrigation-first"),
                                  in_memory.by_setting("energy_gwh", "irrigation-first"))
    info = json.loads((folder / "run.json").read_text())
    assert info["kind"] == "sweep" and info["format"] == fmt and info["n_rows"] == R * 21
    assert len(info["chunks_done"]) == info["n_chunks"] == R * 6


def test_workers_give_the_same_table(scenario, in_memory, tmp_path):
    folder = sweep.run(scenario, PARAMS, **KW, out=tmp_path, workers=2)
    assert_same_table(sweep.load(folder).table, in_memory.table)


def test_csv_is_what_the_per_value_writer_wrote(in_memory, tmp_path):
    """Vectorised CSV: the same header, whole numbers as whole numbers, every float reads back exact."""
    path = tmp_path / "sweep.csv"
    in_memory.to_csv(path)
    with open(path, newline="", encoding="utf-8") as f:
        header, *body = list(csv.reader(f))
    assert header == in_memory.columns()
    col = {c: i for i, c in enumerate(header)}
    assert [r[col["member"]] for r in body] == [str(m) for m in in_memory.table["member"]]
    assert [r[col["regime"]] for r in body] == list(in_memory.table["regime"])
    for c in header[4:]:
        np.testing.assert_array_equal([float(r[col[c]]) for r in body], in_memory.table[c], err_msg=c)


def test_rows_are_never_held_for_more_than_a_chunk(scenario, tmp_path, monkeypatch):
    """Bounded memory: rows are made and written one chunk at a time."""
    made = []
    real = sweep.rows

    def spy(names, members, *a, **k):
        made.append(len(names) * (members.stop - members.start))
        return real(names, members, *a, **k)

    monkeypatch.setattr(sweep, "rows", spy)
    sweep.run(scenario, PARAMS, **KW, out=tmp_path)
    assert max(made) == 4 and sum(made) == R * 21


class Crash(Exception):
    pass


def crash_after(monkeypatch, k):
    """Make the chunk function fail after `k` chunks (a crash, Ctrl-C or SIGTERM mid-sweep)."""
    real = stream._compute
    calls = []

    def compute(task):
        if len(calls) >= k:
            raise Crash("stopped")
        calls.append(1)
        return real(task)

    monkeypatch.setattr(stream, "_compute", compute)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_interrupted_sweep_resumes_to_the_same_table(scenario, in_memory, tmp_path, monkeypatch, fmt):
    with monkeypatch.context() as m:
        crash_after(m, 5)
        with pytest.raises(Crash):
            sweep.run(scenario, PARAMS, **KW, out=tmp_path, format=fmt)
    part = tmp_path / ".ensemble-dry-sweep.partial"
    assert [p.name for p in tmp_path.iterdir()] == [part.name]  # the chunks only, kept on purpose
    progress = json.loads((part / "progress.json").read_text())
    assert len(progress["chunks_done"]) == 5
    assert len(list((part / "chunks").iterdir())) == 5
    ran = []
    real = stream._compute
    monkeypatch.setattr(stream, "_compute", lambda task: ran.append(1) or real(task))
    folder = sweep.run(scenario, PARAMS, **KW, out=tmp_path, format=fmt, resume=True)
    assert len(ran) == R * 6 - 5  # only the missing chunks ran
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ensemble-dry-sweep"]
    assert_same_table(sweep.load(folder).table, in_memory.table)


def test_resume_refuses_other_inputs(scenario, tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        crash_after(m, 2)
        with pytest.raises(Crash):
            sweep.run(scenario, PARAMS, **KW, out=tmp_path)
    for change in ({"parameters": {"inflow.scale": [0.8, 1.0, 1.3]}}, {"inflow_members": 6}, {"chunk_size": 5},
                   {"format": "csv"}):
        kw = {**KW, "parameters": PARAMS, **change}
        with pytest.raises(stream.ResumeError, match="differ"):
            sweep.run(scenario, out=tmp_path, resume=True, **kw)
    assert len(json.loads((tmp_path / ".ensemble-dry-sweep.partial" / "progress.json").read_text())["chunks_done"]) == 2


def test_a_run_without_resume_starts_afresh(scenario, in_memory, tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        crash_after(m, 3)
        with pytest.raises(Crash):
            sweep.run(scenario, PARAMS, **KW, out=tmp_path)
    ran = []
    real = stream._compute
    monkeypatch.setattr(stream, "_compute", lambda task: ran.append(1) or real(task))
    folder = sweep.run(scenario, PARAMS, **KW, out=tmp_path)
    assert len(ran) == R * 6
    assert_same_table(sweep.load(folder).table, in_memory.table)


def test_crash_before_any_chunk_leaves_nothing(scenario, tmp_path, monkeypatch):
    crash_after(monkeypatch, 0)
    with pytest.raises(Crash):
        sweep.run(scenario, PARAMS, **KW, out=tmp_path)
    assert list(tmp_path.iterdir()) == []


# -- the command ---------------------------------------------------------------------------------

ARGS = ["sweep", str(HEDGING), "--no-plots", "--chunk-size", "5"]


def test_cli_interrupt_then_resume(capsys, tmp_path, monkeypatch):
    from sim import cli

    out = tmp_path / "out"
    with monkeypatch.context() as m:
        real = stream._compute
        calls = []

        def compute(task):
            if len(calls) == 2:
                raise cli.Interrupted(15)
            calls.append(1)
            return real(task)

        m.setattr(stream, "_compute", compute)
        assert main([*ARGS, "--out", str(out)]) == 143
    err = capsys.readouterr().err
    part = out / ".sweep-hedging-sweep.partial"
    assert err == (f"bakhri: stopped by SIGTERM; the completed chunks of the sweep are kept in {part}: "
                   "the same command with --resume continues it\n")
    code = main([*ARGS, "--out", str(out), "--resume"])
    o = capsys.readouterr()
    assert code == 0, o.err
    assert "24 settings" in o.out and "sweep.parquet" in o.out
    code = main([*ARGS, "--out", str(tmp_path / "whole")])
    assert code == 0
    assert_same_table(sweep.load(out / "sweep-hedging-sweep").table,
                      sweep.load(tmp_path / "whole" / "sweep-hedging-sweep").table)


def test_cli_resume_with_other_inputs_exits_2(capsys, tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        crash_after(m, 1)
        assert main([*ARGS, "--out", str(tmp_path)]) == 1  # a crash: an internal error
    capsys.readouterr()
    code = main([*ARGS, "--out", str(tmp_path), "--resume", "--set", "inflow.scale=0.9,1.1"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"bakhri: cannot resume {tmp_path / 'sweep-hedging-sweep'}: ") and err.count("\n") == 1
    assert "differ" in err and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == [".sweep-hedging-sweep.partial"]  # kept


def test_load_refuses_a_folder_that_is_not_a_sweep(tmp_path):
    from sim.report.output import OutputError

    with pytest.raises(OutputError, match="not a sweep result folder"):
        sweep.load(tmp_path)


def test_console_table_from_one_column_at_a_time(scenario, in_memory, tmp_path):
    from sim.report.output import format_sweep_table, sweep_table_metrics

    folder = sweep.run(scenario, PARAMS, **KW, out=tmp_path)
    info, p = stream.percentiles(folder, sweep_table_metrics())
    assert info["n_rows"] == R * 21 and list(p) == list(in_memory.results)
    assert format_sweep_table(None, percentiles=p) == format_sweep_table(in_memory)


def test_command_errors_map_a_streamed_commands_errors(tmp_path):
    from sim.scenario import ScenarioError

    class Bad(ValueError):
        pass

    part = tmp_path / ".x.partial"
    for raised, line in ((stream.ResumeError("cannot resume"), "bakhri: cannot resume"),
                         (ValueError("found 2; expected 1"), "f.toml: found 2; expected 1"),
                         (ScenarioError("f.toml", ["a: wrong"]), None)):
        with pytest.raises(Bad) as err, stream.command_errors("f.toml", part, Bad):
            raise raised
        assert str(err.value) == (line if line is not None else str(raised))
    with pytest.raises(KeyboardInterrupt) as err, stream.command_errors("f.toml", part, Bad):
        raise KeyboardInterrupt
    assert not hasattr(err.value, "kept")  # nothing completed: nothing kept
    part.mkdir()
    with pytest.raises(KeyboardInterrupt) as err, stream.command_errors("f.toml", part, Bad):
        raise KeyboardInterrupt
    assert err.value.kept == part
    with pytest.raises(RuntimeError), stream.command_errors("f.toml", part, Bad):  # an internal error stays one
        raise RuntimeError("bug")


def test_chunk_major_completion_keeps_few_tables_and_writes_in_file_order(tmp_path):
    """Chunks computed chunk-major (every regime of a chunk together) reach the result file
    regime after regime and each regime's summary in chunk order; only chunks near the file's
    next place keep their table in memory, the others are read back from their files."""

    class Summary:
        def __init__(self):
            self.added = []

        def columns(self):
            return {"x"}

        def add(self, regime, cols):
            self.added.append((regime, int(cols["x"][0])))

    class Writer:
        def submit(self, fn, *args):
            fn(*args)

    class Sink:
        def __init__(self):
            self.appended = []

        def append(self, table, path):
            self.appended.append((table, path.name))

    names, n_chunks, window = ["a", "b", "c"], 20, 4
    ids = [(ri, ci) for ri in range(len(names)) for ci in range(n_chunks)]
    summary, sink = Summary(), Sink()
    ordered = stream._InOrder(summary, ids, names, set(), Writer(), sink, lambda ri, ci: tmp_path / f"{ri}-{ci}",
                              "csv", lambda: {"x": "int"}, window=window)
    most = 0
    for ci in range(n_chunks):
        for ri in (2, 0, 1):  # a chunk's regimes in any order
            ordered.add((ri, ci), {"x": np.array([ci])}, f"table {ri}-{ci}")
            most = max(most, len(ordered.tables))
    assert [p for _, p in sink.appended] == [f"{ri}-{ci}" for ri, ci in ids]
    assert most <= window
    kept = [t for t, _ in sink.appended if t is not None]
    assert 0 < len(kept) < len(ids)  # the file's next chunks went from memory, the rest (CSV) from their files
    for name in names:
        assert [c for r, c in summary.added if r == name] == list(range(n_chunks))
