"""The identity of a checkpoint: the record of every setting that determines its content.

A search checkpoint is only worth resuming under the settings that wrote it. Its *record* is
a plain JSON dict of those settings (search space, search hyper-parameters, fitness and
network configuration, data specification, seed, scale, ...), its *hash* the first
:data:`HASH_LENGTH` hex digits of the SHA-256 of the record's canonical JSON. A checkpoint
stores both; its file name carries the hash (:func:`with_hash`), so runs under different
settings never share a file, and a checkpoint found under another record is refused with the
dotted names of the fields that differ (:func:`differing_fields`, e.g. ``fitness.metric``).

Checkpoints are read as data only (JSON, or ``torch.load(weights_only=True)``): nothing in a
file can execute code. :func:`read_json` and :func:`require_fields` turn every way a file can
be broken (missing, empty, truncated, garbage, wrong version, missing or mistyped keys) into a
:class:`~snnlib.validation.ConfigError` that names the path and what is wrong.

:func:`move_aside` keeps a checkpoint that cannot be resumed under a new name instead of
overwriting it: work is never destroyed silently.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..validation import ConfigError

HASH_LENGTH = 12

#: The values of a search's ``resume`` argument: resume a compatible checkpoint and refuse an
#: incompatible one (True), start afresh keeping the old file aside (False), or resume a
#: compatible checkpoint and move an incompatible one aside ("auto", the default).
RESUME_CHOICES = (True, False, "auto")


def plain(value: Any, where: str = "record") -> Any:
    """``value`` as plain JSON data: dataclasses as dicts, tuples as lists, numpy scalars as
    Python numbers, paths as strings, non-finite floats as their names; anything else that
    JSON cannot hold is a :class:`ConfigError` naming ``where``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value), where)
    if isinstance(value, dict):
        return {str(k): plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Path):
        return value.as_posix()
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return plain(value.item(), where)  # numpy / torch scalar
    raise ConfigError(f"{where}={value!r} ({type(value).__name__}) cannot be part of a record")


def fitness_identity(fn: Any, where: str = "fitness") -> dict:
    """The record of a fitness callable, for a checkpoint's identity when the caller gives none.

    A search resumed from a checkpoint reuses its cached fitness values, so the checkpoint must
    be refused when the fitness differs. What determines a fitness is derived from the callable:

    - an object with an ``identity()`` method: what that returns;
    - a dataclass instance (the evaluators of :mod:`snnlib.mse.fitness`): its class and fields;
    - a ``functools.partial``: its function, arguments and keywords;
    - a function: its module, name and a digest of its code (nested code objects included),
      plus the values it closes over;

    with tensors and arrays recorded by dtype, shape and the sha256 of their bytes. Anything
    else (an open file, a model object without an identity) is a :class:`ConfigError` naming
    the field and asking for ``identity=``: a record that leaves part of the fitness out would
    resume another fitness's cache silently.

    Example:
        >>> a = fitness_identity(functools.partial(max, 3))
        >>> a["callable"], a["args"]
        ('builtins.max', [3])
    """
    if callable(getattr(fn, "identity", None)):
        return {"callable": _qualified(type(fn)), "identity": plain(fn.identity(), where)}
    return _callable_record(fn, where)


def _qualified(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}"


def _code_digest(code: Any, h: Any) -> None:
    h.update(code.co_code)
    h.update(repr(code.co_names).encode())
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            _code_digest(const, h)
        else:
            h.update(repr(const).encode())


