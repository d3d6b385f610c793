"""Sweeps streamed to disk chunk by chunk, resumable after an interrupt.

``sweep.run(scenario, ..., out=DIR)`` (and ``bakhri sweep``) write each chunk's rows to disk as
soon as the chunk is computed, so memory does not grow with the sweep's size. The finished
folder ``DIR/<name>/`` holds::

    sweep.parquet  (or sweep.csv)  one row per member and regime, regime-major, as SweepResult.table
    scenario.resolved.toml
    run.json                       kind "sweep", format, columns, chunks, sweep_sha256, timings
    plots/*.png                    with plots

Parquet (pyarrow) is the default: columnar and compressed, and pandas, polars and xarray read it
in one line (``pandas.read_parquet(DIR/NAME/"sweep.parquet")``); CSV is formatted column by
column in Arrow's C++ (shortest text that reads back to the same float), never value by value
in Python.

**Work in progress** lives in the hidden folder ``DIR/.<name>.partial/``: ``chunks/`` (one
file per completed chunk) and ``progress.json`` (the sweep's input hash and the chunks
completed). When every chunk is there, the result is assembled into a hidden temporary folder
and swapped into place atomically (`sim.report.output`), and the partial folder is removed. A sweep
stopped by Ctrl-C, SIGTERM or a crash keeps its partial folder -- the one thing bakhri
deliberately leaves on disk -- and ``--resume`` (``resume=True``) continues from its chunks to
a result identical row for row to an uninterrupted run. A resume whose scenario, parameters,
settings, seed, inflow members, regimes, chunk size or format differ is refused
(`ResumeError`). A run without ``--resume`` starts afresh and discards an earlier partial
folder.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import platform
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

import numpy as np

from sim.engine.driver import DEFAULT_CHUNK_SIZE, run_chunk, select_members
from sim.report import output
from sim.report.aggregates import TRADEOFF, SweepSummary
from sim.report.render import PlotAhead
from sim.report.tables import sweep_table_metrics
from sim.studies.chunkfiles import PARQUET as PARQUET
from sim.studies.chunkfiles import Sink, Writer, arrow_table, chunk_suffix, read_chunk, replace, write_chunk
from sim.studies.chunkfiles import write_csv as write_csv
from sim.studies.workers import Progress, worker_pool

__all__ = ["ResumeError", "FORMATS", "begin", "command_errors", "partial_folder", "input_hash", "load", "percentiles", "write_csv", "arrow_table"]

FORMATS = ("parquet", "csv")
PROGRESS = "progress.json"
#: Seconds between two writes of progress.json while chunks complete (it is written at an
#: interrupt too, and a resume also takes the complete chunk files it does not list yet).
PROGRESS_EVERY_S = 1.0
#: Percentiles of the printed sweep table, recorded in run.json.
PERCENTILES = (10, 50, 90)


class ResumeError(Exception):
    """A sweep cannot be resumed (its inputs differ, or another sweep is writing it)."""


def begin(out_dir, name: str, resume: bool, what: str = "sweep") -> Path:
    """A streamed command's start: check the output folder ``out_dir/name`` can be written
    (`sim.report.output.prepare`), say when an interrupted `what` is discarded (no `resume`),
    and return its partial folder (for `command_errors`)."""
    import sys

    output.prepare(Path(out_dir), name)
    part = partial_folder(out_dir, name)
    if part.is_dir() and not resume:
        print(f"bakhri: note: discarding the interrupted {what} in {part} (--resume continues it)", file=sys.stderr)
    return part


@contextlib.contextmanager
def command_errors(where: str, part: Path, error):
    """The errors of a streamed command (``bakhri sweep``, ``bakhri sensitivity``) as it reports
    them: a bad scenario, a refused resume or a bad value become `error` (one line, exit 2; the
    line starts with `where`, the file, or with "bakhri:" for a resume); Ctrl-C keeps the
    partial folder `part` when chunks were completed (``err.kept``, which the command names)."""
    from sim.scenario import ScenarioError

    try:
        yield
    except ScenarioError as err:
        raise error(str(err)) from None
    except ResumeError as err:
        raise error(f"bakhri: {err}") from None
    except ValueError as err:
        raise error(f"{where}: {err}") from None
    except KeyboardInterrupt as err:
        if part.is_dir():
            err.kept = part
        raise


def partial_folder(out_dir, name: str) -> Path:
    """Where an unfinished streamed sweep keeps its completed chunks: ``out_dir/.<name>.partial``."""
    return Path(out_dir) / f".{name}.partial"


def input_hash(resolved_toml: str, settings, n_inflow: int, names, chunk_size: int, fmt: str) -> str:
    """SHA-256 of everything that decides a sweep's rows (and its chunking); `settings` is a
    `sim.studies.settings.Settings`."""
    h = hashlib.sha256(resolved_toml.encode("utf-8"))
    h.update(json.dumps({"n_inflow": int(n_inflow), "regimes": list(names), "chunk_size": int(chunk_size),
                         "format": fmt, "parameters": settings.parameters}).encode("utf-8"))
    h.update(settings.digest().encode("ascii"))
    return h.hexdigest()


def _write_json(path: Path, doc: dict) -> None:
    replace(path, lambda tmp: output.write_json(tmp, output.jsonable(doc)))


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------


def _compute(task):
    """Run one chunk of one regime (in a worker or here) and return its metrics only (small to send back)."""
    part = run_chunk(task)
    return part.metrics, part.user_metrics


def _compute_regimes(job):
    """Run one chunk's members under each of its regimes, `job` = (model, [(regime index,
    regime)], k): one model, hence one set of level–storage tables, for all of them."""
    model, regimes, k = job
    return [(ri, _compute(_regime_task(model, regime, k))) for ri, regime in regimes]


def _regime_task(model, regime, k):
    sub_model, sub_regime = select_members(model, regime, slice(0, k), k, lazy=True)
    return sub_model, sub_regime, k, False


def run(scenario, settings, n_inflow, names, *, out, name=None, format="parquet", resume=False,
        chunk_size=None, workers=None, executor=None, progress=False, plots=False, t0=None) -> Path:
    """Stream a sweep set up by `sim.studies.sweep.run` (`settings`: a `sim.studies.settings.Settings`)
    to ``out/<name>``; return that folder. Each chunk's model is built from its own settings."""
    from sim.studies.sweep import chunk_model, rows

    t0 = time.perf_counter() if t0 is None else t0
    if format not in FORMATS:
        raise ValueError(f'format is "{format}"; expected "parquet" or "csv"')
    out_dir = Path(out)
    name = name or f"{scenario.name}-sweep"
    output.prepare(out_dir, name)
    size = DEFAULT_CHUNK_SIZE if chunk_size is None else int(chunk_size)
    if size < 1:
        raise ValueError("chunk_size must be >= 1")
    resolved = scenario.to_toml()
    key = input_hash(resolved, settings, n_inflow, names, size, format)
    n = settings.n_settings * n_inflow
    slices = [slice(a, min(a + size, n)) for a in range(0, n, size)]
    # Files and the summary go regime by regime (the table is regime-major); the chunks are
    # computed chunk by chunk, every regime of a chunk from one model: its per-member tables
    # (level–storage above all) are built once instead of once per regime.
    ids = [(ri, ci) for ri in range(len(names)) for ci in range(len(slices))]
    ext = "parquet" if format == "parquet" else "csv"

    def chunk_file(ri, ci):
        return part / "chunks" / f"{ri:03d}-{ci:06d}.{chunk_suffix(format)}"

    part = partial_folder(out_dir, name)
    # The plots' process, forked before any thread starts: it imports matplotlib while the sweep runs.
    ahead = PlotAhead(_draw_plots, ("sim.report.plotting",), start=plots)
    try:
        with _Claim(out_dir, part, resume) as claim:
            done = claim.chunks_done(key, ids, chunk_file, out_dir / name)
            (part / "chunks").mkdir(parents=True, exist_ok=True)
            progress_doc = {"written_by": output.WRITTEN_BY, "kind": "sweep-partial", "input_sha256": key,
                            "format": format, "chunk_size": size, "n_chunks": len(ids), "chunks_done": sorted(done)}
            if done and "columns" in claim.progress:
                progress_doc["columns"] = claim.progress["columns"]
            record = _Record(part / PROGRESS, progress_doc, done)

            def keep(chunk, table):
                write_chunk(chunk_file(*chunk), table, format)
                record.add(chunk)

            counted = [sum(slices[ci].stop - slices[ci].start for _, ci in done)]
            summary = SweepSummary(names, n, {p: settings.distinct(p) for p in settings.parameters},
                                   (*sweep_table_metrics(), *TRADEOFF))
            writer = Writer(threaded=True)
            sink = Sink(part / f"sweep.{ext}", format, [])
            ordered = _InOrder(summary, ids, names, set(done), writer, sink, chunk_file, format,
                               lambda: progress_doc["columns"])

            def finish(ri, ci, result):
                sl = slices[ci]
                metrics, users = result
                first = sl.start // n_inflow
                cols = rows([names[ri]], sl, settings.rows(first, (sl.stop - 1) // n_inflow + 1), n_inflow, metrics,
                            users, first_setting=first)
                if "columns" not in progress_doc:
                    progress_doc["columns"] = _kinds(cols)
                    sink.columns = list(cols)
                table = arrow_table(cols)
                writer.submit(keep, (ri, ci), table)
                ordered.add((ri, ci), cols, table)
                counted[0] += sl.stop - sl.start
                report(counted[0])

            def job(ci, ris):
                k = slices[ci].stop - slices[ci].start
                model, built = chunk_model(scenario, settings, n_inflow, slices[ci])
                return model, [(ri, built[names[ri]]) for ri in ris], k

            todo = {}
            for ri, ci in sorted(set(ids) - done, key=lambda c: (c[1], c[0])):
                todo.setdefault(ci, []).append(ri)
            try:
                with Progress(progress, n * len(names), scenario.name, initial=counted[0]) as report, \
                        worker_pool(workers, executor) as pool:
                    t_sim = time.perf_counter()
                    if "columns" in progress_doc:
                        sink.columns = list(progress_doc["columns"])
                        ordered.drain_all()
                    _compute_all(list(todo.items()), job, finish, pool, workers)
                writer.close()
            except BaseException:
                sink.aborted = True
                try:
                    writer.close()
                finally:
                    sink.close()
                    sink.path.unlink(missing_ok=True)  # a resume writes it again from the chunks
                    record.write()
                raise
            simulate_s = time.perf_counter() - t_sim
            columns = progress_doc["columns"]
            timings = {"simulate_s": simulate_s, "member_seasons_per_s": (n * len(names)) / max(simulate_s, 1e-12),
                       "write_s": writer.busy_s}

            def fill(tmp):
                _assemble(tmp / f"sweep.{ext}", sink)
                (tmp / "scenario.resolved.toml").write_text(resolved, encoding="utf-8")
                if plots:
                    t_plots = time.perf_counter()
                    ahead.run(summary, tmp, title=scenario.title)  # in the child if it could be forked
                    timings["plots_s"] = time.perf_counter() - t_plots
                from sim import __version__

                doc = {
                    "written_by": output.WRITTEN_BY, "version": __version__, "kind": "sweep", "scenario": scenario.name,
                    "input_sha256": hashlib.sha256(resolved.encode("utf-8")).hexdigest(), "sweep_sha256": key,
                    "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "format": format, "file": f"sweep.{ext}", "columns": columns,
                    "parameters": settings.parameters, "n_settings": n // n_inflow, "n_inflow_members": n_inflow,
                    "regimes": list(names), "n_rows": n * len(names), "chunk_size": size, "n_chunks": len(ids),
                    "chunks_done": sorted(done),
                    "percentiles": summary.percentiles(summary.metrics, PERCENTILES),
                    "timings": {**timings, "total_s": time.perf_counter() - t0},
                    "python": platform.python_version(), "numpy": np.__version__,
                }
                output.write_json(tmp / "run.json", output.jsonable(doc))

            folder = output.write_atomically(out_dir, name, fill)
            claim.remove = True
    except OSError as err:  # disk full, read-only, ...: one line; completed chunks are kept
        raise output.output_error(out_dir / name, err) from None
    finally:
        ahead.close()
    return folder


def _draw_plots(summary, folder, **kwargs):
    """`save_sweep_plots` (imported on call: its module imports matplotlib)."""
    from sim.report.plotting import save_sweep_plots

    save_sweep_plots(summary, folder, **kwargs)


class _Record:
    """progress.json of a partial sweep: the chunks whose files are complete, written at most
    once every `PROGRESS_EVERY_S` seconds as chunks complete, and at an interrupt."""

    def __init__(self, path: Path, doc: dict, done: set):
        self.path, self.doc, self.done = path, doc, done
        self.write()

    def write(self) -> None:
        self.doc["chunks_done"] = sorted(self.done)
        _write_json(self.path, self.doc)
        self.last = time.perf_counter()

    def add(self, chunk) -> None:
        self.done.add(chunk)
        if time.perf_counter() - self.last >= PROGRESS_EVERY_S:
            self.write()


class _InOrder:
    """Takes each chunk's rows whichever order the chunks complete in (and after a resume), and

    - adds them to the sweep's `SweepSummary` in chunk order within each regime (the regimes'
      summaries are apart), so that its float sums are the same, last bit included;
    - appends them to the result file (`Sink`, through the `Writer` thread) in the file's order,
      regime after regime.

    The chunks are computed chunk-major (every regime of a chunk together), so most chunks are
    not the file's next: a chunk's table is kept in memory only while it is within `window`
    places of the file's next; the others are read back from their chunk files when their turn
    comes, in the writer thread (which runs writes in order, so those files are complete).
    A chunk an interrupted run completed is read back likewise."""

    def __init__(self, summary, ids, names, earlier, writer, sink, chunk_file, fmt, kinds, window=8):
        self.summary, self.ids, self.names = summary, ids, names
        self.writer, self.sink, self.chunk_file, self.fmt, self.kinds = writer, sink, chunk_file, fmt, kinds
        self.window = window
        self.order: dict = {}
        for ri, ci in ids:
            self.order.setdefault(ri, []).append(ci)
        self.earlier = set(earlier)
        self.waiting: dict = {}  # summary columns of chunks that came before their regime's turn
        self.next = dict.fromkeys(self.order, 0)
        self.position = {chunk: i for i, chunk in enumerate(ids)}
        self.on_disk = set(earlier)  # chunks whose rows the file still needs, from their chunk files
        self.tables: dict = {}  # tables of chunks near the file's next
        self.file_next = 0

    def add(self, chunk, cols, table) -> None:
        self.waiting[chunk] = {c: cols[c] for c in self.summary.columns()}
        if self.position[chunk] - self.file_next < self.window:
            self.tables[chunk] = table
        else:
            self.on_disk.add(chunk)
        self.drain(chunk[0])
        self.drain_file()

    def drain_all(self) -> None:
        for ri in self.order:
            self.drain(ri)
        self.drain_file()

    def drain(self, ri) -> None:
        """Add the regime's chunks that are ready to the summary, in order."""
        order = self.order[ri]
        while self.next[ri] < len(order):
            chunk = (ri, order[self.next[ri]])
            if chunk in self.waiting:
                cols = self.waiting.pop(chunk)
            elif chunk in self.earlier:
                kinds = self.kinds()
                cols = read_chunk(self.chunk_file(*chunk), self.fmt, kinds,
                                  [c for c in kinds if c in self.summary.columns()])[1]
            else:
                return
            self.summary.add(self.names[ri], cols)
            self.next[ri] += 1

    def drain_file(self) -> None:
        """Append the chunks that are ready to the result file, in its order."""
        while self.file_next < len(self.ids):
            chunk = self.ids[self.file_next]
            path = self.chunk_file(*chunk)
            if chunk in self.tables:
                self.writer.submit(self.sink.append, self.tables.pop(chunk), path)
            elif chunk in self.on_disk:
                self.on_disk.discard(chunk)
                self.writer.submit(self._append_from_file, path)
            else:
                return
            self.file_next += 1

    def _append_from_file(self, path) -> None:
        table = read_chunk(path, self.fmt, self.kinds(), [])[0] if self.fmt == "parquet" else None
        self.sink.append(table, path)


def _compute_all(todo, job, finish, pool, workers) -> None:
    """Compute the chunks `todo` ((chunk, [regime index, ...]) pairs; `job(chunk, regimes)` gives
    the chunk's model and regimes) and `finish` each regime's chunk as it comes: one by one here
    without a `pool`, else in the pool, a chunk's regimes together, with a bounded window of
    chunks in flight (so memory stays bounded and results are written as they come)."""
    if pool is None:
        for ci, ris in todo:
            model, regimes, k = job(ci, ris)
            for ri, regime in regimes:
                finish(ri, ci, _compute(_regime_task(model, regime, k)))
        return
    window = max(int(workers or 1), 1) + 1
    running = {}
    queue = iter(todo)
    for ci, ris in queue:
        running[pool.submit(_compute_regimes, job(ci, ris))] = ci
        if len(running) >= window:
            break
    while running:
        ready, _ = wait(running, return_when=FIRST_COMPLETED)
        for fut in ready:
            ci = running.pop(fut)
            for ri, result in fut.result():
                finish(ri, ci, result)
            nxt = next(queue, None)
            if nxt is not None:
                running[pool.submit(_compute_regimes, job(*nxt))] = nxt[0]


class _Claim:
    """Hold the partial folder of a sweep (an exclusive lock: one writer at a time); read its
    progress when resuming, discard it when starting afresh; remove it at the end when
    `remove` is set (finished, or nothing completed)."""

    def __init__(self, out_dir: Path, part: Path, resume: bool):
        self.out_dir, self.part, self.resume = out_dir, part, resume
        self.progress = None
        self.remove = False
        self.fd = None

    def __enter__(self):
        import fcntl

        self.out_dir.mkdir(parents=True, exist_ok=True)
        with output.locked(self.out_dir):
            self.part.mkdir(exist_ok=True)
            self.fd = os.open(self.part, os.O_RDONLY)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = None
            raise ResumeError(f"another bakhri sweep is writing {self.part}; wait for it to end") from None
        if self.resume:
            try:
                doc = json.loads((self.part / PROGRESS).read_text(encoding="utf-8"))
                self.progress = doc if isinstance(doc, dict) else {}
            except (OSError, ValueError):
                self.progress = None
        else:
            for p in list(self.part.iterdir()):
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        return self

    def chunks_done(self, key: str, ids, chunk_file, target: Path) -> set:
        """The chunks ``(regime, chunk)`` of `ids` an interrupted sweep completed: those whose
        files are there (a chunk file is renamed into place whole, and the partial folder only
        ever holds this sweep's: progress.json may lag a second behind them); none when
        starting afresh or when there is no progress to resume. Refuses (`ResumeError`)
        progress of a sweep whose input hash is not `key`."""
        if not self.resume or self.progress is None:
            return set()
        if self.progress.get("input_sha256") != key:
            raise ResumeError(f"cannot resume {target}: the scenario, parameters, seed or options differ "
                              f"from the interrupted sweep in {self.part}; run without --resume to start afresh")
        if "columns" not in self.progress:  # no chunk completed before the interrupt
            return set()
        present = {p.name for p in (self.part / "chunks").iterdir()} if (self.part / "chunks").is_dir() else set()
        return {c for c in ids if chunk_file(*c).name in present}

    def __exit__(self, *exc):
        chunks = self.part / "chunks"
        if exc[0] is not None and not (chunks.is_dir() and any(p.suffix != ".tmp" for p in chunks.iterdir())):
            self.remove = True  # nothing worth keeping
        if self.remove:
            shutil.rmtree(self.part, ignore_errors=True)
        if self.fd is not None:
            os.close(self.fd)
        return False


# --------------------------------------------------------------------------------------
# Assembling and reading
# --------------------------------------------------------------------------------------


def _kinds(cols: dict) -> dict:
    """Column name → "str" | "int" | "float"."""
    return {c: "str" if v.dtype == object else "int" if v.dtype.kind in "iu" else "float" for c, v in cols.items()}


def _assemble(path: Path, sink: Sink) -> None:
    """Finish the result file written chunk by chunk into the partial folder and move it to `path`."""
    sink.close()
    os.replace(sink.path, path)


def _read(path: Path, fmt: str, columns: dict, only=None, header: bool = True) -> dict:
    """Columns of a sweep file (or of a chunk's file: a CSV one has no `header`) as numpy
    arrays (strings as object arrays)."""
    import pyarrow as pa

    want = list(columns) if only is None else [c for c in columns if c in only]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        t = pq.read_table(path, columns=want)
    else:
        import pyarrow.csv as pacsv

        types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64()}
        names = None if header else list(columns)
        t = pacsv.read_csv(path, read_options=pacsv.ReadOptions(column_names=names), convert_options=pacsv.ConvertOptions(
            column_types={c: types[k] for c, k in columns.items()}, include_columns=want,
            strings_can_be_null=False, quoted_strings_can_be_null=False))
    out = {}
    for c in want:
        col = t.column(c)
        if columns[c] == "str":
            out[c] = np.array(col.to_pylist(), dtype=object)
        else:
            out[c] = col.to_numpy()
    return out


