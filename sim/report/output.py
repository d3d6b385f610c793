"""Writing run outputs: summary and daily CSV files, plots, the resolved scenario and run.json.

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
not write is never overwritten.

Numbers are written with ``repr`` (shortest text that reads back to the same float), so the
water balance closes from daily.csv alone to round-off:
``storage_hm3[t] − storage_hm3[t−1] = (inflow + precipitation − evaporation − seepage −
withdrawal − release) × 0.0864`` (the first day starts from ``storage_start_hm3`` of
summary.csv).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import time
import uuid
from pathlib import Path

import numpy as np

from sim.rules.regimes import BINDING
from sim.engine.results import SUMMARY_COLUMNS, USER_METRICS, SimulationResult

__all__ = [
    "OutputError",
    "DAILY_COLUMNS",
    "PERCENTILE_COLUMNS",
    "summary_rows",
    "write_summary_csv",
    "daily_rows",
    "representative_members",
    "write_daily_csv",
    "write_daily_percentiles_csv",
    "write_run",
    "prepare",
    "clear_stale",
    "format_table",
]

WRITTEN_BY = "bakhri"

#: daily.csv columns (DESIGN.md's, then overtopping_m3s), before the per-user columns.
DAILY_COLUMNS = (
    "date", "inflow_m3s", "release_m3s", "turbine_flow_m3s", "spill_m3s", "evaporation_m3s",
    "precipitation_m3s", "seepage_m3s", "withdrawal_m3s", "storage_hm3", "level_m", "head_m",
    "power_mw", "energy_mwh", "demand_m3s", "supply_m3s", "deficit_m3s", "binding", "overtopping_m3s",
)  # fmt: skip

#: Columns summarised in daily_percentiles.csv (each as _p10, _p50, _p90).
PERCENTILE_COLUMNS = (
    "inflow_m3s", "release_m3s", "turbine_flow_m3s", "spill_m3s", "storage_hm3", "level_m",
    "head_m", "power_mw", "energy_mwh", "demand_m3s", "supply_m3s", "deficit_m3s", "overtopping_m3s",
)  # fmt: skip

PERCENTILES = (10, 50, 90)

#: Source field in SimulationResult.daily and scale factor, for each daily.csv column.
_DAILY_SOURCE = {
    "storage_hm3": ("storage_m3", 1e-6),
    "power_mw": ("power_w", 1e-6),
}

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class OutputError(Exception):
    """Outputs cannot be written where asked (e.g. a folder bakhri did not write)."""


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _as_dict(results) -> dict:
    if isinstance(results, SimulationResult):
        return {results.regime or "result": results}
    if isinstance(results, dict):
        return dict(results)
    out = {}
    for r in results:
        out[r.regime or f"regime-{len(out) + 1}"] = r
    return out


def _num(x) -> str:
    """Shortest text that reads back to the same float (``repr``); integers without '.0'."""
    v = float(x)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _need_daily(result: SimulationResult):
    if result.daily is None:
        raise OutputError(f"regime {result.regime!r}: daily series were not kept (simulate with keep_daily=True)")
    return result.daily


def _check_name(name: str, what: str) -> str:
    name = str(name)
    if not _SAFE_NAME.match(name) or name in (".", ".."):
        raise OutputError(f"{what} {name!r} cannot name a folder; use letters, digits, '-', '_' or '.'")
    return name


def _column(result: SimulationResult, column: str) -> np.ndarray:
    """A daily.csv column as an array (n_steps, n_members), in the file's unit."""
    d = _need_daily(result)
    field, scale = _DAILY_SOURCE.get(column, (column, 1.0))
    a = np.asarray(d[field], dtype=float)
    return a * scale if scale != 1.0 else a


# --------------------------------------------------------------------------------------
# summary.csv
# --------------------------------------------------------------------------------------


def summary_rows(results) -> list[dict]:
    """One row per regime and member: regime, member, `SUMMARY_COLUMNS`, then per user
    ``<user>.<metric>`` for each of `USER_METRICS`.

    Parameters
    ----------
    results : dict of str → SimulationResult, or SimulationResult

    Returns
    -------
    list of dict
        Values are floats in the units of the column names (member is an int).
    """
    rows = []
    for name, r in _as_dict(results).items():
        for i in range(r.n_members):
            row = {"regime": name, "member": i}
            for c in SUMMARY_COLUMNS:
                if c in r.metrics:
                    row[c] = float(r.metrics[c][i])
            for user, m in r.user_metrics.items():
                for c in USER_METRICS:
                    if c in m:
                        row[f"{user}.{c}"] = float(m[c][i])
            rows.append(row)
    return rows


def write_summary_csv(path, results) -> Path:
    """Write summary.csv (see `summary_rows`); columns are the union over regimes, in order."""
    rows = summary_rows(results)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for row in rows:
            out = []
            for c in columns:
                v = row.get(c, "")
                out.append(v if isinstance(v, str) or c == "member" else _num(v))
            w.writerow(out)
    return path


