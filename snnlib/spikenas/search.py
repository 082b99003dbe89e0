r"""Searches over the SpikeNAS-Bench space, judged (never guided) by the benchmark's table.

Every method spends a budget of *evaluations* (distinct cells scored) and returns, after each
evaluation, the cell it would hand back if stopped there: the best cell so far by the score
that guides it. The table's **test** accuracy of that cell, and its percentile in the space,
give the anytime curve. Guiding scores:

- ``"rdm"``: this book's label-target RDM fitness (default configuration) of the untrained
  network on the probe images; ``"lsp"``: the MSE-NAS authors' released, label-free scorer
  (the summed Hamming matrix of spike patterns, :data:`snnlib.nas.lsp.LSP_FITNESS`, as
  released); ``"sahd"``: SNASNet's SAHD score; ``"naswot"``: NASWOT's log-determinant of the
  spike patterns' agreement kernel (Mellor et al., 2021);
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

All three are the NAS core's searchers (:mod:`snnlib.nas.searchers`) run on the cell space
(:class:`~snnlib.spikenas.space.CellSpace`); a searcher registered there is one entry of
:data:`METHODS` away from the book's comparison.

All randomness comes from ``numpy.random.default_rng(seed)``: the same seed gives the same
trajectory. Scores are cached by architecture id across methods and seeds (a cell's score
does not depend on who asks), and each run is charged the measured seconds of the cells it
evaluated, cached or not.
"""

from __future__ import annotations

import numpy as np

from ..nas import searchers
from ..nas.searchers import Run
from ..validation import ConfigError, check_choice
from .space import N_ARCHS, CellSpace

GUIDES = ("rdm", "lsp", "sahd", "naswot", "val_acc", "val_acc@10", "random")
TRAINING_FREE_GUIDES = ("rdm", "lsp", "sahd", "naswot")


SPACE = CellSpace()
"""The cell space the searches run on (:class:`snnlib.spikenas.space.CellSpace`)."""


def random_search(score, budget: int, seed: int, guide: str = "") -> Run:
    """``budget`` distinct uniformly drawn cells; returns the best by ``score`` so far."""
    return searchers.random_search(SPACE, score, budget, seed, guide=guide)


def evolution(score, budget: int, seed: int, guide: str = "", **options) -> Run:
    """MSE-NAS-style generational evolution over the six edges (the core's
    :func:`snnlib.nas.searchers.evolution` on the cell space)."""
    return searchers.evolution(SPACE, score, budget, seed, guide=guide, **options)


def regularized_evolution(score, budget: int, seed: int, guide: str = "", **options) -> Run:
    """Real et al.'s aging evolution (the core's searcher on the cell space)."""
    return searchers.regularized_evolution(SPACE, score, budget, seed, guide=guide, **options)


METHODS = {
    "random": random_search,
    "evolution": evolution,
    "regularized_evolution": regularized_evolution,
}
"""The core's searchers (:data:`snnlib.nas.searchers.SEARCHERS`) bound to the cell space."""


BOOK_METHODS = {
    "MSE-NAS evolution, RDM": ("evolution", "rdm"),
    "MSE-NAS evolution, authors' scorer": ("evolution", "lsp"),
    "MSE-NAS evolution, 10-epoch fitness": ("evolution", "val_acc@10"),
    "random search, RDM": ("random", "rdm"),
    "SNASNet: random search, SAHD": ("random", "sahd"),
    "random search, NASWOT": ("random", "naswot"),
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
