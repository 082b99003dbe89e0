"""MSE-NAS: multi-scale evolutionary architecture search for spiking neural networks.

Modules, in the order the data flows:

- :mod:`~snnlib.mse.motifs`: the registry of circuit motifs (meso scale);
- :mod:`~snnlib.mse.genome`: the immutable multi-scale genome, search space, variation;
- :mod:`~snnlib.mse.decode`: genome -> spiking network (stem, cells, reductions, head);
- :mod:`~snnlib.mse.rdm`: RDMs of spike responses and their comparison with a target;
- :mod:`~snnlib.mse.fitness`: the training-free RDM fitness and the accuracy fitness;
- :mod:`~snnlib.mse.evolution`: the evolutionary search with checkpoints and executors;
- :mod:`~snnlib.mse.experiment`: data as tensors, training and measuring genomes, noise robustness;
- :mod:`~snnlib.mse.draw`: pictures of genomes, RDMs and search histories.
"""

from .decode import MSENet, NetConfig, build_network
from .evolution import EvolutionConfig, SearchResult, evolve, load_checkpoint
from .fitness import AccuracyEvaluator, DataSpec, RDMEvaluator, class_balanced, loader_tensors
from .genome import (
    CellGene,
    Genome,
    OpGene,
    SearchSpace,
    crossover,
    default_genome,
    from_dict,
    from_json,
    mutate,
    random_genome,
)
from .motifs import MOTIFS, Edge, Motif, get_motif
from .rdm import RDMFitness, categorical_rdm, compare, rdm, rdm_score, record_responses

__all__ = [
    "MOTIFS",
    "Edge",
    "Motif",
    "get_motif",
    "CellGene",
    "Genome",
    "OpGene",
    "SearchSpace",
    "crossover",
    "default_genome",
    "from_dict",
    "from_json",
    "mutate",
    "random_genome",
    "MSENet",
    "NetConfig",
    "build_network",
    "RDMFitness",
    "categorical_rdm",
    "compare",
    "rdm",
    "rdm_score",
    "record_responses",
    "AccuracyEvaluator",
    "DataSpec",
    "RDMEvaluator",
    "class_balanced",
    "loader_tensors",
    "EvolutionConfig",
    "SearchResult",
    "evolve",
    "load_checkpoint",
]
