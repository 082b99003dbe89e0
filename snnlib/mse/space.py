"""The MSE-NAS genome space as a search space of the NAS core
(:class:`snnlib.nas.spaces.SearchSpace`), so the core's searchers (random search, generational
and regularised evolution, :mod:`snnlib.nas.searchers`) run on multi-scale genomes too.

An architecture is a :class:`~snnlib.mse.genome.Genome`; its key is the genome's hash, its
JSON form :meth:`Genome.to_dict`. Draws, mutation and crossover are MSE-NAS's own
(:func:`~snnlib.mse.sampling.sample_genomes`, :func:`~snnlib.mse.genome.mutate`,
:func:`~snnlib.mse.genome.crossover`). The MSE-NAS search itself (:func:`snnlib.mse.evolve`,
with its checkpoints and executors) stays its own registered method.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .genome import Genome, SearchSpace, crossover, from_dict, mutate
from .sampling import sample_genomes


@dataclass(frozen=True)
class GenomeSpace:
    """``space`` (which scales are searched, how many cells) with the evolution's default
    ``mutation_rate`` (used for the smallest move, ``rate=None``) and ``crossover_mode``.

    >>> gs = GenomeSpace(SearchSpace(n_cells=3))
    >>> rng = np.random.default_rng(0)
    >>> a, b = gs.sample_distinct(rng, 2)
    >>> gs.key(gs.from_dict(gs.to_dict(a))) == gs.key(a) != gs.key(b)
    True
    """

    space: SearchSpace = field(default_factory=SearchSpace)
    mutation_rate: float = 0.1
    crossover_mode: str = "gene"
    size = None  # unbounded for a searcher's budget check

    def sample_distinct(self, rng: np.random.Generator, n: int) -> list[Genome]:
        return sample_genomes(rng, self.space, n)

    def mutate(self, arch: Genome, rng: np.random.Generator, rate: float | None = None):
        return mutate(arch, rng, self.mutation_rate if rate is None else rate, self.space)

    def crossover(self, a: Genome, b: Genome, rng: np.random.Generator) -> Genome:
        return crossover(a, b, rng, self.space, self.crossover_mode)

    def key(self, arch: Genome) -> str:
        return arch.hash()

    def to_dict(self, arch: Genome) -> dict:
        return arch.to_dict()

    def from_dict(self, data: dict) -> Genome:
        return from_dict(data).validate(self.space)
