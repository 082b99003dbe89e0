"""One seeded MA-DARTS search: a supernet built from a seed and a specification, searched
by :func:`~snnlib.darts.bilevel.search`. The search notebook runs it once with its
attention and once with ``none`` (plain spiking DARTS): the same seed gives both the same
initial weights wherever their modules agree, and the same data order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from ..encoding import Encoder
from ..runtime import seed_everything
from .bilevel import BilevelResult, SearchConfig, search
from .supernet import SearchNetwork


@dataclass(frozen=True)
class SupernetSpec:
    """The supernet of a search: width ``C``, ``layers`` cells of ``steps`` nodes (all of them
    concatenated), ``time_steps``, the attention type, its placement and gate, and the macro
    level (``none`` or ``depth``)."""

    C: int
    layers: int
    steps: int
    time_steps: int
    attention: str = "tcsa"
    placement: str = "cell"
    gate: str = "scaled_sigmoid"
    macro: str = "none"

    def with_attention(self, attention: str) -> SupernetSpec:
        """The same supernet with another attention type (``none``: plain spiking DARTS)."""
        return replace(self, attention=attention)

    def build(self, in_channels: int, num_classes: int) -> SearchNetwork:
        return SearchNetwork(
            in_channels,
            num_classes,
            C=self.C,
            layers=self.layers,
            steps=self.steps,
            multiplier=self.steps,
            time_steps=self.time_steps,
            attention=self.attention,
            placement=self.placement,
            macro=self.macro,
            attention_kwargs={"gate": self.gate},
        )


def seeded_search(
    spec: SupernetSpec,
    *,
    in_channels: int,
    num_classes: int,
    weight_loader,
    arch_loader,
    val_loader,
    encoder: Encoder,
    cfg: SearchConfig,
    seed: int,
    device: str | torch.device = "cpu",
    checkpoint: str | Path | None = None,
    desc: str = "search",
) -> tuple[SearchNetwork, BilevelResult]:
    """Seed every generator with ``seed``, build ``spec``'s supernet on ``device`` and search
    it (checkpointing to ``checkpoint``). Returns the searched supernet and the result."""
    seed_everything(seed)
    net = spec.build(in_channels, num_classes).to(device)
    result = search(
        net,
        weight_loader,
        arch_loader,
        encoder,
        cfg,
        val_loader=val_loader,
        device=device,
        checkpoint=checkpoint,
        desc=desc,
    )
    return net, result
