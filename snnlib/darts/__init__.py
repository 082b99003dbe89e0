"""MA-DARTS: differentiable architecture search for spiking networks with multi-dimensional
attention (Man et al., 2024), on the snnlib substrate.

Modules, in the order the data flows:

- :mod:`~snnlib.darts.operations`: the ``OPS`` registry and default ``PRIMITIVES``
- :mod:`snnlib.attention` (substrate; re-exported here and by ``snnlib.darts.attention``):
  temporal / channel (ECA, CBAM) / spatial attention, the ``ATTENTION`` registry
  (``register_attention``, ``make_attention``)
- :mod:`~snnlib.darts.layout`: the layer level: cell kinds and wiring
- :mod:`~snnlib.darts.supernet`: ``MixedOp``, ``SearchCell``, ``SearchNetwork`` (alphas,
  optional macro betas)
- :mod:`~snnlib.darts.genotype`: ``Genotype``, derivation, random cells, JSON, ``plot_cell``
- :mod:`~snnlib.darts.network`: the discrete ``Network`` of a genotype, for retraining
- :mod:`~snnlib.darts.search_data`: the weight / architecture halves, ``search_loaders``
- :mod:`~snnlib.darts.bilevel`: ``SearchConfig``, the two steps, ``search`` (first/second
  order) in parts: epoch steps, evaluation (``spike_evaluation``), record
- :mod:`~snnlib.darts.search_state`: the search checkpoint, resume
- :mod:`~snnlib.darts.supernet_search`: ``SupernetSpec``, ``seeded_search``, its checkpoint
  file (``seeded_search_checkpoint``)
- :mod:`~snnlib.darts.cell_spikes`: NoS per cell
- :mod:`~snnlib.darts.architecture`: ``DartsArchitecture``, the one record of a found
  architecture (cells, layout, attention, time steps), as the search writes it
- :mod:`~snnlib.darts.retrain`: ``train_genotype`` at a fixed budget (``train_genotype_seeds``:
  averaged over seeds)
"""

from ..attention import (
    ATTENTION,
    ChannelECA,
    ChannelSE,
    SpatialAttention,
    TemporalAttention,
    make_attention,
    register_attention,
)
from . import searches  # noqa: F401  (registers the DARTS search)
from .architecture import DartsArchitecture
from .bilevel import (
    BilevelResult,
    SearchConfig,
    SearchDiverged,
    arch_step,
    epoch_record,
    run_epoch_steps,
    search,
    spike_evaluation,
    unrolled_arch_gradients,
    weight_step,
)
from .cell_spikes import nos_per_cell
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
from .retrain import retrain_genotype, train_genotype, train_genotype_seeds
from .search_data import EPOCH_SEED_STRIDE, search_loaders, split_weight_arch_indices
from .search_state import load_bilevel_checkpoint
from .supernet import MixedOp, SearchCell, SearchNetwork
from .supernet_search import SupernetSpec, seeded_search, seeded_search_checkpoint

__all__ = [
    "ATTENTION",
    "ChannelECA",
    "ChannelSE",
    "SpatialAttention",
    "TemporalAttention",
    "make_attention",
    "register_attention",
    "BilevelResult",
    "SearchConfig",
    "SearchDiverged",
    "arch_step",
    "epoch_record",
    "run_epoch_steps",
    "search",
    "spike_evaluation",
    "unrolled_arch_gradients",
    "weight_step",
    "EPOCH_SEED_STRIDE",
    "search_loaders",
    "split_weight_arch_indices",
    "load_bilevel_checkpoint",
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
    "Cell",
    "Network",
    "OPS",
    "POOLING",
    "PRIMITIVES",
    "make_op",
    "retrain_genotype",
    "train_genotype",
    "train_genotype_seeds",
    "DartsArchitecture",
    "SupernetSpec",
    "seeded_search",
    "seeded_search_checkpoint",
    "MixedOp",
    "SearchCell",
    "SearchNetwork",
]
