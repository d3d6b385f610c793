"""Sweep throughput and peak memory at 10⁴, 10⁵ and 10⁶ members, next to a per-member loop.

Each size is one growing-season sweep (183 days, full physics, one regime, metrics only) of
scenarios/baseline.toml's irrigation-first regime over a Latin-hypercube sample of inflow
scale (0.5–1.5) and hedging factor (0.5–1.0), run in a fresh process so that its peak
memory (resident set, this process and its worker processes) is its own. The baseline is
`sim.engine.reference.simulate_member`, the same model as a plain Python loop over days, one member
at a time, timed on 100 members.

    python benchmarks/bench_sweep.py                 # 10⁴, 10⁵, 10⁶ members, 1 and 2 workers
    python benchmarks/bench_sweep.py --sizes 10000   # one size

Then the whole command as a user runs it, results on disk (issue 8's target: 10⁶ member-seasons
in ≤ 10 s and ≤ 1 GiB): ``python -m sim sweep scenarios/sweep-hedging.toml --set
inflow.scale=0.5:1.5:A --set regimes.irrigation-first.hedging.factor=0.5:1:A --regime
irrigation-first --workers 2 --no-plots --out TMP`` (A × A = ``--whole``), in a fresh process,
for this checkout and the previous release's tree (``--previous``, extracted with ``git
archive``), alternating, ``--runs`` times each after one small warm-up run per tree: wall time,
the CPU time of the command and its workers, and peak memory (the command's resident peak plus
its largest worker's, times the workers). ``--whole 0`` skips it.

    python benchmarks/bench_sweep.py --sizes --whole 1000000 --runs 3   # the whole command only

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _tree import extract  # benchmarks/_tree.py: a git ref's tree, to time against

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.toml"
PARAMETERS = {"inflow.scale": (0.5, 1.5), "regimes.irrigation-first.hedging.factor": (0.5, 1.0)}
#: main before this round of work on the whole sweep command (issue 8): 16.5-17.3 s at load 1.2.
DEFAULT_PREVIOUS = "50328bb"
WORKERS = 2
#: Runs ``python -m sim ARGS`` in-process and prints wall, CPU and peak memory as JSON.
WHOLE = """
import json, os, resource, sys, time
t0 = time.perf_counter()
from sim.cli import main
code = main(sys.argv[1:])
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "wall_s": time.perf_counter() - t0,
                  "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
                  "peak_mib": me.ru_maxrss / 1024, "worker_peak_mib": kids.ru_maxrss / 1024}))
