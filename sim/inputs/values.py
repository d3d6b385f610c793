"""The values a series is given, checked: numbers only, finite, and >= 0 unless allowed.

Every problem raises (or is listed as) a one-line message that says what was found and what
was expected, without file or key context: the scenario loader prefixes the key path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np

__all__ = ["SeriesError", "as_values", "is_number", "short", "check_values", "problems", "raise_problems"]


class SeriesError(ValueError):
    """A series cannot be turned into daily values; the message is one line."""


def as_values(values, what: str = "values") -> np.ndarray:
    """Convert a sequence of numbers to a 1-D float64 array, or raise SeriesError."""
    if isinstance(values, (str, bytes, Mapping)) or np.isscalar(values):
        raise SeriesError(f"expected a list of numbers, found {short(values)}")
    try:
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    except TypeError:
        raise SeriesError(f"expected a list of numbers, found {short(values)}") from None
    try:
        # numpy would turn "500" into 500.0: a numeric string in a list is refused, as alone
        if not all(is_number(v) or isinstance(v, (list, tuple, np.ndarray)) for v in items):
            raise TypeError
        array = np.asarray(items, dtype=np.float64)
    except (TypeError, ValueError):
        bad = next((v for v in items if not is_number(v)), items)
        raise SeriesError(f"expected a list of numbers, found {short(bad)} among the {what}") from None
    if array.ndim != 1:
        raise SeriesError(f"expected a flat list of numbers, found an array of shape {array.shape}")
    return array


def is_number(value) -> bool:
    """A real number, and not a bool (to Python, TOML's and numpy's booleans are numbers)."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def short(value) -> str:
    """A value as a message shows it: strings quoted, cut to 40 characters."""
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_values(values, *, name: str = "value", allow_negative: bool = False) -> list[str]:
    """Problems with a series' values: non-finite, or negative when not allowed.

    Parameters
    ----------
    values : array_like of float
        The values as given (e.g. the 36 decadal values), checked element by element.
    name : str, default "value"
        Word that starts each message.
    allow_negative : bool, default False
        Accept negative values.

    Returns
    -------
    list of str
        One message per bad value, empty if all is well, e.g.
        ``value 3 is -5.0; expected a finite number >= 0``. Values are numbered from 1
        (``value 1`` is the first), as a person counts the items of a TOML list.
    """
    array = np.atleast_1d(np.asarray(values, dtype=np.float64)).ravel()
    return problems(array, lambda i: f"{name} {i + 1}", allow_negative)


def problems(array: np.ndarray, label, allow_negative: bool) -> list[str]:
    """Messages for bad elements; ``label(i)`` names element ``i``."""
    bad = ~np.isfinite(array)
    if not allow_negative:
        bad |= array < 0
    expected = "a finite number" if allow_negative else "a finite number >= 0"
    return [f"{label(i)} is {float(array[i])!r}; expected {expected}" for i in np.flatnonzero(bad)]


def raise_problems(found: Sequence[str]) -> None:
    """Raise the first of the problems `found`, if any, as a SeriesError that counts the others."""
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise SeriesError(found[0] + more)
