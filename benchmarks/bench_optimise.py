"""bakhri optimise: an NSGA-II search of population 100 × 100 generations × 50 inflow members
(5 × 10⁵ member-seasons), next to the same search evaluated member by member.

The search is scenarios/optimise-schedule.toml (the agreed schedule's 18 decadal releases, energy
against downstream deficit, end level >= 342 m) with an [ensemble] of 50 stochastic inflow members
(seed 2025, CV 0.62) and the objectives averaged over them. Each generation is one engine call of
100 candidates × 50 members (`sim.studies.optimise.Evaluator`).

The baseline evaluates the same candidates one member-season at a time (one compiled `simulate`
call each, the loop a script wrapping a simulator would write). It is timed on the first
generations only and extrapolated to the whole search: the output says so.

    python benchmarks/bench_optimise.py                       # the issue's size
    python benchmarks/bench_optimise.py --generations 20      # smaller

The target of issue 10 is <= 20 s for the search on this 2-core machine. Figures are printed,
never asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "optimise-schedule.toml"


def _scenario(members: int, population: int, generations: int):
    from sim.scenario import scenario_from_dict

    data = {"scenario": {"name": "bench-optimise", "extends": str(SCENARIO)},
            "ensemble": {"members": members, "seed": 2025, "inflow_cv": 0.62},
            "optimise": {"population": population, "generations": generations}}
    return scenario_from_dict(data, path=ROOT / "scenarios" / "bench-optimise.toml")


def _one_by_one(scenario, x, n_inflow: int) -> float:
    """Seconds to evaluate candidates `x` member-season by member-season."""
    from sim.engine.driver import simulate
    from sim.engine.model import select_members
    from sim.studies.optimise import Evaluator

    spec = scenario.optimise
    ev = Evaluator(scenario, spec, n_inflow)
    model, regimes = scenario.build(n_members=n_inflow)
    regime = regimes[spec.regime]
    t0 = time.perf_counter()
    for row in x:
        daily = ev.schedule_daily(row[None, :])
        candidate = dataclasses.replace(regime, params={**regime.params, "release_m3s": daily})
        for j in range(n_inflow):
            m, r = select_members(model, candidate, slice(j, j + 1), n_inflow)
            simulate(m, r, keep_daily=False)
    return time.perf_counter() - t0


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--population", type=int, default=100)
    p.add_argument("--generations", type=int, default=100)
    p.add_argument("--members", type=int, default=50)
    p.add_argument("--baseline-generations", type=int, default=2,
                   help="generations timed member by member (then extrapolated)")
    args = p.parse_args(argv)

    from sim.studies import optimise

    warm = _scenario(2, 8, 1)
    optimise.run(warm)  # compile (or load the cached engine) before timing
    scenario = _scenario(args.members, args.population, args.generations)
    t0 = time.perf_counter()
    result = optimise.run(scenario)
    search_s = time.perf_counter() - t0
    n = result.n_evaluated

    rng = np.random.default_rng(1)
    from sim.studies.optimise import Evaluator

    ev = Evaluator(scenario, scenario.optimise, args.members)
    x = ev.repair(ev.lo + rng.random((args.population * args.baseline_generations, ev.lo.size)) * (ev.hi - ev.lo))
    loop_s = _one_by_one(scenario, x, args.members)
    per_member_season = loop_s / (len(x) * args.members)

    print(f"NSGA-II search: population {args.population} × {result.generations} generations × {args.members} inflow "
          f"members = {n:,} member-seasons; {len(result.x)} solutions on the front")
    print(f"{'':40s} {'seconds':>10s} {'member-seasons/s':>18s}")
    print(f"{'one engine call per generation':40s} {search_s:10.1f} {n / search_s:18,.0f}   (whole search, measured)")
    print(f"{'member by member (one call each)':40s} {per_member_season * n:10.1f} {1 / per_member_season:18,.0f}   "
          f"(extrapolated from {len(x) * args.members:,} member-seasons = {args.baseline_generations} generations, "
          f"{loop_s:.1f} s)")
    print(f"speed-up: {per_member_season * n / search_s:,.0f}×; target of issue 10: <= 20 s for the search")


if __name__ == "__main__":
    main()
