"""The fixed spiking CNN of the substrate chapter: the reference point for every search.

Layout (``width`` = c)::

    stem  Conv3x3(c_in -> c) + BN                      (input current, not spiking)
    block SpikingConv(c -> c)                          LIF -> conv -> BN
    down  SpikingConv(c -> 2c, stride 2)
    block SpikingConv(2c -> 2c)
    down  SpikingConv(2c -> 4c, stride 2)
    head  LIF -> global average pool -> linear, logits averaged over T
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import ConvBN, SpikingConv, SpikingHead, to_channels_last
from .neurons import NeuronConfig


class SpikingCNN(nn.Module):
    """A small hand-designed spiking CNN; input ``[T, B, C, H, W]``, output ``[B, classes]``.

    On the CPU the input is laid out channels-last first (:func:`snnlib.layers.set_channels_last`:
    about twice as fast convolutions on one core; ``channels_last(False)`` for NCHW).

    Example:
        >>> import torch
        >>> net = SpikingCNN(in_channels=1, num_classes=10, width=4)
        >>> net(torch.rand(4, 2, 1, 16, 16)).shape                  # T=4, B=2
        torch.Size([2, 10])
        >>> count_parameters(net)
        2446
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        width: int = 16,
        neuron: NeuronConfig | None = None,
    ):
        super().__init__()
        c = width
        self.stem = ConvBN(in_channels, c)
        self.features = nn.Sequential(
            SpikingConv(c, c, 3, neuron=neuron),
            SpikingConv(c, 2 * c, 3, stride=2, neuron=neuron),
            SpikingConv(2 * c, 2 * c, 3, neuron=neuron),
            SpikingConv(2 * c, 4 * c, 3, stride=2, neuron=neuron),
        )
        self.head = SpikingHead(4 * c, num_classes, neuron)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(self.stem(to_channels_last(x))))


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
