"""MSE-NAS evolution: reproducible, resumable after an interruption, executor-independent."""

import json
import math
import time

import numpy as np
import pytest
import torch

from snnlib.mse.decode import NetConfig
from snnlib.mse.evolution import (
    EvolutionConfig,
    diversity,
    evolve,
    load_evolution_state,
    save_checkpoint,
)
from snnlib.mse.fitness import AccuracyEvaluator, DataSpec, RDMEvaluator
from snnlib.mse.genome import SearchSpace, random_genome
from snnlib.nas.executors import SyncExecutor
from snnlib.nas.rdm import RDMConfig
from snnlib.train import TrainConfig
from snnlib.validation import ConfigError

SPACE = SearchSpace(n_cells=4)
SMALL = SearchSpace(n_cells=3)  # real networks: keep them cheap


def gene_fitness(genome, seed):
    """A cheap deterministic fitness: rewards kernel 5, excitatory ops, fan-in 3 and motif
    diversity."""
    ops = [o for c in genome.cells for o in c.ops]
    score = sum(o.kernel == 5 for o in ops) / len(ops) + sum(o.sign > 0 for o in ops) / len(ops)
    score += sum(c.fan_in == 3 for c in genome.cells) / len(genome.cells)
    score += len({c.motif for c in genome.cells}) / len(genome.cells)
    rng = np.random.default_rng([seed, int(genome.hash()[:8], 16)])
    return score + 0.01 * rng.random()


def _strip(history):
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


def _probe(n_classes=4, per=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n_classes).repeat_interleave(per)
    x = torch.randn(len(y), 1, 16, 16, generator=g) + y[:, None, None, None] * 0.5
    return x, y


def _rdm_evaluator(threads=1):
    x, y = _probe()
    return RDMEvaluator(
        x,
        y,
        DataSpec(1, 4, "direct", 2),
        RDMConfig(n_per_class=3),
        NetConfig(width=4, stem_stride=2),
        threads=threads,
    )


def test_same_seed_same_history_and_improvement():
    cfg = EvolutionConfig(population=12, generations=6, seed=3)
    a = evolve(gene_fitness, SPACE, cfg, progress=False)
    b = evolve(gene_fitness, SPACE, cfg, progress=False)
    assert _strip(a.history) == _strip(b.history)
    assert a.best == b.best and a.best_fitness == b.best_fitness
    assert len(a.history) == cfg.generations + 1
    assert a.history[-1]["best_so_far"] >= a.history[0]["best"]
    assert a.history[-1]["mean"] > a.history[0]["mean"]  # selection works on this easy fitness
    assert all(
        h["best_so_far"] <= a.history[i + 1]["best_so_far"] for i, h in enumerate(a.history[:-1])
    )
    assert a.evaluations == len(a.cache) == len(a.archive)
    assert a.evaluations <= cfg.population * (cfg.generations + 1) - cfg.elitism * cfg.generations
    c = evolve(
        gene_fitness, SPACE, EvolutionConfig(population=12, generations=6, seed=4), progress=False
    )
    assert _strip(c.history) != _strip(a.history)
    ranked = a.ranked()
    assert ranked[0][0] == a.best and ranked[0][1] == a.best_fitness
    assert [f for _, f in ranked] == sorted((f for _, f in ranked), reverse=True)


def test_population_is_deduplicated_and_elites_survive():
    cfg = EvolutionConfig(population=10, generations=4, elitism=2, seed=1)
    seen = []
    evolve(
        gene_fitness,
        SPACE,
        cfg,
        progress=False,
        callback=lambda g, s: seen.append((list(s.population), list(s.fitness))),
    )
    for (pop, fit), (nxt, _) in zip(seen, seen[1:]):
        assert len({g.hash() for g in pop}) == len(pop)
        top = sorted(range(len(pop)), key=lambda i: -fit[i])[:2]
        assert [pop[i] for i in top] == nxt[:2]
    div, uniq = diversity(seen[0][0])
    assert 0 < div <= 1 and uniq == 1.0


class Interrupt(Exception):
    pass


