"""The checkpoint of a bilevel search: what is saved after every epoch, and how a search
resumes from it.

A checkpoint holds the supernet, both optimizers, the learning-rate scheduler, every RNG
state, the history so far and the elapsed time, under the format tag
:data:`CHECKPOINT_FORMAT`. It is written atomically (:func:`snnlib.fileio.atomic_write`), so
an interrupted search leaves the previous epoch's file intact, and :func:`resume_search`
restores all of it: the resumed search continues as the uninterrupted one would have.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..fileio import atomic_write
from ..validation import ConfigError

CHECKPOINT_FORMAT = "snnlib.darts.search/1"


def rng_state() -> dict:
    """The states of Python's, NumPy's and torch's generators (and CUDA's, if present)."""
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_state(
    *, epoch: int, cfg, model, w_opt, a_opt, sched, history: list[dict], seconds: float
) -> dict:
    """The dict a checkpoint stores after ``epoch`` epochs (``cfg`` a ``SearchConfig``)."""
    return {
        "format": CHECKPOINT_FORMAT,
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
    """Read a search checkpoint (our own file: full unpickling is needed for RNG states)."""
    path = Path(path)
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(f"{path} is not a search checkpoint of format {CHECKPOINT_FORMAT}")
    return state


@dataclass
class Resumed:
    """Where a search starts: epochs already done, their history, their wall time."""

    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def resume_search(path: Path, cfg, model, w_opt, a_opt, sched) -> Resumed:
    """Load the checkpoint at ``path`` into the model, optimizers, scheduler and RNGs.

    Refuses (:class:`~snnlib.validation.ConfigError`) a checkpoint written with another
    search config (naming the fields that differ) or for another supernet.
    """
    state = load_bilevel_checkpoint(path)
    if state["config"] != cfg.to_dict():
        diff = sorted(k for k in cfg.to_dict() if state["config"].get(k) != cfg.to_dict()[k])
        raise ConfigError(
            f"checkpoint {path} was written with a different search config "
            f"(differs in {diff}); pass resume=False to start afresh"
        )
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise ConfigError(f"checkpoint {path} does not fit this supernet: {exc}") from exc
    w_opt.load_state_dict(state["w_opt"])
    a_opt.load_state_dict(state["a_opt"])
    sched.load_state_dict(state["scheduler"])
    set_rng_state(state["rng"])
    return Resumed(
        epoch=int(state["epoch"]),
        history=list(state["history"]),
        seconds=float(state.get("seconds", 0.0)),
    )
