"""Rendering figures to PNG files, in parallel: `write_pngs` and its worker processes.

Figures are made by jobs (``(file name, make_figure, weight)``) shared out by weight over
forked processes (`plot_workers`), each saving its PNGs; the pixels do not depend on the
number of processes.
"""

from __future__ import annotations

import os
import pickle
import re
import signal
import sys
from pathlib import Path

__all__ = [
    "FontHeights", "PNG_COMPRESS_LEVEL", "WORKERS_ENV", "can_fork", "plot_workers", "safe_name", "save_png",
    "write_pngs", "end_with_parent", "exited_cleanly", "PlotAhead",
]


def safe_name(name: str) -> str:
    """`name` made safe as part of a file name (other characters become '-')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(name)).strip(".-") or "regime"


#: zlib level of the PNG files: the pixels are the same at every level; level 1 encodes in
#: about half the time of PIL's default (6), for files ~15 % larger.
PNG_COMPRESS_LEVEL = 1


def save_png(fig, path, dpi):
    """Save `fig` as a PNG at `dpi` with one layout pass, then close it.

    ``savefig`` of a figure with a layout engine first draws the whole figure without
    rendering to run the layout, then draws it again to render. Running the layout engine
    directly at the saving dpi and removing it before saving skips that extra draw; the
    pixels are the same.
    """
    import matplotlib

    try:
        engine = fig.get_layout_engine()
        screen_dpi = fig.dpi
        fig.dpi = dpi
        try:
            # The renderer savefig will draw with (the canvas keeps one per size and dpi).
            FontHeights.attach(fig.canvas.get_renderer())
            if engine is not None:
                engine.execute(fig)
        finally:
            fig.dpi = screen_dpi
        if engine is not None:
            # No layout engine at all: with a placeholder engine savefig would still draw once
            # without rendering. The rc settings keep None from meaning a default engine.
            with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
                fig.set_layout_engine(None)
        fig.savefig(path, dpi=dpi, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    finally:
        if "matplotlib.pyplot" in sys.modules:  # figures made without pyplot (style.offscreen) are not its
            sys.modules["matplotlib.pyplot"].close(fig)


class FontHeights:
    """Cached font height metrics for a renderer.

    matplotlib (>= 3.10) looks up the font file and reads its OS/2 or hhea table for every
    layout of every text, several times per text and figure, unless the renderer answers
    ``_get_font_height_metrics(prop)``. This gives the same numbers from a cache (per font
    properties and dpi). It is attached to the renderers of the figures we save, only.
    """

    _cache: dict = {}

    def __init__(self, dpi):
        self.dpi = dpi

    @classmethod
    def attach(cls, renderer):
        from matplotlib.font_manager import fontManager

        if hasattr(fontManager, "_find_fonts_by_props") and hasattr(renderer, "dpi"):
            renderer._get_font_height_metrics = cls(renderer.dpi)

    def __call__(self, prop):
        key = (prop, self.dpi)
        if key not in self._cache:
            self._cache[(prop.copy(), self.dpi)] = self._measure(prop, self.dpi)
        return self._cache[key]

    @staticmethod
    def _measure(prop, dpi):
        # As matplotlib.text.Text._get_layout does without the hook.
        from matplotlib.font_manager import fontManager, get_font

        font = get_font(fontManager._find_fonts_by_props(prop))
        for table_name, gap_key, ascent_key, descent_key in (
            ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
            ("hhea", "lineGap", "ascent", "descent"),
        ):
            table = font.get_sfnt_table(table_name)
            if table is None:
                continue
            scale = 1 / font.get_sfnt_table("head")["unitsPerEm"] * prop.get_size_in_points() * dpi / 72
            return table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale
        return None, None, None


#: Environment variable: number of processes that render plots (1: all in this process).
WORKERS_ENV = "BAKHRI_PLOT_WORKERS"


def can_fork() -> bool:
    """Whether plots can be rendered in forked processes here."""
    # fork is missing on Windows and unsafe with macOS system frameworks.
    return hasattr(os, "fork") and sys.platform != "darwin"


def plot_workers(workers=None, n_jobs=None) -> int:
    """Number of processes that render plots: `workers`, else ``$BAKHRI_PLOT_WORKERS``, else
    the usable CPU cores (at most 4); never more than `n_jobs`, and 1 where processes cannot
    be forked."""
    if workers is None:
        env = os.environ.get(WORKERS_ENV, "").strip()
        if env:
            try:
                workers = int(env)
            except ValueError:
                raise ValueError(f"${WORKERS_ENV} is {env!r}; expected a whole number >= 1") from None
        else:
            try:
                workers = min(len(os.sched_getaffinity(0)), 4)
            except AttributeError:
                workers = min(os.cpu_count() or 1, 4)
    workers = max(1, int(workers))
    if n_jobs is not None:
        workers = min(workers, max(1, n_jobs))
    return workers if can_fork() else 1


def _shares(weights, n):
    """Split job indices over `n` processes, heaviest first onto the least loaded (LPT)."""
    loads = [0.0] * n
    shares = [[] for _ in range(n)]
    for i in sorted(range(len(weights)), key=lambda i: -weights[i]):
        k = loads.index(min(loads))
        shares[k].append(i)
        loads[k] += weights[i]
    return [sorted(s) for s in shares]


def _run_share(jobs, share, plots, dpi):
    from sim.report.style import offscreen

    with offscreen():
        for i in share:
            name, make, _ = jobs[i]
            save_png(make(), plots / name, dpi)


def end_with_parent(parent):
    """In a forked child: be sent SIGTERM when the parent process ends (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request was made
        os._exit(1)


def _load_renderer():
    """Import what every figure needs (matplotlib's Figure, the Agg canvas, the font list)
    before forking: the children share it instead of each importing it again (a fifth of a
    second of CPU per process, on a 2-core machine the same cores the figures need)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401
    from matplotlib.font_manager import fontManager  # noqa: F401  (reads the font cache)


def _fork_share(jobs, share, plots, dpi):
    """Render `share` in a forked child; return its pid.

    The child inherits the results and the plot functions (nothing is pickled), writes its
    files and leaves with ``os._exit`` (status 0 when all were written), so that none of the
    parent's cleanup (e.g. removing a temporary output folder) runs in it. Ctrl-C and SIGTERM
    end it at once, and so does the end of the parent, even by SIGKILL (Linux).
    """
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # child
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            end_with_parent(parent)
            _run_share(jobs, share, plots, dpi)
            status = 0
        except BaseException:
            pass  # the parent renders this share again and reports the error itself
        finally:
            os._exit(status)
    return pid


def exited_cleanly(pid) -> bool:
    """Wait for child `pid`; True if it exited with status 0 (False when it cannot be told,
    e.g. when SIGCHLD is ignored and the system reaped it)."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return False
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def write_pngs(out_dir, jobs, dpi=150, *, workers=None) -> list[Path]:
    """Render figures and write them to ``out_dir/plots/``, in parallel processes if possible.

    Parameters
    ----------
    out_dir : path-like
    jobs : list of (str, callable, float)
        ``(file name, make, weight)``: ``make()`` returns the `Figure` to save; `weight` is
        its relative cost, used to balance the processes.
    dpi : float
    workers : int, optional
        Processes to use (`plot_workers`). With more than one, the jobs are shared out and
        all but the first share are rendered in forked children (Linux and other POSIX
        systems but macOS); elsewhere, or with one worker, all are rendered here in turn.
        A child that fails has its share rendered again here, so errors are raised from
        this process as in a serial run. Children are ended and reaped on any exception,
        Ctrl-C included.

    Returns
    -------
    list of Path
        The files, in the order of `jobs`.
    """
    plots = Path(out_dir) / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    n = plot_workers(workers, len(jobs))
    shares = _shares([w for _, _, w in jobs], n)
    if n > 1:
        _load_renderer()
    children = {}
    here = list(shares[0])
    try:
        for share in filter(None, shares[1:]):
            try:
                children[_fork_share(jobs, share, plots, dpi)] = share
            except OSError:  # no process to be had (e.g. EAGAIN): render the share here
                here.extend(share)
        _run_share(jobs, sorted(here), plots, dpi)
        failed = []
        while children:
            pid = next(iter(children))
            if not exited_cleanly(pid):
                failed.extend(children[pid])
            del children[pid]
        _run_share(jobs, sorted(failed), plots, dpi)
    finally:
        for pid in children:  # still running: we are leaving on an exception
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            exited_cleanly(pid)
    return [plots / name for name, _, _ in jobs]


class PlotAhead:
    """A forked child that imports matplotlib while a study runs, then draws the plot it is sent.

    Importing matplotlib costs as much as a study's engine work or more (0.5 s on a quiet
    machine, 2-3 s on a loaded one): started before the study, the child imports it on the other
    core. `draw` is the function that writes the plot, a module-level one (the child gets it
    at the fork); `send` hands the child its arguments, `wait` says whether it returned
    without error (False: draw it here, so errors are raised in this process as in a serial
    run). `close` ends a child that was never sent anything (an error or Ctrl-C on the way).
    Where processes cannot be forked, or this process runs other threads (a fork would copy
    their locks, held or not: a Dask client's, a notebook's), nothing is started and `wait` is
    False; so it is with ``start=False``. `modules` are imported in the child too, before it
    waits. Ctrl-C and SIGTERM end the child at once, and so does the end of the parent, even by
    SIGKILL (Linux).
    """

    def __init__(self, draw, modules=(), *, start=True):
        import threading

        self.draw = draw
        self.pid = self._w = None
        if not start or not can_fork() or threading.active_count() > 1:
            return
        r, w = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:  # no process to be had: draw here
            os.close(r)
            os.close(w)
            return
        if pid == 0:  # child
            status = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.close(w)
                end_with_parent(parent)
                import importlib

                _load_renderer()  # the point: matplotlib imported while the parent works
                for module in modules:
                    importlib.import_module(module)
                with os.fdopen(r, "rb") as f:
                    data = f.read()
                if data:
                    args, kwargs = pickle.loads(data)
                    draw(*args, **kwargs)
                    status = 0
            except BaseException:  # noqa: B036 - the parent draws it again and reports the error itself
                pass
            finally:
                os._exit(status)
        os.close(r)
        self.pid, self._w = pid, w

    def send(self, *args, **kwargs) -> None:
        """Hand the child the plot to draw (`draw`'s arguments)."""
        if self._w is None:
            return
        w, self._w = self._w, None
        try:
            with os.fdopen(w, "wb") as f:
                f.write(pickle.dumps((args, kwargs)))
        except OSError:  # the child is gone: `wait` says so
            pass

    def run(self, *args, **kwargs) -> None:
        """Have the child draw with these arguments (`draw`'s); where there is no child, or it
        fails, draw here (so errors are raised in this process). A second call draws here."""
        self.send(*args, **kwargs)
        if not self.wait():
            self.draw(*args, **kwargs)

    def wait(self) -> bool:
        """Wait for the child; True if it drew the plot."""
        if self.pid is None:
            return False
        pid, self.pid = self.pid, None
        return exited_cleanly(pid)

    def close(self) -> None:
        """End and reap the child if it is still there."""
        if self._w is not None:
            os.close(self._w)
            self._w = None
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self.wait()
