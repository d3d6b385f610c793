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
made while our functions are compiled and restored afterwards.

Importing numba costs about half a second, loading the cached kernels as much again; commands
that never run the engine (``bakhri validate``, ``show``, ``schema``) and small runs, which take
the plain-Python path (sim.engine.driver), need neither. So `njit` is lazy: it returns a
`Kernel` that holds the Python function and numba's options, and imports numba and builds the
dispatcher only when the function is first called or compiled into another one (numba asks it
for its type, ``_numba_type_``, or inlines it through ``py_func`` and ``targetoptions``).
`plain` gives the same function calling the plain-Python versions of the kernels it names,
for the uncompiled path.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import sys
import types
from collections.abc import Iterator

__all__ = ["njit", "cache_dir", "Kernel", "plain", "will_compile"]


def _candidates() -> Iterator[pathlib.Path]:
    if os.environ.get("BAKHRI_CACHE_DIR"):
        yield pathlib.Path(os.environ["BAKHRI_CACHE_DIR"]) / "numba"
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        yield pathlib.Path(xdg) / "bakhri" / "numba"
    with contextlib.suppress(RuntimeError):
        yield pathlib.Path.home() / ".cache" / "bakhri" / "numba"
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    import tempfile  # here: the rules import this module, and validation needs no cache folder

    yield pathlib.Path(tempfile.gettempdir()) / f"bakhri-cache-{uid}" / "numba"


def _writable(path: pathlib.Path) -> bool:
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


def _numba_setting() -> str:
    """numba's own cache setting (NUMBA_CACHE_DIR), read without importing numba when it is not loaded."""
    config = getattr(sys.modules.get("numba.core.config"), "CACHE_DIR", None)
    return config if config is not None else os.environ.get("NUMBA_CACHE_DIR", "")


def cache_dir() -> pathlib.Path | None:
    """The folder our compiled kernels are cached in (None: no writable folder, no cache)."""
    setting = _numba_setting()
    if setting:
        return pathlib.Path(setting)
    return next((p for p in _candidates() if _writable(p)), None)


@contextlib.contextmanager
def _caching_in(folder: pathlib.Path) -> Iterator[None]:
    from numba.core import config

    before = config.CACHE_DIR
    config.CACHE_DIR = str(folder)
    try:
        yield
    finally:
        config.CACHE_DIR = before


_UNSET = object()
_CACHE_DIR = _UNSET  # found on the first compilation


def _compile(fn, options):
    """numba's dispatcher of `fn` (imports numba); ``cache=True`` caches in `cache_dir`."""
    global _CACHE_DIR
    import numba

    if not options.get("cache"):
        return numba.njit(**options)(fn)
    if _CACHE_DIR is _UNSET:
        _CACHE_DIR = cache_dir()
    if _CACHE_DIR is None:  # nowhere to write: compile every session rather than litter
        return numba.njit(**{**options, "cache": False})(fn)
    with _caching_in(_CACHE_DIR):
        return numba.njit(**options)(fn)


class Kernel:
    """A function for numba's nopython mode, compiled on first need.

    Calling it, or reading a numba attribute (``signatures``, ``_cache``, ...), builds numba's
    dispatcher (`dispatcher`); a kernel compiled into another one is typed and inlined by numba
    through `_numba_type_`, `py_func` and `targetoptions`, like numba's own dispatchers.
    """

    def __init__(self, fn, options):
        self.py_func = fn
        self.targetoptions = dict(options)
        self._dispatcher = None
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__module__ = fn.__module__
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    @property
    def dispatcher(self):
        """numba's dispatcher (created, i.e. numba imported, on first use)."""
        if self._dispatcher is None:
            self._dispatcher = _compile(self.py_func, self.targetoptions)
        return self._dispatcher

    @property
    def compiled(self) -> bool:
        """Whether numba's dispatcher exists in this process (not whether it has compiled)."""
        return self._dispatcher is not None

    @property
    def _numba_type_(self):
        return self.dispatcher._numba_type_

    def __call__(self, *args, **kwargs):
        return self.dispatcher(*args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_dispatcher", "py_func", "targetoptions"):
            raise AttributeError(name)
        return getattr(self.dispatcher, name)

    def __repr__(self):
        return f"<Kernel {self.__module__}.{self.__qualname__}{' (compiled)' if self.compiled else ''}>"


def njit(**options):
    """``numba.njit(**options)``, lazily: a `Kernel`; ``cache=True`` caches in `cache_dir`."""
    def decorate(fn):
        return Kernel(fn, options)
    return decorate


def _py_func(obj):
    """The Python function behind a kernel or a numba dispatcher; None for anything else."""
    if isinstance(obj, Kernel):
        return obj.py_func
    fn = getattr(obj, "py_func", None) if hasattr(obj, "targetoptions") else None
    return fn if isinstance(fn, types.FunctionType) else None


def plain(fn, replace: dict | None = None, _memo: dict | None = None):
    """`fn` (a kernel or a function) as plain Python that calls plain Python all the way down.

    The function's global names that are kernels (or numba dispatchers) are bound to their
    plain twins, recursively, in a copy of its globals; `replace` binds names of `fn` itself
    to other objects (the engine's ``rule_step``). Module attributes (``compiled.net_head``)
    are not followed: they stay compiled. The code is the same code object numba compiles:
    the same operations in the same order on IEEE doubles.
    """
    memo = {} if _memo is None else _memo
    base = _py_func(fn) or fn
    if base in memo and not replace:
        return memo[base]
    glb = dict(base.__globals__)
    for name in base.__code__.co_names:
        inner = _py_func(glb.get(name))
        if inner is not None:
            glb[name] = plain(inner, None, memo)
    glb.update(replace or {})
    out = types.FunctionType(base.__code__, glb, base.__name__, base.__defaults__, base.__closure__)
    out.__kwdefaults__ = base.__kwdefaults__
    out.__doc__, out.__qualname__, out.__module__ = base.__doc__, base.__qualname__, base.__module__
    if not replace:
        memo[base] = out
    return out


def will_compile(dispatcher) -> bool:
    """True when calling `dispatcher` (a `Kernel` or a numba dispatcher) will compile it: not
    yet compiled in this process and no cache entry on disk (after an install, or when the
    source changed). Best effort: it reads numba's cache index, and answers False when it
    cannot tell."""
    try:
        if isinstance(dispatcher, Kernel):
            dispatcher = dispatcher.dispatcher
        if dispatcher.signatures:
            return False
        cache = getattr(dispatcher, "_cache", None)
        index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
        if index is None:
            return True  # no cache at all: every process compiles
        return not pathlib.Path(index).is_file()
    except Exception:  # noqa: BLE001 - a private numba detail changed: say nothing
        return False
