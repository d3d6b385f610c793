"""Cost of the per-member level–storage table (``reservoir.storage_factor``,
``reservoir.storage_exponent_factor``): the same compiled run with every member on the shared
table (k = r = 1, the baseline, timed in the same run) and with every member on its own table.

    python benchmarks/bench_storage_table.py            # 20,000 members, demand and power rules
    python benchmarks/bench_storage_table.py --members 2000

A member-season is one member over the 183 days of a growing season. Figures are printed with
the machine's load average, never asserted. The k = r = 1 run against main's engine is
`bench_engine.py --previous <ref>` (the shared-table path is the one it times).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

import numpy as np


def _model(n, varied):
    from sim import builtin
    from sim.physics import calendar

    period = calendar.growing_season(2025)
    model = builtin.model(period, inflow_scale=np.linspace(0.6, 1.4, n))
    if not varied:
        return model
    rng = np.random.default_rng(0)
    res = dataclasses.replace(model.reservoir, storage_factor=rng.uniform(0.67, 1.01, n),
                              storage_exponent_factor=rng.uniform(0.8, 1.0, n))
    start = res.member_hypsometry().rebase(np.broadcast_to(model.initial_storage_m3, (n,)))
    return dataclasses.replace(model, reservoir=res, initial_storage_m3=start)


def _regime(rule):
    from sim.rules.regimes import Regime

    if rule == "demand":
        return Regime("demand", {"hedging_trigger_level_m": 343.0, "hedging_factor": 0.8}, min_release_m3s=150.0)
    return Regime("power", {"target_mw": 120.0}, min_release_m3s=150.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from sim.engine.driver import simulate

    n = args.members
    simulate(_model(10, True), _regime("demand"), keep_daily=False, engine="compiled")  # load the kernel
    print(f"load average {os.getloadavg()[0]:.1f}; {n:,} members × 183 days, best of {args.repeat}")
    for rule in ("demand", "power"):
        best = {}
        for varied in (False, True, False, True) * args.repeat:
            m = _model(n, varied)
            t0 = time.perf_counter()
            simulate(m, _regime(rule), n_members=n, keep_daily=False, engine="compiled")
            dt = time.perf_counter() - t0
            best[varied] = min(best.get(varied, np.inf), dt)
        a, b = best[False], best[True]
        print(f"{rule:7s} shared table (baseline) {a:6.2f} s ({n / a:9,.0f} member-seasons/s)   "
              f"own table per member {b:6.2f} s ({n / b:9,.0f}/s)   ratio {b / a:.2f}")


if __name__ == "__main__":
    main()
