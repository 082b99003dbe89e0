"""The first thing every notebook does: check its parameters, threads, device, result file, seeds.

Every experiment notebook used to open with the same five lines (``torch.set_num_threads``,
``resolve_device``, ``ResultRun(..., device_name=...)``, ``seed_everything``); :func:`start`
is those lines, in that order, so a page shows one call instead of a screen of setup. Before
them it checks the parameters (:func:`snnlib.book.params.validate_params`): names papermill
injected that the notebook does not declare, types and ranges, and ``scale="paper"`` on a CPU
without ``confirm_paper_on_cpu=True``; nothing is computed or written for a refused run. It
also sets the step cap of a dry run (``max_steps``, :mod:`snnlib.dryrun`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .. import dryrun
from ..runtime import device_name, resolve_device, seed_everything
from ..validation import ConfigError
from .params import kernel_injected_names, paper_on_cpu_message, spec_of, validate_params
from .results import ResultRun


class Start(NamedTuple):
    """What a notebook needs after its setup: the open result file and the device."""

    run: ResultRun
    device: torch.device


def start(
    notebook: str,
    params: dict,
    threads: int | None = None,
    injected: set[str] | None = None,
) -> Start:
    """Check the parameters, set torch's threads, pick the device, open the result file and
    seed everything.

    ``params`` holds every parameter of the notebook (at least ``scale``, ``dataset``,
    ``seed``, ``device``); the device and the seed are taken from it. ``threads``: torch's
    intra-op threads; ``None`` or ``0`` leaves torch's default. The seeding is the last step
    (``seed_everything(params["seed"])``), so the first random number a notebook draws after
    ``start`` is the same as after the block this replaces. ``injected``: the parameter names
    papermill injected (default: read from the kernel's input history, see
    :func:`snnlib.book.params.kernel_injected_names`).

    >>> params = dict(scale="smoke", dataset="digits", seed=0, device="cpu")
    >>> run, dev = start("00_substrate", params)
    >>> run.path.name, dev.type
    ('00_substrate__digits__smoke__seed0.json', 'cpu')
    """
    validate_params(notebook, params, kernel_injected_names() if injected is None else injected)
    dryrun.set_cap(params.get("max_steps", 0))  # 0: no cap; > 0: a dry run (snnlib.dryrun)
    run = ResultRun(notebook, params)  # names a missing parameter and a result it would replace
    dev = resolve_device(params["device"])
    # a notebook that declares confirm_paper_on_cpu is one whose paper scale needs a GPU
    guarded = "confirm_paper_on_cpu" in (spec_of(notebook) or {"confirm_paper_on_cpu": 0})
    if params["scale"] == "paper" and dev.type == "cpu" and guarded:
        if not params.get("confirm_paper_on_cpu", False):
            raise ConfigError(paper_on_cpu_message(notebook, params["dataset"]))
    if threads:
        torch.set_num_threads(threads)
    run.device_name = device_name(dev)
    seed_everything(params["seed"])
    return Start(run, dev)
