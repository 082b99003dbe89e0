"""SpikeNAS-Bench: a tabular ground truth for spiking cells (Sun et al., 2025), as a search space.

- :mod:`~snnlib.spikenas.space`: the 15,625 cells, architecture id <-> edges, reachability;
- :mod:`~snnlib.spikenas.network`: the benchmark's CIFAR-10 network, width a parameter;
- :mod:`~snnlib.spikenas.table`: the committed table of trained accuracies (checksum verified).
- :mod:`~snnlib.spikenas.curves`: every cell's per-epoch learning curves, early-stop scores and
  the noise ceiling (checksum verified);
- :mod:`~snnlib.spikenas.supernet`: the network with every edge a softmax mixture of the five
  operations (one alpha for both cells, MA-DARTS attention optional);
- :mod:`~snnlib.spikenas.darts_data` and :mod:`~snnlib.spikenas.darts_search`: a seeded DARTS
  search on the benchmark's own halves of the training set, judged by the table (registered
  as the search method ``spikenas-darts``).
"""

from .curves import (
    EARLY_STOP_EPOCHS,
    Curves,
    NoiseCeiling,
    TauInterval,
    early_stop_cost_share,
    early_stop_scores,
    early_stop_seconds,
    load_curves,
    noise_ceiling,
    rank_correlation_by_epoch,
)
from .darts_data import DartsData, load_darts_data
from .darts_search import DartsConfig, DartsRun, run_darts_search
from .network import SpikeNASCell, SpikeNASNet, benchmark_neuron
from .space import (
    EDGES,
    N_ARCHS,
    OPS,
    all_edges,
    arch_id_of,
    check_arch_id,
    check_edges,
    describe,
    edges_of,
    n_convs,
    output_reachable,
)
from .supernet import SpikeNASSupernet
from .table import BenchTable, load_table

__all__ = [
    "EDGES",
    "N_ARCHS",
    "OPS",
    "all_edges",
    "arch_id_of",
    "check_arch_id",
    "check_edges",
    "describe",
    "edges_of",
    "n_convs",
    "output_reachable",
    "SpikeNASCell",
    "SpikeNASNet",
    "SpikeNASSupernet",
    "benchmark_neuron",
    "BenchTable",
    "load_table",
    "EARLY_STOP_EPOCHS",
    "Curves",
    "NoiseCeiling",
    "TauInterval",
    "early_stop_cost_share",
    "early_stop_scores",
    "early_stop_seconds",
    "load_curves",
    "noise_ceiling",
    "rank_correlation_by_epoch",
    "DartsConfig",
    "DartsData",
    "DartsRun",
    "run_darts_search",
    "load_darts_data",
]
