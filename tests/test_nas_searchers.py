"""The NAS core's searchers on any search space: the SpikeNAS-Bench cell space (trajectories
equal to the cell-space searches they replaced, recorded before the move) and the MSE-NAS
genome space; the interface check; the registry."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from snnlib.nas import searchers
from snnlib.nas.methods import SEARCH_METHODS
from snnlib.nas.spaces import SearchSpace, check_space
from snnlib.spikenas.space import N_ARCHS, CellSpace, edges_of
from snnlib.validation import ConfigError

FIXTURE = Path(__file__).parent / "data" / "spikenas_search_trajectories.json"


def hashed(a) -> tuple[float, float]:
    """The score the fixture was recorded with (a hash plus structure), 0.01 s per cell."""
    h = int(hashlib.sha256(str(a).encode()).hexdigest()[:8], 16) / 2**32
    return h + (a % 97) / 97.0, 0.01


def test_cell_space_searches_equal_the_recorded_trajectories():
    want = json.loads(FIXTURE.read_text())
    space = CellSpace()
    assert isinstance(space, SearchSpace)
    for key, w in want.items():
        name, seed, budget = key.split("/")
        run = searchers.SEARCHERS[name](space, hashed, int(budget), int(seed), guide="g")
        assert run.evaluated == w["evaluated"] and run.returned == w["returned"], key
        assert run.seconds == pytest.approx(w["seconds"])


def test_cell_space_moves():
    space, rng = CellSpace(), np.random.default_rng(3)
    for a in space.sample_distinct(rng, 50):
        one = space.mutate(a, rng)
        assert sum(x != y for x, y in zip(edges_of(a), edges_of(one))) == 1
        b = space.sample_distinct(rng, 1)[0]
        child = space.crossover(a, b, rng)
        assert all(c in (x, y) for c, x, y in zip(edges_of(child), edges_of(a), edges_of(b)))
        assert space.from_dict(space.to_dict(a)) == a
    with pytest.raises(ConfigError, match="out of range"):
        space.key(N_ARCHS)
    with pytest.raises(ConfigError, match="not those of its id"):
        space.from_dict({"arch_id": 1, "edges": [0] * 6})


def test_searchers_run_on_mse_genomes():
    from snnlib.mse.genome import SearchSpace as Genomes
    from snnlib.mse.space import GenomeSpace

    space = GenomeSpace(Genomes(n_cells=3))
    check_space(space)

    def fitness(g):  # a gene-level score: deterministic, no network
        return float(sum(c.fan_in + len(c.skips) for c in g.cells)), 0.0

    for name, fn in searchers.SEARCHERS.items():
        a = fn(space, fitness, 12, seed=4)
        b = fn(space, fitness, 12, seed=4)
        assert [g.hash() for g in a.evaluated] == [g.hash() for g in b.evaluated], name
        assert len({g.hash() for g in a.evaluated}) == len(a.evaluated) <= 12
        best = [fitness(g)[0] for g in a.returned]
        assert best == sorted(best), name  # the returned architecture only improves


def test_a_space_without_the_interface_is_named_and_the_registry_lists_the_searchers():
    class Half:  # draws and keys, but no moves
        size = 3
        key, to_dict, from_dict = str, dict, dict

        def sample_distinct(self, rng, n):
            return list(range(n))

    with pytest.raises(ConfigError, match=r"lacks \['mutate', 'crossover'\]"):
        searchers.random_search(Half(), hashed, 2, 0)
    for name in searchers.SEARCHERS:
        assert SEARCH_METHODS[name].space == "any"
    run = searchers.run_searcher("random", CellSpace(), hashed, 3, 0)
    assert len(run.evaluated) == 3
    with pytest.raises(ConfigError, match="its own signature"):
        searchers.run_searcher("mse-evolution", CellSpace(), hashed, 3, 0)
