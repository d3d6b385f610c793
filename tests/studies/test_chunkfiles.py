"""The files of a streamed sweep (sim/studies/chunkfiles.py): Arrow tables made from numpy
buffers are the ones pyarrow.array makes, without importing pandas; chunk files read back."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from sim.studies import chunkfiles

ROOT = Path(__file__).resolve().parents[2]

COLS = {
    "regime": np.array(["irrigation-first"] * 5, dtype=object),
    "names": np.array(["a", "bé", "", "ccc", "a"], dtype=object),
    "member": np.arange(5),
    "strided": np.linspace(0.0, 1.0, 10)[::2],
    "special": np.array([np.nan, np.inf, -0.0, 5e-324, -1e308]),
    "flag": np.array([True, False, True, True, False]),
    "small": np.arange(5, dtype=np.int32),
}


def test_arrow_table_is_pyarrows():
    t = chunkfiles.arrow_table(COLS)
    ref = pa.table({c: pa.array(v, type=pa.string()) if v.dtype == object else pa.array(v) for c, v in COLS.items()})
    assert t.schema == ref.schema
    for c in COLS:  # (Table.equals takes NaN for unequal to itself)
        np.testing.assert_array_equal(t.column(c).to_numpy(zero_copy_only=False),
                                      ref.column(c).to_numpy(zero_copy_only=False), err_msg=c)
    empty = chunkfiles.arrow_table({"regime": np.array([], dtype=object), "x": np.zeros(0)})
    assert empty.num_rows == 0 and empty.schema == pa.schema([("regime", pa.string()), ("x", pa.float64())])


def test_making_tables_imports_no_pandas():
    code = ("import sys, numpy as np; from sim.studies import chunkfiles; "
            "chunkfiles.arrow_table({'r': np.array(['x', 'y'], dtype=object), 'v': np.ones(2), 'i': np.arange(2)}); "
            "assert 'pandas' not in sys.modules, 'pandas imported'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_chunk_file_reads_back(tmp_path, fmt):
    cols = {c: COLS[c] for c in ("regime", "member", "strided", "special")}
    path = tmp_path / f"000-000000.{chunkfiles.chunk_suffix(fmt)}"
    chunkfiles.write_chunk(path, chunkfiles.arrow_table(cols), fmt)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    kinds = {"regime": "str", "member": "int", "strided": "float", "special": "float"}
    table, numeric = chunkfiles.read_chunk(path, fmt, kinds, ["member", "strided", "special"])
    for c, v in numeric.items():
        assert v.dtype == cols[c].dtype, c
        np.testing.assert_array_equal(v, cols[c], err_msg=c)  # NaN as NaN (its payload bits may differ in CSV)
        assert np.array_equal(np.signbit(v), np.signbit(cols[c])), c
    assert (table is None) == (fmt == "csv")


def test_a_failed_write_is_raised_and_leaves_no_file(tmp_path):
    writer = chunkfiles.Writer()

    def fail():
        raise OSError("disk full")

    writer.submit(fail)
    with pytest.raises(OSError, match="disk full"):
        writer.close()