# --------------------------------------------------------------------------------------
# daily.csv
# --------------------------------------------------------------------------------------


def _daily_header(result: SimulationResult) -> list[str]:
    users = list(result.user_daily or {})
    return list(DAILY_COLUMNS) + [f"{u}_{k}" for u in users for k in ("demand_m3s", "supply_m3s")]


def daily_rows(result: SimulationResult, member: int = 0) -> tuple[list[str], list[list[str]]]:
    """Header and text rows of daily.csv for one member (see `write_daily_csv`)."""
    d = _need_daily(result)
    if not 0 <= member < result.n_members:
        raise OutputError(f"member {member} is out of range; the result has {result.n_members}")
    header = _daily_header(result)
    codes = np.asarray(d["binding"])[:, member]
    names = [BINDING[int(c)] for c in codes]
    cols = [names if c == "binding" else [_num(x) for x in _column(result, c)[:, member]] for c in DAILY_COLUMNS[1:]]
    users = result.user_daily or {}
    user_cols = []
    for u in users.values():
        for k in ("demand_m3s", "supply_m3s"):
            a = np.asarray(u[k], dtype=float)
            a = np.broadcast_to(a, (result.n_steps, a.shape[1] if a.ndim > 1 else 1)) if a.ndim > 1 else a[:, None]
            user_cols.append(a[:, member if a.shape[1] > 1 else 0])
    rows = []
    for t, date in enumerate(result.dates):
        row = [str(np.datetime64(date, "D"))]
        row += [c[t] for c in cols]
        row += [_num(c[t]) for c in user_cols]
        rows.append(row)
    return header, rows


def representative_members(result: SimulationResult) -> dict[str, int]:
    """Members nearest the 10th, 50th and 90th percentiles of season inflow volume.

    Returns
    -------
    dict
        ``{"p10": i, "p50": j, "p90": k}`` (member indices; ties go to the lowest index;
        the same member may represent more than one percentile in a small ensemble).
    """
    v = np.asarray(result.metrics["inflow_hm3"], dtype=float)
    out = {}
    for p in PERCENTILES:
        target = np.percentile(v, p)
        out[f"p{p}"] = int(np.argmin(np.abs(v - target)))
    return out


def write_daily_csv(path, result: SimulationResult, member=0) -> Path:
    """Write daily.csv for one member, or several with a leading ``member`` column.

    Columns: exactly `DAILY_COLUMNS` (``binding`` as a name from `sim.regimes.BINDING`),
    then ``<user>_demand_m3s, <user>_supply_m3s`` for each user. Storage and level are end of
    day; numbers are written with ``repr`` so the water balance closes from the file.

    Parameters
    ----------
    path : path-like
    result : SimulationResult
        Daily series kept.
    member : int, sequence of int, or None
        One member (no member column); a sequence of members (leading ``member`` column,
        the rows of each member in turn); or None: 0 for a single-member result and, for an
        ensemble, the distinct `representative_members` (members nearest the 10th, 50th and
        90th percentiles of season inflow volume).
    """
    path = Path(path)
    if member is None:
        member = 0 if result.n_members == 1 else list(dict.fromkeys(representative_members(result).values()))
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        if isinstance(member, (int, np.integer)):
            header, rows = daily_rows(result, int(member))
            w.writerow(header)
            w.writerows(rows)
        else:
            members = [int(m) for m in member]
            w.writerow(["member"] + _daily_header(result))
            for m in members:
                _, rows = daily_rows(result, m)
                w.writerows([[str(m)] + row for row in rows])
    return path


def write_daily_percentiles_csv(path, result: SimulationResult) -> Path:
    """Write daily_percentiles.csv: date, then ``<column>_p10, _p50, _p90`` over members for
    each of `PERCENTILE_COLUMNS` (percentiles of each day taken separately, so a row is not
    one member's day)."""
    path = Path(path)
    blocks = []
    header = ["date"]
    for c in PERCENTILE_COLUMNS:
        a = _column(result, c)
        blocks.append(np.percentile(a, PERCENTILES, axis=1))  # (3, n_steps)
        header += [f"{c}_p{p}" for p in PERCENTILES]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for t, date in enumerate(result.dates):
            row = [str(np.datetime64(date, "D"))]
            for b in blocks:
                row += [_num(b[k, t]) for k in range(len(PERCENTILES))]
            w.writerow(row)
    return path


# --------------------------------------------------------------------------------------
# The run folder
# --------------------------------------------------------------------------------------


