"""The files of a streamed sweep (`sim.studies.stream`): chunk files, the result file written in
chunk order as chunks come, and the one background thread that writes them.

Where the time of a 10⁶-member sweep went (profiled, 2 cores, issue 8): each chunk was
written as Parquet, read back and written as Parquet again at the end (three encodings of
every value, and the sweep waited for the last), and building Arrow arrays went through
``pyarrow.array``, which imports pandas (0.8–2 s) on first use. Now:

- a chunk is kept for ``--resume`` as an Arrow IPC file (``.arrow``: the arrays as they are,
  LZ4-compressed: measured 10-30 % slower to write than uncompressed and a third of the disk,
  1.1 GB instead of 3.6 GB in the partial folder of a 10⁷ sweep) when the result is Parquet,
  or as CSV text when it is CSV;
- the result file (``sweep.parquet``: one row group a chunk, as before; ``sweep.csv``) is
  written once, chunk after chunk in the sweep's order, while later chunks compute, so
  nothing is left to assemble at the end;
- Arrow arrays are made straight from the numpy buffers (no copy, no pandas);
- both writes run in one background thread (Arrow's writers release the GIL), in the order
  they were asked for, with a bounded queue (memory stays bounded).
"""

from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

__all__ = ["PARQUET", "arrow_table", "write_csv", "chunk_suffix", "write_chunk", "read_chunk", "Sink", "Writer",
           "replace"]

#: Parquet options: dictionary encoding for the regime names only (on float columns it costs
#: 2-3× the write time and saves nothing); snappy, the default codec, measured fastest here
#: (uncompressed writes 3.7× the bytes: 1.7 s against 1.2 s for 10⁶ rows; lz4 1.9 s, zstd 2.4 s).
PARQUET = {"use_dictionary": ["regime"]}


def _buffer_array(pa, v: np.ndarray):
    """A numpy column as an Arrow array without ``pyarrow.array`` (which imports pandas)."""
    if v.dtype == object:  # strings: offsets and UTF-8 bytes
        values = v.tolist()
        if values and values.count(values[0]) == len(values):  # one name (a chunk's regime): no loop
            one = values[0].encode("utf-8")
            if len(one) * len(values) < 2**31:
                offsets = np.arange(len(values) + 1, dtype=np.int32) * np.int32(len(one))
                return pa.Array.from_buffers(pa.string(), len(values), [None, pa.py_buffer(offsets),
                                                                        pa.py_buffer(one * len(values))])
        data = [s.encode("utf-8") for s in values]
        offsets = np.zeros(len(data) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, data), dtype=np.int64, count=len(data)), out=offsets[1:])
        if offsets[-1] < 2**31:
            return pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(offsets.astype(np.int32)),
                                                                  pa.py_buffer(b"".join(data))])
        return pa.array(v, type=pa.string())
    types = {"f8": pa.float64(), "i8": pa.int64()}
    key = f"{v.dtype.kind}{v.dtype.itemsize}"
    if key not in types or not v.dtype.isnative:
        return pa.array(v)
    v = np.ascontiguousarray(v)
    return pa.Array.from_buffers(types[key], v.size, [None, pa.py_buffer(v)])


def arrow_table(cols: dict):
    """Table columns (numpy arrays; strings as object arrays) as a pyarrow Table, for Parquet and
    CSV: float64, int64 and string columns share the numpy buffers."""
    import pyarrow as pa

    return pa.Table.from_arrays([_buffer_array(pa, np.asarray(v)) for v in cols.values()], names=list(cols))


def write_csv(fh, cols, header: bool = True) -> None:
    """Write table columns (a dict of numpy arrays, or an Arrow table) as CSV to a binary
    file, formatted column-wise by Arrow (floats as the shortest text that reads back to the
    same value, 'nan', 'inf'; whole numbers without '.0'); names and regimes are written
    unquoted (they are safe names)."""
    import pyarrow.csv as pacsv

    table = arrow_table(cols) if isinstance(cols, dict) else cols
    if header:
        fh.write((",".join(table.column_names) + "\n").encode("utf-8"))
    pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="none"))


def chunk_suffix(fmt: str) -> str:
    """The suffix of a chunk file kept for a sweep whose result is `fmt`."""
    return "arrow" if fmt == "parquet" else "csv"


