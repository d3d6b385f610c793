"""Sweep throughput and peak memory at 10⁴, 10⁵ and 10⁶ members, next to a per-member loop.

Each size is one growing-season sweep (183 days, full physics, one regime, metrics only) of
scenarios/baseline.toml's irrigation-first regime over a Latin-hypercube sample of inflow
scale (0.5–1.5) and hedging factor (0.5–1.0), run in a fresh process so that its peak
memory (resident set, this process and its worker processes) is its own. The baseline is
`sim.engine.reference.simulate_member`, the same model as a plain Python loop over days, one member
at a time, timed on 100 members.

    python benchmarks/bench_sweep.py                 # 10⁴, 10⁵, 10⁶ members, 1 and 2 workers
    python benchmarks/bench_sweep.py --sizes 10000   # one size

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.toml"
PARAMETERS = {"inflow.scale": (0.5, 1.5), "regimes.irrigation-first.hedging.factor": (0.5, 1.0)}


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
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
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
