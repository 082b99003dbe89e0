"""MSE-NAS: multi-scale evolutionary architecture search for spiking neural networks.

Modules, in the order the data flows:

- :mod:`~snnlib.mse.motifs`: the registry of circuit motifs (meso scale);
- :mod:`~snnlib.mse.genome`: the immutable multi-scale genome, search space, variation;
- :mod:`~snnlib.mse.sampling`: random genomes (distinct, accepted), the one sampler of every study;
- :mod:`~snnlib.mse.decode`: genome -> spiking network (stem, cells, reductions, head);
- :mod:`~snnlib.nas.rdm`: RDMs of spike responses and their comparison with a target;
- :mod:`~snnlib.mse.fitness`: the training-free RDM fitness and the accuracy fitness;
- :mod:`~snnlib.mse.evolution`: the evolutionary search with checkpoints and executors;
- :mod:`~snnlib.mse.experiment`: data as tensors, training and measuring genomes, noise robustness;
- :mod:`~snnlib.mse.cost`: seconds per candidate of fitnesses, timed interleaved;
- :mod:`~snnlib.mse.proxy_scores`: the proxy study's scores and its recommendation rule;
- :mod:`~snnlib.mse.draw`: pictures of genomes, RDMs and search histories.
"""

from ..nas.rdm import RDMConfig, categorical_rdm, compare, rdm, rdm_score, record_responses
from . import searches  # noqa: F401  (registers the MSE searches)
from .decode import MSENet, NetConfig, build_network
from .evolution import EvolutionConfig, EvolutionResult, evolve, load_evolution_state
from .experiment import RetrainableGenome
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
from .sampling import first_genome, sample_genomes

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
    "sample_genomes",
    "first_genome",
    "MSENet",
    "NetConfig",
    "build_network",
    "RDMConfig",
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
    "EvolutionResult",
    "evolve",
    "RetrainableGenome",
    "load_evolution_state",
]
