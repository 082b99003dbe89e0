r"""The discrete spiking network built from a genotype, for retraining (DARTS' ``NetworkCIFAR``).

Layout (``C`` initial channels, :data:`~snnlib.darts.layout.Layout` of cells)::

    stem   Conv3x3(c_in -> 3C) + BN                        (input current, not spiking)
    cells  normal / reduction cells of the genotype         (spiking operations)
    head   LIF -> global average pool -> linear, logits averaged over T

A cell pre-processes its two inputs to ``C`` channels (``LIF -> 1x1 conv -> BN``, or a
spiking factorized reduce when the older input has twice the resolution), computes every
intermediate node as the sum of its two chosen operations,

.. math::

    x_i = \mathrm{op}_{i,a}(x_{j_a}) + \mathrm{op}_{i,b}(x_{j_b}),

and returns the channel concatenation of the ``concat`` nodes, passed through the
attention module when the placement is ``"cell"`` (:math:`c_k = A([x_2 \| \dots \| x_5])`),
or with every node's output passed through its own attention when it is ``"node"``.
Reduction cells apply stride 2 to the edges that leave the two input nodes and double the
channel count, as in DARTS.
"""

from __future__ import annotations

import torch
from torch import nn

from ..attention import make_attention
from ..layers import ConvBN, FactorizedReduce, SpikingConv, SpikingHead
from ..neurons import NeuronConfig
from ..validation import ConfigError, check_choice, check_range
from .genotype import Genotype, validate_genotype
from .layout import Layout, darts_layout, validate_layout
from .operations import make_op

PLACEMENTS = ("cell", "node")


def preprocessors(
    c_pp: int, c_p: int, C: int, reduction_prev: bool, affine: bool, neuron: NeuronConfig | None
) -> tuple[nn.Module, nn.Module]:
    """Bring a cell's two inputs to ``C`` channels at the cell's input resolution."""
    pre0 = (
        FactorizedReduce(c_pp, C, affine=affine, neuron=neuron)
        if reduction_prev
        else SpikingConv(c_pp, C, 1, neuron=neuron, affine=affine)
    )
    pre1 = SpikingConv(c_p, C, 1, neuron=neuron, affine=affine)
    return pre0, pre1


def channel_plan(layout: Layout, C: int, stem_multiplier: int, multiplier: int):
    """Yield ``(kind, c_pp, c_p, c_cell, reduction_prev)`` per cell, and the final width.

    Returns ``(plans, c_out)``; ``c_cell`` is the width of the cell's nodes, its output has
    ``multiplier * c_cell`` channels.
    """
    c_stem = stem_multiplier * C
    c_pp, c_p, c_cell = c_stem, c_stem, C
    reduction_prev = False
    plans = []
    for kind in layout.cells:
        reduction = kind == "reduce"
        if reduction:
            c_cell *= 2
        if reduction and layout.reduce_inputs == "single":
            c_pp, reduction_prev = c_p, False  # reads (c_{k-1}, c_{k-1})
        plans.append((kind, c_pp, c_p, c_cell, reduction_prev))
        reduction_prev = reduction
        c_pp, c_p = c_p, multiplier * c_cell
    return plans, c_p


def check_input(x: torch.Tensor, in_channels: int) -> None:
    if x.dim() != 5 or x.shape[2] != in_channels:
        raise ConfigError(
            f"expected time-major input [T, B, {in_channels}, H, W], got shape {tuple(x.shape)}"
        )


class Cell(nn.Module):
    """A discrete cell: two operations per intermediate node, concatenated output."""

    def __init__(
        self,
        edges,
        concat,
        c_pp: int,
        c_p: int,
        C: int,
        reduction: bool,
        reduction_prev: bool,
        time_steps: int,
        attention: str = "none",
        placement: str = "cell",
        neuron: NeuronConfig | None = None,
        attention_kwargs: dict | None = None,
    ):
        super().__init__()
        self.reduction = reduction
        self.preprocess0, self.preprocess1 = preprocessors(
            c_pp, c_p, C, reduction_prev, True, neuron
        )
        self.inputs = tuple(j for _, j in edges)
        self.concat = tuple(concat)
        self.steps = len(edges) // 2
        self.ops = nn.ModuleList(
            make_op(name, C, 2 if reduction and j < 2 else 1, affine=True, neuron=neuron)
            for name, j in edges
        )
        kw = attention_kwargs or {}
        check_choice("attention placement", placement, PLACEMENTS)
        self.placement = placement
        if placement == "node":
            self.node_attention = nn.ModuleList(
                make_attention(attention, C, time_steps, **kw) for _ in range(self.steps)
            )
            self.attention = nn.Identity()
        else:
            self.node_attention = None
            self.attention = make_attention(attention, len(self.concat) * C, time_steps, **kw)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(self.steps):
            a, b = 2 * i, 2 * i + 1
            h = self.ops[a](states[self.inputs[a]]) + self.ops[b](states[self.inputs[b]])
            if self.node_attention is not None:
                h = self.node_attention[i](h)
            states.append(h)
        return self.attention(torch.cat([states[c] for c in self.concat], dim=2))


class Network(nn.Module):
    """Discrete spiking network of a genotype: ``[T, B, c_in, H, W]`` -> logits ``[B, classes]``.

    Example:
        >>> import torch
        >>> from snnlib.darts import random_genotype
        >>> net = Network(
        ...     random_genotype(0), in_channels=1, num_classes=10, C=4, layers=3, time_steps=2
        ... )
        >>> net(torch.rand(2, 5, 1, 16, 16)).shape
        torch.Size([5, 10])
    """

    def __init__(
        self,
        genotype: Genotype,
        in_channels: int,
        num_classes: int,
        C: int = 16,
        layers: int | None = 8,
        layout: Layout | None = None,
        time_steps: int = 2,
        attention: str = "tcsa",
        placement: str = "cell",
        stem_multiplier: int = 3,
        neuron: NeuronConfig | None = None,
        attention_kwargs: dict | None = None,
    ):
        super().__init__()
        genotype = validate_genotype(genotype)
        check_range("C", C, 1, None, integer=True)
        self.layout = validate_layout(layout) if layout is not None else darts_layout(layers)
        if len(genotype.normal_concat) != len(genotype.reduce_concat):
            raise ConfigError(
                "normal_concat and reduce_concat must have the same length (one channel plan)"
            )
        self.genotype = genotype
        self.in_channels = in_channels
        self.time_steps = time_steps
        self.attention_type = attention
        multiplier = len(genotype.normal_concat)
        self.stem = ConvBN(in_channels, stem_multiplier * C)
        plans, c_out = channel_plan(self.layout, C, stem_multiplier, multiplier)
        cells = []
        for kind, c_pp, c_p, c_cell, reduction_prev in plans:
            reduction = kind == "reduce"
            edges, concat = (
                (genotype.reduce, genotype.reduce_concat)
                if reduction
                else (genotype.normal, genotype.normal_concat)
            )
            cells.append(
                Cell(
                    edges,
                    concat,
                    c_pp,
                    c_p,
                    c_cell,
                    reduction,
                    reduction_prev,
                    time_steps,
                    attention,
                    placement,
                    neuron,
                    attention_kwargs,
                )
            )
        self.cells = nn.ModuleList(cells)
        self.head = SpikingHead(c_out, num_classes, neuron)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        s0 = s1 = self.stem(x)
        single = self.layout.reduce_inputs == "single"
        for cell in self.cells:
            out = cell(s1, s1) if (cell.reduction and single) else cell(s0, s1)
            s0, s1 = s1, out
        return self.head(s1)
