"""One seeded MA-DARTS search: a supernet built from a seed and a specification, searched
by :func:`~snnlib.darts.bilevel.search`. The search notebook runs it once with its
attention and once with ``none`` (plain spiking DARTS): the same seed gives both the same
initial weights wherever their modules agree, and the same data order.

:func:`seeded_search_identity` is the record of such a search (search config, supernet, seed,
classes and the caller's data and scale): its checkpoint stores it, and a checkpoint file
named by its hash (:func:`snnlib.nas.identity.with_hash`) is never shared by two settings;
:func:`seeded_search_checkpoint` is that file's path.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from ..encoding import Encoder
from ..nas.identity import with_hash
from ..paths import checkpoints_dir
from ..runtime import seed_everything
from .bilevel import BilevelResult, SearchConfig, search
from .search_state import search_identity
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


def _supernet_record(spec, seed, in_channels, num_classes, identity) -> dict:
    return {
        "supernet": asdict(spec),
        "seed": seed,
        "in_channels": in_channels,
        "num_classes": num_classes,
        **(identity or {}),
    }


def seeded_search_identity(
    spec: SupernetSpec,
    cfg: SearchConfig,
    *,
    seed: int,
    in_channels: int,
    num_classes: int,
    identity: dict | None = None,
) -> dict:
    """The full record of :func:`seeded_search` with these arguments (what its checkpoint
    stores; hash it to name the checkpoint file)."""
    return search_identity(cfg, _supernet_record(spec, seed, in_channels, num_classes, identity))


def seeded_search_checkpoint(
    spec: SupernetSpec,
    cfg: SearchConfig,
    *,
    stem: str,
    seed: int,
    in_channels: int,
    num_classes: int,
    identity: dict | None = None,
    directory: str | Path | None = None,
) -> Path:
    """The checkpoint file of :func:`seeded_search` with these arguments:
    ``<directory>/<stem>__seed<seed>__<attention>__<hash>.pt``, the hash that of
    :func:`seeded_search_identity` (runs under other settings never share a file).
    ``directory``: :func:`snnlib.paths.checkpoints_dir` unless given. The search notebook
    passes ``stem="20_madarts_search__<dataset>__<scale>"``."""
    record = seeded_search_identity(
        spec,
        cfg,
        seed=seed,
        in_channels=in_channels,
        num_classes=num_classes,
        identity=identity,
    )
    folder = Path(directory) if directory is not None else checkpoints_dir()
    return with_hash(folder / f"{stem}__seed{seed}__{spec.attention}.pt", record)


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
    resume: bool | str = "auto",
    identity: dict | None = None,
    desc: str = "search",
) -> tuple[SearchNetwork, BilevelResult]:
    """Seed every generator with ``seed``, build ``spec``'s supernet on ``device`` and search
    it (checkpointing to ``checkpoint``; ``resume`` as in :func:`~snnlib.darts.bilevel.search`;
    ``identity``: data and scale, recorded with the spec, seed and classes). Returns the
    searched supernet and the result."""
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
        resume=resume,
        identity=_supernet_record(spec, seed, in_channels, num_classes, identity),
        desc=desc,
    )
    return net, result
