"""Engine throughput, in member-seasons per second, next to a per-member Python loop.

A member-season is one member run over the 183 days of a growing season (1 April – 30
September) with the full physics: hypsometry look-ups, evaporation over the area, seepage,
the demand rule with hedging, release limits, spill, tailwater, unit limits and downstream
allocation, and every metric. The baseline is `sim.engine.reference.simulate_member`: the same model
written as a plain Python loop over days for one member at a time (the usual way such a
model is first written); it is timed on a few members and reported per member-season.

    python benchmarks/bench_engine.py            # 1, 1,000 and 100,000 members
    python benchmarks/bench_engine.py --quick    # smaller, for a smoke test

Figures are printed, never asserted (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from sim import builtin, simulate
from sim.engine.reference import simulate_member
from sim.physics import calendar
from sim.rules.regimes import Regime


def _model(n_members):
    period = calendar.growing_season(2025)
    scale = np.linspace(0.6, 1.4, n_members) if n_members > 1 else 1.0
    return builtin.model(period, inflow_scale=scale)


def _regime():
    return Regime("demand", {"hedging_trigger_level_m": 343.0, "hedging_factor": 0.8}, min_release_m3s=150.0)


def _best_of(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = parser.parse_args(argv)
    sizes = [1, 1_000, 10_000] if args.quick else [1, 1_000, 100_000]
    n_loop = 20 if args.quick else 200
    regime = _regime()
    simulate(_model(2), regime)  # compile (or load the compiled cache) outside the timings

    loop_model = _model(n_loop)
    loop_s = _best_of(lambda: [simulate_member(loop_model, regime, j) for j in range(n_loop)], 1)
    loop_rate = n_loop / loop_s
    print(f"machine: {os.cpu_count()} cores; one process, one core; growing season 2025, 183 daily steps")
    print(f"baseline: plain Python loop, one member at a time: {loop_rate:,.0f} member-seasons/s "
          f"({loop_s / n_loop * 1e3:.2f} ms per member-season, {n_loop} members)")
    print(f"{'members':>9} {'keep daily':>10} {'time [s]':>9} {'member-seasons/s':>17} {'x loop':>8}")
    for n in sizes:
        model = _model(n)
        for keep in (False, True) if n <= 1_000 else (False,):
            t = _best_of(lambda model=model, keep=keep: simulate(model, regime, keep_daily=keep), 3 if n <= 10_000 else 1)
            rate = n / t
            print(f"{n:>9,} {str(keep):>10} {t:>9.3f} {rate:>17,.0f} {rate / loop_rate:>8.0f}")


if __name__ == "__main__":
    main()
