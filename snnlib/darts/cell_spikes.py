r"""Number of spikes (NoS) per cell, synaptic operations and energy, for search and retraining.

NoS (AutoSNN, MA-DARTS) is the sum of output spikes of all spiking layers over all T time
steps, per image, averaged over the images seen:

.. math::

    \mathrm{NoS} = \frac{1}{N} \sum_{n=1}^{N} \sum_{\ell \in \text{LIF}} \sum_{t=1}^{T} \lVert s^{\ell}_{n}[t] \rVert_1 .

Per cell it is the same sum restricted to the LIF layers inside cell ``k`` (module names
``cells.k.*``, summed with :func:`snnlib.spikes.group_by_prefix`); the head's neurons are
reported as ``head``. SOPs and energy follow :mod:`snnlib.spikes`
(:math:`E = 0.9\,\text{pJ} \cdot \text{SOPs} + 4.6\,\text{pJ} \cdot \text{MACs}`).

In the supernet every candidate operation spikes, whatever its weight: supernet NoS is
the activity of the whole search space, which is what MA-DARTS plots during the search.

``bn="batch"`` evaluates with batch-norm batch statistics (the running statistics are left
untouched): a supernet takes only a few hundred weight steps in a short search, and its
running statistics trail weights that are still moving, so evaluating it with them measures
the lag rather than the network (the recalibration issue of one-shot NAS). Discrete networks
after training are evaluated with running statistics (``bn="running"``), as usual.
"""

from __future__ import annotations

import torch
from torch import nn

from ..encoding import Encoder
from ..spikes import SpikeMonitor, SpikeReport, group_by_prefix
from ..validation import check_choice

BN_MODES = ("running", "batch")


def cell_key(name: str) -> str:
    """``cells.3.ops.0...`` -> ``cell3``; ``head.lif`` -> ``head``; anything else by its first part."""
    parts = name.split(".")
    if parts[0] == "cells" and len(parts) > 1:
        return f"cell{parts[1]}"
    return parts[0]


def nos_per_cell(report: SpikeReport) -> dict[str, float]:
    """Spikes per image of every cell (and the head), from a spike report."""
    grouped = group_by_prefix(report.spikes_per_layer, depth=2)
    out: dict[str, float] = {}
    for name, v in grouped.items():
        key = cell_key(name)
        out[key] = out.get(key, 0.0) + v
    return dict(sorted(out.items(), key=lambda kv: (kv[0] == "head", len(kv[0]), kv[0])))


@torch.no_grad()
def spike_summary(
    model: nn.Module,
    loader,
    encoder: Encoder,
    device="cpu",
    max_batches: int | None = None,
    bn: str = "running",
) -> dict:
    """Evaluate ``model`` on ``loader`` with a spike monitor: accuracy, loss, NoS (total and
    per cell), mean firing rate, SOPs, MACs and energy per image. ``bn``: ``"running"``
    (eval mode) or ``"batch"`` (batch statistics; buffers restored afterwards)."""
    check_choice("bn", bn, BN_MODES)
    device = torch.device(device)
    was_training = model.training
    saved = [(b, b.detach().clone()) for b in model.buffers()] if bn == "batch" else []
    model.train(bn == "batch")
    correct = total = 0
    loss_sum = 0.0
    try:
        with SpikeMonitor(model) as monitor:
            for i, (x, y) in enumerate(loader):
                if max_batches is not None and i >= max_batches:
                    break
                x, y = x.to(device), y.to(device)
                out = model(encoder(x))
                loss_sum += float(nn.functional.cross_entropy(out, y, reduction="sum"))
                correct += int((out.argmax(1) == y).sum())
                total += int(y.numel())
        rep: SpikeReport = monitor.report()
    finally:
        for b, v in saved:
            b.copy_(v)
        model.train(was_training)
    return {
        "acc": correct / max(total, 1),
        "loss": loss_sum / max(total, 1),
        "n": total,
        "nos": rep.nos,
        "nos_per_cell": nos_per_cell(rep),
        "firing_rate": rep.mean_firing_rate,
        "sops": rep.sops,
        "macs": rep.macs,
        "energy_uj": rep.energy_uj,
    }
