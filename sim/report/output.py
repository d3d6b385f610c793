"""Writing a run's output folder, atomically: CSV files, plots, the resolved scenario and run.json.

The layout is DESIGN.md "Outputs of bakhri run FILE --out DIR"::

    DIR/<scenario-name>/
      summary.csv               one row per regime and member
      <regime>/daily.csv        one row per day (ensembles: representative members)
      <regime>/daily_percentiles.csv   ensembles only: 10/50/90 % over members, per day
      plots/*.png               see `sim.plotting.save_all`
      scenario.resolved.toml    the scenario after presets and inheritance
      run.json                  version, seed, input hash, timings, ...

`write_run` is atomic: everything is written to a hidden sibling folder and swapped into
place at the end, so a failed run leaves an earlier result untouched; a folder that bakhri did
not write is never overwritten. The CSV files are written by `sim.report.csvfiles`, the
printed tables made by `sim.report.tables`; both are importable from here too.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import sys
import time
import uuid
from pathlib import Path

import numpy as np

# Re-exported: notebooks and scripts import the CSV writers and the tables from here.
from sim.report.csvfiles import (
    DAILY_COLUMNS,
    PERCENTILE_COLUMNS,
    OutputError,
    daily_rows,
    representative_members,
    results_by_name,
    summary_rows,
    write_daily_csv,
    write_daily_percentiles_csv,
    write_summary_csv,
)
from sim.report.tables import format_sweep_table, format_table, sweep_table_metrics

__all__ = [
    "OutputError", "DAILY_COLUMNS", "PERCENTILE_COLUMNS", "summary_rows", "write_summary_csv", "daily_rows",
    "representative_members", "write_daily_csv", "write_daily_percentiles_csv", "format_table", "format_sweep_table",
    "sweep_table_metrics", "write_run", "prepare", "clear_stale", "is_ours", "jsonable", "write_json",
    "write_atomically", "output_error", "locked",
]

WRITTEN_BY = "bakhri"

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _check_name(name: str, what: str) -> str:
    name = str(name)
    if not _SAFE_NAME.match(name) or name in (".", ".."):
        raise OutputError(f"{what} {name!r} cannot name a folder; use letters, digits, '-', '_' or '.'")
    return name


# --------------------------------------------------------------------------------------
# The run folder
# --------------------------------------------------------------------------------------


def is_ours(path: Path) -> bool:
    """Whether the folder `path` holds a result bakhri wrote (its run.json says so)."""
    try:
        info = json.loads((path / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and info.get("written_by") == WRITTEN_BY


def jsonable(x):
    """`x` with numpy values, dates and paths made JSON types (dict keys as strings)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (datetime.date, datetime.datetime)):
        return x.isoformat()
    if isinstance(x, Path):
        return str(x)
    return x


def _run_json(scenario_name, results, resolved_toml, run_info, write_s):
    from sim import __version__

    info = dict(run_info or {})
    timings = dict(info.pop("timings", {}) or {})
    for name, r in results.items():
        for k, v in (r.timings or {}).items():
            timings.setdefault(f"{name}.{k}", v)
    timings["write_s"] = write_s
    doc = {
        "written_by": WRITTEN_BY,
        "scenario": scenario_name,
        "version": __version__,
        "seed": info.pop("seed", None),
        "input_sha256": hashlib.sha256(resolved_toml.encode("utf-8")).hexdigest(),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "timings": timings,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "regimes": list(results),
        "n_members": {name: r.n_members for name, r in results.items()},
        "period": [str(next(iter(results.values())).dates[0]), str(next(iter(results.values())).dates[-1])]
        if results
        else None,
    }
    # Without plots matplotlib is not loaded: its version from the installed metadata (importing it
    # costs 0.3 s, as long as the rest of a small run).
    loaded = sys.modules.get("matplotlib")
    try:
        doc["matplotlib"] = loaded.__version__ if loaded else importlib.metadata.version("matplotlib")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        pass
    for k, v in info.items():
        if k not in ("written_by",):
            doc[k] = v
    return jsonable(doc)


