r"""Multi-dimensional attention for spiking feature maps ``X`` of shape ``[T, B, C, H, W]``.

A substrate module: MA-DARTS places it after its cells (:mod:`snnlib.darts.supernet`), the
SpikeNAS-Bench supernet after its two cells (:mod:`snnlib.spikenas.supernet`);
``snnlib.darts.attention`` re-exports it under its former name.

"Multi-dimensional" means attention along time, channels and space, as in Yao et al.'s
MA-SNN (temporal-wise, channel-wise, spatial-wise). Each module computes a gate ``g`` of
a broadcastable shape from a squeezed descriptor of ``X`` and returns ``X * g``; the gates
compose by function composition (temporal, then channel, then spatial):

.. math::

    X' = g_T(X) \odot X, \qquad X'' = g_C(X') \odot X', \qquad X''' = g_S(X'') \odot X''.

The gates (``\sigma`` a gating function, see *Gate* below):

- **temporal** (Yao et al. 2021, TA-SNN): squeeze each time step over ``C, H, W`` by
  average and max, pass the length-``T`` vectors through a shared two-layer MLP over time
  (``T -> ceil(T/r) -> T``):
  :math:`g_T = \sigma(M(\mathrm{avg}) + M(\max)) \in \mathbb{R}^{T\times B}`.
  It needs ``T`` at construction.
- **channel, ECA** (Wang et al. 2020): per time step, global average pool over ``H, W``,
  a 1-D convolution of odd size :math:`k = |\log_2(C)/\gamma + b/\gamma|_{odd}` across
  channels (:math:`\gamma = 2, b = 1`), no dimensionality reduction.
- **channel, CBAM/SE** (Woo et al. 2018): per time step, average and max pool over
  ``H, W``, a shared MLP ``C -> C/r -> C``: :math:`g_C = \sigma(M(\mathrm{avg}) + M(\max))`.
- **spatial, CBAM**: per time step, mean and max over channels, a ``k x k`` convolution
  (2 -> 1 maps): :math:`g_S = \sigma(\mathrm{conv}([\mathrm{mean}_C; \max_C]))`.

``make_attention(type, C, T)`` builds a registered type (the registry :data:`ATTENTION`,
extended by :func:`register_attention`): ``none`` (the identity, an exact no-op), ``eca``
(ECA channel), ``cbam`` (CBAM channel then spatial), ``tcsa`` (temporal, CBAM channel,
spatial: the three dimensions of MA-SNN).

The attention acts on currents (the BN outputs that a cell passes on), so it rescales the
input of the next layer's LIF neurons; it never sees or emits spikes itself.

**Gate.** The original modules gate with the logistic sigmoid, :math:`g \in (0, 1)`, about
1/2 at initialisation: three stacked gates (``tcsa``) scale a current by about 1/8. An
ANN does not care (ReLU and the next BN are scale-equivariant), but a spiking neuron has an
absolute threshold: the next LIF layer then starts almost silent, and inside the DARTS
supernet, whose batch norms are not affine, nothing but saturating the gates can restore
its input scale. The default here is therefore ``gate="scaled_sigmoid"``,
:math:`g = 2\sigma(z) \in (0, 2)`, which equals 1 at :math:`z = 0`: attention starts from
the neurons' un-attended operating point and may both suppress and emphasise.
``gate="sigmoid"`` gives the original modules exactly (the attention notebook compares the
two).

Example:
    >>> import torch
    >>> att = make_attention("tcsa", C=16, T=2)
    >>> att(torch.randn(2, 3, 16, 8, 8)).shape
    torch.Size([2, 3, 16, 8, 8])
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .validation import ConfigError, check_choice, check_range

GATES = ("sigmoid", "scaled_sigmoid")


def _gate(name: str, z: torch.Tensor) -> torch.Tensor:
    """``sigmoid``: :math:`\\sigma(z)\\in(0,1)`; ``scaled_sigmoid``: :math:`2\\sigma(z)\\in(0,2)`,
    equal to 1 at ``z = 0`` so a freshly initialised gate keeps the current's scale."""
    g = torch.sigmoid(z)
    return 2.0 * g if name == "scaled_sigmoid" else g


