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

from collections.abc import Callable, Sequence

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


def _sum(*terms: torch.Tensor | None) -> torch.Tensor | None:
    """The sum of the terms that are not ``None`` (``None`` if none is)."""
    out = None
    for t in terms:
        if t is not None:
            out = t if out is None else out + t
    return out


def cell_forward(edge: Callable[[str, torch.Tensor | None], torch.Tensor | None], x0):
    r"""The cell's graph: :math:`x_1 = e_{01}(x_0)`, :math:`x_2 = e_{02}(x_0) + e_{12}(x_1)`,
    :math:`x_3 = e_{03}(x_0) + e_{13}(x_1) + e_{23}(x_2)`, output :math:`x_3`.

    ``edge(name, x)`` is one edge's output, ``None`` for no signal (a ``zero`` edge, or an
    input that is itself ``None``); a node without signal is ``None`` and an output without
    signal is zeros. Skipping dead edges, rather than adding zeros, is what lets an operation
    on a node no signal reaches stay untouched (no batch-norm statistics of its own zeros)."""
    x1 = edge("e01", x0)
    x2 = _sum(edge("e02", x0), edge("e12", x1))
    x3 = _sum(edge("e03", x0), edge("e13", x1), edge("e23", x2))
    return torch.zeros_like(x0) if x3 is None else x3


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

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        return cell_forward(self._edge, x0)


class SpikeNASBody(nn.Module):
    """The benchmark's network with the cell left to the caller: ``make_cell(channels)``
    builds the module used at C1 (32x32) and at C2 (16x16) channels. :class:`SpikeNASNet`
    puts one discrete cell there, :class:`~snnlib.spikenas.supernet.SpikeNASSupernet` a cell
    of mixed operations; everything else (layers, parameter names, initialisation, width
    scaling) is this class.

    :meth:`embed` is the stem repeated over the time steps, :meth:`classify` everything after
    the second cell; ``forward = classify(cell2(down(cell1(embed(images)))))``.
    """

    def __init__(
        self,
        make_cell: Callable[[int], nn.Module],
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
        c1, c2 = self.channels = tuple(max(1, round(w * width)) for w in WIDTHS)
        hidden = max(1, round(HIDDEN * width))
        self.time_steps = int(time_steps)
        self.num_classes = num_classes
        self.stem = nn.Sequential(nn.Conv2d(3, c1, 3, 1, 1, bias=False), nn.BatchNorm2d(c1))
        self.cell1 = make_cell(c1)
        self.down = nn.Sequential(
            TimeDistributed(nn.BatchNorm2d(c1)),
            LIF(benchmark_neuron(1.0)),
            TimeDistributed(
                nn.Conv2d(c1, c2, 3, 1, 1, bias=False), nn.BatchNorm2d(c2), nn.AvgPool2d(2)
            ),
        )
        self.cell2 = make_cell(c2)
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
        """The benchmark's initialisation (see the module docstring and :meth:`linear_std`).
        A cell's ``attention`` (the supernet's option) keeps PyTorch's default initialisation,
        as the attention of MA-DARTS' supernet does."""
        keep = {
            id(m)
            for cell in (self.cell1, self.cell2)
            if isinstance(getattr(cell, "attention", None), nn.Module)
            for m in cell.attention.modules()
        }
        for m in self.modules():
            if id(m) in keep:
                continue
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=2)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, self.linear_std(m))
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """The stem's output ``[T, B, C1, H, W]``: computed once and repeated over the steps."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ConfigError(
                f"{type(self).__name__} takes images [B, 3, H, W]; got {tuple(images.shape)}"
            )
        s = self.stem(images)
        return s.unsqueeze(0).expand(self.time_steps, *s.shape)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, classes]`` from the second cell's output: the time mean of the group
        means of the output layer."""
        out = self.fc2(self.lif_fc(self.fc1(self.post(x))))  # [T, B, classes * groups]
        out = out.view(*out.shape[:2], self.num_classes, GROUPS).mean(-1)
        return out.mean(0)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classify(self.cell2(self.down(self.cell1(self.embed(images)))))


class SpikeNASNet(SpikeNASBody):
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
        super().__init__(
            lambda c: SpikeNASCell(edges, c),
            width=width,
            time_steps=time_steps,
            num_classes=num_classes,
            image_size=image_size,
            dropout=dropout,
            linear_init=linear_init,
        )
        self.edges = check_edges(edges)
