"""The checkpoint of a bilevel search: what is saved after every epoch, and how a search
resumes from it.

A checkpoint holds the supernet, both optimizers, the learning-rate scheduler, every RNG
state, the history so far and the elapsed time, under the format tag
:data:`CHECKPOINT_FORMAT`, with the record of every setting that determines it (the search
config and what the caller adds: supernet, seed, data, scale; :func:`search_identity`) and the
record's hash (:mod:`snnlib.nas.identity`). It is written atomically
(:func:`snnlib.fileio.atomic_write`), so an interrupted search leaves the previous epoch's file
intact, and :func:`restore` restores all of it: the resumed search continues as the
uninterrupted one would have.

Nothing in a checkpoint can execute code: it holds state dicts, tensors and plain Python data
only (RNG states as tensors and lists of ints) and is read with
``torch.load(weights_only=True)``, then validated (format, keys, types) before any of it is
used (:func:`load_bilevel_checkpoint`). :func:`open_checkpoint` decides, from ``resume``,
whether a found checkpoint is resumed, refused or moved aside (never overwritten).
"""

from __future__ import annotations

import pickle
import random
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..fileio import atomic_write
from ..nas.identity import (
    check_checkpoint,
    check_identity,
    differing_fields,
    identity_hash,
    move_aside,
    plain,
    require_fields,
)
from ..validation import ConfigError

CHECKPOINT_FORMAT = "snnlib.darts.search/2"  # /1: full pickles; /2: weights_only, identity

_FIELDS = {
    "format": str,
    "identity": dict,
    "identity_hash": str,
    "epoch": int,
    "config": dict,
    "model": dict,
    "w_opt": dict,
    "a_opt": dict,
    "scheduler": dict,
    "rng": dict,
    "history": list,
    "seconds": (float, int),
}


