"""The whole `bakhri sensitivity` command over 12 inputs and four regimes, beside a member-by-member loop.

The scenario is scenarios/baseline.toml (four regimes, growing season, 183 days) with its ten
default uncertain inputs (the level–storage table's two among them) and two more from a
[sensitivity] table (inflow scale, demand scale): 12 inputs, the issue's count.
Each size is the whole command in a fresh process (`python -m sim sensitivity ... --out TMP`,
plots included), wall-clock. N = 4096 base samples is 4096 × 14 = 57,344 members per regime
(first- and total-order design); N = 8192 (114,688 members per regime) is at least the
106,496 members that a second-order design of N = 4096 would need.

The baseline is `sim.engine.reference.simulate_member` (the same model, a plain Python loop
over days, one member at a time), timed on 20 members of each regime and extrapolated to the
same number of members: said so in the output.

    python benchmarks/bench_sensitivity.py                  # N = 4096 and 8192; 1, 2 and auto workers
    python benchmarks/bench_sensitivity.py --samples 4096 --workers 1

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this tree's sim, not an installed one
BASELINE = ROOT / "scenarios" / "baseline.toml"
EXTRA = {
    "inflow.scale": (0.8, 1.2),
    "demand.downstream-baseline.scale": (0.9, 1.1),
}


def scenario_text(samples: int) -> str:
    """A scenario extending the baseline with 12 uncertain inputs."""
    inputs = ", ".join(f'"{k}" = {{ min = {lo}, max = {hi} }}' for k, (lo, hi) in EXTRA.items())
    return (f'[scenario]\nextends = "{BASELINE}"\nname = "bench-sensitivity"\n\n'
            f"[sensitivity]\nsamples = {samples}\ninputs = {{ {inputs} }}\n")


def whole_command(path: Path, workers: str, out: Path) -> float:
    env = dict(os.environ)
    t0 = time.perf_counter()
    chosen = [] if workers == "auto" else ["--workers", str(workers)]  # auto: the command's default (idle cores)
    p = subprocess.run([sys.executable, "-m", "sim", "sensitivity", str(path), *chosen, "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    return elapsed


def loop_seconds_per_member(path: Path, n: int = 20) -> float:
    """Seconds per member-season of the plain Python loop, over n members of every regime, and the
    number of inputs."""
    import numpy as np

    from sim.engine.reference import simulate_member
    from sim.scenario import load_scenario
    from sim.studies import sensitivity

    scenario = load_scenario(path)
    rs = sensitivity.ranges(scenario)
    x = sensitivity.design(rs, 2, seed=0)[:n]
    overrides = {k: np.resize(x[:, i], n) for i, r in enumerate(rs) for k in r.keys}
    model, regimes = scenario.build(overrides=overrides, n_members=n)
    t0 = time.perf_counter()
    for regime in regimes.values():
        for j in range(n):
            simulate_member(model, regime, j)
    return (time.perf_counter() - t0) / (n * len(regimes)), len(rs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, nargs="+", default=[4096, 8192])
    ap.add_argument("--workers", nargs="+", default=["1", "2", "auto"],
                    help="worker processes; auto: the command's default, the cores the machine's load leaves idle")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {}
        for n in args.samples:
            files[n] = tmp / f"bench-{n}.toml"
            files[n].write_text(scenario_text(n), encoding="utf-8")
        print(f"load average (1 min) {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        whole_command(files[args.samples[0]], "1", tmp / "warm")  # compiles the engine once, if it must
        per_member, d = loop_seconds_per_member(files[args.samples[0]])
        print(f"{'N':>6} {'members/regime':>15} {'workers':>7} {'whole command [s]':>18} "
              f"{'member-by-member loop [s] (extrapolated)':>42} {'speed-up':>9}")
        for n in args.samples:
            members = n * (d + 2)
            loop = per_member * members * 4
            for w in args.workers:
                s = whole_command(files[n], w, tmp / f"out-{n}-{w}")
                print(f"{n:>6} {members:>15,} {w:>7} {s:>18.2f} {loop:>42.0f} {loop / s:>8.0f}×")
        print(f"baseline: sim.engine.reference.simulate_member, {per_member * 1e3:.1f} ms per member-season "
              f"(timed on 20 members × 4 regimes, extrapolated to N × {d + 2} members × 4 regimes; {d} inputs)")


if __name__ == "__main__":
    main()