def replace(path: Path, write) -> None:
    """`write(tmp)` a sibling temporary file, then rename it to `path`: the file is whole or
    absent, even after an interrupt (the temporary file is removed then)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_chunk(path: Path, table, fmt: str) -> None:
    """One chunk's rows (an Arrow table), written whole or not at all."""
    import pyarrow as pa

    def write(tmp):
        if fmt == "parquet":
            options = pa.ipc.IpcWriteOptions(compression="lz4")
            with pa.OSFile(str(tmp), "wb") as fh, pa.ipc.new_file(fh, table.schema, options=options) as writer:
                writer.write_table(table)
        else:
            with open(tmp, "wb") as fh:
                write_csv(fh, table, header=False)

    replace(path, write)


def _numpy(col) -> np.ndarray:
    """A numeric Arrow column (no nulls) as a numpy array over its buffer (``to_numpy`` imports pandas)."""
    import pyarrow as pa

    a = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if a.null_count:  # never written ('nan' is a value); read the values Arrow would give
        return np.asarray(a.to_pylist(), dtype=float)
    dtype = {pa.float64(): np.float64, pa.int64(): np.int64}[a.type]
    return np.frombuffer(a.buffers()[1], dtype=dtype)[a.offset:a.offset + len(a)]


def read_chunk(path: Path, fmt: str, kinds: dict, numeric) -> tuple:
    """A chunk file read back: its Arrow table (None for CSV: its bytes are copied) and the
    numeric columns `numeric` as numpy arrays. `kinds`: column → "str" | "int" | "float"."""
    import pyarrow as pa

    if fmt == "parquet":
        with pa.memory_map(str(path)) as src:
            table = pa.ipc.open_file(src).read_all()
        return table, {c: _numpy(table.column(c)) for c in numeric}
    import pyarrow.csv as pacsv

    types = {"int": pa.int64(), "float": pa.float64()}
    t = pacsv.read_csv(path, read_options=pacsv.ReadOptions(column_names=list(kinds)),
                       convert_options=pacsv.ConvertOptions(column_types={c: types[kinds[c]] for c in numeric},
                                                            include_columns=list(numeric), null_values=[]))
    return None, {c: _numpy(t.column(c)) for c in numeric}


class Sink:
    """The sweep's result file, written chunk after chunk in the sweep's order: Parquet (one row
    group a chunk) from each chunk's table, or CSV (a header, then each chunk file's text)."""

    def __init__(self, path: Path, fmt: str, columns: list):
        self.path, self.fmt, self.columns = Path(path), fmt, list(columns)
        self.writer = None
        self.fh = None
        self.aborted = False

    def append(self, table, chunk_path: Path) -> None:
        if self.aborted:
            return
        if self.fmt == "parquet":
            if self.writer is None:
                import pyarrow.parquet as pq

                self.writer = pq.ParquetWriter(str(self.path), table.schema, **PARQUET)
            self.writer.write_table(table)
            return
        if self.fh is None:
            self.fh = open(self.path, "wb")  # noqa: SIM115 - closed by close()
            self.fh.write((",".join(self.columns) + "\n").encode("utf-8"))
        with open(chunk_path, "rb") as src:
            import shutil

            shutil.copyfileobj(src, self.fh, 1 << 20)

    def close(self) -> None:
        """Finish the file (the Parquet footer)."""
        for obj in (self.writer, self.fh):
            if obj is not None:
                obj.close()
        self.writer = self.fh = None


class Writer:
    """One background thread that runs writes in the order they are submitted, at most `limit`
    waiting (the caller waits for the oldest beyond that: memory stays bounded); a write's
    error is raised in the caller at its next `submit` or at `close`. Without `threaded`, each
    write runs at once in the caller."""

    def __init__(self, threaded: bool = True, limit: int = 8):
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="bakhri-writer") if threaded else None
        self.limit = limit
        self.pending: deque = deque()
        self.busy_s = 0.0

    def _timed(self, fn, *args):
        t0 = time.perf_counter()
        try:
            fn(*args)
        finally:
            self.busy_s += time.perf_counter() - t0

    def submit(self, fn, *args) -> None:
        if self.pool is None:
            self._timed(fn, *args)
            return
        while self.pending and (self.pending[0].done() or len(self.pending) >= self.limit):
            self.pending.popleft().result()
        self.pending.append(self.pool.submit(self._timed, fn, *args))

    def close(self) -> None:
        """Wait for every write; raise the first error."""
        if self.pool is None:
            return
        self.pool.shutdown(wait=True)
        while self.pending:
            self.pending.popleft().result()