def _check_5d(x: torch.Tensor, who: str) -> None:
    if x.dim() != 5:
        raise ConfigError(f"{who} expects [T, B, C, H, W], got shape {tuple(x.shape)}")


class TemporalAttention(nn.Module):
    """Temporal-wise attention (TA): one weight per time step and sample, ``[T, B, 1, 1, 1]``."""

    def __init__(self, T: int, reduction: int = 4, gate: str = "scaled_sigmoid"):
        super().__init__()
        check_range("time_steps", T, 1, None, integer=True)
        self.T = T
        hidden = max(1, math.ceil(T / reduction))
        self.mlp = nn.Sequential(
            nn.Linear(T, hidden, bias=False), nn.ReLU(), nn.Linear(hidden, T, bias=False)
        )
        self.gate = check_choice("gate", gate, GATES)

    def extra_repr(self) -> str:
        return f"T={self.T}, gate={self.gate}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_5d(x, "TemporalAttention")
        if x.shape[0] != self.T:
            raise ConfigError(
                f"TemporalAttention was built for T={self.T} time steps, got T={x.shape[0]}; "
                "build the network with the time_steps of its input"
            )
        flat = x.flatten(2)  # [T, B, CHW]
        avg, mx = flat.mean(2).t(), flat.amax(2).t()  # [B, T]
        g = _gate(self.gate, self.mlp(avg) + self.mlp(mx)).t()  # [T, B]
        return x * g[:, :, None, None, None]


def eca_kernel_size(C: int, gamma: float = 2.0, b: float = 1.0) -> int:
    """ECA's adaptive kernel size: the odd integer nearest above ``|log2(C)/gamma + b/gamma|``."""
    t = int(abs(math.log2(C) / gamma + b / gamma))
    return t if t % 2 else t + 1


