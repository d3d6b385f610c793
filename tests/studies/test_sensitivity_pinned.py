"""The numbers `bakhri sensitivity` writes, pinned for fixed seeds: the design, the chunking, the
workers and the order in which chunks are computed must never change sensitivity.csv,
ranking.csv or the samples' values (SHA-256 taken before the command was made faster; the samples' table
re-pinned when the member tables' and ensembles' exp and log became the same bits on every CPU,
sim.physics.ieee: it changed in the last bit, sensitivity.csv and ranking.csv did not)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

ENSEMBLE = """[scenario]
extends = "{root}/scenarios/ensemble-dry.toml"
name = "pinned-ensemble"

[sensitivity]
defaults = false
inputs = {{ "plant.efficiency" = {{ min = 0.85, max = 0.95 }}, "inflow.scale" = {{ min = 0.8, max = 1.2 }}, "reservoir.storage_factor" = {{ min = 0.7, max = 1.0 }} }}
"""

# (arguments, folder name) → SHA-256 prefixes of sensitivity.csv, ranking.csv and of the samples' table
PINNED = [
    (("scenarios/baseline.toml", "--samples", "16", "--chunk-size", "50"), "baseline",
     ("eed626e56dc3461d", "c23bcd666ad53e33", "a0f8ef606c54bfc7")),
    (("scenarios/baseline.toml", "--samples", "16", "--chunk-size", "50", "--workers", "2"), "baseline",
     ("eed626e56dc3461d", "c23bcd666ad53e33", "a0f8ef606c54bfc7")),
    (("{ensemble}", "--samples", "8", "--members", "3", "--chunk-size", "70"), "pinned-ensemble",
     ("e145d6685ec9c9e1", "8631ab6fcf7ce7b1", "5f17507c40e533b6")),
]


def _table_digest(path: Path) -> str:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    h = hashlib.sha256()
    for c in table.column_names:
        v = table.column(c).to_numpy(zero_copy_only=False)
        h.update(c.encode())
        h.update(np.asarray(v).astype(str).tobytes() if c == "regime" else v.tobytes())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("args,name,expected", PINNED)
def test_sensitivity_numbers_are_pinned(tmp_path, args, name, expected):
    ens = tmp_path / "pinned-ensemble.toml"
    ens.write_text(ENSEMBLE.format(root=ROOT), encoding="utf-8")
    args = [a.format(ensemble=ens) for a in args]
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "sim", "sensitivity", *args, "--out", str(out), "--no-plots"],
                       capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    folder = out / f"{name}-sensitivity"
    got = (hashlib.sha256((folder / "sensitivity.csv").read_bytes()).hexdigest()[:16],
           hashlib.sha256((folder / "ranking.csv").read_bytes()).hexdigest()[:16],
           _table_digest(out / f"{name}-sensitivity-samples" / "sweep.parquet"))
    assert got == expected
