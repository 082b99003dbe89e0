r"""Evolutionary search over multi-scale genomes, with checkpoints and pluggable executors.

An elitist generational genetic algorithm:

1. generation 0: ``population`` distinct random genomes of the :class:`SearchSpace`;
2. each later generation keeps the ``elitism`` best genomes and fills the rest with children:
   two parents by *tournament selection* (the fittest of ``tournament`` uniformly drawn
   members), :func:`crossover` with probability ``crossover_rate`` (else a copy of the first
   parent), then :func:`mutate` (each gene resampled with probability ``mutation_rate``). A
   child whose hash is already in the new population is redrawn (at most ``dedup_tries``
   times), so the population stays diverse;
3. fitness is cached by genome hash: a genome is evaluated once per search, however often it
   reappears. ``evaluations`` counts real fitness calls.

The authors' code uses NSGA-II style (mu + lambda) survival with population 50 and 100
generations; our default sizes are theirs, the single objective makes rank-and-crowding
survival unnecessary, and elitism gives the same guarantee that the best never gets lost.

**Executors.** Candidates of a generation are submitted to any
``concurrent.futures.Executor`` as ``executor.submit(fitness_fn, genome, seed)`` and
gathered in submission order. The default :class:`SyncExecutor` runs them in-process. To
spread a population over cores or machines, pass a ``dask.distributed`` executor::

    from dask.distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=2, processes=True, threads_per_worker=1))
    # or Client("tcp://scheduler:8786") for a cluster of machines
    result = evolve(fitness, space, cfg, executor=client.get_executor())

``client.get_executor()`` returns a ``concurrent.futures`` executor whose futures are
dask futures. Because every fitness is seeded from ``(seed, genome hash)`` inside the
evaluation, results are identical whichever process evaluates which candidate.

**Checkpoints.** After every generation the whole state (population, fitness cache,
archive of evaluated genomes, history and the numpy ``Generator``'s bit-generator state) is
pickled atomically to ``checkpoint``. ``resume=True`` continues from it and ends with
exactly the result of an uninterrupted run with the same seed (timings aside).

**History** per generation: best and mean fitness of the population, best so far,
diversity (mean pairwise fraction of differing genes, and the fraction of unique hashes),
cumulative evaluations and wall seconds.
"""

from __future__ import annotations

import math
import pickle
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..fileio import atomic_write
from ..nas.executors import SyncExecutor
from ..validation import ConfigError
from .genome import Genome, SearchSpace, crossover, from_dict, gene_distance, mutate
from .sampling import sample_genomes

CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class EvolutionConfig:
    """Search hyper-parameters (defaults: the authors' sizes, population 50, 100 generations)."""

    population: int = 50
    generations: int = 100
    tournament: int = 3
    crossover_rate: float = 0.9
    crossover_mode: str = "gene"
    mutation_rate: float = 0.1
    elitism: int = 2
    dedup_tries: int = 20
    seed: int = 0

    def __post_init__(self):
        def _int(name, lo):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ConfigError(f"evolution.{name}={v!r} must be an integer >= {lo}")

        _int("population", 2)
        _int("generations", 0)
        _int("tournament", 1)
        _int("elitism", 0)
        _int("dedup_tries", 0)
        _int("seed", 0)
        for name in ("crossover_rate", "mutation_rate"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise ConfigError(f"evolution.{name}={v!r} must be in [0, 1]")
        if self.elitism >= self.population:
            raise ConfigError(
                f"evolution.elitism={self.elitism} must be < population={self.population}"
            )
        if self.crossover_mode not in ("gene", "cell"):
            raise ConfigError(
                f"evolution.crossover_mode={self.crossover_mode!r} not in ('gene', 'cell')"
            )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SearchState:
    """Everything needed to continue a search (what a checkpoint holds). ``generation`` is the
    last finished generation, -1 before generation 0 is drawn."""

    config: EvolutionConfig
    space: SearchSpace
    generation: int
    population: list[Genome]
    fitness: list[float]
    cache: dict[str, float] = field(default_factory=dict)
    archive: dict[str, Genome] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    rng_state: dict = field(default_factory=dict)
    evaluations: int = 0
    seconds: float = 0.0

    # -- (de)serialisation: genomes as plain dicts, so checkpoints survive code edits ------
    def to_payload(self) -> dict:
        return {
            "version": CHECKPOINT_VERSION,
            "config": self.config.to_dict(),
            "space": asdict(self.space),
            "generation": self.generation,
            "population": [g.to_dict() for g in self.population],
            "fitness": list(self.fitness),
            "cache": dict(self.cache),
            "archive": {h: g.to_dict() for h, g in self.archive.items()},
            "history": list(self.history),
            "rng_state": self.rng_state,
            "evaluations": self.evaluations,
            "seconds": self.seconds,
        }

    @classmethod
    def from_payload(cls, p: dict) -> SearchState:
        if p.get("version") != CHECKPOINT_VERSION:
            raise ConfigError(
                f"checkpoint version {p.get('version')!r} is not {CHECKPOINT_VERSION}"
            )
        space = dict(p["space"])
        space["motifs"] = tuple(space["motifs"])
        return cls(
            config=EvolutionConfig(**p["config"]),
            space=SearchSpace(**space),
            generation=p["generation"],
            population=[from_dict(d) for d in p["population"]],
            fitness=list(p["fitness"]),
            cache=dict(p["cache"]),
            archive={h: from_dict(d) for h, d in p["archive"].items()},
            history=list(p["history"]),
            rng_state=p["rng_state"],
            evaluations=p["evaluations"],
            seconds=p["seconds"],
        )


@dataclass
class EvolutionResult:
    """The outcome of :func:`evolve` (and of :func:`snnlib.mse.baselines.random_search`)."""

    best: Genome
    best_fitness: float
    history: list[dict]
    population: list[Genome]
    fitness: list[float]
    cache: dict[str, float]
    archive: dict[str, Genome]
    evaluations: int
    seconds: float

    def ranked(self) -> list[tuple[Genome, float]]:
        """Every evaluated genome with its fitness, best first (ties: first evaluated first)."""
        items = sorted(self.archive.items(), key=lambda kv: -_key(self.cache[kv[0]]))  # stable sort
        return [(g, self.cache[h]) for h, g in items]


def _key(f: float) -> float:
    return f if math.isfinite(f) else -math.inf


def save_checkpoint(state: SearchState, path: str | Path) -> Path:
    """Pickle ``state`` to ``path`` atomically (temp file + rename)."""
    payload = state.to_payload()
    return atomic_write(
        path, lambda f: pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL), binary=True
    )