"""


def _whole(tree: Path, a: int, out: Path) -> dict:
    """One whole ``sweep`` command of A × A member-seasons with the tree at `tree`."""
    args = ["sweep", "scenarios/sweep-hedging.toml", "--set", f"inflow.scale=0.5:1.5:{a}", "--set",
            f"regimes.irrigation-first.hedging.factor=0.5:1:{a}", "--regime", "irrigation-first",
            "--workers", str(WORKERS), "--no-plots", "--out", str(out)]
    env = dict(os.environ, PYTHONPATH=str(tree), MPLBACKEND="Agg")
    run = subprocess.run([sys.executable, "-c", WHOLE, *args], cwd=tree, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"{tree}: {run.stderr.strip()}")
    r = json.loads(run.stdout.strip().splitlines()[-1])
    r["peak_total_mib"] = r["peak_mib"] + WORKERS * r["worker_peak_mib"]
    shutil.rmtree(out, ignore_errors=True)
    return r


def whole_command(n: int, runs: int, previous: str) -> None:
    """Print the whole sweep command's figures beside the previous release's, alternating."""
    a = int(round(n ** 0.5))
    scratch = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        trees = {"this checkout": ROOT}
        if previous != "none":
            old = extract(previous, scratch / "previous")
            if old is not None:
                trees[f"previous ({previous})"] = old
        for tree in trees.values():
            _whole(tree, 30, scratch / "warm")
        got = {name: [] for name in trees}
        for _ in range(runs):
            for name, tree in trees.items():
                got[name].append(_whole(tree, a, scratch / "out"))
        print(f"\nwhole command: bakhri sweep of {a * a:,} member-seasons ({a} × {a} grid), --workers {WORKERS}, "
              f"--no-plots, results on disk; {runs} run(s) each, alternating; load average {os.getloadavg()[0]:.1f}")
        print(f"{'version':>24} {'wall [s] (best, median)':>24} {'CPU [s]':>8} {'peak memory [MiB]':>18}")
        for name, rs in got.items():
            walls = sorted(r["wall_s"] for r in rs)
            print(f"{name:>24} {walls[0]:>11.1f}, {walls[len(walls) // 2]:>10.1f} "
                  f"{min(r['cpu_s'] for r in rs):>8.1f} {max(r['peak_total_mib'] for r in rs):>18,.0f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _child(n: int, workers: int) -> dict:
    from sim.scenario import load_scenario
    from sim.studies import sweep

    scenario = load_scenario(SCENARIO)
    sweep.run(scenario, PARAMETERS, method="lhs", samples=64, seed=1, regimes=["irrigation-first"])  # warm-up
    t0 = time.perf_counter()
    result = sweep.run(scenario, PARAMETERS, method="lhs", samples=n, seed=1, regimes=["irrigation-first"],
                       workers=workers)
    elapsed = time.perf_counter() - t0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    energy = result.table["energy_gwh"]
    return {"n": n, "workers": workers, "seconds": elapsed, "peak_mib": own, "worker_peak_mib": kids,
            "energy_gwh_median": float(sorted(energy)[len(energy) // 2])}


def _loop_rate(n_members: int = 100) -> float:
    import numpy as np

    from sim.engine.reference import simulate_member
    from sim.scenario import load_scenario

    scenario = load_scenario(SCENARIO)
    values = {"inflow.scale": np.linspace(0.5, 1.5, n_members),
              "regimes.irrigation-first.hedging.factor": np.linspace(0.5, 1.0, n_members)}
    model, regimes = scenario.build(overrides=values)
    t0 = time.perf_counter()
    for j in range(n_members):
        simulate_member(model, regimes["irrigation-first"], j)
    return n_members / (time.perf_counter() - t0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--whole", type=int, default=1_000_000, help="member-seasons of the whole command (0: skip)")
    parser.add_argument("--runs", type=int, default=2, help="runs of the whole command per version")
    parser.add_argument("--previous", default=DEFAULT_PREVIOUS,
                        help=f"git ref of the previous release, or 'none' (default {DEFAULT_PREVIOUS})")
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    if args.sizes:
        engine_sweeps(args)
    if args.whole:
        whole_command(args.whole, args.runs, args.previous)


def engine_sweeps(args) -> None:
    """In-memory sweeps by size and workers, beside the plain loop."""
    loop = _loop_rate()
    print(f"machine: {os.cpu_count()} cores; growing season 2025 (183 days), one regime, metrics only")
    print(f"baseline: plain Python loop, one member at a time: {loop:,.0f} member-seasons/s")
    print(f"{'members':>10} {'workers':>7} {'time [s]':>9} {'member-seasons/s':>17} {'x loop':>7} "
          f"{'peak memory [MiB]':>18}")
    for n in args.sizes:
        for w in args.workers:
            out = subprocess.run([sys.executable, __file__, "--child", str(n), str(w)], capture_output=True,
                                 text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rate = n / r["seconds"]
            peak = r["peak_mib"] + (r["worker_peak_mib"] * w if w > 1 else 0)
            print(f"{n:>10,} {w:>7} {r['seconds']:>9.2f} {rate:>17,.0f} {rate / loop:>7.0f} {peak:>18,.0f}")


if __name__ == "__main__":
    main()
