"""The ``bakhri`` command: run, sweep, optimise, exchange, sensitivity, validate and show scenario files; list presets.

Exit status: 0 on success; 2 on bad input or a limit of the machine (one line per problem on
stderr, no traceback, nothing written): a bad file, an output folder that cannot be written
(a file, read-only, not bakhri's, disk full), a run that will not fit in memory; 130 on
Ctrl-C (SIGINT) and 143 on SIGTERM (workers stopped, nothing half-written left); 1 on an
internal error (a bug: the message asks for a report; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

from sim.scenario.keys import SAMPLING_METHODS, SWEEP_METHODS

__all__ = ["main"]

EPILOG_RUN = """examples:
  bakhri run scenarios/baseline.toml
  bakhri run scenarios/dry-2008.toml scenarios/wet-2010.toml --out results
  bakhri run scenarios/ensemble-dry.toml --members 100 --no-plots"""

EPILOG_SWEEP = """examples:
  bakhri sweep scenarios/sweep-hedging.toml
  bakhri sweep scenarios/baseline.toml --regime irrigation-first \\
      --set inflow.scale=0.6:1.4:9 --set regimes.irrigation-first.hedging.factor=0.5:1:6
  bakhri sweep scenarios/baseline.toml --set inflow.scale=0.5:1.5:0 --method lhs --samples 1000 --seed 1
  bakhri sweep scenarios/ensemble-dry.toml --set inflow.scale=0.8,1.0 --workers 2
  bakhri sweep scenarios/sweep-hedging.toml --format csv
  bakhri sweep scenarios/sweep-hedging.toml --resume     # after Ctrl-C: continue from the chunks on disk"""

EPILOG_OPTIMISE = """examples:
  bakhri optimise scenarios/optimise-schedule.toml
  bakhri optimise scenarios/optimise-schedule.toml --population 40 --generations 30 --no-plots
  bakhri optimise scenarios/optimise-schedule.toml --resume     # after Ctrl-C: continue from the last generation
  bakhri run results/optimise-schedule-optimise/solutions/1.toml   # a solution beside the hand-made regimes"""

EPILOG_OTHER = """examples:
  bakhri validate scenarios/*.toml
  bakhri show scenarios/protocol-2025.toml
  bakhri presets"""


