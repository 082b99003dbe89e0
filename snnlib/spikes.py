"""Every way of observing spikes: recording them, counting them, and what they cost.

**Taps.** :class:`LIFTap` routes the spikes that each :class:`~snnlib.neurons.LIF` layer of a
model emits (whole sequences and single steps alike) to one observer while a ``with`` block
runs. Its subclasses:

- :class:`SpikeRecorder` keeps the spike trains of every layer as ``[T, B, N]`` (N neurons
  per sample), in the order the layers fired; :func:`record_spikes` runs one probe batch
  through it. Training-free scores (RDM fitness, SAHD) look at *which* neurons fire for
  which input, not only how many spikes there are.
- :class:`ResponseRecorder` keeps per-sample responses: spike counts ``[B, N]`` summed over
  time, or binary spike patterns ``[B, T * N]``.
- :class:`SpikeMonitor` counts spikes per layer and the SOPs / MACs of the conv and linear
  layers over any number of forward passes, and gives a :class:`SpikeReport` per image.

**Accounting.** Spikes per layer, number of spikes per image (NoS), synaptic operations
(SOPs) and an energy estimate. Definitions (stated once, used everywhere in the book):

- **NoS** (number of spikes, AutoSNN / MA-DARTS): the sum of output spikes of all spiking
  layers over all T time steps, per image, averaged over the images seen.
- **Firing rate** of a layer: spikes / (neurons x T x images).
- **SOPs**: a convolution or linear layer whose input is binary performs one accumulate
  (AC) per input spike per outgoing synapse: ``SOPs = dense MACs x input density``. A layer
  whose input is not binary (the first layer under direct encoding) performs dense
  multiply-accumulates (MACs).
- **Energy**: ``E = E_AC * SOPs + E_MAC * MACs`` with E_AC = 0.9 pJ and E_MAC = 4.6 pJ
  (32-bit float operations in 45 nm CMOS, Horowitz, ISSCC 2014), the constants that most
  SNN NAS papers use. Batch norm, pooling and the membrane updates are not counted.

Example:
    >>> import torch
    >>> from snnlib.models import SpikingCNN
    >>> _ = torch.manual_seed(0)
    >>> net, x = SpikingCNN(1, 10, width=4), torch.rand(3, 5, 1, 8, 8) * 4   # x: [T, B, ...]
    >>> spikes = record_spikes(net, x)              # layer -> [T, B, N] of 0/1
    >>> list(spikes)[:2], tuple(spikes["features.0.lif"].shape)
    (['features.0.lif', 'features.1.lif'], (3, 5, 256))
    >>> with SpikeMonitor(net) as monitor, torch.no_grad():
    ...     _ = net(x)
    >>> report = monitor.report()                    # per image
    >>> total = sum(float(s.sum()) for s in spikes.values())      # the same spikes
    >>> round(report.nos * 5) == total, report.images
    (True, 5)
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass

import torch
from torch import nn

from .layers import batch_norm_statistics
from .neurons import LIF
from .validation import ConfigError

E_AC_PJ = 0.9
E_MAC_PJ = 4.6


# -- taps ----------------------------------------------------------------------------------
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


class ResponseRecorder(LIFTap):
    """Record every :class:`LIF` layer's spikes per sample during forward passes.

    ``counts()`` gives ``{layer: [B, N]}`` spike counts summed over time; with
    ``temporal=True``, ``patterns()`` gives ``{layer: [B, T * N]}`` binary spike patterns.
    Layers appear in the order they first fired during the forward pass, so the last entry
    is the last spiking layer (the head's). Works for the whole-sequence and the step-by-step
    (:meth:`LIF.step`) paths alike.

    Example:
        >>> import torch
        >>> from snnlib.neurons import LIF, NeuronConfig
        >>> net = torch.nn.Sequential(LIF(NeuronConfig(beta=0.0, threshold=0.5)))
        >>> x = torch.tensor([[[1.0, 0.0]], [[1.0, 1.0]]])          # T=2, B=1, N=2
        >>> with ResponseRecorder(net, temporal=True) as rec:
        ...     _ = net(x)
        >>> rec.counts()["0"].tolist(), rec.patterns()["0"].tolist()
        ([[2.0, 1.0]], [[1, 0, 1, 1]])
    """

    def __init__(self, model: nn.Module, temporal: bool = False):
        super().__init__(model)
        self.temporal = temporal
        self._counts: dict[str, torch.Tensor] = {}
        self._steps: dict[str, list[torch.Tensor]] = {}

    def _record(self, module: nn.Module, spikes: torch.Tensor) -> None:
        name = self._layer_name(module, len(self._counts))
        s = spikes.detach().flatten(2)  # [t, B, N]
        c = s.sum(0)
        self._counts[name] = self._counts[name] + c if name in self._counts else c
        if self.temporal:
            self._steps.setdefault(name, []).append(s.to(torch.uint8))

    def counts(self) -> dict[str, torch.Tensor]:
        return dict(self._counts)

    def patterns(self) -> dict[str, torch.Tensor]:
        if not self.temporal:
            raise ConfigError("patterns() needs ResponseRecorder(temporal=True)")
        return {k: torch.cat(v, 0).transpose(0, 1).flatten(1) for k, v in self._steps.items()}


@torch.no_grad()
def record_spikes(
    model: nn.Module, x: torch.Tensor, batch_stats: bool = True
) -> OrderedDict[str, torch.Tensor]:
    """Run ``model`` on ``x`` (``[T, B, ...]``) and return its spikes per layer.

    ``batch_stats=True`` (the default, right for *untrained* networks) normalises with the
    probe batch's own statistics, as in training; ``False`` runs in eval mode. Either way the
    model's batch-norm statistics and training flag are left as they were
    (:func:`snnlib.layers.batch_norm_statistics`).
    """
    with batch_norm_statistics(model, "batch" if batch_stats else "running"):
        with SpikeRecorder(model) as rec:
            model(x)
    return rec.spikes


# -- accounting ----------------------------------------------------------------------------
def _dense_macs(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    """Multiply-accumulates of one forward call of a conv or linear layer (all samples)."""
    if isinstance(module, nn.Conv2d):
        k = module.kernel_size[0] * module.kernel_size[1] * (module.in_channels // module.groups)
        return int(out.numel()) * k
    return int(out.numel()) * module.in_features  # nn.Linear


@dataclass
class SpikeReport:
    """Totals gathered by a :class:`SpikeMonitor`, normalised per image."""

    images: int
    spikes_per_layer: dict[str, float]  # spikes per image, per LIF layer
    neurons_per_layer: dict[str, int]  # neurons per image per time step
    time_steps: int
    sops: float  # per image
    macs: float  # per image (non-binary inputs only)

    @property
    def nos(self) -> float:
        """Number of spikes per image, all spiking layers, all time steps."""
        return float(sum(self.spikes_per_layer.values()))

    @property
    def firing_rates(self) -> dict[str, float]:
        return {
            k: v / (self.neurons_per_layer[k] * self.time_steps)
            for k, v in self.spikes_per_layer.items()
            if self.neurons_per_layer[k]
        }

    @property
    def mean_firing_rate(self) -> float:
        total = sum(self.neurons_per_layer[k] * self.time_steps for k in self.spikes_per_layer)
        return self.nos / total if total else 0.0

    @property
    def energy_uj(self) -> float:
        """Energy per image in microjoules."""
        return (E_AC_PJ * self.sops + E_MAC_PJ * self.macs) * 1e-6

    def to_dict(self) -> dict:
        return {
            "nos": self.nos,
            "mean_firing_rate": self.mean_firing_rate,
            "sops": self.sops,
            "macs": self.macs,
            "energy_uj": self.energy_uj,
            "spikes_per_layer": dict(self.spikes_per_layer),
            "firing_rate_per_layer": self.firing_rates,
        }


class SpikeMonitor(LIFTap):
    """Context manager that counts spikes of every :class:`LIF` in a model, and the SOPs/MACs
    of its conv and linear layers, over any number of forward passes.

    Example::

        with SpikeMonitor(model) as mon:
            model(x)                       # x: [T, B, C, H, W]
        report = mon.report()              # per-image numbers

    Layer names are the modules' qualified names; ``group`` maps a name to a coarser key
    (e.g. the cell it belongs to) for per-cell NoS.
    """

    def __init__(self, model: nn.Module, count_ops: bool = True):
        super().__init__(model)
        self.count_ops = count_ops
        self._spikes: dict[str, float] = defaultdict(float)
        self._neurons: dict[str, int] = {}
        self._sops = 0.0
        self._macs = 0.0
        self._images = 0
        self._time_steps = 0
        self._handles: list = []

    # -- recording -----------------------------------------------------------------------
    def _record(self, module: nn.Module, spikes: torch.Tensor) -> None:
        name = self._names.get(module, "lif")
        self._spikes[name] += float(spikes.detach().sum())
        # spikes: [t, B, ...]; neurons per image = prod(...)
        self._neurons[name] = int(spikes[0, 0].numel()) if spikes.dim() > 1 else 1

    def _on_model_input(self, module, args):
        x = args[0]
        if isinstance(x, torch.Tensor) and x.dim() >= 2:
            self._time_steps = int(x.shape[0])
            self._images += int(x.shape[1])

    def _on_layer(self, module, args, out):
        inp = args[0].detach()
        macs = _dense_macs(module, inp, out)
        binary = bool(((inp == 0) | (inp == 1)).all())
        if binary:
            self._sops += macs * float(inp.count_nonzero()) / max(inp.numel(), 1)
        else:
            self._macs += macs

    def __enter__(self) -> SpikeMonitor:
        super().__enter__()
        if self.count_ops:
            self._handles.extend(
                m.register_forward_hook(self._on_layer)
                for m in self.model.modules()
                if isinstance(m, (nn.Conv2d, nn.Linear))
            )
        self._handles.append(self.model.register_forward_pre_hook(self._on_model_input))
        return self

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        for h in self._handles:
            h.remove()
        self._handles.clear()

    # -- results -------------------------------------------------------------------------
    def reset(self) -> None:
        self._spikes.clear()
        self._sops = self._macs = 0.0
        self._images = 0

    def report(self) -> SpikeReport:
        n = max(self._images, 1)
        return SpikeReport(
            images=self._images,
            spikes_per_layer={k: v / n for k, v in self._spikes.items()},
            neurons_per_layer=dict(self._neurons),
            time_steps=max(self._time_steps, 1),
            sops=self._sops / n,
            macs=self._macs / n,
        )


def group_by_prefix(per_layer: dict[str, float], depth: int = 2) -> dict[str, float]:
    """Sum per-layer numbers by the first ``depth`` components of their names (e.g. per cell).

    Example:
        >>> group_by_prefix({"cells.0.a.lif": 2.0, "cells.0.b.lif": 1.0, "head.lif": 4.0})
        {'cells.0': 3.0, 'head.lif': 4.0}
    """
    out: dict[str, float] = defaultdict(float)
    for name, v in per_layer.items():
        out[".".join(name.split(".")[:depth])] += v
    return dict(out)
