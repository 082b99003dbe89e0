"""Domain checks of decoded data arrays: what a cache (or any decoded copy) must hold.

A checksum only says that a cache holds what was written; these checks say that what it holds
is data of the kind the loader serves: the dtype and shape, labels that are integers in
``0 .. num_classes - 1``, pixel values in range, finite frames, events inside the sensor with
polarity 0/1, timestamps non-negative and sorted within each recording, and offsets that start
at 0, never decrease and end at the event count. Every check raises :class:`ArrayProblem`
(a ``ValueError``) naming the array (``field``) and what is wrong; the cache reader adds the
file (:class:`snnlib.data.errors.CorruptCache`).
"""

from __future__ import annotations

import numpy as np


class ArrayProblem(ValueError):
    """One array breaks its domain: ``field`` names it, the message says how."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask.reshape(-1))[0])


def check_array(
    field: str,
    a: np.ndarray,
    *,
    dtype=None,
    shape: tuple | None = None,
    ndim: int | None = None,
    low: float | None = None,
    high: float | None = None,
) -> np.ndarray:
    """``a`` if it has ``dtype``, ``shape`` (``None`` entries: any length) or ``ndim``, and,
    for numbers, only finite values in ``[low, high]``; else :class:`ArrayProblem`."""
    if not isinstance(a, np.ndarray):
        raise ArrayProblem(field, f"is a {type(a).__name__}, not an array")
    if dtype is not None and a.dtype != np.dtype(dtype):
        raise ArrayProblem(field, f"has dtype {a.dtype}, expected {np.dtype(dtype)}")
    if ndim is not None and a.ndim != ndim:
        raise ArrayProblem(field, f"has shape {a.shape}, expected {ndim} dimensions")
    if shape is not None and (
        a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape))
    ):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ArrayProblem(field, f"has shape {a.shape}, expected {want}")
    if a.dtype.kind == "f" and a.size:
        bad = ~np.isfinite(a)
        if bad.any():
            raise ArrayProblem(field, f"holds a non-finite value ({a.reshape(-1)[_first(bad)]})")
    if a.dtype.kind in "iuf" and a.size:
        if low is not None and (a < low).any():
            v = a.reshape(-1)[_first(a < low)]
            raise ArrayProblem(field, f"holds {v}, below the allowed minimum {low}")
        if high is not None and (a > high).any():
            v = a.reshape(-1)[_first(a > high)]
            raise ArrayProblem(field, f"holds {v}, above the allowed maximum {high}")
    return a


def check_labels(field: str, y: np.ndarray, num_classes: int, n: int | None = None) -> np.ndarray:
    """Integer labels (an integer dtype) in ``0 .. num_classes - 1``, ``n`` of them."""
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu":
        kind = y.dtype if isinstance(y, np.ndarray) else type(y).__name__
        raise ArrayProblem(field, f"labels have dtype {kind}; they must be integers")
    return check_array(field, y, shape=(n,), low=0, high=num_classes - 1)


def check_offsets(field: str, offsets: np.ndarray, n_items: int, n_events: int) -> np.ndarray:
    """int64 offsets of ``n_items`` recordings: ``n_items + 1`` of them, from 0, never
    decreasing, ending at ``n_events``."""
    check_array(field, offsets, dtype=np.int64, shape=(n_items + 1,))
    if offsets[0] != 0:
        raise ArrayProblem(field, f"starts at {offsets[0]}, not 0")
    step = np.diff(offsets)
    if (step < 0).any():
        i = _first(step < 0)
        raise ArrayProblem(
            field,
            f"decrease at recording {i} ({offsets[i]} then {offsets[i + 1]}): recordings overlap",
        )
    if offsets[-1] != n_events:
        raise ArrayProblem(field, f"end at {offsets[-1]}, not at the event count {n_events}")
    return offsets


def check_events(
    field: str,
    events: np.ndarray,
    offsets: np.ndarray,
    *,
    dtype,
    sensor: int,
    n_items: int,
    t_max: int | None = None,
) -> np.ndarray:
    """Structured events (``x``, ``y``, ``t``, ``p``) of ``n_items`` recordings cut by
    ``offsets``: coordinates in ``[0, sensor)``, polarity 0/1, timestamps in ``[0, t_max]`` and
    sorted within each recording."""
    check_array(field, events, dtype=dtype, ndim=1)
    check_offsets(f"{field} offsets", offsets, n_items, len(events))
    for c in ("x", "y"):
        check_array(f"{field}.{c}", events[c], low=0, high=sensor - 1)
    p = events["p"]
    if p.dtype == bool:
        p = p.view(np.uint8)
    check_array(f"{field}.p (polarity)", p, low=0, high=1)
    t = events["t"]
    check_array(f"{field}.t (timestamps)", t, low=0, high=t_max)
    if len(t) > 1:
        step = np.diff(t)
        starts = offsets[1:-1]
        inside = np.ones(len(step), dtype=bool)
        inside[starts[(starts > 0) & (starts < len(t))] - 1] = False  # a new recording
        back = (step < 0) & inside
        if back.any():
            i = _first(back)
            rec = int(np.searchsorted(offsets, i, side="right") - 1)
            raise ArrayProblem(
                f"{field}.t (timestamps)",
                f"go back in time within recording {rec} (event {i + 1}: {t[i]} then "
                f"{t[i + 1]}); events must be sorted by time",
            )
    return events