class InputError(Exception):
    """Bad input found by the command itself (exit status 2)."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: unwind (removing temporary folders, stopping workers)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


RUN_ADVICE = ("Use fewer inflow members (--members N), or run the ensemble as a sweep, which keeps "
              "per-member metrics only: bakhri sweep FILE --set inflow.scale=1 --members N --regime NAME.")

OUT_OF_MEMORY = ("bakhri: out of memory; the input asks for more than this machine can hold. Check the sizes in "
                 "it (members, sweep values, plant units, days); use fewer inflow members (--members N), fewer "
                 "sweep settings or regimes (--regime NAME), or split the work.")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bakhri",
        description="Bakhri Tojik (Kairakkum) reservoir water–energy scenario simulator.",
        epilog="Run 'bakhri COMMAND --help' for a command's options and examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    fmt = argparse.RawDescriptionHelpFormatter

    run = sub.add_parser("run", help="run every regime of scenario files, write results and plots",
                         description="Run every regime of each scenario file on the same inputs, print a "
                         "comparison table, and write DIR/<scenario-name>/ (summary.csv, <regime>/daily.csv, "
                         "plots/*.png, scenario.resolved.toml, run.json).", epilog=EPILOG_RUN, formatter_class=fmt)
    run.add_argument("files", nargs="+", metavar="FILE", help="scenario TOML files")
    run.add_argument("--out", default="results", metavar="DIR", help="output folder (default: results)")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.add_argument("--members", type=int, metavar="N", help="override [ensemble] members")
    run.add_argument("--seed", type=int, help="override [ensemble] seed")

    sw = sub.add_parser("sweep", help="sweep parameters (and inflow ensembles) of a scenario",
                        description="Run a parameter sweep as one ensemble: every setting is a member. "
                        "Parameters come from --set (repeatable) or the file's [sweep] table; with an "
                        "[ensemble], every setting meets the same inflow members. Writes "
                        "DIR/<scenario-name>-sweep/sweep.parquet (or sweep.csv; one row per member and regime, streamed to disk "
                        "chunk by chunk) and plots; an interrupted sweep continues with --resume.",
                        epilog=EPILOG_SWEEP, formatter_class=fmt)
    sw.add_argument("file", metavar="FILE", help="scenario TOML file")
    sw.add_argument("--set", action="append", default=[], metavar="KEY=SPEC",
                    help="KEY=from:to:num (range) or KEY=v1,v2,... (list); with --method lhs|sobol, "
                    "from:to gives the range (num ignored)")
    sw.add_argument("--method", choices=SWEEP_METHODS, help="grid (default) or sampling")
    sw.add_argument("--samples", type=int, metavar="N", help="number of samples (lhs, sobol, random)")
    sw.add_argument("--seed", type=int, help="sampler seed")
    sw.add_argument("--members", type=int, metavar="N", help="inflow members per setting (needs [ensemble])")
    sw.add_argument("--regime", action="append", metavar="NAME", help="regime(s) to run (default: all)")
    sw.add_argument("--workers", type=int, default=1, metavar="N", help="local worker processes (default 1)")
    sw.add_argument("--chunk-size", type=int, metavar="N", help="members per chunk")
    sw.add_argument("--out", default="results", metavar="DIR", help="output folder (default: results)")
    sw.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    sw.add_argument("--format", choices=("parquet", "csv"), default="parquet",
                    help="file of the rows: sweep.parquet (default; pandas, polars, xarray read it) or sweep.csv")
    sw.add_argument("--resume", action="store_true",
                    help="continue an interrupted sweep from the chunks it completed (same inputs only)")

    opt = sub.add_parser("optimise", help="search a regime's parameters for the best trade-off ([optimise])",
                         description="Search the decision variables of the file's [optimise] table (a regime's "
                         "numeric keys, or its whole decadal schedule) for the best objectives under the "
                         "constraints: NSGA-II (several objectives) or a genetic algorithm (one), each "
                         "generation one engine call over candidates × inflow members. Writes "
                         "DIR/<scenario-name>-optimise/ (pareto.csv, solutions/<k>.toml to `bakhri run`, plots, "
                         "run.json); an interrupted search continues with --resume.",
                         epilog=EPILOG_OPTIMISE, formatter_class=fmt)
    opt.add_argument("file", metavar="FILE", help="scenario TOML file with an [optimise] table")
    opt.add_argument("--population", type=int, metavar="N", help="override [optimise] population")
    opt.add_argument("--generations", type=int, metavar="N", help="override [optimise] generations")
    opt.add_argument("--seed", type=int, help="override [optimise] seed")
    opt.add_argument("--members", type=int, metavar="N", help="inflow members per candidate (needs [ensemble])")
    opt.add_argument("--out", default="results", metavar="DIR", help="output folder (default: results)")
    opt.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    opt.add_argument("--resume", action="store_true",
                     help="continue an interrupted search from its last generation (same inputs only)")

    from sim.studies.exchange_args import add_parser as add_exchange

    add_exchange(sub, fmt)
    from sim.studies.sensitivity_cli import add_parser as add_sensitivity

    add_sensitivity(sub, fmt)

    val = sub.add_parser("validate", help="check scenario files, report every problem",
                         description="Check scenario files without running them; every problem is reported "
                         "on one line naming the file, the key, what was found and what was expected.",
                         epilog=EPILOG_OTHER, formatter_class=fmt)
    val.add_argument("files", nargs="+", metavar="FILE")
    show = sub.add_parser("show", help="print the resolved scenario (after presets and extends)",
                          epilog=EPILOG_OTHER, formatter_class=fmt)
    show.add_argument("file", metavar="FILE")
    show.add_argument("--toml", action="store_true", help="print scenario.resolved.toml instead")
    sub.add_parser("presets", help="list the built-in data with sources and confidence",
                   epilog=EPILOG_OTHER, formatter_class=fmt)
    sub.add_parser("schema", help="print the JSON Schema of scenario files (for editors)",
                   description="Print the JSON Schema (draft 4) of the scenario format, generated from the "
                   "checks' key tables and the registered rules. Editors with Taplo / Even Better TOML "
                   "complete and check keys of a file whose first line names it: "
                   "#:schema ./scenario.schema.json",
                   epilog="example:\n  bakhri schema > scenario.schema.json", formatter_class=fmt)
    return p


def _load(files):
    """Load every file first, so that one bad file stops the run before anything is written."""
    from sim.scenario import ScenarioError, load_scenario

    scenarios, errors = [], []
    for f in files:
        try:
            scenarios.append(load_scenario(f))
        except ScenarioError as err:
            errors.append(str(err))
    if errors:
        raise InputError("\n".join(errors))
    collision = _name_collision(scenarios)
    if collision:
        raise InputError(collision)
    return scenarios


def _name_collision(scenarios):
    """The message when two scenarios would write the same output folder, else None."""
    names = [s.name for s in scenarios]
    dup = {n for n in names if names.count(n) > 1}
    return f"two files have the scenario name {sorted(dup)[0]!r}; their outputs would collide" if dup else None


def _version():
    from sim import __version__

    return __version__


def _members_override(scenario, members, seed):
    import dataclasses

    if members is None and seed is None:
        return scenario
    if scenario.ensemble is None:
        return scenario  # deterministic file: --members/--seed apply to the ensemble files only
    if members is not None and members < 1:
        raise InputError(f"--members is {members}; expected a whole number >= 1")
    e = dataclasses.replace(
        scenario.ensemble,
        members=scenario.ensemble.members if members is None else members,
        seed=scenario.ensemble.seed if seed is None else seed,
    )
    return dataclasses.replace(scenario, ensemble=e)


def _warn_overtopping(regime, result, crest_m) -> None:
    """One line on stderr when a regime's water overtops the dam crest (the results stand)."""
    days, volume = result.metrics["overtopping_days"], result.metrics["overtopping_hm3"]
    hit = days > 0
    if not hit.any():
        return
    where = (f"on {days[0]:.0f} days ({volume[0]:,.1f} hm³)" if result.n_members == 1 else
             f"in {hit.sum()} of {result.n_members} members (up to {days.max():.0f} days, {volume.max():,.1f} hm³)")
    print(f"warning: regime {regime} overtops the dam crest ({crest_m:g} m) {where}; levels are held at the "
          "crest, the top of the level–storage table", file=sys.stderr)


