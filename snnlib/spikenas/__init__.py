"""SpikeNAS-Bench: a tabular ground truth for spiking cells (Sun et al., 2025), as a search space.

- :mod:`~snnlib.spikenas.space`: the 15,625 cells, architecture id <-> edges, reachability;
- :mod:`~snnlib.spikenas.network`: the benchmark's CIFAR-10 network, width a parameter;
- :mod:`~snnlib.spikenas.table`: the committed table of trained accuracies (checksum verified).
"""

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
    "benchmark_neuron",
    "BenchTable",
    "load_table",
]
