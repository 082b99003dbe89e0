"""The registry of search methods: the methods fill it from their own packages."""

import pytest

import snnlib.darts
import snnlib.mse
from snnlib.mse.baselines import random_search
from snnlib.nas.methods import SEARCH_METHODS, get_search, register_search
from snnlib.validation import ConfigError


def test_methods_register_their_searches():
    assert {"mse-evolution", "mse-random", "darts-bilevel"} <= set(SEARCH_METHODS)
    assert get_search("mse-evolution").run is snnlib.mse.evolve
    assert get_search("mse-random").run is random_search
    assert get_search("darts-bilevel").run is snnlib.darts.search
    assert [get_search(n).space for n in ("mse-evolution", "mse-random", "darts-bilevel")] == [
        "mse",
        "mse",
        "darts",
    ]


def test_register_search_rules_and_errors():
    with pytest.raises(ConfigError, match=r"search='nsga'.*'darts-bilevel', 'evolution'"):
        get_search("nsga")
    # registering the same function again is harmless (a package imported twice)
    before = get_search("mse-random")
    assert register_search("mse-random", random_search, space="mse") is before
    with pytest.raises(ConfigError, match="already registered"):
        register_search("mse-random", snnlib.mse.evolve, space="mse")
    with pytest.raises(ConfigError, match="callable"):
        register_search("toy", None, space="toy")
    m = register_search("toy", len, space="toy", summary="counts")
    try:
        assert get_search("toy") == m and m.run([1, 2]) == 2
    finally:
        del SEARCH_METHODS["toy"]
