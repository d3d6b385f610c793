"""Every shipped scenario gives byte-identical CSV outputs to the recorded ones.

The hashes in tests/golden/outputs.json were made by tests/golden/make.py before the code was
restructured (issue 9); a refactoring that changes any output byte fails here and names the
file. An intended change of results regenerates them in the same commit, with the reason.
"""

from __future__ import annotations

import json
import pathlib

from golden import make

RECORDED = json.loads((pathlib.Path(make.__file__).parent / "outputs.json").read_text())


def test_every_shipped_scenario_gives_the_recorded_bytes(tmp_path):
    make.run_all(tmp_path)
    got = make.hashes(tmp_path)
    want = RECORDED["files"]
    assert sorted(got) == sorted(want), "the set of output files changed"
    changed = [name for name in want if got[name] != want[name]]
    assert not changed, f"outputs changed (recorded at {RECORDED['made_at_commit']}): {changed}"


def test_the_record_covers_every_shipped_scenario():
    names = {p.stem for p in make.scenario_files()}
    recorded = {name.split("/")[0] for name in RECORDED["files"]} - {"sweep-hedging-sweep"}
    assert names == recorded
    assert any(name.endswith("/daily.csv") for name in RECORDED["files"])
    assert "sweep-hedging-sweep/sweep.csv" in RECORDED["files"]
