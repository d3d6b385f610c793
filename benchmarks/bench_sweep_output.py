"""Sweep results on disk: the writers, and ``bakhri sweep`` as a user runs it, before and after.

1. Writers, in this process, on the table of a real sweep (baseline.toml, irrigation-first,
   ``--rows`` rows): the previous per-value CSV writer (``csv.writer``, every value formatted by
   a Python call: `old_to_csv`, kept here verbatim as the baseline) against the vectorised CSV
   writer and Parquet (`sim.studies.stream`), in µs per row and MB per 10⁶ rows.
2. Whole commands: ``python -m sim sweep scenarios/baseline.toml --set inflow.scale=0.5:1.5:A
   --set regimes.irrigation-first.hedging.factor=0.5:1:B --regime irrigation-first --no-plots``
   for 10⁵ and 10⁶ member-seasons, run under ``/usr/bin/time -v`` in a fresh process: wall time
   and peak resident memory (the largest of the command and its processes), for the baseline
   tree (``--baseline``, a git ref extracted with ``git archive``: the sweep held in memory and
   written by the per-value writer) and this checkout (streamed Parquet, ``--format csv``, and
   Parquet with ``--workers 2``).
   Compiled code is warmed by one small run per tree first.

    python benchmarks/bench_sweep_output.py                      # 10⁵ and 10⁶, baseline a00e072
    python benchmarks/bench_sweep_output.py --sizes 100000 --baseline none

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _tree import extract  # benchmarks/_tree.py: a git ref's tree, to time against

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/baseline.toml"
FACTOR = "regimes.irrigation-first.hedging.factor"
#: main before streamed sweeps (issue 8): the sweep held in memory, written by the per-value writer.
DEFAULT_BASELINE = "a00e072"


def old_to_csv(table: dict, path) -> None:
    """The per-value writer of `SweepResult.to_csv` before streaming (the baseline)."""

    def _fmt(x):
        if isinstance(x, (str, np.str_)):
            return str(x)
        if isinstance(x, (int, np.integer)):
            return str(int(x))
        return repr(float(x)) if np.isfinite(x) else str(float(x))

    cols = list(table)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        data = [table[c] for c in cols]
        for i in range(len(data[0])):
            w.writerow([_fmt(col[i]) for col in data])


def writers(n_rows: int, scratch: Path) -> None:
    import pyarrow.parquet as pq

    from sim.scenario import load_scenario
    from sim.studies import sweep
    from sim.studies.stream import arrow_table, write_csv

    scenario = load_scenario(ROOT / SCENARIO)
    a = int(np.sqrt(n_rows))
    result = sweep.run(scenario, {"inflow.scale": np.linspace(0.5, 1.5, a), FACTOR: np.linspace(0.5, 1, n_rows // a)},
                       regimes=["irrigation-first"])
    table = result.table
    n = len(table["member"])
    print(f"1. writers: {n:,} rows × {len(table)} columns (baseline.toml, irrigation-first)")
    print(f"   {'writer':<32} {'s':>7} {'µs/row':>8} {'MB/10⁶ rows':>12} {'× faster':>9}")
    rows = []

    def timed(label, fn, path):
        t0 = time.perf_counter()
        fn(path)
        s = time.perf_counter() - t0
        rows.append((label, s, s / n * 1e6, path.stat().st_size / n))

    timed("per-value csv.writer (before)", lambda p: old_to_csv(table, p), scratch / "old.csv")

    def new_csv(p):
        with open(p, "wb") as fh:
            write_csv(fh, table)

    timed("vectorised CSV (after)", new_csv, scratch / "new.csv")
    timed("Parquet (after)", lambda p: pq.write_table(arrow_table(table), p), scratch / "new.parquet")
    base = rows[0][1]
    for label, s, us, size in rows:
        print(f"   {label:<32} {s:7.2f} {us:8.1f} {size:12.0f} {base / s:9.1f}")
    same = np.array_equal(np.loadtxt(scratch / "old.csv", delimiter=",", skiprows=1, usecols=range(4, 20)),
                          np.loadtxt(scratch / "new.csv", delimiter=",", skiprows=1, usecols=range(4, 20)))
    print(f"   the two CSV files read back to the same numbers: {same}")


def _timed(root: Path, argv, env) -> tuple[float, float]:
    """Wall seconds and peak RSS [MiB] of ``python -m sim argv`` under /usr/bin/time -v."""
    cmd = [sys.executable, "-m", "sim", *argv]
    if Path("/usr/bin/time").exists():
        cmd = ["/usr/bin/time", "-v", *cmd]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{root}: {' '.join(map(str, argv))} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return wall, (int(m.group(1)) / 1024 if m else float("nan"))


def commands(sizes, baseline, scratch: Path) -> None:
    trees = []
    if baseline != "none":
        before = extract(baseline, Path(tempfile.mkdtemp(dir=scratch)))
        if before is not None:
            trees.append((f"before ({baseline})", before, []))
    trees.append(("after, Parquet", ROOT, []))
    trees.append(("after, --format csv", ROOT, ["--format", "csv"]))
    trees.append(("after, Parquet, 2 workers", ROOT, ["--workers", "2"]))
    print("\n2. bakhri sweep, whole command, results on disk (--no-plots; wall s, peak RSS MiB, file MB)")
    print(f"   {'member-seasons':>14}  {'tree':<26} {'wall s':>7} {'peak MiB':>9} {'file MB':>8}")
    for _label, root, extra in trees:  # warm the compiled-code cache of each tree
        env = dict(os.environ, PYTHONPATH=str(root), MPLBACKEND="Agg", BAKHRI_CACHE_DIR=str(scratch / "cache"),
                   NUMBA_CACHE_DIR=str(scratch / "cache"))
        _timed(root, ["sweep", SCENARIO, "--set", "inflow.scale=0.5:1.5:10", "--regime", "irrigation-first",
                      "--no-plots", "--out", str(scratch / "warm"), *extra], env)
    for n in sizes:
        a = 1000 if n >= 10**6 else 100
        b = n // a
        for label, root, extra in trees:
            out = scratch / f"out-{n}"
            shutil.rmtree(out, ignore_errors=True)
            env = dict(os.environ, PYTHONPATH=str(root), MPLBACKEND="Agg",
                       BAKHRI_CACHE_DIR=str(scratch / "cache"), NUMBA_CACHE_DIR=str(scratch / "cache"))
            argv = ["sweep", SCENARIO, "--set", f"inflow.scale=0.5:1.5:{a}", "--set", f"{FACTOR}=0.5:1:{b}",
                    "--regime", "irrigation-first", "--no-plots", "--out", str(out), *extra]
            wall, peak = _timed(root, argv, env)
            files = [p for p in (out / "baseline-sweep").glob("sweep.*")]
            size = sum(p.stat().st_size for p in files) / 1e6
            print(f"   {a * b:>14,}  {label:<26} {wall:7.1f} {peak:9.0f} {size:8.1f}", flush=True)
            shutil.rmtree(out, ignore_errors=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10**5, 10**6], help="member-seasons per sweep")
    p.add_argument("--rows", type=int, default=100_000, help="rows of the writer comparison")
    p.add_argument("--baseline", default=DEFAULT_BASELINE, help="git ref of the 'before' tree, or none")
    p.add_argument("--no-commands", action="store_true", help="the writers only")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    scratch = Path(tempfile.mkdtemp(prefix="bench-sweep-output-"))
    try:
        print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
        writers(args.rows, scratch)
        if not args.no_commands:
            commands(args.sizes, args.baseline, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
