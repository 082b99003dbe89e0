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


def machine() -> dict[str, Any]:
    """The machine a run computes on, as far as it changes the numbers: the CPU model, the
    vector instruction set torch's CPU kernels use (``AVX2``, ``AVX512``, ...: kernels of
    another width round differently, so trainings diverge), the logical cores, the
    architecture and the operating system. Read-only; an unknown field is ``None``."""
    import os
    import platform

    cpu = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware")):
                    cpu = line.split(":", 1)[1].strip() or None
                    break
    except OSError:
        pass
    try:
        import torch

        isa = torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001 - an older torch without the query: not recorded
        isa = None
    return {
        "cpu_model": cpu or platform.processor() or None,
        "vector_isa": isa,
        "logical_cores": os.cpu_count(),
        "arch": platform.machine(),
        "os": f"{platform.system()} {platform.release()}",
    }
