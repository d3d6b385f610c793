"""`bakhri exchange` on the baseline scenario: the whole command, and its engine work beside a baseline.

1. The whole command as a user runs it, ``python -m sim exchange scenarios/baseline.toml --user
   downstream-baseline`` in a fresh process from this tree, with a warm compiled-code cache (one
   untimed run first), with and without plots and with ``--horizon season``: median and best
   wall time of `--runs` runs. Target (issue 10): at most 3 s.
2. In one process, the study's runs (4 regimes × (base + 18 decades + the user's demand with and
   without) × season and winter) as the study makes them, every case a member of ONE engine call
   per regime, beside the baseline of one engine call per case (what a script calling
   `sim.simulate` per decade would do), same inputs and same figures.

    python benchmarks/bench_exchange.py            # 5 runs each
    python benchmarks/bench_exchange.py --runs 3

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCENARIO = "scenarios/baseline.toml"
USER = "downstream-baseline"


def _whole(argv, runs, env):
    times = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "sim", *argv], cwd=ROOT, env=env, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            raise SystemExit(f"failed: {' '.join(argv)}\n{p.stderr}")
        if i:  # the first run fills the cache
            times.append(dt)
    return statistics.median(times), min(times)


def _per_case(scenario, user):
    """The baseline: every case of every regime as its own engine call (season and winter)."""
    import numpy as np

    from sim.engine.driver import simulate
    from sim.physics import units
    from sim.studies import exchange as ex

    u = next(x for x in scenario.compiled.users if x.name == user)
    own = ex._own_demand(u, scenario.period.n_days)
    cases = ex._cases(scenario.period, own, [ex.DEFAULT_VOLUME_HM3])
    model, regimes = scenario.build()
    winter = ex.winter_period(scenario.period)
    rule = ex.winter_rule_of(scenario)
    energy = []
    for regime in regimes.values():
        on_top = not ex.follows_demand(regime, u.location)
        for c in cases:
            r = simulate(ex._member_model(model, user, [c], 1, on_top), regime, keep_daily=False)
            end = units.hm3_to_m3(r.metrics["storage_end_hm3"])
            e, _ = ex._run_winter(ex._winter_model(scenario, winter, rule), rule, end, r.storage_start_m3)
            energy.append(float(r.metrics["energy_gwh"][0] + e[0]))
    return np.array(energy)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    out = tempfile.mkdtemp(prefix="bench-exchange-")
    cache = os.environ.get("BAKHRI_CACHE_DIR") or tempfile.mkdtemp(prefix="bench-exchange-cache-")
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", BAKHRI_CACHE_DIR=cache)
    base = ["exchange", SCENARIO, "--user", USER, "--out", out]
    print(f"whole command, fresh process, warm cache, {args.runs} runs (target: at most 3 s)")
    for label, argv in (("with plots", base), ("--no-plots", base + ["--no-plots"]),
                        ("--horizon season --no-plots", base + ["--horizon", "season", "--no-plots"])):
        med, best = _whole(argv, args.runs, env)
        print(f"  bakhri exchange {SCENARIO} --user {USER} {label:<30} median {med:5.2f} s   best {best:5.2f} s")

    os.environ["BAKHRI_CACHE_DIR"] = cache
    from sim.scenario import load_scenario
    from sim.studies import exchange as ex

    s = load_scenario(ROOT / SCENARIO)
    ex.run(s, USER)  # warm: compiled code loaded
    t0 = time.perf_counter()
    study = ex.run(s, USER)
    t_study = time.perf_counter() - t0
    t0 = time.perf_counter()
    _per_case(s, USER)
    t_case = time.perf_counter() - t0
    n = study.info["cases_per_regime"] * len(study.info["regimes"])
    print(f"\nengine work in one process ({n} cases, season + winter each)")
    print(f"  one engine call per regime (the study)   {t_study:6.3f} s")
    print(f"  one engine call per case (baseline)      {t_case:6.3f} s   ({t_case / t_study:.1f}x the study)")


if __name__ == "__main__":
    main()