def test_interrupted_and_resumed_search_equals_uninterrupted(tmp_path):
    cfg = EvolutionConfig(population=10, generations=6, seed=7)
    full = evolve(gene_fitness, SPACE, cfg, progress=False)
    ckpt = tmp_path / "search.json"

    def stop_at_3(gen, state):
        if gen == 3:
            raise Interrupt()

    with pytest.raises(Interrupt):
        evolve(gene_fitness, SPACE, cfg, checkpoint=ckpt, callback=stop_at_3, progress=False)
    assert load_evolution_state(ckpt).generation == 3
    calls = []
    resumed = evolve(
        gene_fitness,
        SPACE,
        cfg,
        checkpoint=ckpt,
        resume=True,
        progress=False,
        callback=lambda g, s: calls.append(g),
    )
    assert calls == [4, 5, 6]  # generations 0-3 were not redone
    assert _strip(resumed.history) == _strip(full.history)
    assert resumed.best == full.best and resumed.best_fitness == full.best_fitness
    assert resumed.population == full.population and resumed.cache == full.cache
    assert resumed.evaluations == full.evaluations
    # a finished checkpoint resumes to the same result without evaluating anything
    # (a stand-in fitness that fails when called, under gene_fitness's derived identity)
    from snnlib.nas.identity import fitness_identity

    again = evolve(
        lambda g, s: pytest.fail("re-evaluated"),
        SPACE,
        cfg,
        checkpoint=ckpt,
        resume=True,
        progress=False,
        identity={"fitness": fitness_identity(gene_fitness)},
    )
    assert again.best == full.best
    # ... and can be extended by more generations
    longer = evolve(
        gene_fitness,
        SPACE,
        EvolutionConfig(population=10, generations=8, seed=7),
        checkpoint=ckpt,
        resume=True,
        progress=False,
    )
    assert len(longer.history) == 9
    assert _strip(longer.history[:7]) == _strip(full.history)


def test_resume_refuses_other_settings_and_bad_files(tmp_path):
    ckpt = tmp_path / "s.json"
    cfg = EvolutionConfig(population=4, generations=1, seed=0)
    evolve(gene_fitness, SPACE, cfg, checkpoint=ckpt, progress=False)
    with pytest.raises(ConfigError, match="mutation_rate"):
        evolve(
            gene_fitness,
            SPACE,
            EvolutionConfig(population=4, generations=1, mutation_rate=0.5),
            checkpoint=ckpt,
            resume=True,
            progress=False,
        )
    with pytest.raises(ConfigError, match=r"differing: space\.macro"):
        evolve(
            gene_fitness,
            SearchSpace(n_cells=4, macro=False),
            cfg,
            checkpoint=ckpt,
            resume=True,
            progress=False,
        )
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_evolution_state(bad)
    with pytest.raises(ConfigError, match="checkpoint path"):
        evolve(gene_fitness, SPACE, cfg, resume=True, progress=False)
    state = load_evolution_state(ckpt)
    save_checkpoint(state, tmp_path / "copy.json")
    assert json.loads((tmp_path / "copy.json").read_text())["rng_state"] == state.rng_state
    assert load_evolution_state(tmp_path / "copy.json").to_payload() == state.to_payload()


def test_config_errors():
    for kw, name in [
        ({"population": 1}, "population"),
        ({"elitism": 5, "population": 5}, "elitism"),
        ({"mutation_rate": 2.0}, "mutation_rate"),
        ({"crossover_mode": "x"}, "crossover_mode"),
        ({"generations": -1}, "generations"),
    ]:
        with pytest.raises(ConfigError, match=name):
            EvolutionConfig(**kw)


def test_sync_executor_propagates_errors():
    def boom(g, s):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        evolve(boom, SPACE, EvolutionConfig(population=3, generations=0), progress=False)
    assert SyncExecutor().submit(pow, 2, 3).result() == 8


def test_real_rdm_search_is_reproducible_and_resumable(tmp_path):
    ev = _rdm_evaluator()
    cfg = EvolutionConfig(population=4, generations=2, seed=0)
    a = evolve(ev, SMALL, cfg, progress=False)

    def stop_at_1(gen, state):
        if gen == 1:
            raise Interrupt()

    ckpt = tmp_path / "rdm.json"
    with pytest.raises(Interrupt):
        evolve(ev, SMALL, cfg, checkpoint=ckpt, callback=stop_at_1, progress=False)
    b = evolve(ev, SMALL, cfg, checkpoint=ckpt, resume=True, progress=False)
    assert _strip(a.history) == _strip(b.history)
    assert a.best == b.best and a.cache == b.cache
    assert all(math.isfinite(f) and -1 <= f <= 1 for f in a.cache.values())
    # evaluation order does not matter: each fitness depends only on (genome, seed)
    for g in reversed(list(a.archive.values())):
        assert ev(g, 0) == a.cache[g.hash()]


def test_accuracy_fitness_same_interface():
    x, y = _probe(per=6)
    ev = AccuracyEvaluator(
        x,
        y,
        x,
        y,
        DataSpec(1, 4, "direct", 2),
        TrainConfig(epochs=1, lr=5e-3),
        batch_size=8,
        net=NetConfig(width=4, stem_stride=2),
        threads=1,
    )
    g = random_genome(np.random.default_rng(0), SMALL)
    f = ev(g, 0)
    assert 0.0 <= f <= 1.0 and ev(g, 0) == f
    res = evolve(ev, SMALL, EvolutionConfig(population=3, generations=1, seed=0), progress=False)
    assert 0.0 <= res.best_fitness <= 1.0