def _is_ours(path: Path) -> bool:
    try:
        info = json.loads((path / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and info.get("written_by") == WRITTEN_BY


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
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
    try:
        import matplotlib

        doc["matplotlib"] = matplotlib.__version__
    except ImportError:  # pragma: no cover
        pass
    for k, v in info.items():
        if k not in ("written_by",):
            doc[k] = v
    return _jsonable(doc)


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
    results = _as_dict(results)
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
        _write_json(tmp / "run.json", doc)

    return _write_atomically(Path(out_dir), name, fill)


def _write_json(path, doc):
    with Path(path).open("w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")


#: Temporary and set-aside folders of a write: ``.<name>.tmp-<pid>-<tag>``, ``.<name>.old-<pid>-<tag>``.
_TEMP = re.compile(r"^\.(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\.(?P<kind>tmp|old)-(?P<pid>[0-9]+)-(?P<tag>[0-9a-f]{8})$")
#: Marker file in a temporary folder: who is writing it.
_MARKER = ".bakhri-writing"


def _reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def _output_error(final: Path, err: OSError) -> OutputError:
    """An OSError while writing `final`, as one line naming the folder and the OS reason."""
    where = Path(err.filename).name if getattr(err, "filename", None) else ""
    detail = f" (writing {where})" if where and where != final.name and not where.startswith(".") else ""
    return OutputError(f"cannot write {final}: {_reason(err)}{detail}; nothing was changed there")


def _check_target(final: Path) -> None:
    if final.exists() or final.is_symlink():
        if not (final.is_dir() and not final.is_symlink() and _is_ours(final)):
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
        with _locked(out_dir):  # not while another writer has moved it aside
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
    elif not _is_ours(folder):  # complete (marker removed) or an earlier result set aside
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
    with _locked(out_dir):
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


class _locked:
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
    with _locked(out_dir):
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


def _write_atomically(out_dir: Path, name: str, fill) -> Path:
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
        raise _output_error(final, err) from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


SWEEP_TABLE_METRICS = ("energy_gwh", "deficit_hm3", "reliability_volume", "level_end_m")


def format_sweep_table(sweep_result, metrics=SWEEP_TABLE_METRICS, percentiles=None) -> str:
    """Per regime, percentiles (10/50/90 %) of key metrics over all members of a sweep; or
    from `percentiles` (``{regime: {metric: (p10, p50, p90)}}``, e.g. `sim.stream.percentiles`)."""
    headers = {"energy_gwh": "Energy [GWh]", "deficit_hm3": "Deficit [hm³]",
               "reliability_volume": "Vol. reliability [-]", "level_end_m": "End level [m]"}
    if percentiles is None:
        percentiles = {regime: {m: np.percentile(r.metrics[m], (10, 50, 90)) for m in metrics}
                       for regime, r in sweep_result.results.items()}
    rows = [["Regime", "Percentile"] + [headers.get(m, m) for m in metrics]]
    for regime, p in percentiles.items():
        for i, q in enumerate((10, 50, 90)):
            rows.append([regime if q == 10 else "", f"p{q}"] + [f"{p[m][i]:,.3f}" if "reliab" in m
                         else f"{p[m][i]:,.1f}" for m in metrics])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# The console table
# --------------------------------------------------------------------------------------

#: (header, metric, format) of the console table.
TABLE_COLUMNS = (
    ("Energy [GWh]", "energy_gwh", "{:,.1f}"),
    ("Release [hm³]", "release_hm3", "{:,.0f}"),
    ("Spill [hm³]", "spill_hm3", "{:,.1f}"),
    ("Deficit [hm³]", "deficit_hm3", "{:,.1f}"),
    ("Vol. reliability [-]", "reliability_volume", "{:.3f}"),
    ("Time reliability [-]", "reliability_time", "{:.3f}"),
    ("Min level [m]", "level_min_m", "{:.2f}"),
    ("End level [m]", "level_end_m", "{:.2f}"),
    ("End storage [hm³]", "storage_end_hm3", "{:,.0f}"),
    ("Balance error [hm³]", "balance_error_hm3", "{:.1e}"),
)


def format_table(results) -> str:
    """The comparison table the CLI prints: one row per regime, units in the headers.

    Ensembles show the median over members with the 10–90 % range in parentheses, and a
    note line says so. Plain text, columns aligned (regime left, numbers right).
    """
    results = _as_dict(results)
    ens = any(r.n_members > 1 for r in results.values())
    header = ["Regime"] + [h for h, _, _ in TABLE_COLUMNS]
    rows = []
    for name, r in results.items():
        row, spread = [name], [""]
        for _, metric, fmt in TABLE_COLUMNS:
            v = np.asarray(r.metrics.get(metric, [np.nan]), dtype=float)
            if metric == "balance_error_hm3":
                row.append(fmt.format(float(np.max(v))))  # worst member
                spread.append("")
            elif v.size == 1:
                row.append(fmt.format(float(v[0])))
                spread.append("")
            else:
                p10, p50, p90 = np.percentile(v, PERCENTILES)
                row.append(fmt.format(p50))
                spread.append(f"({fmt.format(p10)}–{fmt.format(p90)})")
        rows.append(row)
        if ens:
            spread[0] = "  10–90 %"
            rows.append(spread)
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]

    def line(cells):
        parts = [cells[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join(parts).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in rows]
    if ens:
        n = ", ".join(f"{name}: {r.n_members}" for name, r in results.items())
        out.append(f"Ensembles: median, and 10–90 % range below it, over members ({n}); balance error: worst member.")
    return "\n".join(out)
