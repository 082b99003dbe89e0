"""The three scales of every notebook: ``smoke`` (tests), ``cpu`` (the book), ``paper`` (a GPU).

A scale's entry may hold ``per_dataset``: data set name -> the settings that differ for that
data set. The ``cpu`` scale needs it: a budget sized for 8x8 digits (1,079 training images)
would take hours on CIFAR-10 (45,000 images of 3x32x32), so CIFAR-size data sets get their
own subset sizes, time steps and epochs there, and the notebook states them.
"""

from __future__ import annotations

from typing import Any

from ..validation import ConfigError, check_choice

SCALES = ("smoke", "cpu", "paper")


def pick_scale(scale: str, table: dict[str, Any], dataset: str | None = None) -> Any:
    """Return ``table[scale]`` for one of the three scales, with a clear error otherwise.

    With ``dataset`` and a ``per_dataset`` entry, the settings listed for that data set
    replace the scale's own (a shallow merge; ``per_dataset`` itself is dropped):

    >>> table = {s: dict(epochs=12, per_dataset={"cifar10": dict(epochs=6)}) for s in SCALES}
    >>> pick_scale("cpu", table, "cifar10")
    {'epochs': 6}
    >>> pick_scale("cpu", table, "digits")
    {'epochs': 12}
    """
    check_choice("scale", scale, SCALES)
    missing = [s for s in SCALES if s not in table]
    if missing:
        raise ConfigError(f"scale table lacks entries for {missing}")
    entry = table[scale]
    if not isinstance(entry, dict) or "per_dataset" not in entry:
        return entry
    entry = dict(entry)
    per_dataset = entry.pop("per_dataset")
    if not isinstance(per_dataset, dict):
        raise ConfigError(f"per_dataset of scale {scale!r} must map data set names to settings")
    unknown = sorted(set().union(*(set(v) for v in per_dataset.values())) - set(entry))
    if unknown:
        raise ConfigError(
            f"per_dataset of scale {scale!r} sets {unknown}, which the scale does not have; "
            f"it has {sorted(entry)}"
        )
    return {**entry, **per_dataset.get(dataset, {})}
