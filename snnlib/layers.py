"""Building blocks that act on time-major tensors ``[T, B, ...]``.

Stateless layers (convolution, batch norm, pooling, linear) have no memory across time,
so they run once over the ``T * B`` flattened inputs instead of T times in a loop: the
main reason the multi-step network is faster than a per-step snnTorch loop.
"""

from __future__ import annotations

import torch
from torch import nn

from .neurons import LIF, NeuronConfig
from .validation import check_choice


class TimeDistributed(nn.Module):
    """Apply a stateless module to every time step at once by folding T into the batch."""

    def __init__(self, *modules: nn.Module):
        super().__init__()
        self.module = modules[0] if len(modules) == 1 else nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T, B = x.shape[:2]
        y = self.module(x.flatten(0, 1))
        return y.view(T, B, *y.shape[1:])


class SignFilter(nn.Module):
    """MSE-NAS's excitatory / inhibitory filter: keep the positive (+1) or negative (-1) part."""

    def __init__(self, sign: int):
        super().__init__()
        check_choice("sign", sign, (1, -1))
        self.sign = sign

    def extra_repr(self) -> str:
        return "excitatory" if self.sign > 0 else "inhibitory"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) if self.sign > 0 else -torch.relu(-x)


class SpikingConv(nn.Module):
    """LIF -> Conv2d (no bias) -> BatchNorm [-> sign filter], on ``[T, B, C, H, W]``.

    The operation family of both papers: spikes go into the convolution, so every synaptic
    event is an accumulate, and the normalised current is passed on to the next neuron.
    ``sign=+1/-1`` gives MSE-NAS's excitatory / inhibitory variants; ``None`` keeps both
    signs (DARTS-style op). ``dilation`` and ``groups`` give dilated and depthwise variants.
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size: int = 3,
        stride: int = 1,
        sign: int | None = None,
        neuron: NeuronConfig | None = None,
        dilation: int = 1,
        groups: int = 1,
        affine: bool = True,
    ):
        super().__init__()
        pad = dilation * (kernel_size - 1) // 2
        self.lif = LIF(neuron)
        self.body = TimeDistributed(
            nn.Conv2d(
                c_in, c_out, kernel_size, stride, pad, dilation=dilation, groups=groups, bias=False
            ),
            nn.BatchNorm2d(c_out, affine=affine),
        )
        self.sign = SignFilter(sign) if sign is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sign(self.body(self.lif(x)))


class ConvBN(nn.Module):
    """Conv2d -> BatchNorm on ``[T, B, C, H, W]`` without a neuron in front (stems)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int = 3, stride: int = 1):
        super().__init__()
        self.body = TimeDistributed(
            nn.Conv2d(c_in, c_out, kernel_size, stride, kernel_size // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class SpikingHead(nn.Module):
    """LIF -> global average pool -> linear; logits averaged over time -> ``[B, classes]``."""

    def __init__(self, c_in: int, num_classes: int, neuron: NeuronConfig | None = None):
        super().__init__()
        self.lif = LIF(neuron)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.lif(x).mean(dim=(-2, -1))  # [T, B, C]
        return self.fc(s).mean(0)
