r"""The searchers of the NAS core: one random search, one generational evolution, one
regularised evolution, on any :class:`~snnlib.nas.spaces.SearchSpace`.

Each has one entry point ``searcher(space, fitness, budget, seed, **options) -> Run``:
``fitness(arch) -> (value, seconds)`` (higher is better; non-finite values rank last), a
``budget`` of *evaluations* (distinct architectures scored), and ``seed`` for
``numpy.random.default_rng`` (the same seed, the same trajectory). A :class:`Run` records the
architectures evaluated in order and, after each evaluation, the one the search would return if
stopped there (the best so far): the anytime trajectory a judge scores. Fitness values are
cached by the space's key within a run, so a revisited architecture costs no evaluation.

- :func:`random_search`: ``budget`` distinct draws of the space; the best by the fitness.
- :func:`evolution`: generational evolution as MSE-NAS's search runs it (one elite, parents by
  :func:`tournament`, crossover with probability ``crossover_rate``, per-gene mutation at
  ``mutation_rate``), only new architectures evaluated.
- :func:`regularized_evolution` (Real et al., AAAI 2019): the :func:`tournament` winner of
  ``sample`` members of a population of ``population`` is mutated by the smallest move; the
  child joins, the oldest member leaves.

All three are registered in :data:`snnlib.nas.methods.SEARCH_METHODS` (``space="any"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..validation import ConfigError, check_range
from .methods import register_search
from .spaces import check_space

Fitness = Callable[[Any], tuple[float, float]]


@dataclass
class Run:
    """One search: the architectures it evaluated in order, the one it returns after each
    evaluation, the fitness seconds it was charged, and which method / guide / seed."""

    method: str
    guide: str
    seed: int
    evaluated: list = field(default_factory=list)
    returned: list = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "guide": self.guide,
            "seed": self.seed,
            "evaluated": self.evaluated,
            "returned": self.returned,
            "seconds": self.seconds,
        }


class Budget:
    """Counts the distinct evaluations of one run and records its anytime trajectory."""

    def __init__(self, space, fitness: Fitness, run: Run, budget: int):
        limit = space.size if space.size is not None else None
        check_range("budget", budget, 1, limit, integer=True)
        self.space, self.fitness, self.run, self.budget = space, fitness, run, budget
        self.values: dict[str, float] = {}
        self.best: Any = None
        self._best_value = -np.inf

    @property
    def spent(self) -> bool:
        return len(self.values) >= self.budget

    def seen(self, arch) -> bool:
        return self.space.key(arch) in self.values

    def value(self, arch) -> float:
        """The cached fitness of an evaluated architecture."""
        return self.values[self.space.key(arch)]

    def __call__(self, arch) -> float:
        k = self.space.key(arch)
        if k in self.values:
            return self.values[k]
        value, seconds = self.fitness(arch)
        value = float(value) if np.isfinite(value) else -np.inf
        self.values[k] = value
        self.run.seconds += seconds
        self.run.evaluated.append(arch)
        if self.best is None or value > self._best_value:
            self.best, self._best_value = arch, value
        self.run.returned.append(self.best)
        return value


def tournament(pop: Sequence, fit: Sequence[float], k: int, rng: np.random.Generator):
    """The fittest of ``k`` distinct random members of ``pop`` (the first of equals)."""
    contenders = rng.choice(len(pop), k, replace=False)
    return pop[max(contenders, key=lambda i: fit[i])]


def random_search(space, fitness: Fitness, budget: int, seed: int, guide: str = "") -> Run:
    """``budget`` distinct draws of ``space``; returns the best by ``fitness`` so far."""
    space = check_space(space)
    run = Run("random", guide, seed)
    b = Budget(space, fitness, run, budget)
    for arch in space.sample_distinct(np.random.default_rng(seed), budget):
        b(arch)
    return run


def evolution(
    space,
    fitness: Fitness,
    budget: int,
    seed: int,
    guide: str = "",
    population: int = 10,
    tournament_size: int = 3,
    mutation_rate: float = 1 / 6,
    crossover_rate: float = 0.5,
    max_tries: int = 1000,
) -> Run:
    """Generational evolution (see the module docstring)."""
    space = check_space(space)
    check_range("population", population, 2, None, integer=True)
    check_range("tournament_size", tournament_size, 1, population, integer=True)
    check_range("mutation_rate", mutation_rate, 0.0, 1.0)
    check_range("crossover_rate", crossover_rate, 0.0, 1.0)
    run = Run("evolution", guide, seed)
    rng = np.random.default_rng(seed)
    b = Budget(space, fitness, run, budget)
    pop = space.sample_distinct(rng, min(population, budget))
    fit = [b(a) for a in pop]
    tries = 0
    while not b.spent and tries < max_tries:
        elite = pop[int(np.argmax(fit))]
        children = [elite]
        keys = {space.key(elite)}
        while len(children) < population and not b.spent and tries < max_tries:
            tries += 1
            mum = tournament(pop, fit, tournament_size, rng)
            dad = tournament(pop, fit, tournament_size, rng)
            child = space.crossover(mum, dad, rng) if rng.random() < crossover_rate else mum
            child = space.mutate(child, rng, mutation_rate)
            if b.seen(child) or space.key(child) in keys:
                continue
            b(child)
            children.append(child)
            keys.add(space.key(child))
        pop = children
        fit = [b.value(a) for a in pop]
    return run


def regularized_evolution(
    space,
    fitness: Fitness,
    budget: int,
    seed: int,
    guide: str = "",
    population: int = 10,
    sample: int = 3,
    max_stalls: int = 1000,
) -> Run:
    """Real et al.'s aging evolution (see the module docstring)."""
    space = check_space(space)
    check_range("population", population, 2, None, integer=True)
    check_range("sample", sample, 1, population, integer=True)
    run = Run("regularized_evolution", guide, seed)
    rng = np.random.default_rng(seed)
    b = Budget(space, fitness, run, budget)
    queue = space.sample_distinct(rng, min(population, budget))
    for a in queue:
        b(a)
    stalls = 0
    while not b.spent and stalls < max_stalls:
        contenders = rng.choice(len(queue), sample, replace=False)
        parent = queue[max(contenders, key=lambda i: b.value(queue[i]))]
        child = space.mutate(parent, rng)
        if b.seen(child):
            stalls += 1
        else:
            stalls = 0
            b(child)
        queue.append(child)
        queue.pop(0)
    return run


SEARCHERS = {
    "random": random_search,
    "evolution": evolution,
    "regularized_evolution": regularized_evolution,
}
"""The core's searchers by name (each also in :data:`snnlib.nas.methods.SEARCH_METHODS`)."""

for _name, _fn in SEARCHERS.items():
    register_search(_name, _fn, space="any", summary=(_fn.__doc__ or "").split("\n")[0])


def run_searcher(name: str, space, fitness: Fitness, budget: int, seed: int, **options) -> Run:
    """One run of the registered searcher ``name`` (a space-independent one, ``space="any"``,
    or one registered for ``space``)."""
    from .methods import get_search

    method = get_search(name)
    if method.space != "any":
        raise ConfigError(
            f"search {name!r} searches the {method.space!r} space with its own signature; "
            "call it through its method package"
        )
    return method.run(space, fitness, budget, seed, **options)
