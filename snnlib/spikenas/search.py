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
(:class:`~snnlib.spikenas.space.CellSpace`). :func:`run_search` calls any searcher of the
registry that runs on any space (:data:`snnlib.nas.methods.SEARCH_METHODS`, ``space="any"``),
and :func:`book_methods` adds every such searcher that :data:`BOOK_METHODS` does not use, guided
by the RDM fitness: one ``register_search(name, fn, space="any")`` call puts a new searcher in
the book's searches (notebook 61) and so in its comparison of every method (notebook 62).

All randomness comes from ``numpy.random.default_rng(seed)``: the same seed gives the same
trajectory. Scores are cached by architecture id across methods and seeds (a cell's score
does not depend on who asks), and each run is charged the measured seconds of the cells it
evaluated, cached or not.
"""

from __future__ import annotations

import numpy as np

from ..nas import searchers
from ..nas.methods import SEARCH_METHODS
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


NEW_SEARCHER_GUIDE = "rdm"
"""The guide of a registered searcher that :data:`BOOK_METHODS` does not name: the book's own
training-free fitness (the guide of its default search, ``"MSE-NAS evolution, RDM"``)."""


def registered_searchers() -> dict:
    """Every searcher of the NAS registry that runs on any space (``space="any"``), by name, in
    the order of registration: the core's three first (:data:`METHODS`), then any added."""
    return {name: m.run for name, m in SEARCH_METHODS.items() if m.space == "any"}


def book_methods() -> dict[str, tuple[str, str]]:
    """The searches the book runs, by label: :data:`BOOK_METHODS` in its order, then each
    registered searcher it does not use (:func:`registered_searchers`), guided by
    :data:`NEW_SEARCHER_GUIDE` and labelled ``"<name>, RDM"``. Today the two are equal.

    >>> list(book_methods()) == list(BOOK_METHODS)
    True
    """
    methods = dict(BOOK_METHODS)
    used = {method for method, _ in BOOK_METHODS.values()}
    for name in registered_searchers():
        if name not in used:
            methods[f"{name}, RDM"] = (name, NEW_SEARCHER_GUIDE)
    return methods


def run_search(method: str, score, budget: int, seed: int, guide: str) -> Run:
    """One run of the registered searcher ``method`` (a key of :func:`registered_searchers`;
    the core's three are :data:`METHODS`) on the cell space, guided by ``score``."""
    available = registered_searchers()
    check_choice("method", method, available)
    check_choice("guide", guide, GUIDES)
    return available[method](SPACE, score, budget, seed, guide=guide)


def scored_cells_bound(
    seeds: list[int], budget: int, methods: dict[str, tuple[str, str]] | None = None
) -> int:
    """An upper bound on the distinct cells a training-free guide scores when every method of
    ``methods`` (default :func:`book_methods`) runs with ``seeds`` and ``budget``: the union of
    the random searches' draws (exact: they depend on the seed only, and the training-free
    random searches share them) plus ``budget`` per seed for each other search guided by a
    training-free score (exact up to the cells they share with the draws and each other). The
    planned steps of a dry run's "score cell" loop."""
    methods = book_methods() if methods is None else methods
    drawn: set[int] = set()
    for s in seeds:
        drawn.update(np.random.default_rng(s).choice(N_ARCHS, budget, replace=False).tolist())
    others = sum(m != "random" and g in TRAINING_FREE_GUIDES for m, g in methods.values())
    return len(drawn) + others * len(seeds) * budget


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
