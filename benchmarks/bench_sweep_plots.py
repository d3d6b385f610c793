"""Sweep plots by sweep size, before and after they came from a bounded summary (issue 8).

For each size, one streamed sweep of scenarios/sweep-hedging.toml over an A × A grid (hedging
factor 0.5–1, inflow scale 0.6–1.2) is run by this checkout with plots; its run.json gives the
seconds its plots took (``plots_s``: drawn from the `SweepSummary` built while streaming).
The baseline tree (``--baseline``, a git ref extracted with ``git archive``) then draws the
same sweep's plots its way, in a fresh process: the plotted columns read back from the same
sweep file, and every member drawn. Both print beside each other; the percentiles that
run.json records (from the summary) are compared with numpy's on the file's column.

    python benchmarks/bench_sweep_plots.py                       # 10⁴ and 10⁶ members, baseline 00b9ca3
    python benchmarks/bench_sweep_plots.py --sizes 10000 --baseline none

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _tree import extract  # benchmarks/_tree.py: a git ref's tree, to time against

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/sweep-hedging.toml"
FACTOR = "regimes.irrigation-first.hedging.factor"
#: main before the bounded summary: plots from the columns read back.
DEFAULT_BASELINE = "00b9ca3"

BEFORE = """
import json, sys, time
from pathlib import Path
from sim.report.plotting import save_sweep_plots
from sim.studies import stream

folder = Path(sys.argv[1])
info = json.loads((folder / "run.json").read_text())
t0 = time.perf_counter()
result = stream._for_plots(folder / info["file"], info["format"], info["columns"], info["regimes"],
                           info["parameters"], info["n_inflow_members"])
t1 = time.perf_counter()
save_sweep_plots(result, sys.argv[2])
print(json.dumps({"read_s": t1 - t0, "draw_s": time.perf_counter() - t1}))
"""


def _env(root: Path) -> dict:
    """The environment of a child using the tree at `root` (run it with cwd=root too: ``python -c``
    puts the working directory first on sys.path)."""
    return dict(os.environ, PYTHONPATH=str(root), MPLBACKEND="Agg")


def _after(a: int, out: Path) -> tuple[Path, dict]:
    code = (f"import numpy as np; from sim.scenario import load_scenario; from sim.studies import sweep; "
            f"s = load_scenario({str(ROOT / SCENARIO)!r}); "
            f"print(sweep.run(s, {{{FACTOR!r}: np.linspace(0.5, 1, {a}), 'inflow.scale': np.linspace(0.6, 1.2, {a})}}, "
            f"out={str(out)!r}, plots=True))")
    folder = Path(subprocess.run([sys.executable, "-c", code], env=_env(ROOT), cwd=ROOT, check=True, capture_output=True,
                                 text=True).stdout.strip())
    return folder, json.loads((folder / "run.json").read_text())


def _exact_percentiles(folder: Path, info: dict) -> dict:
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from sim.studies.stream import _read

    out = {}
    for m in info["percentiles"]["irrigation-first"]:
        v = _read(folder / info["file"], info["format"], info["columns"], {m})[m]
        out[m] = np.percentile(v, (10, 50, 90))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10**4, 10**6], help="members (a square grid)")
    p.add_argument("--baseline", default=DEFAULT_BASELINE, help="git ref of the 'before' tree, or none")
    args = p.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-sweep-plots-"))
    try:
        base = None
        if args.baseline != "none":
            base = extract(args.baseline, scratch / "baseline")
        print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; sweep plots of {SCENARIO} (7 PNGs)")
        print(f"{'members':>10}  {'before: read s':>14} {'draw s':>7} {'total s':>8}  {'after: plots s':>14}  "
              f"{'× faster':>8}  percentiles (summary vs numpy, largest relative difference)")
        for n in args.sizes:
            a = int(round(n ** 0.5))
            t0 = time.perf_counter()
            folder, info = _after(a, scratch / f"after-{n}")
            after = info["timings"]["plots_s"]
            before = {"read_s": float("nan"), "draw_s": float("nan")}
            if base is not None:
                before = json.loads(subprocess.run([sys.executable, "-c", BEFORE, str(folder), str(scratch / "before")],
                                                   env=_env(base), cwd=base, check=True, capture_output=True,
                                                   text=True).stdout)
            total = before["read_s"] + before["draw_s"]
            exact = _exact_percentiles(folder, info)
            worst = max(abs(x - y) / max(abs(y), 1e-300) for m, e in exact.items()
                        for x, y in zip(info["percentiles"]["irrigation-first"][m], e, strict=True) if y)
            print(f"{a * a:>10,}  {before['read_s']:14.2f} {before['draw_s']:7.2f} {total:8.2f}  {after:14.2f}  "
                  f"{total / after:8.1f}  {worst:.1e}   (sweep {time.perf_counter() - t0:.0f} s)", flush=True)
            shutil.rmtree(scratch / f"after-{n}", ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