def _callable_record(fn: Any, where: str) -> dict:
    if isinstance(fn, functools.partial):
        return {
            "callable": _qualified(fn.func),
            "args": [_fitness_value(a, f"{where}.args[{i}]") for i, a in enumerate(fn.args)],
            "keywords": {k: _fitness_value(v, f"{where}.{k}") for k, v in fn.keywords.items()},
        }
    if dataclasses.is_dataclass(fn) and not isinstance(fn, type):
        return {
            "callable": _qualified(type(fn)),
            "fields": {
                f.name: _fitness_value(getattr(fn, f.name), f"{where}.{f.name}")
                for f in dataclasses.fields(fn)
            },
        }
    code = getattr(fn, "__code__", None)
    if code is not None:
        h = hashlib.sha256()
        _code_digest(code, h)
        cells = getattr(fn, "__closure__", None) or ()
        return {
            "callable": _qualified(fn),
            "code_sha256": h.hexdigest(),
            "closure": {
                name: _fitness_value(cell.cell_contents, f"{where}.{name}")
                for name, cell in zip(code.co_freevars, cells, strict=True)
            },
            "globals": _global_values(fn, code, where),
        }
    if type(fn).__module__ == "builtins":
        return {"callable": _qualified(fn)}
    raise ConfigError(
        f"{where}: cannot derive the identity of a {type(fn).__name__}; pass identity= (the "
        "settings that determine the fitness) or give it an identity() method"
    )


def _code_names(code: Any) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            names |= _code_names(const)
    return names


def _global_values(fn: Any, code: Any, where: str) -> dict:
    """The module-level data a function reads (a global tensor or number is as much part of
    the fitness as its code); modules are left out, classes and functions named."""
    space = getattr(fn, "__globals__", {})
    out = {}
    for name in sorted(_code_names(code) & set(space)):
        value = space[name]
        if type(value).__name__ == "module":
            continue
        if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
            out[name] = _qualified(value)
        else:
            out[name] = _fitness_value(value, f"{where}.{name}")
    return out


