r"""Genome -> spiking network (``nn.Module``), input ``[T, B, C, H, W]``, output ``[B, classes]``.

Layout, for ``n`` searched cells and ``R`` reduction stages (default 2)::

    stem      Conv3x3(C_in -> w) + BN                              (input current)
    cell 0 .. cell n-1                                           (searched, width w * 2^stage)
      with a fixed reduction cell (LIF -> Conv3x3 stride 2 -> BN, width x2) in front of the
      cells at positions round(n (r+1) / (R+1)), r = 0..R-1
    head      LIF -> global average pool -> linear, logits averaged over T

**Macro wiring.** Cell :math:`i` with fan-in :math:`f` and skips :math:`S_i` reads the
outputs :math:`h_j` of cells :math:`j \in \{i-1, \dots, i-f\} \cup S_i` (index -1, and any
index before it, is the stem). Its two motif inputs are

.. math::

    \mathrm{in}_0 = A_{i-1}(h_{i-1}), \qquad
    \mathrm{in}_1 = \frac{1}{|J_i|} \sum_{j \in J_i} A_j(h_j),
    \quad J_i = \big(\{i-2, \dots, i-f\} \cup S_i\big)

where :math:`A_j` adapts resolution and width: the identity within a stage, the reduction
cell for the previous cell across a stage boundary, and a *factorized reduce* (LIF, two
1x1 convolutions of stride :math:`s = 2^{\Delta\mathrm{stage}}` on the input and on the input
shifted by :math:`s/2` pixels, concatenated, BN) for earlier cells. ``in1`` is a *mean*,
not a sum, so that the fan-in gene changes what a cell sees, not the scale of its input
current (every state is batch-normalised, so the mean keeps unit scale).

**Cells.** Nodes of the cell's motif (:mod:`snnlib.mse.motifs`) sum their incoming ops
(LIF -> Conv k x k -> BN -> E/I sign filter); the cell output is the channel concatenation
of all nodes followed by a 1x1 spiking conv (LIF -> Conv1x1 -> BN) back to the cell width.
Concatenation keeps every node visible (as in the authors' code); the 1x1 projection keeps
the width of every cell output equal whatever the motif's node count (1-5 nodes), so
dense macro fan-in can average states and the parameter count does not grow with the motif.

**Time.** A feed-forward motif runs on the whole ``[T, B, ...]`` tensor at once (each LIF
loops over T internally; convolutions see T x B images). A motif with feedback edges is
simulated step by step with :meth:`snnlib.neurons.LIF.step`: at each step t its nodes are
computed in order, and a feedback edge j -> i adds ``op(n_j[t-1])`` to node i, with
:math:`n_j[-1] = 0` (the source at rest; so every neuron runs for all T steps). Ops whose
source is a cell input do not depend on the loop and still run on all T at once. In training
mode, batch norm inside the loop normalises each step over the batch, and over all T x B in
the fast path; in evaluation mode both are identical.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..layers import ConvBN, FactorizedReduce, SpikingConv, SpikingHead
from ..neurons import NeuronConfig
from ..validation import ConfigError
from .genome import CellGene, Genome
from .motifs import Motif, get_motif


def op_step(op: SpikingConv, x_t: torch.Tensor, state):
    """One time step of a spiking op: ``x_t`` is ``[B, C, H, W]``; returns ``(y_t, state)``."""
    s, state = op.lif.step(x_t, state)
    return op.sign(op.body(s.unsqueeze(0)))[0], state


class MotifCell(nn.Module):
    """A searched cell: the motif's nodes, their ops, and the 1x1 output projection."""

    def __init__(self, gene: CellGene, channels: int, neuron: NeuronConfig):
        super().__init__()
        self.motif: Motif = get_motif(gene.motif)
        m = self.motif
        self.ops = nn.ModuleList(
            SpikingConv(channels, channels, g.kernel, sign=g.sign, neuron=neuron) for g in gene.ops
        )
        self.out = SpikingConv(m.n_nodes * channels, channels, 1, neuron=neuron)
        # incoming edges per node, with the op slot (None: identity)
        self._incoming = [
            [(e, m.slot_of(e)) for e in m.edges if e.dst == i] for i in range(m.n_nodes)
        ]

    def extra_repr(self) -> str:
        return f"motif={self.motif.name}, feedback={self.motif.has_feedback}"

    def _edge(self, edge, slot, x):
        return x if slot is None else self.ops[slot](x)

    def forward(self, in0: torch.Tensor, in1: torch.Tensor) -> torch.Tensor:
        if self.motif.has_feedback:
            nodes = self._forward_stepwise(in0, in1)
        else:
            nodes = self._forward_parallel(in0, in1)
        return self.out(torch.cat(nodes, dim=2))

    def _forward_parallel(self, in0, in1) -> list[torch.Tensor]:
        inputs = {"in0": in0, "in1": in1}
        nodes: list[torch.Tensor] = []
        for incoming in self._incoming:
            total = None
            for e, slot in incoming:
                src = inputs[e.src] if isinstance(e.src, str) else nodes[e.src]
                y = self._edge(e, slot, src)
                total = y if total is None else total + y
            nodes.append(total)
        return nodes

    def _forward_stepwise(self, in0, in1) -> list[torch.Tensor]:
        inputs = {"in0": in0, "in1": in1}
        T = in0.shape[0]
        # contributions from the cell inputs do not depend on the loop: compute them on all T
        pre: list[torch.Tensor | None] = []
        for incoming in self._incoming:
            total = None
            for e, slot in incoming:
                if isinstance(e.src, str):
                    y = self._edge(e, slot, inputs[e.src])
                    total = y if total is None else total + y
            pre.append(total)
        states: dict[int, object] = {}
        prev: list[torch.Tensor] | None = None
        out_steps: list[list[torch.Tensor]] = [[] for _ in self._incoming]
        for t in range(T):
            cur: list[torch.Tensor] = []
            for i, incoming in enumerate(self._incoming):
                total = pre[i][t] if pre[i] is not None else None
                for e, slot in incoming:
                    if isinstance(e.src, str):
                        continue
                    if e.feedback:  # the source's output one step ago; at rest (0) before t = 0
                        x = prev[e.src] if prev is not None else torch.zeros_like(in0[0])
                    else:
                        x = cur[e.src]
                    if slot is None:
                        y = x
                    else:
                        y, states[slot] = op_step(self.ops[slot], x, states.get(slot))
                    total = y if total is None else total + y
                cur.append(total)
                out_steps[i].append(total)
            prev = cur
        return [torch.stack(steps) for steps in out_steps]