def _say_if_compiling() -> None:
    """One line on stderr before the engine compiles (the first run after an install)."""
    from sim import _jit
    from sim.engine import kernels as _kernels

    if _jit.will_compile(_kernels.advance):
        where = _jit.cache_dir()
        print("bakhri: compiling the engine for this machine (once after an install, about 35 s)"
              + (f"; cached in {where}" if where else ""), file=sys.stderr, flush=True)


def _engine(member_days: int) -> str:
    """The engine's path for a run of `member_days` (sim.engine.driver.choose_engine)."""
    from sim.engine.driver import choose_engine

    try:
        return choose_engine(member_days)
    except ValueError as err:
        raise InputError(f"bakhri: {err}") from None


# Tables of a scenario file that `run` does not run, each run by the command of its name.
STUDY_TABLES = {"sweep": "the sweep", "optimise": "the search", "sensitivity": "the sensitivity analysis"}


def _cmd_run(args) -> int:
    from sim.engine import memory
    from sim.engine.driver import SimulationError, simulate
    from sim.report import output
    from sim.report.captions import plot_kwargs

    if args.members is not None and args.members < 1:
        raise InputError(f"--members is {args.members}; expected a whole number >= 1")
    if args.seed is not None and args.seed < 0:
        raise InputError(f"--seed is {args.seed}; expected a whole number >= 0")
    loaded = _load(args.files)
    for s in loaded:  # a study's table is not run by `run`: say which command runs it
        for table, study in STUDY_TABLES.items():
            if table in s.resolved:
                article = "an" if table[0] in "aeiou" else "a"
                print(f"bakhri: note: {s.path} has {article} [{table}] table; run simulates the base case "
                      f"only (to run {study}: bakhri {table} {s.path})", file=sys.stderr)
    if (args.members is not None or args.seed is not None) and not any(s.ensemble for s in loaded):
        raise InputError("--members/--seed need a scenario with an [ensemble] table; none of the files has one")
    scenarios = [_members_override(s, args.members, args.seed) for s in loaded]
    out = Path(args.out)
    for s in scenarios:  # before any work: where the results go, and the memory they need
        output.prepare(out, s.name)
        n = s.ensemble.members if s.ensemble else 1
        need = memory.run_bytes(s.period.n_days, n, len(s.regime_names), len(s.resolved.get("demand") or []))
        memory.require(need, f"{s.path}: {n:,} members × {len(s.regime_names)} regimes × {s.period.n_days} days "
                       "of daily series", RUN_ADVICE)
    engine = _engine(sum((s.ensemble.members if s.ensemble else 1) * s.period.n_days * len(s.regime_names)
                         for s in scenarios))
    if engine == "compiled":
        _say_if_compiling()
    for s in scenarios:
        t0 = time.perf_counter()
        model, regimes = s.build()
        t_build = time.perf_counter() - t0
        results = {}
        for name, reg in regimes.items():
            try:
                results[name] = simulate(model, reg, keep_daily=True, engine=engine)
            except SimulationError as err:  # a non-finite number: the input's fault
                raise InputError(f"{s.path}: regime {name}: {err}") from None
            _warn_overtopping(name, results[name], model.reservoir.hypsometry.max_level_m)
        t_sim = time.perf_counter() - t0 - t_build
        info = {
            "scenario_file": str(s.path),
            "command": "bakhri " + " ".join(args.argv),
            "seed": s.ensemble.seed if s.ensemble else None,
            "timings": {"build_s": t_build, "simulate_s": t_sim},
            "engine": engine,
        }
        folder = output.write_run(out, s.name, results, s.to_toml(), info,
                                  plot_kwargs=plot_kwargs(s, model, regimes), plots=not args.no_plots)
        n = next(iter(results.values())).n_members
        print(f"{s.name}: {s.title}" + (f"  ({n} inflow members)" if n > 1 else ""))
        print(f"period {s.period} ({s.period.n_days} days)")
        print(output.format_table(results))
        print(f"written: {folder}/ (summary.csv, daily.csv per regime, "
              + ("plots/, " if not args.no_plots else "") + "scenario.resolved.toml, run.json)")
        print()
    return 0


