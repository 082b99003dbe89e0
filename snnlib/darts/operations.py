r"""Candidate operations of the spiking DARTS search space, on time-major ``[T, B, C, H, W]``.

Every operation maps ``C`` channels to ``C`` channels; with ``stride=2`` it halves the
spatial size (``ceil(H/2)``), which all operations agree on so that a mixed operation can
sum them. The operations are *spike-compatible*: a convolution never sees a real-valued
input, it is always preceded by its own LIF neuron layer (``LIF -> conv -> BN``), so every
synaptic event is an accumulate. The current that leaves an operation (a BN output, a
pooled or passed-through current) is summed at a node and turned into spikes by the LIF of
the next operation that reads it:

.. math::

    \mathrm{op}(x) = \mathrm{BN}\bigl(W * \mathrm{LIF}(x)\bigr), \qquad
    x \in \mathbb{R}^{T \times B \times C \times H \times W}.

Pooling and identity act on currents and hold no neuron: they neither spike nor compute
synaptic operations. ``dil_conv_3x3`` is a *full* 3x3 convolution with dilation 2 (a 5x5
receptive field for nine weights per channel pair), not DARTS' depthwise-pointwise pair: in
that pair the pointwise convolution would receive real-valued depthwise outputs (MACs, not
spike-driven ACs). ``sep_conv_3x3`` keeps the separable form with a neuron layer before each
of its convolutions.

The registry imitates DARTS: ``OPS[name](C, stride, affine=..., neuron=...)`` builds a
module, ``PRIMITIVES`` is the default search space (a list of names). Adding an operation
is one entry in ``OPS``.

Example:
    >>> import torch
    >>> op = OPS["spike_conv_3x3"](8, 2)
    >>> op(torch.randn(2, 3, 8, 16, 16)).shape          # T=2, B=3
    torch.Size([2, 3, 8, 8, 8])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..layers import FactorizedReduce, SpikingConv, TimeDistributed
from ..neurons import NeuronConfig
from ..validation import ConfigError, check_choice


class Zero(nn.Module):
    """The ``none`` operation: a zero current of the output shape (no edge)."""

    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def extra_repr(self) -> str:
        return f"stride={self.stride}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[..., :: self.stride, :: self.stride].mul(0.0)


class SpikingSepConv(nn.Module):
    r"""Spiking separable convolution (DARTS' ``sep_conv``, every convolution fed by spikes):

    .. math::

        \text{block}(x) =
        \mathrm{BN}\bigl(P * \mathrm{LIF}(\mathrm{BN}(D *_s \mathrm{LIF}(x)))\bigr)

    with ``D`` a depthwise ``k x k`` convolution (stride ``s``) and ``P`` a pointwise 1x1
    convolution; a neuron layer sits in front of each, so the pointwise convolution also
    receives spikes (a plain depthwise-pointwise pair would feed it real values, i.e. MACs).
    The block is applied twice, the second at stride 1, as in DARTS.
    """

    def __init__(
        self,
        C: int,
        kernel_size: int,
        stride: int,
        repeats: int = 2,
        affine: bool = True,
        neuron: NeuronConfig | None = None,
    ):
        super().__init__()
        blocks = []
        for r in range(repeats):
            blocks += [
                SpikingConv(
                    C,
                    C,
                    kernel_size,
                    stride if r == 0 else 1,
                    neuron=neuron,
                    groups=C,
                    affine=affine,
                ),
                SpikingConv(C, C, 1, neuron=neuron, affine=affine),
            ]
        self.body = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def _pool(kind: str, stride: int) -> nn.Module:
    if kind == "max":
        return TimeDistributed(nn.MaxPool2d(3, stride=stride, padding=1))
    return TimeDistributed(nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False))


def _skip(C: int, stride: int, affine: bool, neuron: NeuronConfig | None) -> nn.Module:
    return nn.Identity() if stride == 1 else FactorizedReduce(C, C, affine=affine, neuron=neuron)


OpFactory = Callable[..., nn.Module]

#: ``name -> factory(C, stride, *, affine=True, neuron=None) -> module`` on ``[T, B, C, H, W]``.
OPS: dict[str, OpFactory] = {
    "none": lambda C, stride, affine=True, neuron=None: Zero(stride),
    "skip_connect": lambda C, stride, affine=True, neuron=None: _skip(C, stride, affine, neuron),
    "max_pool_3x3": lambda C, stride, affine=True, neuron=None: _pool("max", stride),
    "avg_pool_3x3": lambda C, stride, affine=True, neuron=None: _pool("avg", stride),
    "spike_conv_3x3": lambda C, stride, affine=True, neuron=None: SpikingConv(
        C, C, 3, stride, neuron=neuron, affine=affine
    ),
    "spike_conv_5x5": lambda C, stride, affine=True, neuron=None: SpikingConv(
        C, C, 5, stride, neuron=neuron, affine=affine
    ),
    "dil_conv_3x3": lambda C, stride, affine=True, neuron=None: SpikingConv(
        C, C, 3, stride, neuron=neuron, dilation=2, affine=affine
    ),
    "sep_conv_3x3": lambda C, stride, affine=True, neuron=None: SpikingSepConv(
        C, 3, stride, affine=affine, neuron=neuron
    ),
}

#: The default search space: DARTS' candidates with spiking convolutions (7 of its 8; the
#: separable convolution, four neuron layers deep, is registered but left out to keep the
#: supernet small on a CPU: pass ``primitives=`` to search it).
PRIMITIVES: tuple[str, ...] = (
    "none",
    "skip_connect",
    "max_pool_3x3",
    "avg_pool_3x3",
    "spike_conv_3x3",
    "spike_conv_5x5",
    "dil_conv_3x3",
)

#: Operations without parameters; DARTS appends a non-affine BN to them inside a mixed
#: operation so their output scale is comparable to the normalised convolutions.
POOLING: frozenset[str] = frozenset({"max_pool_3x3", "avg_pool_3x3"})


def check_primitives(primitives) -> tuple[str, ...]:
    """Validate a search space: known, distinct names, at least one besides ``none``."""
    primitives = tuple(primitives)
    for name in primitives:
        check_choice("primitive", name, OPS)
    if len(set(primitives)) != len(primitives):
        raise ConfigError(f"primitives {list(primitives)} repeat a name")
    if not [p for p in primitives if p != "none"]:
        raise ConfigError("primitives need at least one operation other than 'none'")
    return primitives


def make_op(
    name: str, C: int, stride: int, *, affine: bool = True, neuron: NeuronConfig | None = None
) -> nn.Module:
    """Build ``OPS[name]`` with a clear error for an unknown name or a bad stride."""
    check_choice("operation", name, OPS)
    check_choice("stride", stride, (1, 2))
    return OPS[name](C, stride, affine=affine, neuron=neuron)
