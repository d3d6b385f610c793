"""Whole commands as a user runs them: each in a fresh process, next to a baseline version.

Times ``bakhri --help``, ``bakhri validate``, ``bakhri run`` without plots (by the automatic
choice of the engine's path: plain Python for this small run, and with the compiled engine
forced, ``BAKHRI_ENGINE=compiled``) and with plots (also with one plotting process,
``BAKHRI_PLOT_WORKERS=1``) as ``python -m sim ...`` from a
source tree, so that it times that tree's code. Warm figures are the median of `--runs`
runs after one untimed run that fills the compiled-code cache; cold figures are one run with
a fresh, empty cache folder (the first run after an install: the engine compiles). The
byte code of the modules is cached (in the scratch folder), as pip's install compiles it. The
wall time is what the user waits (median and best of the runs: the best is the least
disturbed by other load); the CPU time (user + system, the command's process and every
process it started) is steadier on a loaded machine, but adds up the work of parallel
plot processes, so it does not drop when they share it.

The baseline is another version of the code (`--baseline`, a git ref; default: the last
commit before the work on whole-command speed), extracted with ``git archive`` and timed in
the same run, alternating with this checkout command by command so that both see the same
machine load.

    python benchmarks/bench_commands.py                  # 5 warm runs each, cold runs, baseline
    python benchmarks/bench_commands.py --runs 3 --no-cold --baseline none

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _tree import extract  # benchmarks/_tree.py: a git ref's tree, to time against

try:
    import resource
except ImportError:  # Windows: wall time only
    resource = None

ROOT = Path(__file__).resolve().parents[1]
#: The last commit before the work on whole-command speed (issue 8).
DEFAULT_BASELINE = "92e2952"
SCENARIO = "scenarios/baseline.toml"


def _commands(out):
    """(label, argv after ``python -m sim``, extra environment, cold run too)."""
    run = ["run", SCENARIO, "--out", str(out)]
    return [
        ("bakhri --help", ["--help"], {}, False),
        (f"bakhri validate {SCENARIO}", ["validate", SCENARIO], {}, False),
        (f"bakhri run {SCENARIO} --no-plots", run + ["--no-plots"], {}, True),
        (f"bakhri run {SCENARIO} --no-plots  (BAKHRI_ENGINE=compiled)", run + ["--no-plots"],
         {"BAKHRI_ENGINE": "compiled"}, True),
        (f"bakhri run {SCENARIO}", run, {}, True),
        (f"bakhri run {SCENARIO}  (1 plot process)", run, {"BAKHRI_PLOT_WORKERS": "1"}, False),
    ]


class Tree:
    """A source tree to time: its root (with sim/ and scenarios/) and a compiled-code cache."""

    def __init__(self, name, root, scratch):
        self.name, self.root = name, Path(root)
        self.scratch = Path(scratch)
        self.cache = self.fresh_cache()

    def fresh_cache(self):
        return Path(tempfile.mkdtemp(prefix="cache-", dir=self.scratch))

    def env(self, cache, extra):
        drop = ("NUMBA_CACHE_DIR", "BAKHRI_CACHE_DIR", "BAKHRI_ENGINE", "PYTHONDONTWRITEBYTECODE")
        env = {k: v for k, v in os.environ.items() if k not in drop}
        # Byte code cached as in an installed package (pip compiles it); in the scratch folder.
        env.update(PYTHONPATH=str(self.root), MPLBACKEND="Agg", PYTHONPYCACHEPREFIX=str(self.scratch / "pycache"))
        # Newer trees keep numba's cache under BAKHRI_CACHE_DIR (sim/_jit.py); older ones honour
        # only numba's own NUMBA_CACHE_DIR.
        env["BAKHRI_CACHE_DIR" if (self.root / "sim" / "_jit.py").exists() else "NUMBA_CACHE_DIR"] = str(cache)
        env.update(extra)
        return env

    def time(self, argv, extra, cache=None):
        """Wall and CPU seconds of ``python -m sim argv`` in a fresh process."""
        env = self.env(cache or self.cache, extra)
        cpu0 = _children_cpu()
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "sim", *argv], cwd=self.root, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        cpu = _children_cpu() - cpu0 if resource else float("nan")
        if proc.returncode != 0:
            raise SystemExit(f"{self.name}: python -m sim {' '.join(argv)} failed ({proc.returncode}):\n"
                             f"{proc.stderr[-2000:]}")
        return wall, cpu


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _fmt(x):
    return f"{x:6.2f}" if x == x else "     -"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed warm runs per command (median; default 5)")
    parser.add_argument("--baseline", default=DEFAULT_BASELINE,
                        help=f"git ref of the version to compare with, or 'none' (default {DEFAULT_BASELINE})")
    parser.add_argument("--no-cold", action="store_true", help="skip the first-run-after-install timings")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="bench-commands-"))
    try:
        trees = [Tree("this checkout", ROOT, scratch)]
        if args.baseline.lower() != "none":
            src = extract(args.baseline, Path(tempfile.mkdtemp(prefix="baseline-", dir=scratch)))
            if src is not None:
                trees.append(Tree(f"baseline {args.baseline}", src, scratch))
        commands = _commands(scratch / "out")
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, {sys.platform}, "
              f"Python {sys.version.split()[0]}; "
              f"each command in a fresh process; warm: median of {args.runs} runs")
        rows = []
        for label, cmd, extra, cold in commands:
            for tree in trees:  # fill the cache (and the OS file cache) once, untimed
                tree.time(cmd, extra)
            samples = {tree.name: [] for tree in trees}
            for _ in range(args.runs):
                for tree in trees:  # alternate, so that both versions see the same load
                    samples[tree.name].append(tree.time(cmd, extra))
            rows.append((label, [_median(samples[t.name]) for t in trees]))
            if cold and not args.no_cold:
                cold_runs = [t.time(cmd, extra, cache=t.fresh_cache()) for t in trees]
                rows.append((label + "  [cold: empty cache]", [(w, w, c) for w, c in cold_runs]))
        _print_table(trees, rows)
        # The load moves during a long run; both ends tell how far the figures can be trusted.
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _median(samples):
    """Median wall, best wall, median CPU."""
    walls = [w for w, _ in samples]
    return statistics.median(walls), min(walls), statistics.median(c for _, c in samples)


def _print_table(trees, rows):
    width = max(len(label) for label, _ in rows)
    head = f"{'command':<{width}}"
    sub = " " * width
    for tree in trees:
        head += f"  {tree.name:>23.23}"
        sub += f"  {'wall s':>7} {'best s':>7} {'cpu s':>7}"
    if len(trees) > 1:
        head += f"  {'baseline / this':>23}"
        sub += f"  {'wall':>7} {'best':>7} {'cpu':>7}"
    print(head)
    print(sub)
    for label, values in rows:
        line = f"{label:<{width}}"
        for wall, best, cpu in values:
            line += f"  {_fmt(wall):>7} {_fmt(best):>7} {_fmt(cpu):>7}"
        if len(values) > 1:
            line += "".join(f" {b / a:6.1f}x" if a > 0 else "       -" for a, b in zip(values[0], values[1], strict=True))
        print(line)


if __name__ == "__main__":
    main()
