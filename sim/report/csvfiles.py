"""The CSV files of a run: summary.csv, daily.csv and daily_percentiles.csv (DESIGN.md "Outputs").

Numbers are written with ``repr`` (shortest text that reads back to the same float), so the
water balance closes from daily.csv alone to round-off:
``storage_hm3[t] − storage_hm3[t−1] = (inflow + precipitation − evaporation − seepage −
withdrawal − release) × 0.0864`` (the first day starts from ``storage_start_hm3`` of
summary.csv). summary.csv's metric columns are those of the metric registry
(`sim.engine.metrics`), in its order.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from sim.engine import metrics as metric_registry
from sim.engine.results import SimulationResult
from sim.physics import units
from sim.rules.regimes import BINDING

__all__ = [
    "OutputError",
    "DAILY_COLUMNS",
    "PERCENTILE_COLUMNS",
    "PERCENTILES",
    "results_by_name",
    "summary_rows",
    "write_summary_csv",
    "daily_rows",
    "representative_members",
    "write_daily_csv",
    "write_daily_percentiles_csv",
]


class OutputError(Exception):
    """Outputs cannot be written where asked (e.g. a folder bakhri did not write)."""


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

#: Source field in SimulationResult.daily and scale factor, for each daily.csv column (a product
#: with units.HM3_PER_M3 and MW_PER_W, not the division of `units.m3_to_hm3`: the files' bytes stay those of before).
_DAILY_SOURCE = {
    "storage_hm3": ("storage_m3", units.HM3_PER_M3),
    "power_mw": ("power_w", units.MW_PER_W),
}


def results_by_name(results) -> dict:
    """Results as a dict regime name → SimulationResult (from one result, a dict or a list)."""
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
    """One row per regime and member: regime, member, the registered metrics
    (`sim.engine.metrics.names()`), then per user ``<user>.<metric>`` for each per-user metric.

    Parameters
    ----------
    results : dict of str → SimulationResult, or SimulationResult

    Returns
    -------
    list of dict
        Values are floats in the units of the column names (member is an int).
    """
    rows = []
    columns, user_columns = metric_registry.names(), metric_registry.user_names()
    for name, r in results_by_name(results).items():
        for i in range(r.n_members):
            row = {"regime": name, "member": i}
            for c in columns:
                if c in r.metrics:
                    row[c] = float(r.metrics[c][i])
            for user, m in r.user_metrics.items():
                for c in user_columns:
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
