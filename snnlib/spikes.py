"""Spike accounting: spikes per layer, number of spikes per image (NoS), synaptic operations
(SOPs) and an energy estimate.

Definitions (stated once, used everywhere in the book):

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
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import torch
from torch import nn

from .recording import LIFTap

E_AC_PJ = 0.9
E_MAC_PJ = 4.6


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
    """Sum per-layer numbers by the first ``depth`` components of their names (e.g. per cell)."""
    out: dict[str, float] = defaultdict(float)
    for name, v in per_layer.items():
        out[".".join(name.split(".")[:depth])] += v
    return dict(out)
