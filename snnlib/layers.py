"""Building blocks that act on time-major tensors ``[T, B, ...]``.

Stateless layers (convolution, batch norm, pooling, linear) have no memory across time,
so they run once over the ``T * B`` flattened inputs instead of T times in a loop: the
main reason the multi-step network is faster than a per-step snnTorch loop.

The spiking layers build their neurons with :func:`snnlib.neurons.make_neuron` from their
``neuron`` configuration: a :class:`~snnlib.neurons.LIF` by default, any registered neuron
model when the configuration names one (``NeuronConfig().with_(model=...)``); the layer
calls its neuron ``lif`` whatever the model.

:func:`batch_norm_statistics` is the one way to choose which statistics the batch norms of
a model normalise with for a block of code (running or batch) without disturbing them.

Example:
    >>> import torch
    >>> op = SpikingConv(2, 4, kernel_size=3, stride=2)     # LIF -> conv -> BN
    >>> op(torch.rand(5, 3, 2, 8, 8)).shape                   # [T, B, C, H, W]
    torch.Size([5, 3, 4, 4, 4])
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from .neurons import NeuronConfig, make_neuron
from .validation import ConfigError, check_choice

BN_MODES = ("running", "batch")
_channels_last = os.environ.get("SNNLIB_CHANNELS_LAST", "1") != "0"


def set_channels_last(on: bool) -> bool:
    """Whether :func:`to_channels_last` (called by :class:`snnlib.models.SpikingCNN` on its
    input) lays CPU images out channels-last (NHWC); default on, ``$SNNLIB_CHANNELS_LAST=0``
    turns it off at import. Returns the previous setting.

    Why: oneDNN's single-core convolutions of the small channel counts of the fixed SNN
    (3 to 64 channels, 3 x 3 kernels) run about twice as fast, forward and backward, on NHWC
    as on NCHW tensors (``benchmarks/b1_forward``: ``snnlib`` against ``snnlib_nchw``). The
    layout then propagates: convolutions, batch norms and the LIF kernels all keep it, so the
    input is the only copy. What changes: the order in which convolutions and batch-norm
    statistics sum, so outputs differ from the NCHW ones by rounding (about 1e-6 relative
    for a convolution, up to ~1e-5 after a train-mode batch norm over T * B samples), and a
    spike whose membrane sits within that of the threshold can flip. Runs stay deterministic
    for a fixed seed. CUDA tensors are left as they come.

    Why only the fixed SNN: torch 2.14.1's oneDNN backward of a 1 x 1, stride-2 convolution
    on a channels-last input with few channels (DARTS's ``FactorizedReduce``) corrupts the
    heap (reproduced in ``tests/test_native.py``'s docstring), so the searched networks,
    which have such convolutions, stay NCHW.
    """
    global _channels_last
    previous, _channels_last = _channels_last, bool(on)
    return previous


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """``[T, B, C, H, W]`` CPU input laid out so that every image is channels-last: folding
    T into the batch (:class:`TimeDistributed`) then gives an NHWC ``[T * B, C, H, W]`` view.
    A no-op when switched off (:func:`set_channels_last`), on CUDA, for other ranks, or when
    ``x`` is laid out so already.

    Example:
        >>> import torch
        >>> x = to_channels_last(torch.rand(2, 3, 4, 5, 5))
        >>> x.flatten(0, 1).is_contiguous(memory_format=torch.channels_last)
        True
    """
    if not _channels_last or x.dim() != 5 or x.device.type != "cpu":
        return x
    nhwc = x.permute(0, 1, 3, 4, 2)
    return x if nhwc.is_contiguous() else nhwc.contiguous().permute(0, 1, 4, 2, 3)


@contextmanager
def channels_last(on: bool = True) -> Iterator[None]:
    """Context manager: run the enclosed code with channels-last on or off."""
    previous = set_channels_last(on)
    try:
        yield
    finally:
        set_channels_last(previous)


@contextmanager
def batch_norm_statistics(model: nn.Module, mode: str) -> Iterator[nn.Module]:
    """Run a block with ``model``'s batch norms on their ``"running"`` statistics (eval mode)
    or on each batch's own statistics (``"batch"``, training mode) and leave the model as it
    was: afterwards its training flag and, for ``"batch"``, every buffer (batch-norm running
    statistics and their batch counters included) are back to their values before the block.

    ``"batch"`` is how an untrained network or a supernet whose running statistics trail its
    weights is measured (training-free scores, supernet evaluation, architecture steps); a
    trained network is evaluated with ``"running"``.

    Example:
        >>> import torch
        >>> net = TimeDistributed(nn.BatchNorm2d(2))
        >>> with batch_norm_statistics(net, "batch"):
        ...     y = net(torch.randn(3, 4, 2, 5, 5) + 7.0)   # normalised with this batch
        >>> net.module.running_mean.tolist(), net.training  # untouched
        ([0.0, 0.0], True)
        >>> with batch_norm_statistics(net, "running"):
        ...     net.training
        False
    """
    check_choice("bn", mode, BN_MODES)
    was_training = model.training
    saved = [(b, b.detach().clone()) for b in model.buffers()] if mode == "batch" else []
    model.train(mode == "batch")
    try:
        yield model
    finally:
        with torch.no_grad():
            for b, v in saved:
                b.copy_(v)
        model.train(was_training)


class TimeDistributed(nn.Module):
    """Apply a stateless module to every time step at once by folding T into the batch.

    Folding is a view, so a channels-last input (:func:`to_channels_last`) reaches the
    module as an NHWC ``[T * B, C, H, W]`` tensor without a copy.

    Example:
        >>> import torch
        >>> conv = TimeDistributed(nn.Conv2d(1, 3, 3, padding=1))
        >>> conv(torch.rand(4, 2, 1, 6, 6)).shape       # T=4, B=2: one call on 8 images
        torch.Size([4, 2, 3, 6, 6])
    """

    def __init__(self, *modules: nn.Module):
        super().__init__()
        self.module = modules[0] if len(modules) == 1 else nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T, B = x.shape[:2]
        y = self.module(x.flatten(0, 1))
        return y.view(T, B, *y.shape[1:])


class SignFilter(nn.Module):
    """MSE-NAS's excitatory / inhibitory filter: keep the positive (+1) or negative (-1) part.

    Example:
        >>> import torch
        >>> SignFilter(1)(torch.tensor([-2.0, 0.5])).tolist()     # excitatory
        [0.0, 0.5]
        >>> SignFilter(-1)(torch.tensor([-2.0, 0.5])).tolist()    # inhibitory (-0.0 is 0)
        [-2.0, -0.0]
    """

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
        self.lif = make_neuron(neuron)
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
    """LIF -> global average pool -> linear; logits averaged over time -> ``[B, classes]``.

    Example:
        >>> import torch
        >>> SpikingHead(8, num_classes=10)(torch.rand(4, 2, 8, 3, 3)).shape
        torch.Size([2, 10])
    """

    def __init__(self, c_in: int, num_classes: int, neuron: NeuronConfig | None = None):
        super().__init__()
        self.lif = make_neuron(neuron)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.lif(x).mean(dim=(-2, -1))  # [T, B, C]
        return self.fc(s).mean(0)


class FactorizedReduce(nn.Module):
    r"""LIF -> two 1x1 convolutions of stride ``s`` (the input, and the input shifted by
    ``s // 2`` pixels) -> concatenated over channels -> BatchNorm, on ``[T, B, C, H, W]``:

    .. math::

        y = \mathrm{BN}\bigl([\,W_1 *_s x \;\|\; W_2 *_s x_{\searrow s/2}\,]\bigr),
        \quad x = \mathrm{LIF}(\text{input})

    DARTS's reduction of an earlier cell output (its ``skip_connect`` at stride 2), and MSE-NAS's
    resizing of an input several resolutions away (any power-of-two stride). The shifted path
    sees the pixels the first one skips; it is zero-padded back to the input size, so both
    halves have ``ceil(H / s)`` rows, like a chain of stride-2 convolutions. The first conv
    has ``c_out // 2`` output channels and the second the rest; ``affine=False`` gives the
    parameter-free batch norm of a DARTS supernet. Parameters are created in the order LIF,
    ``conv_a``, ``conv_b``, ``bn`` (so a seed gives the same initial weights in every caller).

    Example:
        >>> import torch
        >>> reduce = FactorizedReduce(4, 6, stride=2)
        >>> reduce(torch.rand(3, 2, 4, 9, 9)).shape     # [T, B, C, ceil(9 / 2), ceil(9 / 2)]
        torch.Size([3, 2, 6, 5, 5])
        >>> FactorizedReduce(4, 8, stride=4)(torch.rand(3, 2, 4, 16, 16)).shape
        torch.Size([3, 2, 8, 4, 4])
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        stride: int = 2,
        neuron: NeuronConfig | None = None,
        affine: bool = True,
    ):
        super().__init__()
        if stride < 2:
            raise ConfigError(f"FactorizedReduce stride={stride} must be >= 2")
        self.stride = stride
        self.lif = make_neuron(neuron)
        half = c_out // 2
        self.conv_a = nn.Conv2d(c_in, half, 1, stride, bias=False)
        self.conv_b = nn.Conv2d(c_in, c_out - half, 1, stride, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T, B = x.shape[:2]
        s = self.lif(x).flatten(0, 1)
        k = self.stride // 2
        shifted = nn.functional.pad(s[..., k:, k:], (0, k, 0, k))
        y = self.bn(torch.cat([self.conv_a(s), self.conv_b(shifted)], dim=1))
        return y.view(T, B, *y.shape[1:])
