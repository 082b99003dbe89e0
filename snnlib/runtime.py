"""Device selection and seeding: the two things every experiment does first."""

from __future__ import annotations

import os
import random
from contextlib import contextmanager

import numpy as np
import torch

from .validation import ConfigError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when present, else CPU; ``"cpu"``/``"cuda"``/``"cuda:1"`` as given."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"device={device!r} was asked for but CUDA is not available; use 'auto' or 'cpu'"
        )
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(
            f"device={device!r} is not a device; use 'auto', 'cpu' or 'cuda[:N]'"
        ) from exc
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ConfigError(
            f"device={device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)"
        )
    if dev.type not in ("cpu", "cuda"):  # mps, xpu, meta, ...: not run or tested here
        available = getattr(getattr(torch, "backends", None), dev.type, None)
        if available is None or not getattr(available, "is_available", lambda: False)():
            raise ConfigError(
                f"device={device!r} is not available on this machine; use 'auto', 'cpu' or "
                "'cuda[:N]'"
            )
    return dev


def device_name(device: torch.device) -> str:
    """Human-readable name of a device, for provenance."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch generator seeded the same way."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@contextmanager
def torch_threads(n: int | None):
    """Run a block with ``torch.set_num_threads(n)`` (``None``: leave as is)."""
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)