def reduction_positions(n_cells: int, n_reductions: int) -> tuple[int, ...]:
    """Cell indices that a reduction cell precedes: ``round(n (r+1) / (R+1))``."""
    pos = sorted({round(n_cells * (r + 1) / (n_reductions + 1)) for r in range(n_reductions)})
    pos = [p for p in pos if 0 < p < n_cells]
    if len(pos) != n_reductions:
        raise ConfigError(f"n_reductions={n_reductions} does not fit between {n_cells} cells")
    return tuple(pos)


def cell_inputs(i: int, gene: CellGene) -> tuple[int, list[int]]:
    """The macro sources of cell ``i``: (in0 source, sorted in1 sources); -1 is the stem."""
    window = [max(j, -1) for j in range(i - 2, i - gene.fan_in - 1, -1)]
    rest = sorted(set(window) | set(gene.skips))
    return i - 1, rest


class MSENet(nn.Module):
    """The network a genome encodes. ``width`` is the stem / first-stage width."""

    def __init__(
        self,
        genome: Genome,
        in_channels: int,
        num_classes: int,
        width: int = 8,
        n_reductions: int = 2,
        stem_stride: int = 1,
        neuron: NeuronConfig | None = None,
    ):
        super().__init__()
        genome.validate()
        if width < 2:
            raise ConfigError(f"width={width} must be >= 2")
        self.genome = genome
        base = (neuron or NeuronConfig()).with_(beta=None)
        n = len(genome.cells)
        red = reduction_positions(n, n_reductions) if n_reductions else ()
        stage = []
        s = 0
        for i in range(n):
            s += i in red
            stage.append(s)
        self.stages = tuple(stage)
        self.reductions_at = red
        widths = [width * 2**st for st in stage]
        self.stem = ConvBN(in_channels, width, 3, stem_stride)
        src_stage = {-1: 0, **{i: stage[i] for i in range(n)}}
        src_width = {-1: width, **{i: widths[i] for i in range(n)}}
        self.cells = nn.ModuleList()
        self.in0_adapters = nn.ModuleList()
        self.in1_adapters = nn.ModuleList()
        self.sources: list[tuple[int, list[int]]] = []
        for i, gene in enumerate(genome.cells):
            neuron_i = base.with_(threshold=float(gene.threshold), tau=float(gene.tau))
            c = widths[i]
            j0, rest = cell_inputs(i, gene)
            self.sources.append((j0, rest))
            if src_stage[j0] == stage[i]:
                a0 = nn.Identity()
            else:  # the fixed reduction cell
                a0 = SpikingConv(src_width[j0], c, 3, stride=2, neuron=base)
            self.in0_adapters.append(a0)
            ad = nn.ModuleDict()
            for j in rest:
                diff = stage[i] - src_stage[j]
                ad[str(j)] = (
                    nn.Identity()
                    if diff == 0
                    else FactorizedReduce(src_width[j], c, 2**diff, neuron_i)
                )
            self.in1_adapters.append(ad)
            self.cells.append(MotifCell(gene, c, neuron_i))
        self.head = SpikingHead(widths[-1], num_classes, base)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5:
            raise ConfigError(f"MSENet expects [T, B, C, H, W], got shape {tuple(x.shape)}")
        states = {-1: self.stem(x)}
        for i, cell in enumerate(self.cells):
            j0, rest = self.sources[i]
            in0 = self.in0_adapters[i](states[j0])
            ad = self.in1_adapters[i]
            in1 = sum(ad[str(j)](states[j]) for j in rest) / len(rest)
            states[i] = cell(in0, in1)
        return self.head(states[len(self.cells) - 1])


