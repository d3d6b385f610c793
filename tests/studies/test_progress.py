"""The sweep's progress bar (sim/studies/workers.Progress): rate and time left on a terminal, quiet otherwise."""

import io
import re
import sys
from pathlib import Path

from sim.cli import main
from sim.studies.workers import Progress

ROOT = Path(__file__).resolve().parents[2]


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_bar_shows_rate_and_time_left_on_a_terminal(monkeypatch):
    err = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", err)
    seen = []
    with Progress(True, 100_000, "demo", initial=20_000) as report:
        report(60_000)
        report(100_000)
    with Progress(seen.append, 10, "demo") as report:
        report(4)
    text = err.getvalue()
    assert "demo" in text and "100k/100k" in text
    assert re.search(r"\d[kMG]? member-seasons/s\]", text)  # the rate, in member-seasons per second
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d", text)  # elapsed<time left
    assert seen == [4]


def test_quiet_when_stderr_is_not_a_terminal(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with Progress(True, 1000, "demo") as report:
        report(1000)
    assert err.getvalue() == ""


def test_cli_sweep_shows_the_bar_on_a_terminal_only(monkeypatch, tmp_path, capsys):
    args = ["sweep", str(ROOT / "scenarios" / "sweep-hedging.toml"), "--no-plots", "--chunk-size", "6"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert "member-seasons/s" not in capsys.readouterr().err  # pytest's stderr is not a terminal
    err = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", err)
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert re.search(r"24/24 \[[\d:]+<[\d:]+, +[\d.]+[kMG]? member-seasons/s\]", err.getvalue())