def _cmd_sweep(args) -> int:
    from sim.report import output
    from sim.studies import sweep

    (scenario,) = _load([args.file])
    parameters = _set_parameters(scenario, args) if args.set else None
    _check_sweep_args(scenario, args, parameters)
    from sim.studies import stream

    name = scenario.name + "-sweep"
    part = stream.begin(Path(args.out), name, args.resume)
    _say_if_compiling()
    t0 = time.perf_counter()
    with stream.command_errors(scenario.path or scenario.name, part, InputError):
        folder = sweep.run(
            scenario, parameters, method=args.method, samples=args.samples, seed=args.seed,
            inflow_members=args.members, regimes=args.regime, chunk_size=args.chunk_size,
            workers=args.workers, progress=True, out=Path(args.out), name=name, format=args.format,
            resume=args.resume, plots=not args.no_plots,
        )
    # the console table from one column at a time: memory stays small whatever the sweep's size
    info, table = stream.percentiles(folder, output.sweep_table_metrics())
    print(f"{scenario.name}: {_count(info['n_settings'], 'setting')} × {_count(info['n_inflow_members'], 'inflow member')} × "
          f"{_count(len(info['regimes']), 'regime')} = {info['n_rows']:,} member-seasons "
          f"in {time.perf_counter() - t0:.2f} s")
    print(output.format_sweep_table(None, percentiles=table))
    print(f"written: {folder}/ (sweep.{args.format}, " + ("plots/, " if not args.no_plots else "")
          + "scenario.resolved.toml, run.json)")
    return 0


def _cmd_sensitivity(args) -> int:
    from sim.studies import sensitivity_cli

    (scenario,) = _load([args.file])
    try:
        return sensitivity_cli.command(scenario, args, _say_if_compiling)
    except sensitivity_cli.CommandInputError as err:
        raise InputError(str(err)) from None


