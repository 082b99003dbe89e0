"""The file of a saved user data set: ``<data root>/user/<name>.npz``, compact and checked.

Written by :func:`snnlib.data.from_tensors` / :func:`snnlib.data.from_events` with
``save=True`` (through :func:`write`), read by name from any process (:func:`read`). The file
is one ``np.savez_compressed`` archive, read with ``allow_pickle=False`` (nothing in it can run
code), holding:

- ``meta``: one JSON string (format, name, kind, classes, sensor, the dtype each array is
  decoded to, and ``sha256``, the checksum of the decoded arrays, which a result file records
  as the data it read);
- images: ``x`` (``[N, C, H, W]`` or frames ``[N, T, P, H, W]``); events: one column per
  field (``x``, ``y``, ``t``, ``p``) and ``offsets`` (recording ``i`` is
  ``offsets[i]:offsets[i + 1]``), so events stay events (a few bytes each), not dense frames;
- ``labels``, ``split_train``, ``split_val``, ``split_test``.

Each array is stored in the smallest dtype that gives back exactly the same values
(:func:`compact`: ``uint8`` for images of integers 0..255, or of ``k / 255``; the smallest
integer type for coordinates; ``float16`` where exact; else the dtype itself). On read the
arrays are decoded and their checksum compared with the recorded one: a changed file is
refused, naming its path.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from ..fileio import atomic_write
from ..validation import ConfigError

SUFFIX = ".npz"
VERSION = 1
_INTS = (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32)


def compact(a: np.ndarray) -> tuple[np.ndarray, dict]:
    """``a`` in the smallest dtype that decodes (:func:`expand`) to exactly ``a``, and the
    decoding recipe (``{"dtype": ..., "divisor": ...}``).

    >>> stored, how = compact(np.array([0.0, 1.0, 255.0], np.float32))
    >>> stored.dtype.name, how
    ('uint8', {'dtype': '<f4', 'divisor': 1})
    >>> compact(np.array([0, 1, 2], np.float32) / np.float32(255))[1]["divisor"]
    255
    """
    a = np.ascontiguousarray(a)
    kinds = [(t, 1) for t in _INTS]
    if a.dtype.kind == "f":
        kinds += [(np.uint8, 255), (np.float16, 1), (np.float32, 1)]
    for dtype, divisor in kinds:
        if np.dtype(dtype).itemsize >= a.dtype.itemsize:
            continue
        how = {"dtype": a.dtype.str, "divisor": divisor}
        with np.errstate(all="ignore"):
            scaled = a * divisor if divisor != 1 else a
            if np.dtype(dtype).kind in "iu":
                info = np.iinfo(dtype)
                if a.size and not (
                    np.all(np.isfinite(scaled))
                    and info.min <= scaled.min()
                    and scaled.max() <= info.max
                ):
                    continue
                stored = np.rint(scaled).astype(dtype)
            else:
                stored = scaled.astype(dtype)
        if expand(stored, how).tobytes() == a.tobytes():
            return stored, how
    return a, {"dtype": a.dtype.str, "divisor": 1}


def expand(stored: np.ndarray, how: dict) -> np.ndarray:
    """The array :func:`compact` encoded."""
    dtype = np.dtype(how["dtype"])
    out = stored.astype(dtype)
    if how.get("divisor", 1) != 1:
        out = out / dtype.type(how["divisor"])
    return out.astype(dtype, copy=False)


def write(path: Path, meta: dict, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` compacted and ``meta`` (with the decoding recipes) to ``path``
    atomically."""
    stored, recipes = {}, {}
    for key, value in arrays.items():
        stored[key], recipes[key] = compact(np.asarray(value))
    text = json.dumps({**meta, "version": VERSION, "arrays": recipes}, sort_keys=True)
    stored["meta"] = np.array(text)
    return atomic_write(path, lambda f: np.savez_compressed(f, **stored), binary=True)


def _unreadable(path: Path, why: str) -> ConfigError:
    return ConfigError(
        f"saved data set {path} is not a readable saved data set ({why}); save it again with "
        "from_tensors(..., save=True, overwrite=True) / from_events(..., save=True, "
        "overwrite=True), or remove the file"
    )


def read_meta(path: Path) -> dict:
    """The ``meta`` record of a saved data set (cheap: the arrays are not read)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            text = str(z["meta"][()])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise _unreadable(path, f"{type(exc).__name__}: {exc}") from exc
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"saved data set {path}: its meta record is not valid JSON ({exc}); save it again"
        ) from exc
    if not isinstance(meta, dict) or not {"format", "sha256", "arrays"} <= set(meta):
        raise ConfigError(
            f"saved data set {path}: its meta record lacks format, sha256 or arrays; save it again"
        )
    return meta


def read(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """``meta`` and the decoded arrays of a saved data set (checksum checked by the caller,
    who knows how the arrays make a data set)."""
    meta = read_meta(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: expand(z[k], how) for k, how in meta["arrays"].items()}
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise _unreadable(path, f"{type(exc).__name__}: {exc}") from exc
    return meta, arrays


def check_sha256(path: Path, recorded: str, computed: str) -> None:
    """Refuse a saved data set whose arrays no longer have the recorded checksum."""
    if recorded != computed:
        raise ConfigError(
            f"saved data set {path}: the checksum of its arrays ({computed[:16]}...) differs "
            f"from the one recorded when it was saved ({recorded[:16]}...): the file was "
            "changed since; save the data again (save=True, overwrite=True)"
        )
