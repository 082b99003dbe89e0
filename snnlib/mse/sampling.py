"""Drawing random genomes: the one place where every search, baseline and study samples.

The evolution's generation 0, random search, the proxy study, the ablations' random
baselines and the benchmarks all draw genomes with :func:`sample_genomes` from a seeded
``numpy.random.Generator``, so the same seed gives the same architectures everywhere.

For each of the ``n`` slots, genomes are drawn one after another with
:func:`~snnlib.mse.genome.random_genome` until one is *new* (its hash is not among the
genomes already taken, when ``distinct``) and *accepted* (``accept(genome)`` is true, when
given; it is asked only about new genomes, so an expensive predicate runs as rarely as
possible). ``max_tries`` caps the draws per slot (``None``: no cap, which never ends if the
space holds fewer than ``n`` acceptable genomes). When a slot's tries are used up,
``on_exhausted`` decides:

- ``"keep"``: take the last draw anyway (a duplicate or a rejected genome): the evolution's
  generation 0 keeps its population size in a space smaller than the population;
- ``"skip"``: leave the slot empty, so fewer than ``n`` genomes come back (random search
  never evaluates a genome twice);
- ``"raise"``: raise :class:`~snnlib.validation.ConfigError`.

>>> import numpy as np
>>> from snnlib.mse.genome import SearchSpace
>>> space = SearchSpace(n_cells=2, micro=False, macro=False, motifs=("chain", "residual"))
>>> len(sample_genomes(np.random.default_rng(0), space, 3))  # distinct, no cap
3
>>> len(sample_genomes(np.random.default_rng(0), space, 9, max_tries=50, on_exhausted="skip"))
4
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..validation import ConfigError, check_choice
from .genome import Genome, SearchSpace, random_genome

ON_EXHAUSTED = ("keep", "skip", "raise")


def sample_genomes(
    rng: np.random.Generator,
    space: SearchSpace,
    n: int,
    *,
    distinct: bool = True,
    max_tries: int | None = None,
    on_exhausted: str = "keep",
    accept: Callable[[Genome], bool] | None = None,
) -> list[Genome]:
    """``n`` random genomes of ``space`` drawn from ``rng`` (see the module docstring).

    With ``distinct=False`` and no ``accept`` this is ``[random_genome(rng, space) for _ in
    range(n)]``: one draw per slot.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ConfigError(f"n={n!r} must be a non-negative integer")
    if max_tries is not None and (
        not isinstance(max_tries, int) or isinstance(max_tries, bool) or max_tries < 1
    ):
        raise ConfigError(f"max_tries={max_tries!r} must be a positive integer or None")
    check_choice("on_exhausted", on_exhausted, ON_EXHAUSTED)
    taken: list[Genome] = []
    seen: set[str] = set()
    for slot in range(n):
        g, tries, ok = None, 0, False
        while max_tries is None or tries < max_tries:
            g, tries = random_genome(rng, space), tries + 1
            if (not distinct or g.hash() not in seen) and (accept is None or accept(g)):
                ok = True
                break
        if not ok:
            if on_exhausted == "skip":
                continue
            if on_exhausted == "raise":
                tests = " and ".join(t for t, on in (("new", distinct), ("accepted", accept)) if on)
                raise ConfigError(f"no {tests} genome for slot {slot} of {n} in {max_tries} draws")
        seen.add(g.hash())
        taken.append(g)
    return taken


def first_genome(
    rng: np.random.Generator,
    space: SearchSpace,
    accept: Callable[[Genome], bool],
    max_tries: int = 100,
) -> Genome:
    """The first random genome drawn from ``rng`` that ``accept`` takes; :class:`ConfigError`
    after ``max_tries`` rejected draws."""
    return sample_genomes(
        rng, space, 1, distinct=False, max_tries=max_tries, on_exhausted="raise", accept=accept
    )[0]
