r"""The SpikeNAS-Bench network, built as the benchmark builds it (its CIFAR-10 configuration).

.. code-block:: text

    image -> conv 3x3 (3 -> C1, no bias) -> BN            (once; repeated over T = 5 steps)
          -> cell(C1, 32x32)
          -> BN -> LIF(1.0) -> conv 3x3 (C1 -> C2, no bias) -> BN -> avg-pool 2
          -> cell(C2, 16x16)
          -> BN -> LIF(1.0) -> avg-pool 2 (8x8)
          -> dropout 0.5 -> linear (C2*64 -> 1024, no bias) -> LIF(1.0)
          -> linear (1024 -> 10 * 10) -> mean of groups of 10 outputs (10 classes)
    logits = mean over the T steps

with ``(C1, C2) = (128, 256)`` in the benchmark (``width=1``); ``width`` scales both (and the
hidden 1024 units) for the cheap proxies of the ``cpu`` scale. Every cell edge is built,
reachable or not, so parameter counts equal the table's ``params``. Initialisation as the
benchmark: convolutions Kaiming-uniform with ``a = 2``, linear weights :math:`N(0, 0.01)`,
biases 0, BN weight 1 and bias 0. At a reduced width the linear weights' spread is scaled to
the smaller fan-in by default (``linear_init="width_matched"``, :meth:`SpikeNASNet.linear_std`);
``"benchmark"`` keeps 0.01.

**The neuron.** The benchmark uses SpikingJelly's LIF with :math:`\tau = 4/3`, hard reset to
0, detached reset and the ATan surrogate (:math:`\alpha = 2`):
:math:`V[t] = V[t-1] + (X[t] - V[t-1]) / \tau`, spike when :math:`V \ge \vartheta`. With
:math:`H = \tau V` this is exactly snnlib's LIF :math:`H[t] = \beta H[t-1](1 - S[t-1]) + X[t]`
with :math:`\beta = 1 - 1/\tau` and threshold :math:`\tau\vartheta`; the ATan surrogate in
:math:`H` has :math:`\alpha/\tau`. :func:`benchmark_neuron` returns that configuration, so
the forward pass and the surrogate gradient equal SpikingJelly's.

>>> import torch
>>> net = SpikeNASNet((2, 0, 0, 0, 1, 4), width=1 / 16)
>>> net(torch.zeros(2, 3, 32, 32)).shape
torch.Size([2, 10])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..layers import SpikingConv, TimeDistributed
from ..neurons import LIF, NeuronConfig
from ..validation import ConfigError, check_choice, check_range
from .space import CONV_THRESHOLDS, EDGES, check_edges

TAU = 4.0 / 3.0
TIME_STEPS = 5
WIDTHS = (128, 256)
HIDDEN = 1024
GROUPS = 10
LINEAR_INITS = ("width_matched", "benchmark")


def benchmark_neuron(threshold: float) -> NeuronConfig:
    """snnlib's exact equivalent of SpikingJelly's ``LIFNode(tau=4/3, v_threshold=threshold,
    v_reset=0, detach_reset=True, surrogate=ATan())`` (see the module docstring)."""
    return NeuronConfig(
        tau=TAU,
        threshold=TAU * threshold,
        reset="zero",
        surrogate="atan",
        surrogate_kwargs={"alpha": 2.0 / TAU},
    )


class Zero(nn.Module):
    """The ``zero`` operation: no signal on this edge."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


def make_op(code: int, channels: int) -> nn.Module:
    """Operation ``code`` (0 zero, 1 identity, 2-4 LIF -> conv 3x3 -> BN) at ``channels``."""
    if code == 0:
        return Zero()
    if code == 1:
        return nn.Identity()
    return SpikingConv(channels, channels, 3, neuron=benchmark_neuron(CONV_THRESHOLDS[code]))


class SpikeNASCell(nn.Module):
    """The four-node cell on time-major tensors ``[T, B, C, H, W]``; its output is node 3."""

    def __init__(self, edges: Sequence[int], channels: int):
        super().__init__()
        self.edges = check_edges(edges)
        self.ops = nn.ModuleDict({n: make_op(c, channels) for n, c in zip(EDGES, self.edges)})
        self.live = {n: c != 0 for n, c in zip(EDGES, self.edges)}

    def _edge(self, name: str, x: torch.Tensor | None) -> torch.Tensor | None:
        if x is None or not self.live[name]:
            return None
        return self.ops[name](x)

    @staticmethod
    def _sum(*terms: torch.Tensor | None) -> torch.Tensor | None:
        terms = [t for t in terms if t is not None]
        if not terms:
            return None
        out = terms[0]
        for t in terms[1:]:
            out = out + t
        return out

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        x1 = self._edge("e01", x0)
        x2 = self._sum(self._edge("e02", x0), self._edge("e12", x1))
        x3 = self._sum(self._edge("e03", x0), self._edge("e13", x1), self._edge("e23", x2))
        return torch.zeros_like(x0) if x3 is None else x3


