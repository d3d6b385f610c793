"""The work of ``bakhri optimise FILE`` (sim.cli keeps only its parser lines and error mapping)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

__all__ = ["command", "check_args"]


def check_args(scenario, args) -> None:
    """Refuse (ValueError, one line) what the command line asks for that cannot run."""
    if scenario.optimise is None:
        raise ValueError("no [optimise] table; expected regime, variables and objectives, e.g.\n"
                         '  [optimise]\n  regime = "agreed-schedule"\n'
                         '  variables = { "regimes.agreed-schedule.decadal_m3s" = { min = 150, max = 1080 } }\n'
                         '  objectives = { energy_gwh = "max", deficit_hm3 = "min" }')
    for name, value, least in (("--population", args.population, 4), ("--generations", args.generations, 1),
                               ("--members", args.members, 1), ("--seed", args.seed, 0)):
        if value is not None and value < least:
            raise ValueError(f"{name} is {value}; expected a whole number >= {least}")
    if args.members is not None and args.members > 1 and scenario.ensemble is None:
        raise ValueError(f"--members {args.members} needs an [ensemble] table (seed, inflow_cv) in the scenario")


def command(scenario, args) -> int:
    """Search, write ``DIR/<name>-optimise/`` and print the front; returns the exit status."""
    from sim.studies import optimise
    from sim.studies.optimise_output import format_front

    out = Path(args.out)
    part = optimise.partial_folder(out, scenario)
    if part.is_dir() and not args.resume:
        print(f"bakhri: note: discarding the interrupted search in {part} (--resume continues it)", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        result = optimise.run(scenario, population=args.population, generations=args.generations, seed=args.seed,
                              inflow_members=args.members, progress=True, resume=args.resume, out=out,
                              plots=not args.no_plots)
    except KeyboardInterrupt as err:
        if (part / optimise.CHECKPOINT).is_file():
            err.kept, err.kept_what = part, "the search's last completed generation is"
        raise
    spec = result.spec
    n = len(result.x)
    print(f"{scenario.name}: {'NSGA-II' if len(spec.objectives) > 1 else 'genetic algorithm'}, population "
          f"{spec.population} × {result.generations} generations × {result.n_inflow} inflow member"
          f"{'s' if result.n_inflow > 1 else ''} = {result.n_evaluated:,} member-seasons in {time.perf_counter() - t0:.1f} s; "
          f"{n} solution{'s' if n != 1 else ''} on the front")
    print(format_front(result))
    print(f"written: {result.folder}/ (pareto.csv, regimes.csv, solutions/*.toml, "
          + ("plots/, " if not args.no_plots else "") + "scenario.resolved.toml, run.json)")
    return 0
