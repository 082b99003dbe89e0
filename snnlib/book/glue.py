"""The one rule from a name to a glue key, and :func:`glue_all`, the one way a notebook glues.

A page reads a notebook's numbers through myst-nb's ``glue`` (``{glue:text}`key:.1f```), so a
glue key is an interface between a notebook and a page. Two traps this module closes:

- **Keys made by hand drift.** Rows named ``"tcsa, sigmoid gate"`` became keys by three
  different ad-hoc replacements. :func:`glue_key` is the one rule: every run of characters
  other than ASCII letters and digits becomes ``_``, with none at either end; case is kept
  (``"tcsa, sigmoid gate"`` -> ``tcsa_sigmoid_gate``, ``("B3", "speed-up")`` ->
  ``B3_speed_up``).
- **numpy scalars do not format.** ``glue("x", np.float64(0.5))`` stores the value's ``repr``
  (``np.float64(0.5)``), which a ``{glue:text}`x:.1f``` role cannot format: the page build
  fails (it happened). :func:`glue_all` turns numpy scalars into Python numbers first and
  refuses what a page cannot show (arrays, lists, dicts), naming the key.

Example:
    >>> glue_key("tcsa, sigmoid gate"), glue_key("B3", "speed-up"), glue_key("found - CNN")
    ('tcsa_sigmoid_gate', 'B3_speed_up', 'found_CNN')
    >>> plain_value(np.float32(0.25)), plain_value(np.int64(3)), plain_value(np.bool_(True))
    (0.25, 3, True)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

_NOT_KEY = re.compile(r"[^A-Za-z0-9]+")
_KEY = re.compile(r"^[A-Za-z0-9]+(_[A-Za-z0-9]+)*$")


def glue_key(*parts: Any) -> str:
    """The glue key of a name (or of several parts, joined by ``_``): see the module docstring.
    Raises ``ValueError`` when nothing of a key is left (``glue_key(", ")``)."""
    text = "_".join(str(p) for p in parts)
    key = _NOT_KEY.sub("_", text).strip("_")
    if not key:
        raise ValueError(f"glue_key: {parts!r} has no letter or digit to make a key of")
    return key


def check_key(key: str) -> str:
    """``key`` when it follows the rule of :func:`glue_key`; else ``ValueError`` naming it."""
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValueError(
            f"glue key {key!r} does not follow the glue-key rule (ASCII letters and digits in "
            f"words joined by single '_'); glue_key({key!r}) gives a key that does"
        )
    return key


def plain_value(value: Any) -> Any:
    """A value as a page can show it: numpy scalars as Python numbers; everything else as it is.
    A numpy array (of more than a scalar), a list, a tuple, a set or a dict is refused: a page
    glues one number, one string, a table or a figure."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return value.item()
        raise TypeError(f"a page cannot glue an array of shape {value.shape}; glue its values")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple | set | dict):
        raise TypeError(f"a page cannot glue a {type(value).__name__}; glue its values")
    return value


def glue_all(
    values: Mapping[str, Any],
    *,
    percent: Iterable[str] = (),
    skip: Iterable[str] = (),
    display: bool = False,
) -> dict[str, Any]:
    """Glue every ``key: value`` of ``values`` (keys checked by :func:`check_key`, values made
    plain by :func:`plain_value`); for each key of ``percent`` also ``<key>_pct`` = 100 x the
    value (a fraction shown in percent); keys of ``skip`` are left out. Returns what was glued,
    in order, so that a notebook can write the same values into its result file.

    Outside a notebook (no IPython kernel) myst-nb's ``glue`` stores nothing and this still
    checks every key and value."""
    from myst_nb import glue

    percent, skip = set(percent), set(skip)
    unknown = (percent | skip) - set(values)
    if unknown:
        raise KeyError(f"glue_all: percent/skip name keys that are not glued: {sorted(unknown)}")
    glued: dict[str, Any] = {}
    for key, value in values.items():
        if key in skip:
            continue
        try:
            plain = plain_value(value)
        except TypeError as err:
            raise TypeError(f"glue key {key!r}: {err}") from None
        glued[check_key(key)] = plain
        if key in percent:
            glued[f"{key}_pct"] = 100 * plain
    for key, value in glued.items():
        glue(key, value, display=display)
    return glued
