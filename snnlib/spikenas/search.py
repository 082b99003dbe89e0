r"""Searches over the SpikeNAS-Bench space, judged (never guided) by the benchmark's table.

Every method spends a budget of *evaluations* (distinct cells scored) and returns, after each
evaluation, the cell it would hand back if stopped there: the best cell so far by the score
that guides it. The table's **test** accuracy of that cell, and its percentile in the space,
give the anytime curve. Guiding scores:

- ``"rdm"``: this book's label-target RDM fitness (default configuration) of the untrained
  network on the probe images; ``"lsp"``: the MSE-NAS authors' released, label-free scorer
  (the summed Hamming matrix of spike patterns, :data:`snnlib.nas.lsp.LSP_FITNESS`, as
  released); ``"sahd"``: SNASNet's SAHD score;
- ``"val_acc"``: the table's final **validation** accuracy (a trained network's accuracy on
  the validation half of the training set): the reference a training-free score competes with;
  ``"val_acc@10"``: the validation accuracy after 10 of the benchmark's training epochs, the
  fitness BrainCog's MSE-NAS script runs (from the benchmark's learning curves);
- ``"random"``: a hash of the architecture id, i.e. no information: random search with it
  returns a uniformly random cell of those it drew (the floor).

Methods:

- :func:`random_search`: ``budget`` distinct cells drawn uniformly (SNASNet's search with
  SAHD; with the RDM fitness; with validation accuracy it is plain random sampling);
- :func:`evolution`: MSE-NAS-style generational evolution (tournament selection, uniform
  crossover of the six edges, per-edge mutation, one elite), distinct new cells only;
- :func:`regularized_evolution` (Real et al., AAAI 2019): tournament of ``sample`` cells from a
  population of ``population``, the winner mutated in one edge, the oldest removed.

All randomness comes from ``numpy.random.default_rng(seed)``: the same seed gives the same
trajectory. Scores are cached by architecture id across methods and seeds (a cell's score
does not depend on who asks), and each run is charged the measured seconds of the cells it
evaluated, cached or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..validation import ConfigError, check_choice, check_range
from .space import EDGES, N_ARCHS, N_OPS, all_edges, arch_id_of

GUIDES = ("rdm", "lsp", "sahd", "val_acc", "val_acc@10", "random")
TRAINING_FREE_GUIDES = ("rdm", "lsp", "sahd")


@dataclass
class Run:
    """One search: the ids it evaluated in order and the id it returns after each."""

    method: str
    guide: str
    seed: int
    evaluated: list[int] = field(default_factory=list)
    returned: list[int] = field(default_factory=list)
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
    """Counts distinct evaluations of one run and records its anytime trajectory."""

    def __init__(self, score: Callable[[int], tuple[float, float]], run: Run, budget: int):
        check_range("budget", budget, 1, N_ARCHS, integer=True)
        self.score, self.run, self.budget = score, run, budget
        self.values: dict[int, float] = {}
        self.best: int | None = None

    @property
    def spent(self) -> bool:
        return len(self.values) >= self.budget

    def __call__(self, arch_id: int) -> float:
        a = int(arch_id)
        if a in self.values:
            return self.values[a]
        value, seconds = self.score(a)
        value = value if np.isfinite(value) else -np.inf
        self.values[a] = value
        self.run.seconds += seconds
        self.run.evaluated.append(a)
        if self.best is None or value > self.values[self.best]:
            self.best = a
        self.run.returned.append(self.best)
        return value


def random_search(score, budget: int, seed: int, guide: str = "") -> Run:
    """``budget`` distinct uniformly drawn cells; returns the best by ``score`` so far."""
    run = Run("random", guide, seed)
    b = Budget(score, run, budget)
    for a in np.random.default_rng(seed).choice(N_ARCHS, budget, replace=False):
        b(a)
    return run


def _mutate(edges: np.ndarray, rng: np.random.Generator, rate: float) -> np.ndarray:
    """Each edge changes to another operation with probability ``rate``; at least one does."""
    child = edges.copy()
    flips = rng.random(len(EDGES)) < rate
    if not flips.any():
        flips[rng.integers(len(EDGES))] = True
    for i in np.flatnonzero(flips):
        child[i] = (child[i] + rng.integers(1, N_OPS)) % N_OPS
    return child


def _tournament(pop: list[int], fit: list[float], k: int, rng: np.random.Generator) -> int:
    """The fittest of ``k`` distinct random members of ``pop``."""
    contenders = rng.choice(len(pop), k, replace=False)
    return pop[max(contenders, key=lambda i: fit[i])]


def evolution(
    score,
    budget: int,
    seed: int,
    guide: str = "",
    population: int = 10,
    tournament: int = 3,
    mutation_rate: float = 1 / 6,
    crossover_rate: float = 0.5,
    max_tries: int = 1000,
) -> Run:
    """MSE-NAS-style generational evolution over the six edges (see the module docstring)."""
    check_range("population", population, 2, None, integer=True)
    check_range("tournament", tournament, 1, population, integer=True)
    check_range("mutation_rate", mutation_rate, 0.0, 1.0)
    check_range("crossover_rate", crossover_rate, 0.0, 1.0)
    run = Run("evolution", guide, seed)
    rng = np.random.default_rng(seed)
    b = Budget(score, run, budget)
    table = all_edges()
    pop = [int(a) for a in rng.choice(N_ARCHS, min(population, budget), replace=False)]
    fit = [b(a) for a in pop]
    tries = 0
    while not b.spent and tries < max_tries:
        elite = pop[int(np.argmax(fit))]
        children = [elite]
        while len(children) < population and not b.spent and tries < max_tries:
            tries += 1

            mum = table[_tournament(pop, fit, tournament, rng)]
            dad = table[_tournament(pop, fit, tournament, rng)]
            if rng.random() < crossover_rate:
                child = np.where(rng.random(len(EDGES)) < 0.5, mum, dad)
            else:
                child = mum.copy()
            child = _mutate(child, rng, mutation_rate)
            a = arch_id_of(child.tolist())
            if a in b.values or a in children:
                continue
            b(a)
            children.append(a)
        pop = children
        fit = [b.values[a] for a in pop]
    return run


def regularized_evolution(
    score, budget: int, seed: int, guide: str = "", population: int = 10, sample: int = 3
) -> Run:
    """Real et al.'s aging evolution: the winner of ``sample`` random members is mutated in
    one edge; the child joins, the oldest member leaves."""
    check_range("population", population, 2, None, integer=True)
    check_range("sample", sample, 1, population, integer=True)
    run = Run("regularized_evolution", guide, seed)
    rng = np.random.default_rng(seed)
    b = Budget(score, run, budget)
    table = all_edges()
    queue = [int(a) for a in rng.choice(N_ARCHS, min(population, budget), replace=False)]
    for a in queue:
        b(a)
    stalls = 0
    while not b.spent and stalls < 1000:
        contenders = rng.choice(len(queue), sample, replace=False)
        parent = queue[max(contenders, key=lambda i: b.values[queue[i]])]
        child = table[parent].copy()
        i = rng.integers(len(EDGES))
        child[i] = (child[i] + rng.integers(1, N_OPS)) % N_OPS
        a = arch_id_of(child.tolist())
        if a in b.values:
            stalls += 1
        else:
            stalls = 0
            b(a)
        queue.append(a)
        queue.pop(0)
    return run


METHODS = {
    "random": random_search,
    "evolution": evolution,
    "regularized_evolution": regularized_evolution,
}


BOOK_METHODS = {
    "MSE-NAS evolution, RDM": ("evolution", "rdm"),
    "MSE-NAS evolution, authors' scorer": ("evolution", "lsp"),
    "MSE-NAS evolution, 10-epoch fitness": ("evolution", "val_acc@10"),
    "random search, RDM": ("random", "rdm"),
    "SNASNet: random search, SAHD": ("random", "sahd"),
    "regularised evolution, val. acc.": ("regularized_evolution", "val_acc"),
    "random search, val. acc.": ("random", "val_acc"),
    "random cell (no score)": ("random", "random"),
}
"""The searches the book compares, by label: (method, guide). The random searches of one seed
draw the same cells (same generator), so they differ only in the score that picks among them."""


def run_search(method: str, score, budget: int, seed: int, guide: str) -> Run:
    """One run of ``method`` (a key of :data:`METHODS`) guided by ``score``."""
    check_choice("method", method, METHODS)
    check_choice("guide", guide, GUIDES)
    return METHODS[method](score, budget, seed, guide=guide)


def scored_cells_bound(seeds: list[int], budget: int) -> int:
    """An upper bound on the distinct cells a training-free guide scores when every method of
    :data:`BOOK_METHODS` runs with ``seeds`` and ``budget``: the union of the random searches'
    draws (exact: they depend on the seed only, and the training-free random searches share
    them) plus ``budget`` per seed for each evolution guided by a training-free score (exact up
    to the cells they share with the draws and each other). The planned steps of a dry run's
    "score cell" loop."""
    drawn: set[int] = set()
    for s in seeds:
        drawn.update(np.random.default_rng(s).choice(N_ARCHS, budget, replace=False).tolist())
    evolutions = sum(m != "random" and g in TRAINING_FREE_GUIDES for m, g in BOOK_METHODS.values())
    return len(drawn) + evolutions * len(seeds) * budget


def anytime(runs: list[Run], test_acc: np.ndarray, budget: int) -> np.ndarray:
    """``[n_runs, budget]`` test accuracy of the returned cell after 1..budget evaluations
    (a run that stopped early keeps its last answer)."""
    out = np.empty((len(runs), budget))
    for i, r in enumerate(runs):
        if not r.returned:
            raise ConfigError(f"run {r.method}/{r.guide}/seed {r.seed} evaluated nothing")
        ret = r.returned + [r.returned[-1]] * (budget - len(r.returned))
        out[i] = test_acc[np.asarray(ret[:budget])]
    return out
