"""The registry of search methods: name -> the function that runs the search, and its space.

The core's own searchers run on any search space (:mod:`snnlib.nas.searchers`: ``random``,
``evolution``, ``regularized_evolution``, ``space="any"``). Each method package registers its
own searches when it is imported
(:mod:`snnlib.mse`: ``mse-evolution``, ``mse-random``; :mod:`snnlib.darts`:
``darts-bilevel``; :mod:`snnlib.spikenas`: ``spikenas-darts``). The searches keep their own
signatures (a fitness and a genome space, or a supernet and loaders): the registry says which
exist, where they search and what to call.

>>> import snnlib.mse, snnlib.darts, snnlib.spikenas
>>> sorted(SEARCH_METHODS)  # doctest: +NORMALIZE_WHITESPACE
['darts-bilevel', 'evolution', 'mse-evolution', 'mse-random', 'random',
 'regularized_evolution', 'spikenas-darts']
>>> get_search("mse-evolution").space
'mse'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..validation import ConfigError, check_choice


@dataclass(frozen=True)
class SearchMethod:
    """One search method: its ``name``, the ``space`` it searches, the function that ``run``\\ s
    it, and a one-line ``summary``."""

    name: str
    space: str
    run: Callable
    summary: str = ""


SEARCH_METHODS: dict[str, SearchMethod] = {}


def register_search(name: str, run: Callable, space: str, summary: str = "") -> SearchMethod:
    """Add a search method (a name may be registered once, except by the same function again,
    so that re-importing a method package is harmless).

    >>> m = register_search("toy", lambda: None, space="toy", summary="does nothing")
    >>> get_search("toy").summary
    'does nothing'
    >>> del SEARCH_METHODS["toy"]
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"search name must be a non-empty string, got {name!r}")
    if not callable(run):
        raise ConfigError(f"search {name!r}: run must be callable")
    old = SEARCH_METHODS.get(name)
    if old is not None:
        if old.run is not run:
            raise ConfigError(f"search {name!r} is already registered (by {old.run!r})")
        return old
    method = SearchMethod(name, space, run, summary)
    SEARCH_METHODS[name] = method
    return method


def get_search(name: str) -> SearchMethod:
    """A registered search method; the error lists the registered names."""
    check_choice("search", name, sorted(SEARCH_METHODS))
    return SEARCH_METHODS[name]


# the core's own, space-independent searchers register themselves (random search, evolution,
# regularised evolution: snnlib.nas.searchers), so the registry is complete on import
from . import searchers as _searchers  # noqa: E402, F401
