"""The work of ``bakhri sensitivity`` (sim.cli keeps only its parser lines and a short call)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sim.physics.ranges import MAX_MEMBERS

__all__ = ["EPILOG", "add_parser", "command", "CommandInputError", "idle_cores", "others_running"]

EPILOG = """examples:
  bakhri sensitivity scenarios/baseline.toml --list-inputs
  bakhri sensitivity scenarios/baseline.toml
  bakhri sensitivity scenarios/baseline.toml --samples 4096 --metrics energy_gwh,deficit_hm3 --workers 2
  bakhri sensitivity scenarios/ensemble-dry.toml --members 20 --samples 256"""


def idle_cores() -> int:
    """Cores the machine's load leaves idle (at least 1): the default number of processes.
    MEASURED (benchmarks/bench_sensitivity.py, N = 4096, 2 cores, 2026-12-03): before the
    chunk-major streaming, 2 workers took 34.5 s where 1 took 21.8 s at load ~1; after it, at
    load ~4, 40 s against 35 s (the workers and this process share what is left), and at load
    1.2 (much of it the previous run's), 11.7 s against 13.3 s. The 1-minute load lags (just
    after other work has ended it still counts that work), so the load is the smaller of it and
    the processes running at this instant (`others_running`), where the system tells."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):  # not on this system: one process, the safe choice
        return 1
    now = others_running()
    if now is not None:
        load = min(load, now)
    return max(1, min(cores, int(cores - load + 0.5)))


def others_running() -> int | None:
    """Processes other than this one running or ready to run at this instant (Linux:
    /proc/loadavg's fourth field, ``running/total``); None where that cannot be read."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            running = int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0, running - 1)


class CommandInputError(ValueError):
    """Bad input to the command (the message is the whole line: file, option, found, expected)."""


def add_parser(sub, fmt) -> None:
    """The ``sensitivity`` subcommand's parser."""
    p = sub.add_parser(
        "sensitivity", help="which uncertain inputs matter: Sobol' indices and ranking stability",
        description="Sobol' first-order and total indices (SALib, Saltelli design, bootstrap confidence) of "
        "metrics to the scenario's uncertain inputs -- by default every GUESS and DERIVED figure of the presets "
        "it uses, with ranges from DATA.md; a [sensitivity] table changes them -- and how often the regimes' "
        "ranking changes across the samples. Every sample is a member of one engine run per regime. Writes "
        "DIR/<scenario-name>-sensitivity/ (sensitivity.csv, ranking.csv, inputs.csv, plots/total-indices.png, "
        "scenario.resolved.toml, run.json).", epilog=EPILOG, formatter_class=fmt)
    p.add_argument("file", metavar="FILE", help="scenario TOML file")
    p.add_argument("--samples", type=int, metavar="N",
                   help="base samples, a power of two (N x (inputs + 2) members per regime; default 1024)")
    p.add_argument("--metrics", metavar="M,M", help="metrics, comma-separated (default energy_gwh,deficit_hm3,level_end_m)")
    p.add_argument("--seed", type=int, help="seed of the sampler and the bootstrap (default 0)")
    p.add_argument("--members", type=int, metavar="N", help="inflow members per sample (needs [ensemble])")
    p.add_argument("--regime", action="append", metavar="NAME", help="regime(s) to run (default: all)")
    p.add_argument("--workers", type=int, metavar="K",
                   help="local worker processes (default: the cores the machine's load leaves idle, at least 1; "
                   "more workers than idle cores only slow the run)")
    p.add_argument("--chunk-size", type=int, metavar="N", help="members per chunk")
    p.add_argument("--out", default="results", metavar="DIR", help="output folder (default: results)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plot")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from the samples' chunks on disk (same inputs only)")
    p.add_argument("--list-inputs", action="store_true", help="print the uncertain inputs and their ranges, run nothing")


