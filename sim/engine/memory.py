"""How much memory a run or sweep needs, how much there is, and a refusal before allocating.

A run keeps every regime's daily series for every member (they feed daily.csv,
daily_percentiles.csv and the plots); a sweep keeps per-member metrics only. The estimates
below count those arrays (8 bytes a value) plus the working set of one chunk; they were
checked against the peak resident memory of `bakhri run` and `bakhri sweep` (within about
10 %, erring high). Memory available is the smallest of the free physical memory
(``MemAvailable`` of /proc/meminfo, or ``os.sysconf``), a cgroup limit and an address-space
limit (``ulimit -v``). Experts may set ``BAKHRI_MEMORY_LIMIT`` (e.g. ``64G``, ``500M``, or
``off`` to skip the check) to state what the run may use.

    >>> from sim import memory
    >>> memory.run_bytes(n_days=183, n_members=30_000, n_regimes=4, n_users=1) / 2**30   # GiB
"""

from __future__ import annotations

import os
import re
import resource

__all__ = ["MemoryLimitError", "ENV", "available_bytes", "run_bytes", "sweep_bytes", "require", "gib"]

#: Environment variable: the memory a run may use (``64G``, ``500M``, bytes), or ``off``.
ENV = "BAKHRI_MEMORY_LIMIT"

#: Python, numpy, numba and the engine's code before any member is allocated. [bytes]
BASE_BYTES = 150 * 2**20

#: Daily series of one member-day in a run: 15 engine series, energy, inflow and a working
#: copy, binding codes (1 byte); each user adds demand and supply.
_RUN_SERIES = 15 + 1 + 2 + 0.125
_RUN_SERIES_PER_USER = 2


class MemoryLimitError(Exception):
    """A run or sweep would not fit in the memory available (exit status 2)."""


def gib(n_bytes: float) -> str:
    """Bytes as text in GiB, e.g. ``"3.4 GiB"``."""
    return f"{n_bytes / 2**30:,.1f} GiB"


def _parse_size(text: str) -> int | None:
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([kKmMgGtT]?)i?[bB]?\s*", text)
    if not m:
        raise MemoryLimitError(f'{ENV} is "{text}"; expected a size such as 8G, 500M or a number of bytes, or "off"')
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_available() -> int | None:
    """Limit minus usage of this process's memory cgroup (v2 or v1), if it has a limit."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file, encoding="ascii") as f:
                text = f.read().strip()
            if text == "max" or int(text) >= 2**60:
                return None
            with open(usage_file, encoding="ascii") as f:
                usage = int(f.read().strip())
            return max(int(text) - usage, 0)
        except (OSError, ValueError):
            continue
    return None


def _rlimit_available() -> int | None:
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ValueError, OSError):
        return None
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return max(soft - used, 0)


def available_bytes() -> int | None:
    """Memory this process may still allocate [bytes], or None when unknown or unlimited
    (``BAKHRI_MEMORY_LIMIT=off``)."""
    text = os.environ.get(ENV, "").strip()
    if text.lower() == "off":
        return None
    if text:
        return _parse_size(text)
    known = [v for v in (_meminfo_available(), _cgroup_available(), _rlimit_available()) if v is not None]
    return min(known) if known else None


def run_bytes(n_days: int, n_members: int, n_regimes: int, n_users: int, chunk_size: int = 10_000) -> int:
    """Memory of `bakhri run` with daily series kept for every member and regime. [bytes]

    Every regime keeps (18 + 2 × users) series of n_days × n_members values; an ensemble
    larger than one chunk is joined from its chunks, which holds one regime twice.
    """
    per_member_regime = n_days * 8 * (_RUN_SERIES + _RUN_SERIES_PER_USER * n_users)
    kept = n_regimes * n_members * per_member_regime
    joining = n_members * per_member_regime if n_members > chunk_size else 0
    return int(BASE_BYTES + kept + joining)


def sweep_bytes(n_members: int, n_regimes: int, n_users: int, n_parameters: int, n_days: int = 366,
                chunk_size: int = 10_000, workers: int = 1, streamed: bool = False) -> int:
    """Memory of a sweep keeping metrics only. [bytes]

    Per member and regime: the metrics (those of the registry, `sim.engine.metrics.names()`,
    plus `user_names()` per user) in the result and again in the table, plus its key columns;
    per member: the swept values (three copies) and the per-member inputs; plus the daily
    working set of one chunk per worker. A `streamed` sweep (rows to disk, each chunk's model
    built from its own settings) holds none of the per-member terms but the swept values once
    (a sample; a grid's are made per chunk, counted here all the same to err high).
    """
    from sim.engine import metrics  # the registry: imported when an estimate is wanted, not at start-up

    n_metrics = len(metrics.names()) + len(metrics.user_names()) * n_users
    per_member_regime = (2 * n_metrics + 8) * 8
    per_member = (3 * n_parameters + 10) * 8
    if streamed:
        per_member_regime, per_member = 0, n_parameters * 8
    chunk = min(chunk_size, max(n_members, 1)) * n_days * 8 * (_RUN_SERIES + _RUN_SERIES_PER_USER * n_users)
    return int(BASE_BYTES + n_members * (n_regimes * per_member_regime + per_member) + max(workers, 1) * chunk)


def require(needed: int, what: str, advice: str) -> None:
    """Raise `MemoryLimitError` when `needed` bytes exceed the memory available.

    The message states `what` is being run, the estimate and the memory available (GiB), and
    `advice` (how to make it smaller), and names ``BAKHRI_MEMORY_LIMIT``.
    """
    available = available_bytes()
    if available is None or needed <= available:
        return
    raise MemoryLimitError(
        f"{what} needs about {gib(needed)} of memory; {gib(available)} is available. {advice} "
        f"(If you know better: {ENV}=64G, or {ENV}=off, sets the memory the run may use.)"
    )
