"""Plots written to files are made without pyplot (sim.report.style.offscreen), pixel for pixel
the same as pyplot's figures: `bakhri run` then never imports pyplot."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import hashlib, sys
from pathlib import Path
if sys.argv[2] == "pyplot":
    import matplotlib.pyplot  # loaded: figures are pyplot's, as in a notebook
from sim.engine.driver import simulate
from sim.report.plotting import save_all
from sim.scenario import load_scenario
s = load_scenario("tests/bad/base.toml")
model, regimes = s.build()
results = {name: simulate(model, r) for name, r in regimes.items()}
paths = save_all(results, Path(sys.argv[1]), title="t", workers=1)
print(sys.argv[2], "matplotlib.pyplot" in sys.modules)
for p in paths:
    print(p.name, hashlib.sha256(p.read_bytes()).hexdigest())
"""


def test_figures_without_pyplot_are_byte_identical_to_pyplot_figures(tmp_path):
    outs = {}
    for mode in ("offscreen", "pyplot"):
        proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / mode), mode], cwd=ROOT,
                              capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
        assert proc.returncode == 0, proc.stderr
        outs[mode] = proc.stdout.splitlines()
    assert outs["offscreen"][0] == "offscreen False"  # no pyplot at all
    assert outs["pyplot"][0] == "pyplot True"
    assert len(outs["offscreen"]) > 3 and outs["offscreen"][1:] == outs["pyplot"][1:]
