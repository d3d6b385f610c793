"""`bakhri exchange` from the command line: outputs, the printed answer, and its refusals (pinned)."""

import csv
import json
from pathlib import Path

import pytest
from bad_cases import BAD_DIR, EXCHANGE_BAD_CASES

from sim import cli
from sim.studies.exchange_cli import COLUMNS

ROOT = Path(__file__).resolve().parents[2]
FLAT = Path(__file__).parent / "data" / "exchange-flat.toml"


def bakhri(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_exchange_writes_its_folder_and_answers(capsys, tmp_path):
    code, out, err = bakhri(capsys, "exchange", ROOT / "scenarios" / "protocol-2025.toml", "--user",
                            "kazakhstan-protocol", "--out", tmp_path)
    assert code == 0, err
    folder = tmp_path / "protocol-2025-exchange"
    assert sorted(p.name for p in folder.iterdir()) == ["demand-cost.csv", "exchange.csv", "plots", "run.json",
                                                        "scenario.resolved.toml"]
    assert (folder / "plots" / "exchange.png").stat().st_size > 10_000
    rows = list(csv.reader((folder / "exchange.csv").open(encoding="utf-8")))
    assert tuple(rows[0][:len(COLUMNS)]) == COLUMNS
    assert len(rows) == 1 + 2 * 18  # two regimes × 18 decades
    doc = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert doc["written_by"] == "bakhri" and doc["user"] == "kazakhstan-protocol"
    assert doc["members_per_engine_call"] == 1 + 18 + 2
    paragraphs = [p for p in out.split("\n\n") if p.startswith("491 hm³")]
    assert len(paragraphs) == 1 and "\n" not in paragraphs[0].split("\nwritten:")[0]
    # a second run replaces the folder (it is bakhri's own)
    code, _, err = bakhri(capsys, "exchange", ROOT / "scenarios" / "protocol-2025.toml", "--user",
                          "kazakhstan-protocol", "--out", tmp_path, "--no-plots", "--horizon", "season")
    assert code == 0, err
    assert not (folder / "plots").exists()


@pytest.mark.parametrize("filename,args,message", EXCHANGE_BAD_CASES, ids=[c[2][:30] for c in EXCHANGE_BAD_CASES])
def test_exchange_refusals_are_one_line_exit_2_nothing_written(capsys, tmp_path, filename, args, message):
    path = BAD_DIR / filename
    code, out, err = bakhri(capsys, "exchange", path, *args, "--out", tmp_path)
    assert code == 2
    assert err == f"{path}: {message}\n"
    assert not any(tmp_path.iterdir())


def test_exchange_members_need_an_ensemble(capsys, tmp_path):
    code, _, err = bakhri(capsys, "exchange", FLAT, "--user", "city", "--members", "5", "--out", tmp_path)
    assert code == 2
    assert err == f"{FLAT}: --members needs an [ensemble] table in the scenario\n"


def test_exchange_help_has_examples(capsys):
    with pytest.raises(SystemExit):
        cli.main(["exchange", "--help"])
    out = capsys.readouterr().out
    assert "bakhri exchange scenarios/protocol-2025.toml --user kazakhstan-protocol" in out
    assert "--horizon" in out and "--volume-hm3" in out


def test_exchange_refuses_what_will_not_fit(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("BAKHRI_MEMORY_LIMIT", "100M")
    code, _, err = bakhri(capsys, "exchange", ROOT / "scenarios" / "ensemble-dry.toml", "--user", "downstream-baseline",
                          "--members", "20000", "--out", tmp_path)
    assert code == 2
    assert "20,000 inflow members × 21 cases × 183 days of demand and extra release needs about 2.3 GiB" in err
    assert not any(tmp_path.iterdir())


def test_show_lists_the_exchange_tables(capsys, tmp_path):
    f = tmp_path / "priced.toml"
    f.write_text(f'[scenario]\nextends = "{FLAT.as_posix()}"\nname = "priced"\n\n[exchange]\nwinter_end_level_m = 345.5\n\n'
                 "[prices]\nusd_per_mwh_summer = 20\nusd_per_mwh_winter = 45.5\n", encoding="utf-8")
    code, out, err = bakhri(capsys, "show", f)
    assert code == 0, err
    assert "exchange    winter to 345.5 m by 31 March, at least the default sanitary minimum\n" in out
    assert "prices      20 USD/MWh in the season, 45.5 USD/MWh in the winter\n" in out


def _table(protocol_file=ROOT / "scenarios" / "protocol-2025.toml"):
    from sim.scenario import load_scenario
    from sim.studies import exchange as ex

    return ex.run(load_scenario(protocol_file), "kazakhstan-protocol", horizon="season", regimes=["energy-first"]).table


def test_plot_ahead_draws_in_its_child(tmp_path):
    from sim.report.plots_exchange import PlotAhead
    from sim.report.render import can_fork

    table = _table()
    ahead = PlotAhead()
    try:
        ahead.send(table, tmp_path, user="kazakhstan-protocol", title="t", footnote="f")
        assert ahead.wait() is can_fork()
    finally:
        ahead.close()
    if can_fork():
        assert (tmp_path / "plots" / "exchange.png").stat().st_size > 10_000


def test_plot_ahead_gone_or_unforkable_means_draw_here(capsys, tmp_path, monkeypatch):
    import os
    import signal

    from sim.report.plots_exchange import PlotAhead

    ahead = PlotAhead()
    if ahead.pid is not None:  # a child that died before drawing: wait says so
        os.kill(ahead.pid, signal.SIGKILL)
        ahead.send(_table(), tmp_path, user="u", title="t", footnote="f")
        assert ahead.wait() is False
    ahead.close()

    def no_fork():
        raise OSError("no processes left")

    monkeypatch.setattr(os, "fork", no_fork)
    code, _, err = bakhri(capsys, "exchange", ROOT / "scenarios" / "protocol-2025.toml", "--user",
                          "kazakhstan-protocol", "--regime", "energy-first", "--out", tmp_path / "out")
    assert code == 0, err
    assert (tmp_path / "out" / "protocol-2025-exchange" / "plots" / "exchange.png").stat().st_size > 10_000


def test_a_refused_exchange_leaves_no_child(capsys, tmp_path):
    import os

    code, _, _ = bakhri(capsys, "exchange", BAD_DIR / "base.toml", "--user", "nobody", "--out", tmp_path)
    assert code == 2
    with pytest.raises(ChildProcessError):  # every child was reaped
        os.waitpid(-1, os.WNOHANG)