class SpikeNASNet(nn.Module):
    """The benchmark's CIFAR-10 network around one cell (used twice, at C1 and C2 channels).

    ``width`` multiplies the channel counts and the hidden layer (1 = the benchmark's 128 /
    256 / 1024); ``time_steps`` defaults to the benchmark's 5. Input: images ``[B, 3, 32, 32]``
    (normalised); output: logits ``[B, 10]`` averaged over time. ``dropout`` (the benchmark's
    0.5) acts in training mode only; training-free scores, which run the untrained network in
    training mode for batch statistics, build it with ``dropout=0`` so that no unit is dropped
    at random from the responses they compare.
    """

    def __init__(
        self,
        edges: Sequence[int],
        width: float = 1.0,
        time_steps: int = TIME_STEPS,
        num_classes: int = 10,
        image_size: int = 32,
        dropout: float = 0.5,
        linear_init: str = "width_matched",
    ):
        super().__init__()
        check_range("width", width, 1e-3, 8.0)
        check_range("time_steps", time_steps, 1, None, integer=True)
        check_range("dropout", dropout, 0.0, 1.0)
        check_choice("linear_init", linear_init, LINEAR_INITS)
        self.width = float(width)
        self.linear_init = linear_init
        if image_size % 4:
            raise ConfigError(f"image_size={image_size} must be a multiple of 4 (two 2x2 poolings)")
        c1, c2 = (max(1, round(w * width)) for w in WIDTHS)
        hidden = max(1, round(HIDDEN * width))
        self.edges = check_edges(edges)
        self.time_steps = int(time_steps)
        self.num_classes = num_classes
        self.stem = nn.Sequential(nn.Conv2d(3, c1, 3, 1, 1, bias=False), nn.BatchNorm2d(c1))
        self.cell1 = SpikeNASCell(self.edges, c1)
        self.down = nn.Sequential(
            TimeDistributed(nn.BatchNorm2d(c1)),
            LIF(benchmark_neuron(1.0)),
            TimeDistributed(
                nn.Conv2d(c1, c2, 3, 1, 1, bias=False), nn.BatchNorm2d(c2), nn.AvgPool2d(2)
            ),
        )
        self.cell2 = SpikeNASCell(self.edges, c2)
        self.post = nn.Sequential(
            TimeDistributed(nn.BatchNorm2d(c2)),
            LIF(benchmark_neuron(1.0)),
            TimeDistributed(nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(dropout)),
        )
        side = self.side = image_size // 4
        self.fc1 = TimeDistributed(nn.Linear(c2 * side * side, hidden, bias=False))
        self.lif_fc = LIF(benchmark_neuron(1.0))
        self.fc2 = TimeDistributed(nn.Linear(hidden, num_classes * GROUPS))
        self.reset_parameters()

    def linear_std(self, m: nn.Linear) -> float:
        r"""The standard deviation of a linear layer's initial weights: the benchmark's 0.01 at
        full width; at a reduced width, with ``linear_init="width_matched"``, scaled by
        :math:`\sqrt{\text{full fan-in} / \text{fan-in}}` so that the currents reaching the
        hidden and output neurons have the statistics they have in the full network (with a
        fixed 0.01 the hidden LIF layer of a 1/16-width network was silent on every probe image
        for three of four cells tried at initialisation).
        """
        if self.linear_init == "benchmark" or self.width == 1.0:
            return 0.01
        full = WIDTHS[1] * self.side**2 if m is self.fc1.module else HIDDEN
        return 0.01 * (full / m.in_features) ** 0.5

    def reset_parameters(self) -> None:
        """The benchmark's initialisation (see the module docstring and :meth:`linear_std`)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=2)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, self.linear_std(m))
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ConfigError(f"SpikeNASNet takes images [B, 3, H, W]; got {tuple(images.shape)}")
        s = self.stem(images)
        x = s.unsqueeze(0).expand(self.time_steps, *s.shape)
        x = self.cell2(self.down(self.cell1(x)))
        out = self.fc2(self.lif_fc(self.fc1(self.post(x))))  # [T, B, classes * groups]
        out = out.view(*out.shape[:2], self.num_classes, GROUPS).mean(-1)
        return out.mean(0)
