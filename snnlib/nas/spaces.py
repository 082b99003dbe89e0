"""The search-space interface every searcher of the NAS core works on.

A search space is an object with

- ``sample_distinct(rng, n) -> list`` ``n`` distinct random architectures (the space's own
  uniform draw), and ``size`` (``None`` when unbounded);
- ``mutate(arch, rng, rate) -> arch`` a neighbour of ``arch``; with ``rate=None`` the smallest
  move (one gene), otherwise every gene changes with probability ``rate`` (at least one);
- ``crossover(a, b, rng) -> arch`` a child of two parents;
- ``key(arch) -> str`` a stable identity (the same architecture, the same key, in any
  process: caches, checkpoints and seeds derive from it);
- ``to_dict(arch) -> dict`` and ``from_dict(d) -> arch``: a JSON form that round-trips.

:class:`SearchSpace` states it as a :class:`typing.Protocol`; the SpikeNAS-Bench cell space
(:class:`snnlib.spikenas.space.CellSpace`) and the MSE-NAS genome space
(:class:`snnlib.mse.space.GenomeSpace`) implement it, and the searchers of
:mod:`snnlib.nas.searchers` run on either.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..validation import ConfigError

METHODS = ("sample_distinct", "mutate", "crossover", "key", "to_dict", "from_dict")


@runtime_checkable
class SearchSpace(Protocol):
    """What a searcher needs of a space (see the module docstring)."""

    size: int | None

    def sample_distinct(self, rng: np.random.Generator, n: int) -> list: ...

    def mutate(self, arch: Any, rng: np.random.Generator, rate: float | None = None) -> Any: ...

    def crossover(self, a: Any, b: Any, rng: np.random.Generator) -> Any: ...

    def key(self, arch: Any) -> str: ...

    def to_dict(self, arch: Any) -> dict: ...

    def from_dict(self, data: dict) -> Any: ...


def check_space(space: Any) -> SearchSpace:
    """``space`` if it implements :class:`SearchSpace`; a clear error naming what it lacks."""
    missing = [m for m in METHODS if not callable(getattr(space, m, None))]
    if missing or not hasattr(space, "size"):
        raise ConfigError(
            f"{type(space).__name__} is not a search space: it lacks "
            f"{missing + ([] if hasattr(space, 'size') else ['size'])} (snnlib.nas.spaces)"
        )
    return space