def write_run(out_dir, scenario_name, results, resolved_toml: str, run_info: dict | None = None,
              plot_kwargs: dict | None = None, plots: bool = True, plot_fn=None) -> Path:
    """Write a run's outputs to ``out_dir/<scenario_name>/``, atomically.

    Everything goes first into a hidden sibling folder (``out_dir/.<scenario_name>.tmp-…``);
    only when all files are written is it moved into place (an earlier result is moved
    aside, the new folder renamed with `os.replace`, then the earlier one removed). On any
    error the temporary folder is removed and an earlier result is left as it was.

    Parameters
    ----------
    out_dir : path-like
        The ``--out`` folder (created if missing).
    scenario_name : str
        Names the run folder.
    results : dict of str → SimulationResult
        One per regime (daily series kept).
    resolved_toml : str
        The scenario after presets and inheritance; written to scenario.resolved.toml, and
        its SHA-256 is the run's input hash.
    run_info : dict, optional
        Merged into run.json; ``seed`` and ``timings`` (seconds) are expected, any other
        JSON-able keys (e.g. ``"scenario_file"``, ``"command"``) are kept.
    plot_kwargs : dict, optional
        Passed to the plot function (`sim.plotting.save_all`: ``limits``, ``title``,
        ``footnote``, ``reservoir``, ``guide_curves``, ``question``, ``dpi``).
    plots : bool
        Write plots/*.png.
    plot_fn : callable, optional
        ``plot_fn(results, run_folder, **plot_kwargs)`` writing ``run_folder/plots``;
        default `sim.plotting.save_all`.

    Returns
    -------
    Path
        ``out_dir/<scenario_name>``.

    Raises
    ------
    OutputError
        If ``out_dir/<scenario_name>`` exists and was not written by bakhri (no run.json
        with ``"written_by": "bakhri"``): nothing is touched.
    """
    t0 = time.perf_counter()
    results = results_by_name(results)
    name = _check_name(scenario_name, "scenario name")
    for regime in results:
        _check_name(regime, "regime name")
        if regime == "plots":
            raise OutputError('regime name "plots" clashes with the plots folder; rename the regime')
    def fill(tmp):
        write_summary_csv(tmp / "summary.csv", results)
        for regime, r in results.items():
            folder = tmp / regime
            folder.mkdir()
            write_daily_csv(folder / "daily.csv", r, member=None)
            if r.n_members > 1:
                write_daily_percentiles_csv(folder / "daily_percentiles.csv", r)
        (tmp / "scenario.resolved.toml").write_text(resolved_toml, encoding="utf-8")
        if plots:
            fn = plot_fn
            if fn is None:
                from sim.report.plotting import save_all as fn
            fn(results, tmp, **(plot_kwargs or {}))
        doc = _run_json(name, results, resolved_toml, run_info, time.perf_counter() - t0)
        write_json(tmp / "run.json", doc)

    return write_atomically(Path(out_dir), name, fill)


def write_json(path, doc):
    """Write `doc` to `path` as indented UTF-8 JSON ending in a newline."""
    with Path(path).open("w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")


#: Temporary and set-aside folders of a write: ``.<name>.tmp-<pid>-<tag>``, ``.<name>.old-<pid>-<tag>``.
_TEMP = re.compile(r"^\.(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\.(?P<kind>tmp|old)-(?P<pid>[0-9]+)-(?P<tag>[0-9a-f]{8})$")
#: Marker file in a temporary folder: who is writing it.
_MARKER = ".bakhri-writing"


def _reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def output_error(final: Path, err: OSError) -> OutputError:
    """An OSError while writing `final`, as one line naming the folder and the OS reason."""
    where = Path(err.filename).name if getattr(err, "filename", None) else ""
    detail = f" (writing {where})" if where and where != final.name and not where.startswith(".") else ""
    return OutputError(f"cannot write {final}: {_reason(err)}{detail}; nothing was changed there")


def _check_target(final: Path) -> None:
    if final.exists() or final.is_symlink():
        if not (final.is_dir() and not final.is_symlink() and is_ours(final)):
            raise OutputError(f"{final} exists and was not written by bakhri; choose another --out")