@pytest.mark.slow
def test_dask_local_cluster_gives_in_process_fitnesses():
    distributed = pytest.importorskip("distributed")
    from snnlib.nas.executors import local_cluster

    ev = _rdm_evaluator(threads=1)
    cfg = EvolutionConfig(population=6, generations=1, seed=5)
    t0 = time.perf_counter()
    local = evolve(ev, SMALL, cfg, progress=False)
    with (
        local_cluster(2) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = evolve(ev, SMALL, cfg, executor=client.get_executor(), progress=False)
    assert remote.cache == local.cache  # identical, bit for bit
    assert _strip(remote.history) == _strip(local.history)
    assert time.perf_counter() - t0 < 60


def test_generation_0_is_the_sampler_and_each_generation_is_saved(tmp_path):
    from snnlib.mse.sampling import sample_genomes

    cfg = EvolutionConfig(population=6, generations=2, dedup_tries=4, seed=11)
    saved = []

    def snapshot(gen, state):
        saved.append((gen, load_evolution_state(tmp_path / "s.json")))

    evolve(
        gene_fitness, SPACE, cfg, checkpoint=tmp_path / "s.json", callback=snapshot, progress=False
    )
    rng = np.random.default_rng(cfg.seed)
    gen0 = sample_genomes(rng, SPACE, cfg.population, max_tries=cfg.dedup_tries + 1)
    assert [g for g, _ in saved] == [0, 1, 2]
    first = saved[0][1]
    assert first.generation == 0 and first.population == gen0
    assert first.fitness == [gene_fitness(g, cfg.seed) for g in gen0]
    assert first.rng_state == rng.bit_generator.state  # saved right after drawing generation 0
    assert [len(s.history) for _, s in saved] == [1, 2, 3]
    assert [s.generation for _, s in saved] == [0, 1, 2]


def other_fitness(genome, seed):
    """Another deterministic fitness (of the same genomes): its cache must not be resumed."""
    return -gene_fitness(genome, seed)


def test_a_checkpoint_of_another_fitness_is_never_resumed_without_identity(tmp_path):
    """Issue 25: evolve() with a checkpoint and no identity= used to resume another metric's
    fitness cache; the identity is now derived from the fitness itself."""
    ckpt = tmp_path / "s.json"
    cfg = EvolutionConfig(population=4, generations=2, seed=0)
    evolve(gene_fitness, SPACE, cfg, checkpoint=ckpt, progress=False)
    before = ckpt.read_bytes()
    with pytest.raises(ConfigError, match=r"differing: fitness\.(callable|code_sha256)"):
        evolve(other_fitness, SPACE, cfg, checkpoint=ckpt, resume=True, progress=False)
    assert ckpt.read_bytes() == before  # refused: the file is untouched
    # "auto" keeps the old file aside and starts afresh: the result is the fresh search's
    with pytest.warns(UserWarning, match="incompatible"):
        auto = evolve(other_fitness, SPACE, cfg, checkpoint=ckpt, resume="auto", progress=False)
    fresh = evolve(other_fitness, SPACE, cfg, progress=False)
    assert auto.best.hash() == fresh.best.hash()
    assert _strip(auto.history) == _strip(fresh.history)
    assert len(list(tmp_path.glob("s.incompatible-*.json"))) == 1


def test_derived_identity_sees_the_evaluators_data(tmp_path):
    """Two RDM evaluators that differ only in their probe tensors have different identities;
    the same evaluator resumes."""
    ev = _rdm_evaluator()
    ckpt = tmp_path / "s.json"
    cfg = EvolutionConfig(population=3, generations=0, elitism=1, seed=0)
    evolve(ev, SMALL, cfg, checkpoint=ckpt, progress=False)
    evolve(_rdm_evaluator(), SMALL, cfg, checkpoint=ckpt, resume=True, progress=False)
    other = _rdm_evaluator()
    other.x = other.x + 1.0
    with pytest.raises(ConfigError, match=r"differing: fitness\.fields\.x\.sha256"):
        evolve(other, SMALL, cfg, checkpoint=ckpt, resume=True, progress=False)


def test_a_fitness_reading_global_data_or_an_unrecordable_object():
    from snnlib.nas.identity import fitness_identity

    rec = fitness_identity(gene_fitness)
    assert rec["callable"].endswith("gene_fitness") and len(rec["code_sha256"]) == 64
    weights = torch.ones(3)

    def scaled(genome, seed):
        return float(weights.sum()) * gene_fitness(genome, seed)

    a = fitness_identity(scaled)["closure"]["weights"]["sha256"]
    weights.add_(1)
    assert fitness_identity(scaled)["closure"]["weights"]["sha256"] != a

    handle = open(__file__)  # noqa: SIM115
    try:

        def reads_file(genome, seed):
            return float(len(handle.name))

        with pytest.raises(ConfigError, match=r"fitness\.handle.*identity="):
            fitness_identity(reads_file)
    finally:
        handle.close()