@dataclass(frozen=True)
class NetConfig:
    """Decoder settings shared by every candidate of a search (not searched).

    ``stem_stride=2`` halves the resolution in the stem: at cpu scale on 16x16 inputs that
    are themselves 8x8 digits upsampled, it loses no information and makes a candidate
    forward about 3x cheaper.
    """

    width: int = 8
    n_reductions: int = 2
    stem_stride: int = 1
    neuron: NeuronConfig = field(default_factory=NeuronConfig)

    def __post_init__(self):
        if not isinstance(self.width, int) or self.width < 2:
            raise ConfigError(f"net.width={self.width!r} must be an integer >= 2")
        if self.stem_stride not in (1, 2):
            raise ConfigError(f"net.stem_stride={self.stem_stride!r} not in (1, 2)")
        if not isinstance(self.n_reductions, int) or self.n_reductions < 0:
            raise ConfigError(
                f"net.n_reductions={self.n_reductions!r} must be a non-negative integer"
            )

    def to_dict(self) -> dict:
        return asdict(self)


def build_network(
    genome: Genome, in_channels: int, num_classes: int, net: NetConfig | None = None
) -> MSENet:
    """Decode ``genome`` into an :class:`MSENet` with the decoder settings ``net``."""
    net = net or NetConfig()
    return MSENet(
        genome,
        in_channels,
        num_classes,
        width=net.width,
        n_reductions=net.n_reductions,
        stem_stride=net.stem_stride,
        neuron=net.neuron,
    )


def feedback_ops(model: MSENet) -> list[SpikingConv]:
    """The ops that sit on feedback edges (for tests and analysis)."""
    out = []
    for cell in model.cells:
        for e in cell.motif.edges:
            if e.feedback:
                out.append(cell.ops[cell.motif.slot_of(e)])
    return out


__all__ = [
    "NetConfig",
    "MSENet",
    "MotifCell",
    "build_network",
    "cell_inputs",
    "reduction_positions",
    "feedback_ops",
    "op_step",
]