def prepare(out_dir, name: str) -> Path:
    """Check, before any work, that a run can be written to ``out_dir/<name>``.

    Refuses (`OutputError`, one line naming the path and the reason) when ``out_dir`` or one
    of its parents is a file, when ``out_dir/<name>`` exists and was not written by bakhri,
    or when the folder cannot be written (read-only, no permission); clears stale temporary
    folders of bakhri's own there (see `clear_stale`). Creates nothing that is not already
    there: a missing ``out_dir`` is checked through its nearest existing parent.

    Returns
    -------
    Path
        ``out_dir/<name>``.
    """
    out_dir = Path(out_dir)
    name = _check_name(name, "scenario name")
    final = out_dir / name
    probe = out_dir
    while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        what = "--out" if probe == out_dir else f"--out {out_dir}: its parent"
        raise OutputError(f"{what} {probe} is a file, not a folder; choose another --out")
    if probe == out_dir:
        with locked(out_dir):  # not while another writer has moved it aside
            _check_target(final)
        clear_stale(out_dir)
        try:  # a real write proves it (access() may say yes to root on a read-only mount)
            tmp = _make_temp(out_dir, name)
        except OSError as err:
            raise OutputError(f"cannot write to {out_dir}: {_reason(err)}; choose another --out") from None
        shutil.rmtree(tmp, ignore_errors=True)
    elif not os.access(probe, os.W_OK | os.X_OK):
        reason = "read-only file system" if _read_only(probe) else "permission denied"
        raise OutputError(f"cannot create {out_dir}: {probe} is not writable ({reason}); choose another --out")
    return final


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _make_temp(out_dir: Path, name: str, kind: str = "tmp") -> Path:
    """A new hidden folder ``.<name>.<kind>-<pid>-<tag>`` with a marker naming its writer."""
    tmp = out_dir / f".{name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        (tmp / _MARKER).write_text(json.dumps({"written_by": WRITTEN_BY, "pid": os.getpid(),
                                               "host": platform.node()}) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _stale(folder: Path) -> re.Match | None:
    """The name match of a temporary folder of bakhri's own whose writer is gone, else None.

    Ours: the name pattern, and a marker saying bakhri, this host and the pid of the name
    (while being filled) or a run.json saying bakhri (complete, or an earlier result set
    aside); and no process with that pid exists.
    """
    m = _TEMP.match(folder.name)
    if m is None or folder.is_symlink() or not folder.is_dir():
        return None
    pid = int(m["pid"])
    try:
        info = json.loads((folder / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = None
    if isinstance(info, dict):
        if not (info.get("written_by") == WRITTEN_BY and info.get("pid") == pid and info.get("host") == platform.node()):
            return None
    elif not is_ours(folder):  # complete (marker removed) or an earlier result set aside
        return None
    return None if _alive(pid) else m


def clear_stale(out_dir) -> list[Path]:
    """Remove temporary folders that a killed bakhri left in `out_dir`; return what was done.

    Only folders proven ours (see `_stale`) whose writer process is gone are touched. A
    set-aside earlier result (``.<name>.old-…``) whose writer died mid-swap is put back as
    ``<name>`` when that is missing, else removed.
    """
    out_dir = Path(out_dir)
    done = []
    try:
        entries = [p for p in out_dir.iterdir() if p.name.startswith(".")]
    except OSError:
        return done
    if not any(_TEMP.match(p.name) for p in entries):
        return done
    with locked(out_dir):
        for p in entries:
            m = _stale(p)
            if m is None:
                continue
            final = out_dir / m["name"]
            if m["kind"] == "old" and not (final.exists() or final.is_symlink()):
                try:
                    os.rename(p, final)
                    done.append(final)
                    continue
                except OSError:
                    pass
            shutil.rmtree(p, ignore_errors=True)
            done.append(p)
    return done


class locked:
    """An exclusive lock on a folder (``flock`` on the folder itself: no lock file is left);
    a no-op where ``fcntl`` is missing."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.fd = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return self
        self.fd = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(self.fd)
            self.fd = None
            raise
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)  # releases the lock
            self.fd = None
        return False


def _swap(out_dir: Path, final: Path, tmp: Path) -> Path | None:
    """Move `tmp` into place as `final` under the folder lock; return the set-aside earlier
    result to remove (or None). Other bakhri writers wait for the lock, so the folder is
    always exactly one writer's complete output."""
    with locked(out_dir):
        old = None
        if final.exists() or final.is_symlink():
            _check_target(final)  # appeared or changed while we were writing
            m = _TEMP.match(tmp.name)
            old = out_dir / f".{m['name']}.old-{m['pid']}-{m['tag']}"
            os.rename(final, old)
        try:
            os.rename(tmp, final)
        except BaseException:
            if old is not None:
                os.rename(old, final)
            raise
    return old


def write_atomically(out_dir: Path, name: str, fill) -> Path:
    """Fill a hidden sibling folder with `fill(tmp)`, then swap it into ``out_dir/name``.

    An earlier result is moved aside, the new folder renamed into place, then the earlier one
    removed, all under an exclusive lock on `out_dir` (concurrent writers take turns: the
    last one wins whole). On any error or interrupt the temporary folder is removed and an
    earlier result is left as it was; an OSError (disk full, read-only, ...) becomes an
    `OutputError` naming the folder and the reason. A folder that bakhri did not write is
    never touched. Temporary folders of killed writers are cleared (`clear_stale`).
    """
    final = prepare(out_dir, name)
    tmp = None
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = _make_temp(out_dir, name)
        fill(tmp)
        (tmp / _MARKER).unlink()
        old = _swap(out_dir, final, tmp)
        tmp = None
    except OSError as err:
        raise output_error(final, err) from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final
