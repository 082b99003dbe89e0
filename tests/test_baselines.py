"""Peers in the MSE-NAS harness: SAHD fitness, AutoSNN spike-aware fitness, random search."""

import math

import numpy as np
import pytest
import torch

from snnlib.mse import (
    AccuracyEvaluator,
    DataSpec,
    EvolutionConfig,
    EvolutionResult,
    NetConfig,
    SearchSpace,
    build_network,
    evolve,
    random_genome,
)
from snnlib.mse.baselines import (
    SAHDEvaluator,
    SpikeAwareAccuracyEvaluator,
    random_search,
    spike_aware_fitness,
)
from snnlib.nas.proxies import sahd_score
from snnlib.train import TrainConfig
from snnlib.validation import ConfigError

SPACE = SearchSpace(n_cells=3)
DATA = DataSpec(in_channels=1, num_classes=4, encoding="direct", time_steps=2)
NET = NetConfig(width=4, stem_stride=2)


def _xy(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(4).repeat(n // 4)
    x = torch.randn(len(y), 1, 16, 16, generator=g) + y[:, None, None, None] * 0.5
    return x, y


def toy_fitness(genome, seed):
    rng = np.random.default_rng([seed, int(genome.hash()[:8], 16)])
    return float(rng.random())


def test_sahd_evaluator_deterministic_and_matches_proxy():
    x, _ = _xy()
    ev = SAHDEvaluator(x, DATA, net=NET)
    g = random_genome(np.random.default_rng(0), SPACE)
    a, b = ev(g, 0), ev(g, 0)
    assert a == b
    from snnlib.nas.seeding import derive_seed

    torch.manual_seed(derive_seed(0, g.hash()))
    model = build_network(g, 1, 4, NET)
    assert a == pytest.approx(sahd_score(model, ev.batches()))
    assert len(ev.batches()) == 2 and ev.batches()[0].shape[:2] == (2, 8)
    with pytest.raises(ConfigError):
        SAHDEvaluator(x[:3], DATA, net=NET)


def test_sahd_is_an_evolve_fitness():
    from snnlib.nas.seeding import derive_seed

    x, _ = _xy()
    sahd = SAHDEvaluator(x, DATA, net=NET)
    cfg = EvolutionConfig(population=3, generations=1, seed=0)
    r = evolve(sahd, SPACE, cfg, progress=False)
    assert r.evaluations == len(r.archive) == len(r.cache) >= cfg.population
    # every cached fitness is the SAHD score of that genome's untrained network, recomputed
    # here from the proxy itself (non-finite scores are stored as -inf)
    for h, g in r.archive.items():
        torch.manual_seed(derive_seed(cfg.seed, h))
        score = float(sahd_score(build_network(g, 1, 4, NET), sahd.batches()))
        assert r.cache[h] == (score if math.isfinite(score) else -math.inf)
    assert r.best_fitness == max(r.cache.values()) == r.cache[r.best.hash()]
    assert math.isfinite(r.best_fitness)  # some network of the search has a full-rank kernel


def test_spike_aware_fitness_formula():
    assert spike_aware_fitness(0.8, 110_000) == pytest.approx(0.8)
    assert spike_aware_fitness(0.8, 11_000) == pytest.approx(0.8 * 10**0.08)
    assert spike_aware_fitness(0.8, 0.0) == spike_aware_fitness(0.8, 1.0)
    # the reference rescales but never reorders
    f = [spike_aware_fitness(a, n, ref) for a, n in ((0.7, 5e3), (0.72, 2e4)) for ref in (1e4,)]
    g = [spike_aware_fitness(a, n) for a, n in ((0.7, 5e3), (0.72, 2e4))]
    assert (f[0] > f[1]) == (g[0] > g[1])
    with pytest.raises(ConfigError):
        spike_aware_fitness(0.5, 10, reference=0)


def test_spike_aware_evaluator_extends_accuracy_evaluator():
    x, y = _xy(32)
    kw = dict(
        train_x=x,
        train_y=y,
        val_x=x[:16],
        val_y=y[:16],
        data=DATA,
        train=TrainConfig(epochs=1, max_batches=1),
        batch_size=16,
        net=NET,
    )
    g = random_genome(np.random.default_rng(1), SPACE)
    sa = SpikeAwareAccuracyEvaluator(**kw)
    d = sa.details(g, 0)
    assert set(d) >= {"acc", "nos", "fitness", "params"}
    assert d["fitness"] == pytest.approx(spike_aware_fitness(d["acc"], d["nos"]))
    assert sa(g, 0) == d["fitness"]
    # exponent 0: exactly the accuracy fitness
    assert SpikeAwareAccuracyEvaluator(**kw, exponent=0.0)(g, 0) == AccuracyEvaluator(**kw)(g, 0)


def test_random_search_result_and_determinism():
    r = random_search(toy_fitness, SPACE, 7, seed=3)
    assert isinstance(r, EvolutionResult)
    assert r.evaluations == 7 == len(r.archive) == len(r.history)
    assert r.best_fitness == max(r.cache.values()) == toy_fitness(r.best, 3)
    assert [h["best_so_far"] for h in r.history] == sorted(h["best_so_far"] for h in r.history)
    r2 = random_search(toy_fitness, SPACE, 7, seed=3)
    assert r2.best.hash() == r.best.hash() and list(r2.cache) == list(r.cache)
    assert list(random_search(toy_fitness, SPACE, 7, seed=4).cache) != list(r.cache)
    with pytest.raises(ConfigError):
        random_search(toy_fitness, SPACE, 0, seed=0)


def test_random_search_equal_budget_with_evolution():
    cfg = EvolutionConfig(population=4, generations=2, seed=0)
    ev = evolve(toy_fitness, SPACE, cfg, progress=False)
    rs = random_search(toy_fitness, SPACE, ev.evaluations, seed=0)
    assert rs.evaluations == ev.evaluations


def test_pareto_front():
    from snnlib.nas.pareto import pareto_front

    acc = [0.9, 0.8, 0.85, 0.7, 0.9]
    energy = [2.0, 1.0, 3.0, 1.5, 2.0]
    assert pareto_front(acc, energy).tolist() == [True, True, False, False, True]
