"""What a run read: every data set and every earlier result, recorded where they enter.

The loaders call :func:`record_data` (name, split, source, the sha256 of the archive or
arrays when known, the selection made of it); :func:`snnlib.book.results.load_result` calls
:func:`record_result` (path and identity hash of each result file consumed). A result file's
provenance (:meth:`snnlib.book.results.ResultRun.provenance`) then lists both, so every number
can be traced to the data and the results it came from. The record is per process (a notebook
is one process); :func:`reset` empties it.

>>> reset()
>>> record_data("digits", split="test", source="sklearn", sha256="ab12")
>>> record_data("digits", split="test", source="sklearn", sha256="ab12")  # once is enough
>>> reads()["data"]
[{'name': 'digits', 'split': 'test', 'source': 'sklearn', 'sha256': 'ab12'}]
>>> reset()
"""

from __future__ import annotations

import json
from typing import Any

_DATA: list[dict] = []
_RESULTS: list[dict] = []


def _add(store: list[dict], entry: dict) -> None:
    key = json.dumps(entry, sort_keys=True, default=str)
    if all(json.dumps(e, sort_keys=True, default=str) != key for e in store):
        store.append(entry)


def record_data(name: str, **detail: Any) -> None:
    """Note that this process read data set ``name`` (``split``, ``source``, ``sha256``, ...)."""
    _add(_DATA, {"name": name, **detail})


def record_result(path: str, identity_hash: str | None) -> None:
    """Note that this process consumed the result file ``path`` (with its identity hash)."""
    _add(_RESULTS, {"path": str(path), "identity_hash": identity_hash})


def reads() -> dict[str, list[dict]]:
    """``{"data": [...], "results": [...]}`` read so far by this process, in order."""
    return {"data": [dict(d) for d in _DATA], "results": [dict(r) for r in _RESULTS]}


def reset() -> None:
    _DATA.clear()
    _RESULTS.clear()
