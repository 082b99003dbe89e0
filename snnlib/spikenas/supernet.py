r"""The SpikeNAS-Bench cell space as a DARTS supernet: the benchmark's network with every edge
of its cell a mixture of the five operations.

Every edge :math:`e` of the cell carries all five operations (0 ``zero``, 1 ``identity``, 2-4
LIF -> conv 3x3 -> BN at thresholds 0.5 / 1.0 / 1.5), weighted by a softmax over its row of
the architecture parameters :math:`\alpha \in \mathbb{R}^{6 \times 5}`:

.. math::

    \bar o_e(x) = \sum_{k=0}^{4} \frac{\exp \alpha_{e,k}}{\sum_{k'} \exp \alpha_{e,k'}}\, o_k(x),
    \qquad x_1 = \bar o_{01}(x_0),\;
    x_2 = \bar o_{02}(x_0) + \bar o_{12}(x_1),\;
    x_3 = \bar o_{03}(x_0) + \bar o_{13}(x_1) + \bar o_{23}(x_2).

The benchmark uses one cell at both positions (C1 and C2 channels), so one :math:`\alpha`
is shared by both cells; each position has its own operation weights. Everything around the
cells is :class:`~snnlib.spikenas.network.SpikeNASNet`'s
(:class:`~snnlib.spikenas.network.SpikeNASBody`: layers, parameter names, initialisation,
width scaling, dropout). :math:`\alpha` starts at :math:`10^{-3}\,\mathcal{N}(0, 1)`, as in
DARTS.

``zero`` contributes nothing and is never computed (its weight still takes part in the
softmax), and neither is an operation whose weight is exactly 0. With one-hot weights
(:meth:`SpikeNASSupernet.one_hot`, passed as ``forward(images, weights)``) the supernet is
therefore exactly the network of that cell, dead nodes included: its output and its
batch-norm statistics equal those of a :class:`~snnlib.spikenas.network.SpikeNASNet`
holding the chosen operations' parameters (:meth:`SpikeNASSupernet.discrete_state_dict`).

**Derivation** (NAS-Bench-201's rule): each edge takes the operation of largest weight,
:math:`o_e = \arg\max_k \alpha_{e,k}`; a derived cell whose output is unreachable is returned
as it is (the benchmark scores it at chance).

**Attention** (``attention``, a name of :data:`snnlib.attention.ATTENTION`; default
``"none"``): as MA-DARTS' supernet places attention at each cell's output
(:class:`snnlib.darts.supernet.SearchCell`, ``placement="cell"``), each cell's output passes
through ``make_attention(attention, C, T)`` at its own channels (C1, then C2); the attention
keeps PyTorch's default initialisation. Its parameters are weights, not architecture.

>>> import torch
>>> net = SpikeNASSupernet(width=1 / 32, time_steps=2)
>>> net(torch.zeros(2, 3, 32, 32)).shape, tuple(net.alpha.shape)
(torch.Size([2, 10]), (6, 5))
>>> with torch.no_grad():
...     _ = net.alpha.copy_(10.0 * SpikeNASSupernet.one_hot((2, 3, 4, 0, 0, 4)))
>>> net.derive(), net.derived_arch_id()
((2, 3, 4, 0, 0, 4), 12617)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..attention import make_attention
from ..validation import ConfigError
from .network import TIME_STEPS, SpikeNASBody, _sum, cell_forward, make_op
from .space import EDGES, N_OPS, arch_id_of, check_edges

EDGE_INDEX = {name: i for i, name in enumerate(EDGES)}
"""Row of an edge in the architecture parameters (the order of the architecture id's digits)."""


class MixedCell(nn.Module):
    """The four-node cell with every edge a weighted sum of the five operations, followed by
    the cell's attention. ``forward(x0, weights, live)``: ``weights`` ``[6, 5]``, ``live[e]``
    the non-``zero`` operation codes of edge ``e`` with a non-zero weight (the only ones run).
    Operation ``k`` of edge ``name`` is ``ops[name][k]``."""

    def __init__(self, channels: int, attention: str = "none", time_steps: int = TIME_STEPS):
        super().__init__()
        self.ops = nn.ModuleDict(
            {n: nn.ModuleList(make_op(k, channels) for k in range(N_OPS)) for n in EDGES}
        )
        self.attention = make_attention(attention, channels, time_steps)

    def forward(
        self, x0: torch.Tensor, weights: torch.Tensor, live: Sequence[Sequence[int]]
    ) -> torch.Tensor:
        def edge(name: str, x: torch.Tensor | None) -> torch.Tensor | None:
            e = EDGE_INDEX[name]
            if x is None or not live[e]:
                return None
            return _sum(*(weights[e, k] * self.ops[name][k](x) for k in live[e]))

        return self.attention(cell_forward(edge, x0))


class SpikeNASSupernet(SpikeNASBody):
    """The benchmark's network with two :class:`MixedCell`\\ s sharing one architecture
    parameter ``alpha`` ``[6, 5]`` (rows: edges ``e01 .. e23``; columns: operation codes).

    Arguments as :class:`~snnlib.spikenas.network.SpikeNASNet` (without ``edges``), plus
    ``attention`` (after each cell) and ``alpha_init_scale``. The model protocol of the
    bilevel steps (:mod:`snnlib.nas.bilevel_steps`): :meth:`arch_parameters`,
    :meth:`weight_parameters`, :meth:`named_weight_parameters`.
    """

    def __init__(
        self,
        width: float = 1.0,
        time_steps: int = TIME_STEPS,
        num_classes: int = 10,
        image_size: int = 32,
        dropout: float = 0.5,
        linear_init: str = "width_matched",
        attention: str = "none",
        alpha_init_scale: float = 1e-3,
    ):
        super().__init__(
            lambda c: MixedCell(c, attention, time_steps),
            width=width,
            time_steps=time_steps,
            num_classes=num_classes,
            image_size=image_size,
            dropout=dropout,
            linear_init=linear_init,
        )
        self.attention_type = attention
        self.alpha = nn.Parameter(alpha_init_scale * torch.randn(len(EDGES), N_OPS))

    # -- parameters ------------------------------------------------------------------------
    def arch_parameters(self) -> list[nn.Parameter]:
        """``[alpha]``."""
        return [self.alpha]

    def named_weight_parameters(self) -> list[tuple[str, nn.Parameter]]:
        """Every parameter but ``alpha``, with its name."""
        return [(n, p) for n, p in self.named_parameters() if p is not self.alpha]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every parameter but ``alpha`` (operations, stem, head, attention)."""
        return [p for _, p in self.named_weight_parameters()]

    # -- architecture ----------------------------------------------------------------------
    def arch_weights(self) -> torch.Tensor:
        """``softmax(alpha)`` per edge, ``[6, 5]``, detached."""
        return torch.softmax(self.alpha.detach(), dim=-1)

    def derive(self) -> tuple[int, ...]:
        """The six operation codes of largest weight (the first on a tie)."""
        return tuple(int(k) for k in self.alpha.detach().argmax(-1))

    def derived_arch_id(self) -> int:
        """The benchmark's id of :meth:`derive`."""
        return arch_id_of(self.derive())

    @staticmethod
    def one_hot(edges: Sequence[int]) -> torch.Tensor:
        """``[6, 5]`` weights that select the cell ``edges`` (1 at each edge's code)."""
        codes = torch.tensor(check_edges(edges))
        return nn.functional.one_hot(codes, N_OPS).float()

    def discrete_state_dict(self, edges: Sequence[int]) -> dict[str, torch.Tensor]:
        """The state dict of :class:`SpikeNASNet` ``(edges)`` with this supernet's parameters
        and buffers: the chosen operation of every edge, and everything outside the cells
        (``cell1.ops.e01.2.<rest>`` becomes ``cell1.ops.e01.<rest>`` when ``e01`` is 2).
        Only without attention: SpikeNASNet has none."""
        edges = check_edges(edges)
        if self.attention_type != "none":
            raise ConfigError(
                f"discrete_state_dict: the supernet has attention={self.attention_type!r}, "
                "which SpikeNASNet does not have"
            )
        out = {}
        for key, value in self.state_dict().items():
            parts = key.split(".")
            if key == "alpha":
                continue
            if parts[0] in ("cell1", "cell2") and parts[1] == "ops":
                if int(parts[3]) != edges[EDGE_INDEX[parts[2]]]:
                    continue
                key = ".".join(parts[:3] + parts[4:])
            out[key] = value
        return out

    # -- forward ---------------------------------------------------------------------------
    def forward(self, images: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``[B, classes]``; ``weights`` ``[6, 5]`` replaces ``softmax(alpha)`` (e.g.
        :meth:`one_hot`: the discrete network of a cell)."""
        w = torch.softmax(self.alpha, dim=-1) if weights is None else weights
        if tuple(w.shape) != (len(EDGES), N_OPS):
            raise ConfigError(f"weights must be [6, 5] (edges x operations), got {tuple(w.shape)}")
        nonzero = (w[:, 1:] != 0).tolist()
        live = [[k + 1 for k, on in enumerate(row) if on] for row in nonzero]
        x = self.cell1(self.embed(images), w, live)
        return self.classify(self.cell2(self.down(x), w, live))
