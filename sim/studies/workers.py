"""Who runs a study's chunks, and how its progress is shown: shared by in-memory and streamed sweeps.

`worker_pool` gives the executor (one passed in, local worker processes, or none: run here)
and stops local workers at once on an error or Ctrl-C; `Progress` reports members done to a
tqdm bar or a callable.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor

__all__ = ["Progress", "worker_pool", "terminate"]


class Progress:
    """Member-seasons done so far, reported to a tqdm bar on stderr (``progress=True``), to a
    callable ``progress(n_done)``, or to nobody; a context manager that closes the bar.

    The bar shows member-seasons done, per second and the time left; it stays quiet when
    stderr is not a terminal (a log file or a pipe), and shows in a notebook (`tqdm.auto`).
    `initial` member-seasons were done before (a resumed sweep): the rate counts this run's only.
    """

    def __init__(self, progress, total: int, desc: str, initial: int = 0):
        self.callback = progress if callable(progress) else None
        self.bar = None
        if progress is True:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, unit=" member-seasons", unit_scale=total >= 10_000, desc=desc,
                            file=sys.stderr, disable=None, smoothing=0.1, dynamic_ncols=True)

    def __call__(self, n_done: int) -> None:
        if self.bar is not None and n_done > self.bar.n:
            self.bar.update(n_done - self.bar.n)
        if self.callback is not None:
            self.callback(n_done)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> bool:
        if self.bar is not None:
            self.bar.close()
        return False


def _worker_init():
    """Workers leave Ctrl-C to the parent (which terminates them) and die quietly on SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def worker_pool(workers: int | None, executor: Executor | None):
    """The executor that runs the chunks: `executor` as given (left running for its owner),
    else ``workers`` local processes when more than one (shut down at the end, terminated at
    once on an error or Ctrl-C: waiting for the running chunks could take minutes), else None
    (run in this process)."""
    if executor is not None or not (workers and workers > 1):
        yield executor
        return
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                               initializer=_worker_init)
    try:
        yield pool
    except BaseException:
        terminate(pool)
        raise
    pool.shutdown()


def terminate(pool: ProcessPoolExecutor, timeout: float = 1.0) -> None:
    """Stop a pool at once: cancel queued chunks, terminate the workers (busy or blocked on
    a pipe), and kill any that do not exit within `timeout` seconds."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    queue = getattr(pool, "_call_queue", None)
    if queue is not None:  # its feeder thread may be blocked on a pipe no worker reads any more
        queue.cancel_join_thread()
    for p in procs:
        try:
            p.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.join(max(deadline - time.monotonic(), 0.0))
            if p.is_alive():
                p.kill()
                p.join(timeout)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass
    # A worker killed while sending a result leaves half a message: the pool's thread would
    # wait for the rest for ever, as this process holds the pipe's other end. Closing that
    # end gives it an end-of-file instead.
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if writer is not None:
        try:
            writer.close()
        except OSError:
            pass
    # Once the pool's thread has ended, the interpreter's exit must not wake it (its pipe is
    # closed: "Exception ignored ... Bad file descriptor").
    thread = getattr(pool, "_executor_manager_thread", None)
    if thread is not None:
        thread.join(timeout)
        if not thread.is_alive():
            from concurrent.futures import process

            getattr(process, "_threads_wakeups", {}).pop(thread, None)
