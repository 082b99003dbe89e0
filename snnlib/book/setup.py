"""The first thing every notebook does: threads, device, result file, seeds.

Every experiment notebook used to open with the same five lines (``torch.set_num_threads``,
``resolve_device``, ``ResultRun(..., device_name=...)``, ``seed_everything``); :func:`start`
is those lines, in that order, so a page shows one call instead of a screen of setup.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..runtime import device_name, resolve_device, seed_everything
from .results import ResultRun


class Start(NamedTuple):
    """What a notebook needs after its setup: the open result file and the device."""

    run: ResultRun
    device: torch.device


def start(notebook: str, params: dict, threads: int | None = None) -> Start:
    """Set torch's threads, pick the device, open the result file and seed everything.

    ``params`` holds every parameter of the notebook (at least ``scale``, ``dataset``,
    ``seed``, ``device``); the device and the seed are taken from it. ``threads``: torch's
    intra-op threads; ``None`` or ``0`` leaves torch's default. The seeding is the last step
    (``seed_everything(params["seed"])``), so the first random number a notebook draws after
    ``start`` is the same as after the block this replaces.

    >>> params = dict(scale="smoke", dataset="digits", seed=0, device="cpu")
    >>> run, dev = start("00_substrate", params)
    >>> run.path.name, dev.type
    ('00_substrate__digits__smoke__seed0.json', 'cpu')
    """
    if threads:
        torch.set_num_threads(threads)
    run = ResultRun(notebook, params)  # first: it names a missing required parameter
    dev = resolve_device(params["device"])
    run.device_name = device_name(dev)
    seed_everything(params["seed"])
    return Start(run, dev)
