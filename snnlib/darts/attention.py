"""Moved: the multi-dimensional attention now lives in the substrate, :mod:`snnlib.attention`,
so that every method (MA-DARTS here, the SpikeNAS-Bench supernet too) can place it without
importing another method. This module re-exports it, so existing imports keep working; the
registry is one object, so :func:`register_attention` through either name adds to both.

>>> from snnlib import attention
>>> make_attention is attention.make_attention and ATTENTION is attention.ATTENTION
True
"""

from ..attention import (
    ATTENTION,
    GATES,
    AttentionFactory,
    ChannelECA,
    ChannelSE,
    SpatialAttention,
    TemporalAttention,
    eca_kernel_size,
    make_attention,
    register_attention,
)

__all__ = [
    "ATTENTION",
    "GATES",
    "AttentionFactory",
    "ChannelECA",
    "ChannelSE",
    "SpatialAttention",
    "TemporalAttention",
    "eca_kernel_size",
    "make_attention",
    "register_attention",
]