def load_evolution_state(path: str | Path) -> SearchState:
    """Read a checkpoint written by :func:`save_checkpoint`."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            payload = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError) as exc:
        raise ConfigError(f"checkpoint {path} cannot be read: {exc}") from None
    if not isinstance(payload, dict):
        raise ConfigError(f"checkpoint {path} is not a search checkpoint")
    return SearchState.from_payload(payload)


def diversity(population: list[Genome]) -> tuple[float, float]:
    """(mean pairwise gene distance, fraction of unique hashes) of a population."""
    if len(population) < 2:
        return 0.0, 1.0
    dists = [gene_distance(a, b) for a, b in combinations(population, 2)]
    return float(np.mean(dists)), len({g.hash() for g in population}) / len(population)


def _evaluate(
    population: list[Genome], state: SearchState, fitness_fn, executor: Executor
) -> list[float]:
    todo: dict[str, Genome] = {}
    for g in population:
        h = g.hash()
        if h not in state.cache and h not in todo:
            todo[h] = g
    futures = [(h, executor.submit(fitness_fn, g, state.config.seed)) for h, g in todo.items()]
    for h, fut in futures:
        f = float(fut.result())
        state.cache[h] = f if math.isfinite(f) else -math.inf
        state.archive[h] = todo[h]
    state.evaluations += len(todo)
    return [state.cache[g.hash()] for g in population]


def _record(state: SearchState) -> dict:
    fin = [f for f in state.fitness if math.isfinite(f)]
    div, uniq = diversity(state.population)
    best_so_far = max((_key(v) for v in state.cache.values()), default=-math.inf)
    rec = {
        "generation": state.generation,
        "best": max(fin) if fin else -math.inf,
        "mean": float(np.mean(fin)) if fin else -math.inf,
        "best_so_far": best_so_far,
        "diversity": div,
        "unique_fraction": uniq,
        "evaluations": state.evaluations,
        "seconds": state.seconds,
    }
    state.history.append(rec)
    return rec


def _tournament(fitness: list[float], k: int, rng: np.random.Generator) -> int:
    idx = rng.integers(len(fitness), size=k)
    return int(min(idx, key=lambda i: (-_key(fitness[i]), i)))


def _breed(state: SearchState, rng: np.random.Generator) -> list[Genome]:
    cfg, space = state.config, state.space
    order = sorted(range(len(state.population)), key=lambda i: (-_key(state.fitness[i]), i))
    new = [state.population[i] for i in order[: cfg.elitism]]
    seen = {g.hash() for g in new}
    while len(new) < cfg.population:
        for _ in range(cfg.dedup_tries + 1):
            a = state.population[_tournament(state.fitness, cfg.tournament, rng)]
            b = state.population[_tournament(state.fitness, cfg.tournament, rng)]
            child = (
                crossover(a, b, rng, space, cfg.crossover_mode)
                if rng.random() < cfg.crossover_rate
                else a
            )
            child = mutate(child, rng, cfg.mutation_rate, space)
            if child.hash() not in seen:
                break
        seen.add(child.hash())
        new.append(child)
    return new


def _initial(cfg: EvolutionConfig, space: SearchSpace, rng: np.random.Generator) -> list[Genome]:
    """Generation 0: ``population`` distinct random genomes (a duplicate only after
    ``dedup_tries + 1`` draws, in a space smaller than the population)."""
    return sample_genomes(rng, space, cfg.population, max_tries=cfg.dedup_tries + 1)


def _compatible(old: SearchState, cfg: EvolutionConfig, space: SearchSpace) -> None:
    a = {k: v for k, v in old.config.to_dict().items() if k != "generations"}
    b = {k: v for k, v in cfg.to_dict().items() if k != "generations"}
    if a != b:
        diff = sorted(k for k in a if a[k] != b[k])
        raise ConfigError(
            f"checkpoint was written with other evolution settings {diff}; "
            "delete it or use resume=False"
        )
    if asdict(old.space) != asdict(space):
        raise ConfigError(
            "checkpoint was written for another search space; delete it or use resume=False"
        )


def _resumed(
    checkpoint: str | Path, config: EvolutionConfig, space: SearchSpace, rng: np.random.Generator
) -> SearchState | None:
    """The state saved in ``checkpoint`` (if it exists), checked against ``config`` and
    ``space``, with ``rng`` set to where it stopped; ``None`` when there is nothing to resume."""
    if not Path(checkpoint).exists():
        return None
    state = load_evolution_state(checkpoint)
    _compatible(state, config, space)
    state.config = config
    rng.bit_generator.state = state.rng_state
    return state


def _step(state: SearchState, fitness_fn, executor: Executor, rng: np.random.Generator) -> None:
    """One generation: draw generation 0 (``state.generation == -1``) or breed the next one
    from the current population, evaluate it, advance the generation counter and the clock."""
    t0 = time.perf_counter()
    if state.generation < 0:
        pop = _initial(state.config, state.space, rng)
    else:
        pop = _breed(state, rng)
    state.population = pop
    state.fitness = _evaluate(pop, state, fitness_fn, executor)
    state.generation += 1
    state.seconds += time.perf_counter() - t0


def _close_generation(
    state: SearchState, rng: np.random.Generator, checkpoint: str | Path | None
) -> dict:
    """Record the generation in the history, remember the RNG and save the checkpoint."""
    rec = _record(state)
    state.rng_state = rng.bit_generator.state
    if checkpoint is not None:
        save_checkpoint(state, checkpoint)
    return rec


def _result(state: SearchState) -> EvolutionResult:
    """The best genome (first evaluated among equals) and everything the search saw."""
    best_h = max(state.cache, key=lambda h: _key(state.cache[h]))
    return EvolutionResult(
        best=state.archive[best_h],
        best_fitness=state.cache[best_h],
        history=state.history,
        population=state.population,
        fitness=state.fitness,
        cache=state.cache,
        archive=state.archive,
        evaluations=state.evaluations,
        seconds=state.seconds,
    )


def evolve(
    fitness_fn: Callable[[Genome, int], float],
    space: SearchSpace,
    config: EvolutionConfig,
    *,
    executor: Executor | None = None,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    callback: Callable[[int, SearchState], None] | None = None,
    progress: bool = True,
    desc: str = "evolve",
) -> EvolutionResult:
    """Run the search (see the module docstring); returns an :class:`EvolutionResult`.

    ``fitness_fn(genome, seed)`` must be deterministic and, for process-based executors,
    picklable. ``callback(generation, state)`` runs after each generation's checkpoint.
    """
    executor = executor or SyncExecutor()
    if resume and checkpoint is None:
        raise ConfigError("resume=True needs a checkpoint path")
    rng = np.random.default_rng(config.seed)
    state = _resumed(checkpoint, config, space, rng) if resume else None
    if state is None:  # generation -1: nothing drawn yet
        state = SearchState(config, space, -1, [], [])
    bar = tqdm(total=config.generations + 1, desc=desc, disable=not progress, leave=False)
    try:
        bar.update(state.generation + 1)
        while state.generation < config.generations:
            _step(state, fitness_fn, executor, rng)
            rec = _close_generation(state, rng, checkpoint)
            bar.update(1)
            bar.set_postfix(best=f"{rec['best_so_far']:.4f}", evals=state.evaluations)
            if callback is not None:
                callback(state.generation, state)
    finally:
        bar.close()
    return _result(state)
