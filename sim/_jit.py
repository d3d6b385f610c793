"""numba's `njit`, with the compiled-code cache kept outside the package folder.

By default numba caches compiled functions in ``__pycache__`` next to their source. For an
installed package that is ``site-packages/sim/__pycache__``: files pip does not know of, so
an uninstall leaves the folder behind, and a later editable install then finds an empty
``sim`` namespace package there in place of the real one. Our kernels are cached in the
user's cache folder instead:

1. ``NUMBA_CACHE_DIR``, if the user set it (numba's own setting, honoured as numba does);
2. else ``BAKHRI_CACHE_DIR``, ``$XDG_CACHE_HOME/bakhri`` or ``~/.cache/bakhri`` (sub-folder
   ``numba``), the first that can be written;
3. else a per-user folder in the temporary directory.

numba keeps one sub-folder per source folder, keyed by its full path, so two checkouts or
installs never share entries. Only this package's functions are affected: the setting is
made while our functions are decorated and restored afterwards.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
from collections.abc import Iterator

import numba
from numba.core import config

__all__ = ["njit", "cache_dir"]


def _candidates() -> Iterator[pathlib.Path]:
    if os.environ.get("BAKHRI_CACHE_DIR"):
        yield pathlib.Path(os.environ["BAKHRI_CACHE_DIR"]) / "numba"
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        yield pathlib.Path(xdg) / "bakhri" / "numba"
    with contextlib.suppress(RuntimeError):
        yield pathlib.Path.home() / ".cache" / "bakhri" / "numba"
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    yield pathlib.Path(tempfile.gettempdir()) / f"bakhri-cache-{uid}" / "numba"


def _writable(path: pathlib.Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


def cache_dir() -> pathlib.Path | None:
    """The folder our compiled kernels are cached in (None: no writable folder, no cache)."""
    if config.CACHE_DIR:
        return pathlib.Path(config.CACHE_DIR)
    return next((p for p in _candidates() if _writable(p)), None)


@contextlib.contextmanager
def _caching_in(folder: pathlib.Path) -> Iterator[None]:
    before = config.CACHE_DIR
    config.CACHE_DIR = str(folder)
    try:
        yield
    finally:
        config.CACHE_DIR = before


_CACHE_DIR = cache_dir()


def njit(**options):
    """``numba.njit(**options)``; ``cache=True`` caches in `cache_dir`, never in the package."""
    def decorate(fn):
        if not options.get("cache"):
            return numba.njit(**options)(fn)
        if _CACHE_DIR is None:  # nowhere to write: compile every session rather than litter
            return numba.njit(**{**options, "cache": False})(fn)
        with _caching_in(_CACHE_DIR):
            return numba.njit(**options)(fn)
    return decorate


def will_compile(dispatcher) -> bool:
    """True when calling `dispatcher` will compile it: not yet compiled in this process and no
    cache entry on disk (after an install, or when the source changed). Best effort: it reads
    numba's cache index, and answers False when it cannot tell."""
    try:
        if dispatcher.signatures:
            return False
        cache = getattr(dispatcher, "_cache", None)
        index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
        if index is None:
            return True  # no cache at all: every process compiles
        return not pathlib.Path(index).is_file()
    except Exception:  # noqa: BLE001 - a private numba detail changed: say nothing
        return False
