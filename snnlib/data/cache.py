"""Caches of decoded data that are checked on every read: one ``.npz`` file, its checksum inside.

Decoding an archive (60,000 JPEGs, 1,100 event recordings) or simulating a sensor takes seconds
to minutes, so the loaders keep the decoded arrays in a cache file. A cache is trusted only
after two checks on every read:

- **checksum**: the file holds, beside its arrays, :data:`CHECKSUM` = the sha256 of the arrays
  (:func:`snnlib.fileio.arrays_sha256` over dtype, shape and bytes, arrays in name order)
  written with them. A file whose arrays differ from what was written (zeroed pixels, edited
  labels) fails it; a file without it (written by an older version) is stale.
- **domain**: the loader's ``check(arrays)`` (:mod:`snnlib.data.checks`): dtype, shape,
  label range, value range and finiteness, events inside the sensor, sorted timestamps,
  offsets. This catches a cache that was written wrong, not only one that changed.

A file that cannot be read (truncated, garbage: ``EOFError``, ``BadZipFile``, numpy's
``ValueError``) or fails either check is a :class:`~snnlib.data.errors.CorruptCache` naming the
file and what is wrong. :func:`load_or_rebuild` then rebuilds it from its source (the
checksum-verified archive, or the simulator) and says so in a ``RuntimeWarning``; where the
source cannot rebuild it, the error says so and how to fix it. Files are read without pickle
and written atomically (:func:`snnlib.fileio.atomic_write`).
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..fileio import arrays_sha256, atomic_write
from .checks import ArrayProblem
from .errors import CorruptCache

CHECKSUM = "__arrays_sha256__"


def checksum(arrays: dict[str, np.ndarray]) -> str:
    """The sha256 of ``arrays`` (dtype, shape and bytes of each, in name order)."""
    return arrays_sha256(*(arrays[k] for k in sorted(arrays)))


def write_cache(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` and their :func:`checksum` to ``path`` (``.npz``, atomically)."""
    if CHECKSUM in arrays:
        raise ValueError(f"{CHECKSUM!r} is reserved for the checksum")
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    stored = {**arrays, CHECKSUM: np.array(checksum(arrays))}
    return atomic_write(path, lambda f: np.savez(f, **stored), binary=True)


def read_cache(
    path: str | Path,
    names: tuple[str, ...],
    check: Callable[[dict[str, np.ndarray]], None] | None = None,
) -> dict[str, np.ndarray]:
    """The arrays ``names`` of the cache ``path``, checksum verified and ``check``-ed (a
    function that raises :class:`~snnlib.data.checks.ArrayProblem`); else
    :class:`~snnlib.data.errors.CorruptCache` naming the file and what is wrong."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:  # closed also when numpy's reader fails
            f = np.load(fh, allow_pickle=False)
            if not isinstance(f, np.lib.npyio.NpzFile):
                raise CorruptCache(path, "is a single array, not the expected .npz archive")
            with f:
                present = set(f.files)
                stored = str(f[CHECKSUM]) if CHECKSUM in present else None
                arrays = {k: f[k] for k in names if k in present}
    except CorruptCache:
        raise
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        kind = type(exc).__name__
        raise CorruptCache(path, f"is unreadable, truncated or garbage ({kind}: {exc})") from exc
    missing = [k for k in names if k not in arrays]
    if missing:
        raise CorruptCache(path, f"lacks the array(s) {missing}")
    if stored is None:
        raise CorruptCache(path, f"has no checksum ({CHECKSUM}): written by an older version")
    digest = checksum(arrays)
    if digest != stored:
        raise CorruptCache(
            path,
            f"fails its checksum: its arrays hash to {digest[:16]}..., written as "
            f"{stored[:16]}... (changed since it was written)",
        )
    if check is not None:
        try:
            check(arrays)
        except ArrayProblem as exc:
            raise CorruptCache(path, f"is out of its domain: {exc}") from exc
    return arrays


def load_or_rebuild(
    path: str | Path,
    names: tuple[str, ...],
    build: Callable[[], dict[str, np.ndarray]],
    check: Callable[[dict[str, np.ndarray]], None] | None = None,
    *,
    source: str = "its source",
) -> dict[str, np.ndarray]:
    """The cache ``path`` if it passes :func:`read_cache`; else ``build()`` (from ``source``,
    named in the warning or error), written to ``path`` and returned.

    A missing file is built silently; a failing one is rebuilt with a ``RuntimeWarning`` that
    names it and what was wrong. When ``build`` itself fails, the :class:`CorruptCache` says why
    the cache could not be rebuilt (the source's error is chained).
    """
    path = Path(path)
    problem = None
    if path.is_file():
        try:
            return read_cache(path, names, check)
        except CorruptCache as exc:
            problem = exc
    try:
        arrays = build()
    except Exception as exc:
        if problem is None:
            raise
        raise CorruptCache(
            path,
            problem.problem,
            f"It cannot be rebuilt from {source} ({type(exc).__name__}: {exc}); restore "
            f"{source}, then delete {path} and load again to rebuild it.",
        ) from exc
    if check is not None:
        try:
            check(arrays)
        except ArrayProblem as exc:  # the source itself decodes to bad data
            raise CorruptCache(path, f"would be out of its domain: {exc}") from exc
    write_cache(path, arrays)
    if problem is not None:
        warnings.warn(
            f"the cache {path} {problem.problem}; rebuilt it from {source}",
            RuntimeWarning,
            stacklevel=3,
        )
    return arrays
