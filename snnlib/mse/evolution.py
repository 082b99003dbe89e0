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
written atomically to ``checkpoint`` as JSON (genomes as their dicts: nothing in the file can
execute code), with the record of every setting that determines it (:mod:`snnlib.nas.identity`:
the search space, the evolution settings but ``generations``, and what the caller passes as
``identity``: fitness, network, data, seed, scale) and the record's hash. A search continues
from a checkpoint written under the same record and ends with exactly the result of an
uninterrupted run with the same seed; a finished one returns its result without evaluating
anything (timings included), and one with fewer generations is extended. ``resume``:

- ``"auto"`` (default): resume a compatible checkpoint; an incompatible one (other record) is
  moved aside (``<name>.incompatible-<UTC time>.json``) with a warning saying where;
- ``True``: resume a compatible checkpoint; an incompatible one is a
  :class:`~snnlib.validation.ConfigError` listing the differing fields (the file is untouched);
- ``False``: start afresh; an existing checkpoint is moved aside (``<name>.replaced-<UTC
  time>.json``), never deleted.

A checkpoint that cannot be read (empty, truncated, garbage, wrong version, missing or
mistyped keys) is a :class:`~snnlib.validation.ConfigError` naming the path and what is wrong,
whatever ``resume`` says: it is reported, never replaced.

**History** per generation: best and mean fitness of the population, best so far,
diversity (mean pairwise fraction of differing genes, and the fraction of unique hashes),
cumulative evaluations and wall seconds.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import dryrun
from ..fileio import atomic_write
from ..nas.executors import SyncExecutor
from ..nas.identity import (
    check_checkpoint,
    check_identity,
    check_resume,
    differing_fields,
    fitness_identity,
    identity_hash,
    move_aside,
    plain,
    read_json,
)
from ..validation import ConfigError
from .genome import Genome, SearchSpace, crossover, from_dict, gene_distance, mutate
from .sampling import sample_genomes