def rng_state() -> dict:
    """The states of Python's, NumPy's and torch's generators (and CUDA's, if present), as
    tensors and plain data (what ``torch.load(weights_only=True)`` reads)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {
            "name": str(name),
            "keys": [int(k) for k in keys],
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned."""
    random.setstate(state["python"])
    n = state["numpy"]
    np.random.set_state(
        (
            n["name"],
            np.array(n["keys"], dtype=np.uint32),
            n["pos"],
            n["has_gauss"],
            n["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def search_identity(cfg, identity: dict | None = None) -> dict:
    """The record of a search: ``cfg.to_dict()`` under ``search`` and the caller's
    ``identity`` (supernet, seed, data, scale: whatever else determines the search)."""
    extra = plain(identity or {}, "identity")
    if not isinstance(extra, dict):
        raise ConfigError(f"identity must be a dict, got {type(identity).__name__}")
    if "search" in extra:
        raise ConfigError("identity must not set 'search': search() records its config itself")
    return {"search": plain(cfg.to_dict()), **extra}


def checkpoint_state(
    *,
    epoch: int,
    cfg,
    model,
    w_opt,
    a_opt,
    sched,
    history: list[dict],
    seconds: float,
    identity: dict | None = None,
) -> dict:
    """The dict a checkpoint stores after ``epoch`` epochs (``cfg`` a ``SearchConfig``,
    ``identity`` the record of :func:`search_identity`, by default that of ``cfg`` alone)."""
    record = identity if identity is not None else search_identity(cfg)
    return {
        "format": CHECKPOINT_FORMAT,
        "identity": record,
        "identity_hash": identity_hash(record),
        "epoch": epoch,
        "config": cfg.to_dict(),
        "model": model.state_dict(),
        "w_opt": w_opt.state_dict(),
        "a_opt": a_opt.state_dict(),
        "scheduler": sched.state_dict(),
        "rng": rng_state(),
        "history": history,
        "seconds": seconds,
    }


def save_bilevel_checkpoint(path: str | Path, state: dict) -> Path:
    """``torch.save`` ``state`` to ``path`` atomically (a temporary file, then a rename)."""
    return atomic_write(path, lambda f: torch.save(state, f), binary=True)


def load_bilevel_checkpoint(path: str | Path) -> dict:
    """Read and validate a search checkpoint with ``torch.load(weights_only=True)``: tensors
    and plain data only, nothing is executed. A missing, empty, truncated, garbage, crafted or
    incomplete file is a :class:`ConfigError` naming the path and what is wrong."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ConfigError(f"checkpoint {path} cannot be read: {exc.strerror or exc}") from None
    if size == 0:
        raise ConfigError(f"checkpoint {path} is empty (delete it or move it away)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"checkpoint {path} is refused: it is not a torch file of tensors and plain data "
            f"(nothing in it was run): {first}"
        ) from None
    except Exception as exc:  # noqa: BLE001 (torch raises RuntimeError, EOFError, ...)
        raise ConfigError(
            f"checkpoint {path} cannot be read (truncated or not a torch file?): "
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        ) from None
    if not isinstance(state, dict):
        raise ConfigError(f"checkpoint {path} holds a {type(state).__name__}, not a search state")
    check_checkpoint(state, path, CHECKPOINT_FORMAT, _FIELDS, version_key="format")
    rng = require_fields(
        state["rng"], {"python": tuple, "numpy": dict, "torch": torch.Tensor}, path
    )
    require_fields(rng["numpy"], {"name": str, "keys": list, "pos": int}, path)
    if not all(isinstance(h, dict) for h in state["history"]):
        raise ConfigError(f"checkpoint {path}: history must be a list of dicts")
    return state


@dataclass
class Resumed:
    """Where a search starts: epochs already done, their history, their wall time."""

    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def _model_differences(state: dict, model) -> list[str]:
    mine = model.state_dict()
    theirs = state["model"]
    keys = sorted(set(mine) ^ set(theirs))
    shapes = sorted(
        k
        for k in set(mine) & set(theirs)
        if not isinstance(theirs[k], torch.Tensor) or theirs[k].shape != mine[k].shape
    )
    diff = keys + shapes
    return [f"model ({len(diff)} parameters differ, e.g. {diff[0]})"] if diff else []


def open_checkpoint(path: Path | None, resume, record: dict, model) -> dict | None:
    """The checkpoint at ``path`` if the search should resume from it, else ``None``.

    ``resume`` ``"auto"``: a compatible checkpoint (same record, same supernet) is resumed, an
    incompatible one moved aside (``<name>.incompatible-<UTC time>.pt``) with a warning saying
    where; ``True``: an incompatible one is a :class:`ConfigError` listing the differing
    fields; ``False``: an existing one is moved aside (``.replaced-<UTC time>``). An unreadable
    file is a :class:`ConfigError` whatever ``resume`` says (reported, never replaced)."""
    if path is None or not Path(path).exists():
        return None
    if resume is False:
        aside = move_aside(path, "replaced")
        warnings.warn(
            f"resume=False: starting afresh; the previous checkpoint {path} is kept at {aside}",
            stacklevel=3,
        )
        return None
    state = load_bilevel_checkpoint(path)
    diff = differing_fields(state["identity"], record) + _model_differences(state, model)
    if not diff:
        return state
    if resume is True:
        check_identity(path, state["identity"], record)
        raise ConfigError(
            f"checkpoint {path} does not fit this supernet (differing: {', '.join(diff)}); "
            "resume=False starts afresh and keeps it aside"
        )
    aside = move_aside(path, "incompatible")
    warnings.warn(
        f"checkpoint {path} is incompatible with this search (differing: {', '.join(diff)}); "
        f"it was kept at {aside} and the search starts afresh",
        stacklevel=3,
    )
    return None


def restore(path: Path, state: dict, model, w_opt, a_opt, sched) -> Resumed:
    """Load a validated checkpoint ``state`` (read from ``path``) into the model, optimizers,
    scheduler and RNGs; a state that does not fit them is a :class:`ConfigError`."""
    try:
        model.load_state_dict(state["model"])
        w_opt.load_state_dict(state["w_opt"])
        a_opt.load_state_dict(state["a_opt"])
        sched.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ConfigError(f"checkpoint {path} does not fit this search: {exc}") from None
    return Resumed(
        epoch=int(state["epoch"]),
        history=list(state["history"]),
        seconds=float(state["seconds"]),
    )


def resume_search(path: Path, cfg, model, w_opt, a_opt, sched, identity: dict | None = None):
    """Load the checkpoint at ``path`` into the model, optimizers, scheduler and RNGs.

    Refuses (:class:`~snnlib.validation.ConfigError`) a checkpoint written under another
    record (naming the fields that differ, e.g. ``search.arch_lr``) or for another supernet.
    """
    state = open_checkpoint(Path(path), True, search_identity(cfg, identity), model)
    if state is None:
        raise ConfigError(f"checkpoint {path} cannot be read: no such file")
    return restore(Path(path), state, model, w_opt, a_opt, sched)
