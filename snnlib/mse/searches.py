"""MSE-NAS's entries in the core's registry of search methods (:mod:`snnlib.nas.methods`)."""

from __future__ import annotations

from ..nas.methods import register_search
from .baselines import random_search
from .evolution import evolve

register_search(
    "mse-evolution",
    evolve,
    space="mse",
    summary="evolution over multi-scale genomes with a fitness (RDM, SAHD, accuracy, ...)",
)
register_search(
    "mse-random",
    random_search,
    space="mse",
    summary="distinct random genomes, each scored once by the same fitness",
)