class ChannelECA(nn.Module):
    """ECA channel attention per time step: GAP -> 1-D conv across channels -> gate."""

    def __init__(self, C: int, kernel_size: int | None = None, gate: str = "scaled_sigmoid"):
        super().__init__()
        k = kernel_size or eca_kernel_size(C)
        if k % 2 == 0:
            raise ConfigError(f"ECA kernel size must be odd, got {k}")
        self.conv = nn.Conv1d(1, 1, k, padding=k // 2, bias=False)
        self.gate = check_choice("gate", gate, GATES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_5d(x, "ChannelECA")
        T, B, C = x.shape[:3]
        d = x.mean(dim=(3, 4)).reshape(T * B, 1, C)
        g = _gate(self.gate, self.conv(d)).view(T, B, C, 1, 1)
        return x * g


class ChannelSE(nn.Module):
    """CBAM channel attention per time step: avg- and max-pooled descriptors, shared MLP."""

    def __init__(
        self, C: int, reduction: int = 8, min_hidden: int = 4, gate: str = "scaled_sigmoid"
    ):
        super().__init__()
        hidden = min(C, max(min_hidden, C // reduction))
        self.mlp = nn.Sequential(
            nn.Linear(C, hidden, bias=False), nn.ReLU(), nn.Linear(hidden, C, bias=False)
        )
        self.gate = check_choice("gate", gate, GATES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_5d(x, "ChannelSE")
        g = _gate(
            self.gate, self.mlp(x.mean(dim=(3, 4))) + self.mlp(x.amax(dim=(3, 4)))
        )  # [T, B, C]
        return x * g[..., None, None]


class SpatialAttention(nn.Module):
    """CBAM spatial attention per time step: [mean_C, max_C] -> k x k conv -> gate."""

    def __init__(self, kernel_size: int = 7, gate: str = "scaled_sigmoid"):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ConfigError(f"spatial attention kernel size must be odd, got {kernel_size}")
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2)
        self.gate = check_choice("gate", gate, GATES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_5d(x, "SpatialAttention")
        T, B = x.shape[:2]
        d = torch.stack([x.mean(2), x.amax(2)], dim=2).flatten(0, 1)  # [TB, 2, H, W]
        g = _gate(self.gate, self.conv(d)).view(T, B, 1, *x.shape[3:])
        return x * g


AttentionFactory = Callable[..., nn.Module]


def _none(C: int, T: int, **_) -> nn.Module:
    return nn.Identity()


def _eca(C: int, T: int, *, gate: str = "scaled_sigmoid", **_) -> nn.Module:
    return ChannelECA(C, gate=gate)


def _cbam(
    C: int,
    T: int,
    *,
    gate: str = "scaled_sigmoid",
    channel_reduction: int = 8,
    spatial_kernel: int = 7,
    **_,
) -> nn.Module:
    return nn.Sequential(
        ChannelSE(C, channel_reduction, gate=gate), SpatialAttention(spatial_kernel, gate=gate)
    )


def _tcsa(
    C: int,
    T: int,
    *,
    gate: str = "scaled_sigmoid",
    channel_reduction: int = 8,
    temporal_reduction: int = 4,
    spatial_kernel: int = 7,
    **_,
) -> nn.Module:
    return nn.Sequential(
        TemporalAttention(T, temporal_reduction, gate=gate),
        ChannelSE(C, channel_reduction, gate=gate),
        SpatialAttention(spatial_kernel, gate=gate),
    )


#: ``name -> factory(C, T, *, gate, channel_reduction, temporal_reduction, spatial_kernel)``,
#: a shape-preserving module on ``[T, B, C, H, W]``; a factory ignores the options it has no
#: use for (``**_``). Adding an attention type is one entry (:func:`register_attention`).
ATTENTION: dict[str, AttentionFactory] = {
    "none": _none,
    "eca": _eca,
    "cbam": _cbam,
    "tcsa": _tcsa,
}


def register_attention(name: str, factory: AttentionFactory) -> AttentionFactory:
    """Add an attention type: ``factory(C, T, **options)`` returns a module that maps
    ``[T, B, C, H, W]`` to the same shape. The factory is tried once on a small input (with
    the global RNG state saved and restored, so registering changes no later random draw).
    Returns ``factory``, so it also serves as a decorator argument."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"attention name must be a non-empty string, got {name!r}")
    if name in ATTENTION:
        raise ConfigError(
            f"attention {name!r} is already registered; registered: {sorted(ATTENTION)}"
        )
    if not callable(factory):
        raise ConfigError(f"attention {name!r}: the factory must be callable, got {factory!r}")
    x = torch.ones(2, 2, 4, 3, 3)
    with torch.random.fork_rng(devices=[]):
        y = factory(4, 2)(x)
    if not isinstance(y, torch.Tensor) or y.shape != x.shape:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ConfigError(
            f"attention {name!r} must keep the shape [T, B, C, H, W] = {tuple(x.shape)}, "
            f"got {shape}"
        )
    ATTENTION[name] = factory
    return factory


def make_attention(
    type: str,
    C: int,
    T: int,
    *,
    gate: str = "scaled_sigmoid",
    channel_reduction: int = 8,
    temporal_reduction: int = 4,
    spatial_kernel: int = 7,
) -> nn.Module:
    """Attention ``ATTENTION[type]`` for ``C`` channels and ``T`` time steps (shape-preserving).

    ``none`` returns :class:`torch.nn.Identity` (the very input tensor comes back).
    """
    check_choice("attention", type, ATTENTION)
    check_range("attention channels", C, 1, None, integer=True)
    return ATTENTION[type](
        C,
        T,
        gate=gate,
        channel_reduction=channel_reduction,
        temporal_reduction=temporal_reduction,
        spatial_kernel=spatial_kernel,
    )