class _Metrics:
    """A regime's metrics read back from a sweep file (what plots and tables use)."""

    def __init__(self, regime, metrics, user_metrics):
        self.regime, self.metrics, self.user_metrics = regime, metrics, user_metrics
        self.n_members = len(next(iter(metrics.values()))) if metrics else 0


def _result(table: dict, parameters, names, n_inflow):
    from sim.engine import metrics as metric_registry
    from sim.studies.sweep import SweepResult

    n = len(next(iter(table.values()))) // max(len(names), 1) if table else 0
    settings = {p: np.asarray(table[p][:n:n_inflow]) for p in parameters if p in table}
    users = sorted({c.split(".")[0] for c in table if c.endswith("." + metric_registry.user_names()[0]) and c not in parameters})
    results = {}
    for i, r in enumerate(names):
        sl = slice(i * n, (i + 1) * n)
        metrics = {m: table[m][sl] for m in metric_registry.names() if m in table}
        um = {u: {m: table[f"{u}.{m}"][sl] for m in metric_registry.user_names() if f"{u}.{m}" in table} for u in users}
        results[r] = _Metrics(r, metrics, um)
    return SweepResult(list(parameters), settings, n_inflow, results, table=table)


def percentiles(folder, metrics, q=PERCENTILES) -> tuple[dict, dict]:
    """run.json of a streamed sweep's folder and, per regime, the `q` percentiles of each of
    `metrics` over its members: ``{regime: {metric: ndarray (len(q),)}}``. They come from
    run.json (computed while streaming: `sim.report.aggregates.SweepSummary`; exact up to
    `EXACT_MEMBERS` members a regime, within a bin of 2⁻¹² of the value beyond); other
    metrics or percentiles are read from the file one column at a time."""
    info = _info(Path(folder))
    names, out = info["regimes"], {r: {} for r in info["regimes"]}
    recorded = info.get("percentiles", {}) if tuple(q) == PERCENTILES else {}
    for m in metrics:
        if all(m in recorded.get(r, {}) for r in names):
            for r in names:
                out[r][m] = np.array(recorded[r][m], dtype=float)
            continue
        v = _read(Path(folder) / info["file"], info["format"], info["columns"], {m})[m].reshape(len(names), -1)
        for r, row in zip(names, v, strict=True):
            out[r][m] = np.percentile(row, q)
        del v
    return info, out


def _info(folder: Path) -> dict:
    try:
        info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise output.OutputError(f"{folder}: not a sweep result folder (run.json: {err})") from None
    if info.get("kind") != "sweep" or "format" not in info:
        raise output.OutputError(f"{folder}: run.json is not that of a streamed sweep (kind "
                                 f"{info.get('kind')!r}); expected one written by bakhri sweep")
    return info


def load(path, columns=None):
    """Read a streamed sweep's folder (or its sweep.parquet / sweep.csv) back as a `SweepResult`
    whose table equals, row for row, the one `sim.studies.sweep.run` returns for the same sweep; with
    `columns`, only those and the parameters (the rows are regime-major, ``n_settings ×
    n_inflow_members`` per regime, so ``results`` still splits them by regime)."""
    path = Path(path)
    folder = path.parent if path.is_file() else path
    info = _info(folder)
    only = None if columns is None else {*info["parameters"], *columns}
    table = _read(folder / info["file"], info["format"], info["columns"], only)
    out = _result(table, info["parameters"], info["regimes"], int(info["n_inflow_members"]))
    out.timings = info.get("timings", {})
    return out
