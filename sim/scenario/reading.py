"""Reading scenario files: TOML parsing, nesting depth, ``extends`` chains and their merge rules."""

from __future__ import annotations

import copy
import os
import re
import tomllib

from sim.scenario.errors import ScenarioError, describe_value
from sim.scenario.keys import FLOW_FORMS, MAX_EXTENDS_DEPTH, MAX_NESTING, SERIES_TABLE_FORMS

# Merge: keys that are alternatives to each other (a child giving one drops the parent's others).
_EXCLUSIVE = (
    frozenset(("preset", "volume_hm3", "window", "extra_m3s", "extra_from", "column", "start")
              + FLOW_FORMS + SERIES_TABLE_FORMS),
    frozenset(("initial_level_m", "initial_storage_hm3")),
)  # fmt: skip
#: Tables that a child file replaces whole rather than merging key by key: the tailwater
#: rating, a protocol's window and every guide curve of a rule (`_replace_whole`).
_REPLACE_WHOLE = frozenset(("tailwater", "window"))


def _replace_whole() -> frozenset:
    """`_REPLACE_WHOLE` and the keys of the registered rules' guide curves ({ "04-01" = 346.0, ... })."""
    from sim.rules import RULES  # the package: importing it registers the built-in rules
    from sim.rules.base import GUIDE

    return _REPLACE_WHOLE | {p.key for rule in RULES.values() for p in rule.params if p.kind == GUIDE}
_PATH_KEYS = frozenset(("csv", "hypsometry"))


class Files:
    """Display names of the files read, relative to the top file's folder."""

    def __init__(self, top_abs: str | None, top_given: str | None):
        self.top_abs = top_abs
        self.top_given = top_given
        self.folder = os.path.dirname(top_abs) if top_abs else os.getcwd()

    def rel(self, path_abs: str) -> str:
        try:
            return os.path.relpath(path_abs, self.folder)
        except ValueError:  # another drive (Windows)
            return path_abs

    def given(self, path_abs: str) -> str:
        """A path the user can open: next to the top file as the user named it."""
        if path_abs == self.top_abs and self.top_given is not None:
            return self.top_given
        if self.top_given is None:
            return self.rel(path_abs)
        return os.path.normpath(os.path.join(os.path.dirname(self.top_given), self.rel(path_abs)))


TOO_DEEP = f"arrays and tables nested more than {MAX_NESTING} levels deep; expected at most {MAX_NESTING}"


def read_toml(path_abs: str, files: Files, where: str | None = None) -> dict:
    """Parse one file. Problems of a parent file (``where`` is the ``extends`` key that
    names it) are blamed on the parent by name, in an error about the top file."""

    def fail(problem):
        if where is None:
            return ScenarioError(files.given(path_abs), [problem])
        return ScenarioError(files.top_given, [f"{where}: {files.rel(path_abs)}: {problem}"])

    try:
        with open(path_abs, "rb") as fh:
            raw = fh.read()
        # A UTF-8 byte-order mark (Windows editors write one) is not TOML: drop it.
        data = tomllib.loads(raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    except FileNotFoundError:
        raise fail("file not found") from None
    except IsADirectoryError:
        raise fail("not a file (a folder)") from None
    except UnicodeDecodeError as err:
        raise fail(f"not a UTF-8 text file (byte {err.start})") from None
    except tomllib.TOMLDecodeError as err:
        raise fail(_toml_error(err)) from None
    except RecursionError:
        raise fail(TOO_DEEP) from None
    if nesting_depth(data) > MAX_NESTING:
        raise fail(TOO_DEEP)
    return data


def nesting_depth(data) -> int:
    """Deepest nesting of lists and dicts (iterative: no recursion limit to hit)."""
    deepest, stack = 0, [(data, 0)]
    while stack:
        item, d = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, d + 1)
            stack.extend((v, d + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _toml_error(err: tomllib.TOMLDecodeError) -> str:
    text = str(err)
    m = re.match(r"^(.*) \(at line (\d+), column (\d+)\)$", text, re.S)
    if m:
        return f"TOML syntax error at line {m.group(2)}, column {m.group(3)}: {m.group(1)}"
    m = re.match(r"^(.*) \(at end of document\)$", text, re.S)
    if m:
        return f"TOML syntax error at the end of the file: {m.group(1)}"
    return f"TOML syntax error: {text}"


def absolutize(data, folder: str):
    """Resolve relative ``csv`` / ``hypsometry`` paths against ``folder``, in place."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k in _PATH_KEYS and isinstance(v, str) and v and not os.path.isabs(v):
                data[k] = os.path.normpath(os.path.join(folder, os.path.expanduser(v)))
            else:
                absolutize(v, folder)
    elif isinstance(data, list):
        for item in data:
            absolutize(item, folder)


def _merge(base: dict, over: dict, whole: frozenset, path: tuple = ()) -> dict:
    """Deep merge, ``over`` winning (see the module's merge rules); tables under the keys in
    `whole` (`_replace_whole`) are replaced, not merged."""
    if len(path) == 2 and path[0] == "regimes" and "rule" in over and base.get("rule") != over["rule"]:
        return copy.deepcopy(over)
    out = dict(base)
    for group in _EXCLUSIVE:
        if any(k in over for k in group):
            for k in group:
                if k not in over:
                    out.pop(k, None)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in whole:
            out[k] = _merge(out[k], v, whole, path + (k,))
        else:
            out[k] = copy.deepcopy(v)
    return out


_PER_FILE = ("name", "title", "description", "extends")


def resolve_extends(data: dict, path_abs: str | None, files: Files, stack: tuple) -> dict:
    """``data`` (one file, paths already absolute) merged over its ``extends`` chain."""
    folder = os.path.dirname(path_abs) if path_abs else files.folder
    scen = data.get("scenario")
    extends = scen.get("extends") if isinstance(scen, dict) else None
    if extends is None:
        return data
    where = "scenario.extends" if path_abs in (None, files.top_abs) else f"scenario.extends (in {files.rel(path_abs)})"
    top = files.top_given
    if not isinstance(extends, str) or not extends.strip():
        raise ScenarioError(top, [f"{where}: found {describe_value(extends)}; expected the path of a scenario file"])
    parent_abs = os.path.normpath(os.path.join(folder, os.path.expanduser(extends)))
    chain = stack + ((path_abs,) if path_abs else ())
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(top, [f"scenario.extends: the extends chain is more than {MAX_EXTENDS_DEPTH} files deep "
                                  f"({files.rel(chain[0])} → {files.rel(chain[1])} → ...); expected at most {MAX_EXTENDS_DEPTH}"])
    if parent_abs in chain:
        names = [files.rel(p) for p in chain[chain.index(parent_abs):]] + [files.rel(parent_abs)]
        raise ScenarioError(top, ["extends cycle: " + " → ".join(names)])
    if not os.path.isfile(parent_abs):
        raise ScenarioError(top, [f"{where}: file not found: {files.rel(parent_abs)}"])
    parent = read_toml(parent_abs, files, where)
    absolutize(parent, os.path.dirname(parent_abs))
    parent = resolve_extends(parent, parent_abs, files, chain)
    sources = [parent_abs] + parent.pop("__sources__", [])
    pscen = parent.get("scenario")
    if isinstance(pscen, dict):
        parent["scenario"] = {k: v for k, v in pscen.items() if k not in _PER_FILE}
    merged = _merge(parent, data, _replace_whole())
    merged["scenario"] = {k: v for k, v in merged.get("scenario", {}).items() if k != "extends"}
    merged["__sources__"] = sources
    return merged