def _set_parameters(scenario, args) -> dict:
    """The sweep's parameters from ``--set KEY=...`` (ranges for the sampling methods), each key
    checked against the scenario."""
    from sim.studies import sweep

    parameters = {}
    for text in args.set:
        try:
            key, values = sweep.parse_set(text, sampling=args.method in SAMPLING_METHODS)
        except ValueError as err:
            raise InputError(str(err)) from None
        problem = scenario.override_problem(key, values)
        if problem is not None:
            raise InputError(f'{scenario.path}: --set "{text}": {problem}')
        if args.method in SAMPLING_METHODS:
            values = (float(values.min()), float(values.max()))
        parameters[key] = values
    return parameters


def _check_sweep_args(scenario, args, parameters) -> None:
    """Refuse, before any work, a sweep the flags and the scenario cannot make: numbers out of
    range, nothing to sweep, no sample count, members without an ensemble, or too many members."""
    from sim.scenario import sweep_size_problem

    for flag, value, lowest in (("--workers", args.workers, 1), ("--seed", args.seed, 0), ("--members", args.members, 1),
                                ("--samples", args.samples, 1), ("--chunk-size", args.chunk_size, 1)):
        if value is not None and value < lowest:
            raise InputError(f"{flag} is {value}; expected a whole number >= {lowest}")
    method = args.method
    if parameters is None and scenario.sweep is None:
        raise InputError(f"{scenario.path}: nothing to sweep: give --set KEY=from:to:num or a [sweep] table")
    if method in SAMPLING_METHODS and not (args.samples or (scenario.sweep and scenario.sweep.samples)):
        raise InputError(f"--method {method} needs --samples N")
    if args.members is not None and scenario.ensemble is None and args.members > 1:
        raise InputError(f"{scenario.path}: --members needs an [ensemble] table in the scenario")
    too_big = sweep_size_problem(scenario, parameters, method, args.samples, args.members)
    if too_big:
        raise InputError(f"{scenario.path}: {too_big}")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _cmd_optimise(args) -> int:
    from sim.scenario import ScenarioError
    from sim.studies import optimise_cli

    (scenario,) = _load([args.file])
    try:
        optimise_cli.check_args(scenario, args)
        _say_if_compiling()
        return optimise_cli.command(scenario, args)
    except ScenarioError as err:
        raise InputError(str(err)) from None
    except ValueError as err:  # ResumeError too
        raise InputError(f"{scenario.path}: {err}") from None


def _cmd_exchange(args) -> int:
    from sim.report.plots_exchange import PlotAhead

    ahead = None if args.no_plots else PlotAhead()  # first: matplotlib loads in it while all else runs here
    try:
        from sim.engine.driver import SimulationError
        from sim.studies import exchange_cli
        from sim.studies.exchange import ExchangeError

        (scenario,) = _load([args.file])
        scenario = _members_override(scenario, args.members, None)
        try:
            return exchange_cli.run_command(scenario, args, before_run=_say_if_compiling, ahead=ahead)
        except (ExchangeError, SimulationError) as err:
            raise InputError(f"{scenario.path}: {err}") from None
    finally:
        if ahead is not None:
            ahead.close()


def _cmd_validate(args) -> int:
    from sim.scenario import ScenarioError, load_scenario

    bad, loaded = 0, []
    for f in args.files:
        try:
            loaded.append(load_scenario(f))
        except ScenarioError as err:
            bad += 1
            print(err, file=sys.stderr)
        else:
            print(f"{f}: ok")
    collision = _name_collision(loaded)  # `bakhri run` of the same files would refuse them
    if collision:
        print(collision, file=sys.stderr)
    return 2 if bad or collision else 0


def _cmd_show(args) -> int:
    (s,) = _load([args.file])
    from sim.report.show import scenario_text

    print(s.to_toml() if args.toml else scenario_text(s), end="" if args.toml else "\n")
    return 0


def _cmd_presets(args) -> int:
    from sim.inputs.presets import format_presets

    print(format_presets())
    return 0


def _cmd_schema(args) -> int:
    from sim.scenario.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


COMMANDS = {
    "run": _cmd_run, "sweep": _cmd_sweep, "optimise": _cmd_optimise, "exchange": _cmd_exchange,
    "sensitivity": _cmd_sensitivity, "validate": _cmd_validate, "show": _cmd_show, "presets": _cmd_presets,
    "schema": _cmd_schema,
}


