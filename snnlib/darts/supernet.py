r"""The spiking DARTS supernet: mixed operations, search cells, and a searchable macro level.

**Mixed operation.** Every edge ``(i, j)`` of a cell carries all candidate operations,
weighted by a softmax over its architecture parameters :math:`\alpha^{(i,j)}`:

.. math::

    \bar o^{(i,j)}(x) = \sum_{o \in \mathcal{O}}
        \frac{\exp \alpha^{(i,j)}_o}{\sum_{o'} \exp \alpha^{(i,j)}_{o'}}\, o(x),
    \qquad x_i = \sum_{j < i} \bar o^{(i,j)}(x_j).

Normal cells share :math:`\alpha_{\text{normal}}`, reduction cells share
:math:`\alpha_{\text{reduce}}` (``[edges, ops]`` each). ``none`` contributes an exact zero
and is skipped in the sum; its weight still takes part in the softmax. As in DARTS, batch
norms inside the supernet are not affine and pooling is followed by a non-affine BN.

**Micro level (default).** Cells are searched under a fixed layout: ``layers`` cells with
reductions at 1/3 and 2/3 depth, as MA-DARTS and DARTS did.

**Macro level** (``macro="depth"``, off by default). The network is three stages of up to
``max_stage_depth = K`` normal cells, separated by reduction cells; a softmax over
:math:`\beta_s \in \mathbb{R}^K` chooses the depth of stage ``s``. The stage's output is
the mixture of the outputs after ``d = 1..K`` of its cells,

.. math::

    x_s = \sum_{d=1}^{K} \mathrm{softmax}(\beta_s)_d \; h_{s,d},

all of the same shape, computed in one pass (the deepest candidate contains all the
shallower ones). The reduction cell after a stage reads :math:`(x_s, x_s)` (layout wiring
``reduce_inputs="single"``), so a one-hot :math:`\beta` gives exactly the discrete network
of that depth. Derivation: :math:`d_s = \arg\max_d \beta_{s,d} + 1`. This is the
"softmax over per-stage cell counts" variant of a layer-level search; its cost over the
fixed layout of the same maximal depth is negligible.

Architecture parameters (:meth:`SearchNetwork.arch_parameters`: alphas, and betas when the
macro level is searched) are kept apart from weights (:meth:`SearchNetwork.weight_parameters`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..attention import make_attention
from ..layers import ConvBN, SpikingHead, TimeDistributed
from ..neurons import NeuronConfig
from ..validation import check_choice, check_range
from .genotype import Genotype, cell_edges, derive_genotype
from .layout import Layout, darts_layout, stage_layout
from .network import PLACEMENTS, channel_plan, check_input, preprocessors
from .operations import POOLING, PRIMITIVES, check_primitives, make_op

MACROS = ("none", "depth")
N_STAGES = 3


class MixedOp(nn.Module):
    r"""All candidate operations on one edge; ``forward(x, weights)`` returns
    :math:`\sum_k w_k\, o_k(x)` with ``weights`` a probability vector over ``primitives``."""

    def __init__(
        self,
        C: int,
        stride: int,
        primitives: Sequence[str] = PRIMITIVES,
        neuron: NeuronConfig | None = None,
        affine: bool = False,
    ):
        super().__init__()
        self.primitives = tuple(primitives)
        ops = []
        for name in self.primitives:
            op = make_op(name, C, stride, affine=affine, neuron=neuron)
            if name in POOLING:
                op = nn.Sequential(op, TimeDistributed(nn.BatchNorm2d(C, affine=False)))
            ops.append(op)
        self.ops = nn.ModuleList(ops)
        self._active = [k for k, name in enumerate(self.primitives) if name != "none"]

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        out = None
        for k in self._active:
            y = weights[k] * self.ops[k](x)
            out = y if out is None else out + y
        return out


class SearchCell(nn.Module):
    """A cell whose every edge is a :class:`MixedOp`; row ``k`` of the weights belongs to
    edge ``cell_edges(steps)[k]``."""

    def __init__(
        self,
        steps: int,
        multiplier: int,
        c_pp: int,
        c_p: int,
        C: int,
        reduction: bool,
        reduction_prev: bool,
        primitives: Sequence[str],
        time_steps: int,
        attention: str,
        placement: str,
        neuron: NeuronConfig | None,
        attention_kwargs: dict | None = None,
    ):
        super().__init__()
        self.reduction = reduction
        self.steps = steps
        self.multiplier = multiplier
        self.preprocess0, self.preprocess1 = preprocessors(
            c_pp, c_p, C, reduction_prev, False, neuron
        )
        self.edges = cell_edges(steps)
        self.ops = nn.ModuleList(
            MixedOp(C, 2 if reduction and j < 2 else 1, primitives, neuron) for _, j in self.edges
        )
        self._incoming = {
            node: [(k, j) for k, (n, j) in enumerate(self.edges) if n == node]
            for node in range(2, steps + 2)
        }
        kw = attention_kwargs or {}
        if placement == "node":
            self.node_attention = nn.ModuleList(
                make_attention(attention, C, time_steps, **kw) for _ in range(steps)
            )
            self.attention = nn.Identity()
        else:
            self.node_attention = None
            self.attention = make_attention(attention, multiplier * C, time_steps, **kw)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(2, self.steps + 2):
            h = None
            for k, j in self._incoming[node]:
                y = self.ops[k](states[j], weights[k])
                h = y if h is None else h + y
            if self.node_attention is not None:
                h = self.node_attention[node - 2](h)
            states.append(h)
        return self.attention(torch.cat(states[-self.multiplier :], dim=2))


class SearchNetwork(nn.Module):
    """Spiking DARTS supernet with multi-dimensional attention (MA-DARTS).

    Input ``[T, B, in_channels, H, W]``; output logits ``[B, num_classes]`` averaged over T.

    Args:
        C: channels of the first cell's nodes (doubled at every reduction).
        layers: number of cells of the fixed layout (``macro="none"``).
        steps, multiplier: intermediate nodes per cell, and how many are concatenated.
        primitives: the candidate operations (names of :data:`~snnlib.darts.operations.OPS`).
        time_steps: T; the temporal attention needs it.
        attention, placement: attention type (``none | eca | cbam | tcsa``) and where it acts
            (``"cell"`` output or every ``"node"``).
        macro, max_stage_depth: ``"depth"`` searches the cells per stage (1..K) as well.

    Example:
        >>> import torch
        >>> net = SearchNetwork(1, 10, C=4, layers=3, time_steps=2)
        >>> net(torch.rand(2, 5, 1, 16, 16)).shape
        torch.Size([5, 10])
        >>> print(net.genotype().normal[:2])  # doctest: +SKIP
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        C: int = 16,
        layers: int = 8,
        steps: int = 4,
        multiplier: int = 4,
        stem_multiplier: int = 3,
        primitives: Sequence[str] = PRIMITIVES,
        time_steps: int = 2,
        attention: str = "tcsa",
        placement: str = "cell",
        macro: str = "none",
        max_stage_depth: int = 2,
        neuron: NeuronConfig | None = None,
        attention_kwargs: dict | None = None,
        alpha_init_scale: float = 1e-3,
    ):
        super().__init__()
        check_range("C", C, 1, None, integer=True)
        check_range("steps", steps, 1, None, integer=True)
        check_range("multiplier", multiplier, 1, steps, integer=True)
        check_range("time_steps", time_steps, 1, None, integer=True)
        check_choice("attention placement", placement, PLACEMENTS)
        self.macro = check_choice("macro", macro, MACROS)
        self.primitives = check_primitives(primitives)
        self.in_channels, self.num_classes = in_channels, num_classes
        self.steps, self.multiplier = steps, multiplier
        self.time_steps = time_steps
        self.attention_type, self.placement = attention, placement
        if macro == "depth":
            check_range("max_stage_depth", max_stage_depth, 1, None, integer=True)
            self.max_stage_depth = max_stage_depth
            self.search_layout = stage_layout((max_stage_depth,) * N_STAGES)
        else:
            self.max_stage_depth = None
            self.search_layout = darts_layout(layers)
        self.stem = ConvBN(in_channels, stem_multiplier * C)
        plans, c_out = channel_plan(self.search_layout, C, stem_multiplier, multiplier)
        self.cells = nn.ModuleList(
            SearchCell(
                steps,
                multiplier,
                c_pp,
                c_p,
                c_cell,
                kind == "reduce",
                reduction_prev,
                self.primitives,
                time_steps,
                attention,
                placement,
                neuron,
                attention_kwargs,
            )
            for kind, c_pp, c_p, c_cell, reduction_prev in plans
        )
        self.head = SpikingHead(c_out, num_classes, neuron)
        n_edges, n_ops = len(cell_edges(steps)), len(self.primitives)
        self.alphas_normal = nn.Parameter(alpha_init_scale * torch.randn(n_edges, n_ops))
        self.alphas_reduce = nn.Parameter(alpha_init_scale * torch.randn(n_edges, n_ops))
        if macro == "depth":
            self.betas = nn.Parameter(alpha_init_scale * torch.randn(N_STAGES, max_stage_depth))
        else:
            self.register_parameter("betas", None)

    # -- parameters -------------------------------------------------------------------------
    def arch_parameters(self) -> list[nn.Parameter]:
        """Architecture parameters: ``[alphas_normal, alphas_reduce]`` (+ ``betas``)."""
        params = [self.alphas_normal, self.alphas_reduce]
        return params + ([self.betas] if self.betas is not None else [])

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every other parameter (operations, pre-processing, attention, stem, head)."""
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]

    def named_weight_parameters(self) -> list[tuple[str, nn.Parameter]]:
        arch = {id(p) for p in self.arch_parameters()}
        return [(n, p) for n, p in self.named_parameters() if id(p) not in arch]

    # -- architecture weights and derivation ---------------------------------------------------
    def arch_weights(self) -> dict[str, torch.Tensor]:
        """Softmax weights: ``normal``/``reduce`` ``[edges, ops]`` (and ``depth`` ``[3, K]``)."""
        out = {
            "normal": torch.softmax(self.alphas_normal.detach(), -1),
            "reduce": torch.softmax(self.alphas_reduce.detach(), -1),
        }
        if self.betas is not None:
            out["depth"] = torch.softmax(self.betas.detach(), -1)
        return out

    def genotype(self) -> Genotype:
        """The discrete cells the current alphas point at."""
        return derive_genotype(
            self.alphas_normal, self.alphas_reduce, self.steps, self.multiplier, self.primitives
        )

    def stage_depths(self) -> tuple[int, ...] | None:
        """With ``macro="depth"``: the chosen normal cells per stage, else ``None``."""
        if self.betas is None:
            return None
        return tuple(int(d) + 1 for d in self.betas.detach().argmax(-1))

    def layout(self) -> Layout:
        """The layout of the derived network (the fixed one, or the searched stage depths)."""
        depths = self.stage_depths()
        return self.search_layout if depths is None else stage_layout(depths)

    # -- forward ----------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        w_normal = torch.softmax(self.alphas_normal, dim=-1)
        w_reduce = torch.softmax(self.alphas_reduce, dim=-1)
        s = self.stem(x)
        if self.betas is None:
            s0 = s1 = s
            for cell in self.cells:
                s0, s1 = s1, cell(s0, s1, w_reduce if cell.reduction else w_normal)
            return self.head(s1)
        depth_w = torch.softmax(self.betas, dim=-1)
        K = self.max_stage_depth
        cells = iter(self.cells)
        prev, cur = s, s
        for stage in range(N_STAGES):
            if stage:
                reduce_cell = next(cells)
                prev, cur = cur, reduce_cell(cur, cur, w_reduce)
            mixed = None
            for d in range(K):
                prev, cur = cur, next(cells)(prev, cur, w_normal)
                y = depth_w[stage, d] * cur
                mixed = y if mixed is None else mixed + y
            # the next reduction reads the mixture; the normal cell after it reads
            # (mixture, reduction)
            cur = mixed
        return self.head(cur)
