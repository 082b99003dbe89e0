"""Record the spike trains of every LIF layer of a model during one forward pass.

Training-free scores (RDM fitness, SAHD) look at *which* neurons fire for which input,
not only how many spikes there are. :class:`SpikeRecorder` keeps the spikes of each LIF
layer as ``[T, B, N]`` (N = neurons per sample), in the order the layers fired.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .neurons import LIF
from .validation import ConfigError


class LIFTap:
    """Base of every spike recorder: a context manager that routes the spikes each
    :class:`LIF` layer of ``model`` emits (whole sequences and single steps alike) to
    ``self._record(module, spikes)`` while the ``with`` block runs.

    One tap per model at a time: entering a second one while a LIF layer already reports to
    another raises :class:`ConfigError` instead of silently stealing its spikes.
    """

    def __init__(self, model: nn.Module):
        self.model = model
        self._names = {m: n for n, m in model.named_modules()}

    def _record(self, module: nn.Module, spikes: torch.Tensor) -> None:
        raise NotImplementedError

    def _layer_name(self, module: nn.Module, seen: int) -> str:
        return self._names.get(module, f"lif{seen}")

    def __enter__(self):
        lifs = [m for m in self.model.modules() if isinstance(m, LIF)]
        if any(m.recorder is not None for m in lifs):
            raise ConfigError(
                "a LIF layer already has a recorder (nested monitors are not supported)"
            )
        for m in lifs:
            m.recorder = self._record
        return self

    def __exit__(self, *exc) -> None:
        for m in self.model.modules():
            if isinstance(m, LIF):
                m.recorder = None


class SpikeRecorder(LIFTap):
    """Context manager: ``with SpikeRecorder(model) as rec: model(x)``; then ``rec.spikes``.

    ``rec.spikes`` maps layer name -> ``[T, B, N]`` float tensor of 0/1 spikes. Layers driven
    step by step (feedback cells) contribute one ``[1, B, N]`` slice per step; the slices
    are concatenated along time.
    """

    def __init__(self, model: nn.Module):
        super().__init__(model)
        self._parts: dict[str, list[torch.Tensor]] = OrderedDict()

    def _record(self, module: nn.Module, spikes: torch.Tensor) -> None:
        self._parts.setdefault(self._layer_name(module, len(self._parts)), []).append(
            spikes.detach().flatten(2)
        )

    @property
    def spikes(self) -> OrderedDict[str, torch.Tensor]:
        return OrderedDict((k, torch.cat(v, 0)) for k, v in self._parts.items())


@torch.no_grad()
def record_spikes(
    model: nn.Module, x: torch.Tensor, batch_stats: bool = True
) -> OrderedDict[str, torch.Tensor]:
    """Run ``model`` on ``x`` (``[T, B, ...]``) and return its spikes per layer.

    ``batch_stats=True`` (the default, right for *untrained* networks) normalises with the
    probe batch's own statistics, as in training; BatchNorm running statistics are left
    untouched (momentum set to 0 for the pass). ``False`` runs in eval mode.
    """
    was_training = model.training
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in bns]
    model.train(batch_stats)
    for m in bns:
        m.momentum = 0.0
    try:
        with SpikeRecorder(model) as rec:
            model(x)
    finally:
        for m, mom in zip(bns, momenta):
            m.momentum = mom
        model.train(was_training)
    return rec.spikes
