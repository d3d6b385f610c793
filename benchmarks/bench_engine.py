"""Engine throughput, in member-seasons per second, next to a per-member Python loop and the previous engine.

A member-season is one member run over the 183 days of a growing season (1 April – 30
September) with the full physics: hypsometry look-ups, evaporation over the area, seepage,
release limits, spill, tailwater, unit limits and downstream allocation, and every metric.
Two rules: ``demand`` with hedging (the usual one) and ``power`` (energy-first, 120 MW: a
Newton solve for the release every day, the slowest rule).

Baselines, timed in the same run:

- the plain loop: `sim.engine.reference.simulate_member`, the same model written as a plain
  Python loop over days for one member at a time (the usual way such a model is first
  written), timed on a few members and reported per member-season;
- the previous engine (`--previous`, a git ref; default: main before the work on engine
  throughput), extracted with ``git archive`` into a temporary folder and timed in a
  subprocess with its own compiled-code cache, alternating with this checkout rule by rule
  (both also run in a subprocess) so that both see the same machine load.

    python benchmarks/bench_engine.py            # 1, 1,000 and 100,000 members (power: 1,000, 20,000)
    python benchmarks/bench_engine.py --quick    # smaller, for a smoke test
    python benchmarks/bench_engine.py --previous none

Figures are printed with the machine's load average, never asserted (timings depend on the
machine, and on what else runs on it). Beside the wall-clock rate, "per CPU-s" is member-seasons
per second of the process's own CPU time (best of the runs): the per-core figure. On a machine
shared with other work the wall-clock rate falls with the load (at load 5 on 2 cores a process
gets about half a core) while the CPU-time rate falls much less (caches shared with the other
work): compare figures of one run, and quote the per-core target against "per CPU-s".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _tree import extract  # benchmarks/_tree.py: a git ref's tree, to time against

ROOT = Path(__file__).resolve().parents[1]
#: main before the work on engine throughput (issue 8).
DEFAULT_PREVIOUS = "00b9ca3"
RULES = ("demand", "power")


def _regime(rule):
    from sim.rules.regimes import Regime

    if rule == "demand":
        return Regime("demand", {"hedging_trigger_level_m": 343.0, "hedging_factor": 0.8}, min_release_m3s=150.0)
    return Regime("power", {"target_mw": 120.0}, min_release_m3s=150.0)


def _model(n_members):
    import numpy as np

    from sim import builtin
    from sim.physics import calendar

    period = calendar.growing_season(2025)
    scale = np.linspace(0.6, 1.4, n_members) if n_members > 1 else 1.0
    return builtin.model(period, inflow_scale=scale)


def _best_of(fn, repeat):
    """Best wall-clock and best CPU seconds of `repeat` calls of `fn`."""
    best = best_cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best, best_cpu


def _cases(rule, quick):
    """(members, keep daily) timed for a rule."""
    sizes = {"demand": [1, 1_000, 10_000] if quick else [1, 1_000, 100_000],
             "power": [1_000, 5_000] if quick else [1_000, 20_000]}[rule]
    return [(n, keep) for n in sizes for keep in ((False, True) if n <= 1_000 else (False,))]


def _time_engine(rule, quick):
    """Seconds (best of a few runs) of every case of `rule`, in this process's `sim`."""
    import functools
    import inspect

    from sim import simulate

    # The compiled engine at every size: "auto" would run one member as plain Python (an
    # engine without the choice, like the previous one, is compiled anyway).
    if "engine" in inspect.signature(simulate).parameters:
        simulate = functools.partial(simulate, engine="compiled")
    regime = _regime(rule)
    simulate(_model(2), regime)  # compile (or load the compiled cache) outside the timings
    out = []
    for n, keep in _cases(rule, quick):
        model = _model(n)
        repeat = 20 if n == 1 else 3 if n <= 20_000 else 1  # one member: a millisecond, easily disturbed
        t, cpu = _best_of(lambda model=model, keep=keep: simulate(model, regime, keep_daily=keep), repeat)
        out.append([n, keep, t, cpu])
    return out


def _time_loop(rule, n_loop):
    from sim.engine.reference import simulate_member

    regime, model = _regime(rule), _model(n_loop)
    return _best_of(lambda: [simulate_member(model, regime, j) for j in range(n_loop)], 1)[0] / n_loop


def _worker(tree, rule, quick, cache):
    """Time `rule` on the engine of source tree `tree` in a fresh process; its cases' seconds."""
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "BAKHRI_CACHE_DIR")}
    env.update(PYTHONPATH=str(tree), BAKHRI_CACHE_DIR=str(cache))
    argv = [sys.executable, __file__, "--worker", rule] + (["--quick"] if quick else [])
    proc = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"timing {rule} in {tree} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _load():
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--previous", default=DEFAULT_PREVIOUS,
                        help=f"git ref of the engine to compare with, or 'none' (default {DEFAULT_PREVIOUS})")
    parser.add_argument("--rules", nargs="+", choices=RULES, default=list(RULES))
    parser.add_argument("--worker", choices=RULES, help=argparse.SUPPRESS)  # internal: time one rule, print JSON
    args = parser.parse_args(argv)
    if args.worker:
        sys.path.insert(0, os.getcwd())
        print(json.dumps(_time_engine(args.worker, args.quick)))
        return
    sys.path.insert(0, str(ROOT))
    n_loop = 20 if args.quick else 200
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as scratch:
        previous = None if args.previous == "none" else extract(args.previous, Path(scratch) / "previous", paths=("sim",))
        print(f"machine: {os.cpu_count()} cores; one process, one core; growing season 2025, 183 daily steps; "
              f"{_load()} at the start")
        print(f"previous engine: {args.previous if previous else 'not timed'}; both engines in fresh processes, "
              "alternating, best of 3 runs (20 for one member, 1 at 100,000)")
        for rule in args.rules:
            loop_s = _time_loop(rule, n_loop // 10 if rule == "power" else n_loop)
            print(f"\nrule {rule}: plain Python loop, one member at a time: {1 / loop_s:,.0f} member-seasons/s "
                  f"({loop_s * 1e3:.2f} ms per member-season)")
            now = _worker(ROOT, rule, args.quick, Path(scratch) / "cache-now")
            before = _worker(previous, rule, args.quick, Path(scratch) / "cache-previous") if previous else None
            print(f"{'members':>9} {'keep daily':>10} {'time [s]':>9} {'member-seasons/s':>17} {'per CPU-s':>10} "
                  f"{'x loop':>7} {'previous [s]':>12} {'member-seasons/s':>17} {'per CPU-s':>10} {'x previous':>10}")
            for i, (n, keep, t, cpu) in enumerate(now):
                line = f"{n:>9,} {str(keep):>10} {t:>9.3f} {n / t:>17,.0f} {n / cpu:>10,.0f} {loop_s * n / t:>7.0f}"
                if before:
                    tb, cpub = before[i][2], before[i][3]
                    line += f" {tb:>12.3f} {n / tb:>17,.0f} {n / cpub:>10,.0f} {tb / t:>10.2f}"
                print(line)
            print(f"({_load()})")


if __name__ == "__main__":
    main()
