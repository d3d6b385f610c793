"""Errors and message helpers of the scenario checks: key paths, what was found, did-you-mean."""

from __future__ import annotations

import datetime
import json
import os
import re
from collections.abc import Mapping

from sim.physics.ranges import number_text

BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")


class ScenarioError(ValueError):
    """Everything wrong with a scenario file, as one error.

    Attributes
    ----------
    path : str or None
        The file the problems are in (as given by the caller), or None for a dict.
    problems : list of str
        One line each, ``"key.path: message"``.

    ``str(err)`` is ``"<file>: key.path: message"`` for one problem, otherwise
    ``"<file>: N problems"`` followed by one indented line per problem.
    """

    def __init__(self, path, problems):
        self.path = None if path is None else os.fspath(path)
        self.problems = list(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        where = self.path if self.path is not None else "<scenario>"
        if len(self.problems) == 1:
            return f"{where}: {self.problems[0]}"
        return f"{where}: {len(self.problems)} problems\n" + "\n".join(f"  {p}" for p in self.problems)

    def __str__(self) -> str:
        return self._text()


def key_text(k) -> str:
    k = str(k)
    return k if BARE_KEY_RE.match(k) else json.dumps(k, ensure_ascii=False)


def join_key(path: str, k) -> str:
    return f"{path}.{key_text(k)}" if path else key_text(k)


def quoted(names) -> str:
    return ", ".join(f'"{n}"' for n in names)


def describe_value(value) -> str:
    """What was found, for messages: ``the string "1.0"``, ``the integer 3``, ``a table`` ..."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {number_text(value)}"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f'the string "{text}"'
    if isinstance(value, datetime.datetime):
        return f"the date-time {value.isoformat()}"
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, datetime.time):
        return f"the time {value.isoformat()}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, Mapping):
        return "a table"
    return repr(value)


def did_you_mean(word, choices) -> str:
    import difflib  # here: only a bad key needs it, and `validate` of a good file is timed

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def unknown_name(what: str, name, choices) -> str:
    """``"demnad" is not a rule; did you mean "demand"? (choose one of ...)``."""
    return f'"{name}" is not {what}{did_you_mean(name, choices)} (choose one of {quoted(sorted(choices))})'


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_date(v) -> bool:
    return isinstance(v, datetime.date) and not isinstance(v, datetime.datetime)
