"""MA-DARTS: differentiable architecture search for spiking networks with multi-dimensional
attention (Man et al., 2024), on the snnlib substrate.

Modules, in the order the data flows:

- :mod:`~snnlib.darts.operations`: the ``OPS`` registry and default ``PRIMITIVES`` (spiking ops)
- :mod:`~snnlib.darts.attention`: temporal / channel (ECA, CBAM) / spatial attention, ``make_attention``
- :mod:`~snnlib.darts.layout`: the layer level: cell kinds and wiring
- :mod:`~snnlib.darts.supernet`: ``MixedOp``, ``SearchCell``, ``SearchNetwork`` (alphas, optional macro betas)
- :mod:`~snnlib.darts.genotype`: ``Genotype``, derivation, random cells, JSON, ``plot_cell``
- :mod:`~snnlib.darts.network`: the discrete ``Network`` of a genotype, for retraining
- :mod:`~snnlib.darts.bilevel`: ``SearchConfig``, ``search_loaders``, ``search`` (first/second order)
- :mod:`~snnlib.darts.cell_spikes`: NoS per cell, SOPs, energy
- :mod:`~snnlib.darts.retrain`: ``train_genotype`` at a fixed budget (``train_genotype_seeds``: averaged over seeds; ``cell_effect``: do the cells differ beyond seed noise)
"""

from .attention import (
    ATTENTION_TYPES,
    ChannelECA,
    ChannelSE,
    SpatialAttention,
    TemporalAttention,
    make_attention,
)
from .bilevel import (
    SearchConfig,
    SearchDiverged,
    SearchResult,
    arch_step,
    load_checkpoint,
    search,
    search_loaders,
    split_indices,
    unrolled_arch_gradients,
    weight_step,
)
from .cell_spikes import nos_per_cell, spike_summary
from .genotype import (
    Genotype,
    alpha_sharpness,
    cell_edges,
    derive_genotype,
    format_genotype,
    genotype_from_dict,
    genotype_from_json,
    genotype_to_dict,
    genotype_to_json,
    plot_cell,
    random_genotype,
    validate_genotype,
)
from .layout import Layout, darts_layout, layout_from_dict, layout_to_dict, stage_layout
from .network import Cell, Network
from .operations import OPS, POOLING, PRIMITIVES, make_op
from .retrain import train_genotype, train_genotype_seeds
from .supernet import MixedOp, SearchCell, SearchNetwork

__all__ = [
    "ATTENTION_TYPES",
    "ChannelECA",
    "ChannelSE",
    "SpatialAttention",
    "TemporalAttention",
    "make_attention",
    "SearchConfig",
    "SearchDiverged",
    "SearchResult",
    "arch_step",
    "load_checkpoint",
    "search",
    "search_loaders",
    "split_indices",
    "unrolled_arch_gradients",
    "weight_step",
    "Genotype",
    "alpha_sharpness",
    "cell_edges",
    "derive_genotype",
    "format_genotype",
    "genotype_from_dict",
    "genotype_from_json",
    "genotype_to_dict",
    "genotype_to_json",
    "plot_cell",
    "random_genotype",
    "validate_genotype",
    "Layout",
    "darts_layout",
    "layout_from_dict",
    "layout_to_dict",
    "stage_layout",
    "nos_per_cell",
    "spike_summary",
    "Cell",
    "Network",
    "OPS",
    "POOLING",
    "PRIMITIVES",
    "make_op",
    "cell_effect",
    "train_genotype",
    "train_genotype_seeds",
    "MixedOp",
    "SearchCell",
    "SearchNetwork",
]