def _fitness_value(value: Any, where: str) -> Any:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if type(value).__module__ == "numpy" and hasattr(value, "shape") and value.shape != ():
        from ..fileio import arrays_sha256

        return {
            "dtype": str(value.dtype),
            "shape": list(value.shape),
            "sha256": arrays_sha256(value),
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _callable_record(value, where)["fields"] | {"class": _qualified(type(value))}
    if isinstance(value, dict):
        return {str(k): _fitness_value(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_fitness_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if callable(value) and not isinstance(value, type):
        return _callable_record(value, where)
    try:
        return plain(value, where)
    except ConfigError:
        raise ConfigError(
            f"{where}={type(value).__name__}: cannot be part of the fitness's identity; pass "
            "identity= (the settings that determine the fitness)"
        ) from None


def canonical_json(record: dict) -> str:
    """The record as JSON with sorted keys and no spaces: equal records, equal text."""
    return json.dumps(plain(record), sort_keys=True, separators=(",", ":"), allow_nan=False)


def identity_hash(record: dict, length: int = HASH_LENGTH) -> str:
    """The first ``length`` hex digits of the SHA-256 of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(record).encode()).hexdigest()[:length]


def differing_fields(stored: Any, current: Any, prefix: str = "") -> list[str]:
    """Dotted names of the fields in which two records differ (sorted; a field present in one
    record only counts as differing; lists are compared whole)."""
    if isinstance(stored, dict) and isinstance(current, dict):
        out = []
        for k in sorted(set(stored) | set(current), key=str):
            name = f"{prefix}.{k}" if prefix else str(k)
            if k not in stored or k not in current:
                out.append(name)
            else:
                out += differing_fields(stored[k], current[k], name)
        return out
    return [] if plain(stored) == plain(current) else [prefix or "record"]


def check_identity(path: str | Path, stored: Any, current: dict, what: str = "checkpoint"):
    """Raise :class:`ConfigError` naming ``path`` and the differing fields unless the record
    ``stored`` in ``path`` equals ``current``."""
    diff = differing_fields(stored, plain(current))
    if diff:
        raise ConfigError(
            f"{what} {path} was written under other settings (differing: {', '.join(diff)}); "
            "resume=False starts afresh and keeps it aside"
        )


def with_hash(path: str | Path, record: dict) -> Path:
    """``path`` with ``__<hash>`` before its suffix: ``a/b.json`` -> ``a/b__1f2e3d4c5b6a.json``."""
    path = Path(path)
    return path.with_name(f"{path.stem}__{identity_hash(record)}{path.suffix}")


def move_aside(path: str | Path, reason: str = "incompatible") -> Path:
    """Rename ``path`` to ``<stem>.<reason>-<UTC time><suffix>`` in its folder (a counter is
    added if that name exists); returns the new path."""
    path = Path(path)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    target = path.with_name(f"{path.stem}.{reason}-{stamp}{path.suffix}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.stem}.{reason}-{stamp}-{n}{path.suffix}")
        n += 1
    os.replace(path, target)
    return target


def check_resume(resume: Any) -> Any:
    """``resume`` if it is one of :data:`RESUME_CHOICES`, else a :class:`ConfigError`."""
    if not any(resume is c or (isinstance(c, str) and resume == c) for c in RESUME_CHOICES):
        raise ConfigError(f"resume={resume!r} is not allowed; choose one of [True, False, 'auto']")
    return resume


def read_json(path: str | Path, what: str = "checkpoint") -> Any:
    """The JSON in ``path`` (read as data only); a missing, empty, truncated or garbage file
    is a :class:`ConfigError` naming the path and what is wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc.strerror or exc}") from None
    if not raw.strip():
        raise ConfigError(f"{what} {path} is empty (delete it or move it away)")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not a JSON text file (binary content)") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} {path} is not valid JSON (truncated or corrupt?): {exc.msg} at line "
            f"{exc.lineno}, column {exc.colno}"
        ) from None


def check_checkpoint(
    payload: Any,
    path,
    version: Any,
    fields: dict[str, type | tuple],
    *,
    version_key: str = "version",
    what: str = "checkpoint",
) -> dict:
    """The checks every checkpoint of the project passes before any of it is used: an object
    (a dict), the format ``version`` this code reads (under ``version_key``), every field of
    ``fields`` with its type, and, when ``fields`` has one, an ``identity_hash`` equal to the
    hash of its ``identity`` record (a hand-edited identity is caught). Each failure is a
    :class:`ConfigError` naming ``path`` and what is wrong."""
    if not isinstance(payload, dict):
        raise ConfigError(f"{what} {path} holds a {type(payload).__name__}, not a JSON object")
    if payload.get(version_key) != version:
        raise ConfigError(
            f"{what} {path} has {version_key} {payload.get(version_key)!r}; this version reads "
            f"{version} (move the file away to start afresh)"
        )
    require_fields(payload, fields, path, what)
    if "identity_hash" in fields and payload["identity_hash"] != identity_hash(payload["identity"]):
        raise ConfigError(
            f"{what} {path}: identity_hash does not match its identity record (edited file?)"
        )
    return payload


def read_checkpoint(
    path: str | Path, version: Any, fields: dict[str, type | tuple], what: str = "checkpoint"
) -> dict:
    """A JSON checkpoint read as data only (:func:`read_json`) and checked
    (:func:`check_checkpoint`): one reader for every JSON checkpoint of the project."""
    return check_checkpoint(read_json(path, what), path, version, fields, what=what)


def require_fields(payload: Any, fields: dict[str, type | tuple], path, what="checkpoint") -> dict:
    """``payload`` if it is a dict holding every key of ``fields`` with a value of the given
    type(s); otherwise a :class:`ConfigError` naming ``path`` and the missing or mistyped keys."""
    if not isinstance(payload, dict):
        raise ConfigError(f"{what} {path} holds a {type(payload).__name__}, not a JSON object")
    missing = [k for k in fields if k not in payload]
    if missing:
        raise ConfigError(f"{what} {path} lacks the keys {missing}")
    for key, types in fields.items():
        value = payload[key]
        ok = isinstance(value, types)
        if ok and isinstance(value, bool) and bool not in _as_tuple(types):
            ok = False
        if not ok:
            names = [t.__name__ for t in _as_tuple(types)]
            raise ConfigError(
                f"{what} {path}: key {key!r} holds a {type(value).__name__}, expected {names}"
            )
    return payload


def _as_tuple(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)