def main(argv=None) -> int:
    """Entry point of ``bakhri`` and ``python -m sim``; returns the exit status."""
    previous = _catch_signals()  # first: a Ctrl-C while modules load is an interrupt too
    try:
        status = _main(argv)
    except KeyboardInterrupt as err:
        signum = getattr(err, "signum", signal.SIGINT)
        what = "interrupted (Ctrl-C)" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
        kept = getattr(err, "kept", None)
        if kept is not None:
            print(f"bakhri: {what}; {getattr(err, 'kept_what', 'the completed chunks of the sweep are')} kept in {kept}: "
                  "the same command with --resume continues it", file=sys.stderr)
        else:
            print(f"bakhri: {what}; the unfinished scenario was not written, nothing half-written was left",
                  file=sys.stderr)
        if argv is None:
            _exit_now(128 + signum)
        return 128 + signum
    finally:
        _restore_signals(previous)
    if argv is None:  # the command line, not a call from Python
        _finish(status)
    return status


def _main(argv) -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")
    parser = _parser()
    args = parser.parse_args(argv)
    args.argv = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
    try:
        return COMMANDS[args.command](args)
    except _bad_input() as err:  # (evaluated only when something was raised)
        print(f"bakhri: {err}" if isinstance(err, _bad_input(prefixed=True)) else str(err), file=sys.stderr)
        return 2
    except MemoryError:
        if args.debug:
            raise
        print(OUT_OF_MEMORY, file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader left (`bakhri presets | head -3`): stop quietly, as Unix tools do
        with contextlib.suppress(AttributeError, OSError, ValueError):  # (stdout is no file when captured)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush is quiet too
        return 128 + getattr(signal, "SIGPIPE", 13)
    except OSError as err:  # the machine, not the model: a file or folder that cannot be used
        if args.debug:
            raise
        where = f"{err.filename}: " if getattr(err, "filename", None) else ""
        print(f"bakhri: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - the last line of defence: no traceback for users
        if args.debug:
            raise
        print(f"bakhri: internal error: {type(err).__name__}: {err}\n"
              "This is a bug; please report it with the command and the scenario file "
              "(run with --debug for the traceback).", file=sys.stderr)
        return 1


#: The exceptions that mean bad input or a limit of the machine (exit 2), by module; those that
#: print with a "bakhri: " prefix last.
_BAD_INPUT = (("sim.scenario.errors", "ScenarioError"), ("sim.inputs.presets", "PresetError"),
              ("sim.report.csvfiles", "OutputError"), ("sim.engine.memory", "MemoryLimitError"))


def _bad_input(prefixed: bool = False) -> tuple:
    """The bad-input exception classes of the modules loaded now (a module that is not loaded
    raised nothing): importing the report and the engine only to name their errors cost
    `validate` a sixth of its time."""
    named = _BAD_INPUT[2:] if prefixed else _BAD_INPUT
    classes = tuple(getattr(sys.modules[m], name) for m, name in named if m in sys.modules)
    return classes if prefixed else (InputError, *classes)


def _exit_now(status: int) -> None:
    """End the program at once (after an interrupt, or a finished command: `_finish`). Workers
    are stopped and temporary folders removed by then; after an interrupt the interpreter's
    own exit could still wait on, or print a traceback from, the threads of an interrupted
    process pool (races in concurrent.futures)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def _finish(status: int) -> None:
    """End a completed command, its exit handlers run, without the interpreter's teardown
    (freeing every module's objects: 0.02-0.2 s), unless another thread has work left."""
    import atexit
    import threading

    if threading.active_count() == 1 and hasattr(atexit, "_run_exitfuncs"):  # (CPython's)
        atexit._run_exitfuncs()
        _exit_now(status)


def _on_signal(signum, frame):
    # Once: a second Ctrl-C must not break the clean-up that the first one started.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


def _catch_signals():
    """SIGINT and SIGTERM raise `Interrupted` (main thread only); returns the old handlers."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, _on_signal)
    return previous


def _restore_signals(previous):
    for sig, handler in previous.items():
        signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

