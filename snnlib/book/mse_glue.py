"""Which numbers of an MSE-NAS result file its chapter glues: every metric that is one number.

A result file's ``metrics`` also hold lists (accuracies per seed), booleans (verdicts a page
states in words, glued as text by the notebook) and ``None`` (a measure a run did not take);
a page formats only numbers, so those stay in the file and out of the glue. Fractions a page
shows in percent are glued a second time as ``<key>_pct`` (:func:`snnlib.book.glue.glue_all`).

Example:
    >>> page_numbers({"acc": 0.5, "accs": [0.5], "beats": True, "n": 3, "none": None})
    {'acc': 0.5, 'n': 3}
    >>> accuracy_keys({"test_acc": 0.5, "n": 3, "acc_seconds": 1.0})
    ['test_acc']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from numbers import Real
from typing import Any

from .glue import glue_all


def page_numbers(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The metrics that are one real number (not a bool, a list or ``None``), in order."""
    return {k: v for k, v in metrics.items() if isinstance(v, Real) and not isinstance(v, bool)}


def accuracy_keys(metrics: Mapping[str, Any]) -> list[str]:
    """The keys that name an accuracy (``...acc``): fractions the chapter shows in percent."""
    return [k for k in metrics if k.endswith("acc")]


def glue_numbers(metrics: Mapping[str, Any], percent: Iterable[str] = ()) -> dict[str, Any]:
    """Glue :func:`page_numbers` of ``metrics``; those of ``percent`` also as ``<key>_pct``
    (a key of ``percent`` that is not a number, e.g. ``None``, is glued neither way).
    Returns what was glued."""
    numbers = page_numbers(metrics)
    return glue_all(numbers, percent=[k for k in percent if k in numbers])
