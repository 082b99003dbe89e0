"""What the "Your own data" page shows: which data a result file says it read, and how much
room a saved data set takes.

:func:`data_read` finds a data set's entry in a result file's provenance (every loader records
the name, the source and the sha256 of the arrays it read); :func:`storage_sizes` compares
the saved file (:mod:`snnlib.data.user_store`) with the float32 bytes of the items.

Example:
    >>> result = {"provenance": {"data_read": [
    ...     {"name": "mine", "split": "train", "source": "user tensors 'mine'", "sha256": "ab"}]}}
    >>> data_read(result, "mine")["sha256"]
    'ab'
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..validation import ConfigError


def data_read(result: Mapping, name: str) -> dict:
    """The first provenance entry of data set ``name`` in ``result`` (a result file's
    content): ``name``, ``split``, ``source``, ``sha256``, ...; :class:`ConfigError` when the
    result does not record it."""
    entries = result.get("provenance", {}).get("data_read") or []
    for entry in entries:
        if entry.get("name") == name:
            return dict(entry)
    names = sorted({e.get("name") for e in entries})
    raise ConfigError(f"the result file records no data set {name!r}; it read {names}")


def storage_sizes(path: str | Path, items) -> dict:
    """``file_bytes`` of the saved data set at ``path``, ``float32_bytes`` of its items
    (``items``: a tensor or array) and their ratio ``compression``."""
    file_bytes = Path(path).stat().st_size
    float32_bytes = int(items.numel() if hasattr(items, "numel") else items.size) * 4
    return {
        "file_bytes": file_bytes,
        "float32_bytes": float32_bytes,
        "compression": float32_bytes / file_bytes,
    }