CHECKPOINT_VERSION = 2  # 1: a pickle; 2: JSON with the identity record


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
    last finished generation, -1 before generation 0 is drawn; ``identity`` the record of the
    settings that determine the search (:func:`evolution_identity`)."""

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
    identity: dict = field(default_factory=dict)

    # -- (de)serialisation: plain JSON data, so checkpoints survive code edits and run nothing
    def to_payload(self) -> dict:
        return {
            "version": CHECKPOINT_VERSION,
            "identity": self.identity,
            "identity_hash": identity_hash(self.identity),
            "config": self.config.to_dict(),
            "space": plain(self.space),
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
    def from_payload(cls, p: dict, path: str | Path = "<payload>") -> SearchState:
        """Validate a payload (version, keys, types, genomes, RNG state) before using any of
        it; every problem is a :class:`ConfigError` naming ``path``."""
        check_checkpoint(p, path, CHECKPOINT_VERSION, _PAYLOAD_FIELDS)
        try:
            return cls._parse(p, path)
        except ConfigError as exc:
            if str(path) in str(exc):
                raise
            raise ConfigError(f"checkpoint {path}: {exc}") from None
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ConfigError(f"checkpoint {path} is malformed: {exc!r}") from None

    @classmethod
    def _parse(cls, p: dict, path) -> SearchState:
        for key in ("fitness", "history"):
            _check_items(p[key], (float, int) if key == "fitness" else dict, key)
        _check_items(list(p["cache"].values()), (float, int), "cache")
        if set(p["cache"]) != set(p["archive"]):
            raise ConfigError("cache and archive must hold the same genome hashes")
        if not isinstance(p["generation"], int) or p["generation"] < 0:
            raise ConfigError(f"generation={p['generation']!r} must be an integer >= 0")
        rng = np.random.default_rng()
        try:
            rng.bit_generator.state = p["rng_state"]
        except (TypeError, ValueError, KeyError) as exc:
            raise ConfigError(f"rng_state is not a PCG64 state: {exc!r}") from None
        space = dict(p["space"])
        if "motifs" in space:
            space["motifs"] = tuple(space["motifs"])
        population = []
        for i, d in enumerate(p["population"]):
            try:
                population.append(from_dict(d))
            except ConfigError as exc:
                raise ConfigError(f"population[{i}]: {exc}") from None
        archive = {}
        for h, d in p["archive"].items():
            try:
                archive[h] = from_dict(d)
            except ConfigError as exc:
                raise ConfigError(f"archive[{h!r}]: {exc}") from None
        if len(p["fitness"]) != len(p["population"]):
            raise ConfigError("fitness and population must have the same length")
        return cls(
            config=EvolutionConfig(**p["config"]),
            space=SearchSpace(**space),
            generation=p["generation"],
            population=population,
            fitness=[float(f) for f in p["fitness"]],
            cache={h: float(f) for h, f in p["cache"].items()},
            archive=archive,
            history=list(p["history"]),
            rng_state=p["rng_state"],
            evaluations=p["evaluations"],
            seconds=float(p["seconds"]),
            identity=p["identity"],
        )


_PAYLOAD_FIELDS = {
    "version": int,
    "identity": dict,
    "identity_hash": str,
    "config": dict,
    "space": dict,
    "generation": int,
    "population": list,
    "fitness": list,
    "cache": dict,
    "archive": dict,
    "history": list,
    "rng_state": dict,
    "evaluations": int,
    "seconds": (float, int),
}


def _check_items(items: list, types, name: str) -> None:
    for i, v in enumerate(items):
        if not isinstance(v, types) or isinstance(v, bool):
            raise ConfigError(f"{name}[{i}]={v!r} has the wrong type")


def evolution_identity(
    space: SearchSpace, config: EvolutionConfig, identity: dict | None = None
) -> dict:
    """The record of a search: the search space, the evolution settings (but ``generations``:
    a longer search continues a shorter one) and the caller's ``identity`` (fitness, network,
    data, seed, scale: whatever else determines the fitness values)."""
    extra = plain(identity or {}, "identity")
    if not isinstance(extra, dict):
        raise ConfigError(f"identity must be a dict, got {type(identity).__name__}")
    clash = sorted({"space", "evolution"} & set(extra))
    if clash:
        raise ConfigError(f"identity must not set {clash}: evolve() records them itself")
    evo = {k: v for k, v in config.to_dict().items() if k != "generations"}
    return {"space": plain(space), "evolution": evo, **extra}


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
    """Write ``state`` to ``path`` as JSON, atomically (temp file + rename)."""
    payload = state.to_payload()
    return atomic_write(path, lambda f: json.dump(payload, f))


def load_evolution_state(path: str | Path) -> SearchState:
    """Read and validate a checkpoint written by :func:`save_checkpoint` (JSON only: nothing
    in the file is executed). A missing, empty, truncated, garbage or malformed file is a
    :class:`ConfigError` naming the path and what is wrong."""
    path = Path(path)
    return SearchState.from_payload(read_json(path), path)


def diversity(population: list[Genome]) -> tuple[float, float]:
    """(mean pairwise gene distance, fraction of unique hashes) of a population."""
    if len(population) < 2:
        return 0.0, 1.0
    dists = [gene_distance(a, b) for a, b in combinations(population, 2)]
    return float(np.mean(dists)), len({g.hash() for g in population}) / len(population)


def _evaluate(
    population: list[Genome], state: SearchState, fitness_fn, executor: Executor, meter=None
) -> list[float]:
    todo: dict[str, Genome] = {}
    for g in population:
        h = g.hash()
        if h not in state.cache and h not in todo:
            todo[h] = g
    if meter is not None:  # a dry run: evaluate one at a time, up to the cap, in process
        for h, g in todo.items():
            if meter.done():  # past the cap: not evaluated, never the best
                f = -math.inf
            else:
                with meter.step():
                    f = float(fitness_fn(g, state.config.seed))
                state.evaluations += 1
            state.cache[h] = f if math.isfinite(f) else -math.inf
            state.archive[h] = g
        return [state.cache[g.hash()] for g in population]
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


def _resumed(
    checkpoint: str | Path | None,
    resume,
    config: EvolutionConfig,
    record: dict,
    rng: np.random.Generator,
) -> SearchState | None:
    """The state saved in ``checkpoint`` if it may be resumed (see the module docstring for
    ``resume``), with ``rng`` set to where it stopped; ``None`` when the search starts afresh
    (an existing checkpoint is then moved aside, never overwritten)."""
    if checkpoint is None or not Path(checkpoint).exists():
        return None
    if resume is False:
        aside = move_aside(checkpoint, "replaced")
        warnings.warn(
            f"resume=False: starting afresh; the previous checkpoint {checkpoint} is kept at "
            f"{aside}",
            stacklevel=3,
        )
        return None
    state = load_evolution_state(checkpoint)
    diff = differing_fields(state.identity, record)
    if state.generation > config.generations:
        diff.append("evolution.generations (the checkpoint is further)")
    if diff:
        if resume is True:
            check_identity(checkpoint, state.identity, record)
            raise ConfigError(
                f"checkpoint {checkpoint} is past generations={config.generations} "
                f"(it holds generation {state.generation}); resume=False starts afresh"
            )
        aside = move_aside(checkpoint, "incompatible")
        warnings.warn(
            f"checkpoint {checkpoint} is incompatible with this search (differing: "
            f"{', '.join(diff)}); it was kept at {aside} and the search starts afresh",
            stacklevel=3,
        )
        return None
    state.config = config
    rng.bit_generator.state = state.rng_state
    return state


def _step(
    state: SearchState, fitness_fn, executor: Executor, rng: np.random.Generator, meter=None
) -> None:
    """One generation: draw generation 0 (``state.generation == -1``) or breed the next one
    from the current population, evaluate it, advance the generation counter and the clock."""
    t0 = time.perf_counter()
    if state.generation < 0:
        pop = _initial(state.config, state.space, rng)
    else:
        pop = _breed(state, rng)
    state.population = pop
    state.fitness = _evaluate(pop, state, fitness_fn, executor, meter)
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
    resume: bool | str = "auto",
    identity: dict | None = None,
    callback: Callable[[int, SearchState], None] | None = None,
    progress: bool = True,
    desc: str = "evolve",
) -> EvolutionResult:
    """Run the search (see the module docstring); returns an :class:`EvolutionResult`.

    ``fitness_fn(genome, seed)`` must be deterministic and, for process-based executors,
    picklable. ``callback(generation, state)`` runs after each generation's checkpoint.
    ``checkpoint``, ``resume`` and ``identity`` (the settings beyond ``space`` and
    ``config`` that determine the fitness: fitness and network configuration, data, scale):
    see the module docstring. With a checkpoint and no ``identity``, the record is derived
    from ``fitness_fn`` itself (:func:`snnlib.nas.identity.fitness_identity`: an evaluator's
    class and data, a function's code and the values it reads), so a checkpoint of another
    fitness is never resumed; a fitness whose identity cannot be derived is refused.
    """
    executor = executor or SyncExecutor()
    check_resume(resume)
    if resume is True and checkpoint is None:
        raise ConfigError("resume=True needs a checkpoint path")
    if identity is None and checkpoint is not None:
        # the fitness values a checkpoint caches are only valid for the fitness that computed
        # them: without the caller's record, the fitness's own (its class and data, or its code)
        identity = {"fitness": fitness_identity(fitness_fn)}
    record = evolution_identity(space, config, identity)
    rng = np.random.default_rng(config.seed)
    meter = None
    if dryrun.active():  # a dry run: a fresh search, its first fitness evaluations, measured
        checkpoint, resume = None, False
        meter = dryrun.loop("fitness", config.population * (config.generations + 1))
    state = _resumed(checkpoint, resume, config, record, rng)
    if state is None:  # generation -1: nothing drawn yet
        state = SearchState(config, space, -1, [], [], identity=record)
    bar = tqdm(total=config.generations + 1, desc=desc, disable=not progress, leave=False)
    try:
        bar.update(state.generation + 1)
        while state.generation < config.generations:
            if meter is not None and meter.done():
                break
            _step(state, fitness_fn, executor, rng, meter)
            rec = _close_generation(state, rng, checkpoint)
            bar.update(1)
            bar.set_postfix(best=f"{rec['best_so_far']:.4f}", evals=state.evaluations)
            if callback is not None:
                callback(state.generation, state)
    finally:
        bar.close()
    return _result(state)
