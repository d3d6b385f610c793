"""Where the plain-Python path of the engine stops paying: the measurement behind PYTHON_MAX_MEMBER_DAYS.

A small run takes the plain-Python path (sim.engine.driver.choose_engine): it costs nothing
to start but runs each member-day in Python; the compiled path costs numba's import and the
cached kernel's loading (warm), or its compilation (the first run after an install), then
next to nothing per member-day. Timed here, each in a fresh process:

- plain Python: seconds per member-day of the baseline model, for every built-in rule
  (``demand``, ``power``, ``schedule``, ``level``), after one untimed run;
- compiled, warm: what the first `simulate` of a process costs beyond the plain path's
  (importing numba, loading the kernels from their cache), and its seconds per member-day;
- compiled, cold (``--cold``): the same with an empty cache folder (compiling).

The crossing point, start-up cost / (plain − compiled cost per member-day), is where the
automatic choice should switch; it is printed beside the threshold in use.

    python benchmarks/bench_engine_paths.py
    python benchmarks/bench_engine_paths.py --cold --runs 5

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh process: times the first simulate (start-up included) and a second one.
PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
from sim.engine.driver import simulate
from sim.scenario import load_scenario
model, regimes = load_scenario("scenarios/baseline.toml").build()
engine = sys.argv[1]
days = model.period.n_days
t1 = time.perf_counter()
first = {}
for name, regime in regimes.items():
    t = time.perf_counter()
    simulate(model, regime, engine=engine)
    first[regime.rule] = time.perf_counter() - t
again = {}
for name, regime in regimes.items():
    t = time.perf_counter()
    simulate(model, regime, engine=engine)
    again[regime.rule] = time.perf_counter() - t
print(json.dumps({"days": days, "first": first, "again": again, "import_s": t1 - t0}))
"""


def _probe(engine, cache):
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "BAKHRI_ENGINE")}
    env.update(BAKHRI_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: byte code cached
    out = subprocess.run([sys.executable, "-c", PROBE, engine], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per path (median; default 3)")
    parser.add_argument("--cold", action="store_true", help="also time the compiled path with an empty cache")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from sim.engine.driver import PYTHON_MAX_MEMBER_DAYS

    with tempfile.TemporaryDirectory(prefix="bench-paths-") as scratch:
        cache = Path(scratch) / "warm"
        _probe("compiled", cache)  # fill the cache, untimed
        python = [_probe("python", cache) for _ in range(args.runs)]
        compiled = [_probe("compiled", cache) for _ in range(args.runs)]
        cold = _probe("compiled", Path(scratch) / "cold") if args.cold else None

    days = python[0]["days"]
    rules = list(python[0]["again"])
    print(f"baseline model: 1 member × {days} days; fresh processes, median of {args.runs}; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'rule':<10} {'plain Python µs/member-day':>27} {'compiled µs/member-day':>23} {'ratio':>7}")
    per_py, per_c = [], []
    for rule in rules:
        py = statistics.median(r["again"][rule] for r in python) / days
        c = statistics.median(r["again"][rule] for r in compiled) / days
        per_py.append(py)
        per_c.append(c)
        print(f"{rule:<10} {py * 1e6:>27.1f} {c * 1e6:>23.3f} {py / c:>6.0f}x")
    # Start-up: the first simulate of a process beyond a later one (numba's import, the
    # kernels' loading; on the plain path, building the plain functions).
    start_py = statistics.median(sum(r["first"].values()) - sum(r["again"].values()) for r in python)
    start_c = statistics.median(sum(r["first"].values()) - sum(r["again"].values()) for r in compiled)
    mean_py, mean_c = statistics.mean(per_py), statistics.mean(per_c)
    crossing = (start_c - start_py) / (mean_py - mean_c)
    print(f"start-up of the first simulate: plain Python {start_py:.3f} s, compiled (warm cache) {start_c:.3f} s"
          + (f", compiled (empty cache: compiling) {sum(cold['first'].values()):.1f} s" if cold else ""))
    print(f"the paths cost the same at {crossing:,.0f} member-days (warm cache; mean of the rules); "
          f"PYTHON_MAX_MEMBER_DAYS = {PYTHON_MAX_MEMBER_DAYS:,}")


if __name__ == "__main__":
    main()