def _options(scenario, args) -> dict:
    """The command line's overrides of ``[sensitivity]``, checked (CommandInputError otherwise)."""
    from sim.engine import metrics as registry
    from sim.scenario.errors import unknown_name

    where = scenario.path or scenario.name
    out = {}
    if args.samples is not None:
        n = args.samples
        if not (2 <= n <= MAX_MEMBERS and n & (n - 1) == 0):
            raise CommandInputError(f"{where}: --samples {n}: expected a power of two from 2 to {MAX_MEMBERS:,} "
                                    "(Sobol' points balance only then), e.g. 1024")
        out["samples"] = n
    if args.metrics is not None:
        names = [m.strip() for m in args.metrics.split(",") if m.strip()]
        for m in names or [""]:
            if m not in registry.names():
                raise CommandInputError(f"{where}: --metrics: {unknown_name('a metric', m, registry.names())}")
        out["metrics"] = tuple(dict.fromkeys(names))
    if args.seed is not None and args.seed < 0:
        raise CommandInputError(f"{where}: --seed {args.seed}: expected a whole number >= 0")
    if args.members is not None:
        if scenario.ensemble is None:
            raise CommandInputError(f"{where}: --members {args.members}: the scenario has no [ensemble]; "
                                    "expected --members only with a stochastic inflow")
        if args.members < 1:
            raise CommandInputError(f"{where}: --members {args.members}: expected a whole number >= 1")
    for r in args.regime or []:
        if r not in scenario.regime_names:
            raise CommandInputError(f"{where}: --regime: {unknown_name('a regime of the scenario', r, scenario.regime_names)}")
    if args.workers is not None and args.workers < 1:
        raise CommandInputError(f"{where}: --workers {args.workers}: expected a whole number >= 1")
    return out


def command(scenario, args, say_if_compiling=lambda: None) -> int:
    """Run ``bakhri sensitivity`` on a loaded scenario: print, write, return the exit status."""
    from sim.studies import sensitivity, sensitivity_output

    opts = _options(scenario, args)
    if args.list_inputs:
        print(sensitivity_output.inputs_text(scenario, sensitivity.ranges(scenario)))
        return 0
    from sim.report import output
    from sim.studies import stream

    out = Path(args.out)
    output.prepare(out, sensitivity_output.folder_name(scenario))
    part = stream.begin(out, sensitivity.samples_name(scenario), args.resume, "run")
    say_if_compiling()
    t0 = time.perf_counter()
    with _PlotAhead(scenario, out, not args.no_plots) as ahead:
        with stream.command_errors(scenario.path or scenario.name, part, CommandInputError):
            result = sensitivity.run(scenario, samples=opts.get("samples"), metrics=opts.get("metrics"),
                                     seed=args.seed, regimes=args.regime, inflow_members=args.members,
                                     workers=args.workers if args.workers is not None else idle_cores(),
                                     chunk_size=args.chunk_size, progress=True, out=out, resume=args.resume,
                                     on_indices=ahead.send)
        folder = sensitivity_output.write(result, scenario, Path(args.out), plots=not args.no_plots, drawn=ahead.wait())
    d = len(result.inputs)
    print(f"{scenario.name}: Sobol' analysis of {d} inputs, N = {result.samples:,}: {result.n_settings:,} samples"
          + (f" × {result.n_inflow_members:,} inflow members" if result.n_inflow_members > 1 else "")
          + f" × {len(result.outputs)} regimes in {time.perf_counter() - t0:.2f} s")
    print("inputs that matter most (total index ST ± 95 % conf., share of the metric's variance):")
    print("\n".join(sensitivity.summary_lines(result)))
    print(sensitivity_output.ranking_text(result.ranking))
    print(f"written: {folder}/ (sensitivity.csv, ranking.csv, inputs.csv, " + ("plots/, " if not args.no_plots else "")
          + f"scenario.resolved.toml, run.json); every sample: {out / sensitivity.samples_name(scenario)}/sweep.parquet")
    return 0


def _draw(*args, **kwargs):
    """`save_total_indices`, imported in the child (the plot module imports matplotlib)."""
    from sim.report.plots_sensitivity import save_total_indices

    save_total_indices(*args, **kwargs)


class _PlotAhead:
    """The total-indices plot drawn in a forked child (`sim.report.render.PlotAhead`): it imports
    matplotlib while the engine runs here and draws as soon as the indices are known, while
    the nominal runs, the ranking and the tables are made here. It draws into a hidden file in
    the output folder that `sensitivity_output.write` moves into the result; `wait` gives that
    file, or None (draw here). The file and the child are gone when the block ends."""

    def __init__(self, scenario, out: Path, plots: bool):
        self.scenario, self.out, self.plots = scenario, out, plots
        self.ahead = self.path = None

    def __enter__(self):
        if self.plots:
            from sim.report.render import PlotAhead

            self.out.mkdir(parents=True, exist_ok=True)
            self.path = self.out / f".{self.scenario.name}-total-indices-{os.getpid()}.png"
            self.ahead = PlotAhead(_draw)
        return self

    def send(self, rows, inputs, samples: int) -> None:
        if self.ahead is not None:
            from sim.studies import sensitivity_output

            self.ahead.send(rows, self.path, **sensitivity_output.plot_arguments(self.scenario, inputs, samples))

    def wait(self):
        return self.path if self.ahead is not None and self.ahead.wait() else None

    def __exit__(self, *exc):
        if self.ahead is not None:
            self.ahead.close()
            self.path.unlink(missing_ok=True)
        return False
