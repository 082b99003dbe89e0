"""The MSE-NAS search chapter (notebook ``10_mse_search``): running the search on local worker
processes, and the numbers and records the chapter reports of an
:class:`~snnlib.mse.evolution.EvolutionResult`.

Example:
    >>> history = [{"generation": 0, "best": 0.2, "mean": 0.1, "diversity": 0.9},
    ...            {"generation": 1, "best": 0.4, "mean": 0.3, "diversity": 0.5}]
    >>> generation(history, 0)["best"], generation(history, 1)["mean"]
    (0.2, 0.3)
    >>> with worker_executor(0) as executor:
    ...     executor is None
    True
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from ..mse.motifs import MOTIFS
from ..validation import ConfigError


@contextmanager
def worker_executor(workers: int) -> Iterator:
    """An executor over a dask ``LocalCluster`` of ``workers`` processes for the search, closed
    when the block ends; ``None`` (evaluate in this process) for ``workers == 0``. The same
    search with ``Client("tcp://scheduler:8786")`` would spread over machines."""
    if not workers:
        yield None
        return
    from dask.distributed import Client

    from ..nas.executors import local_cluster

    client = Client(local_cluster(workers))
    try:
        yield client.get_executor()
    finally:
        client.close()


def generation(history: Sequence[dict], number: int) -> dict:
    """The record of generation ``number`` in a search's ``history``; a
    :class:`ConfigError` when the history has none."""
    for record in history:
        if record["generation"] == number:
            return record
    raise ConfigError(f"the search history has no generation {number}")


def first_genomes(result, population: int) -> list:
    """The genomes of generation 0: the first ``population`` genomes evaluated (the archive
    keeps evaluation order)."""
    return list(result.archive.values())[:population]


def motif_counts(genome) -> dict[str, int]:
    """How many cells of ``genome`` use each motif, for the motifs it uses."""
    counts = {m: sum(c.motif == m for c in genome.cells) for m in MOTIFS}
    return {m: n for m, n in counts.items() if n}


def inhibitory_fraction(genome) -> float:
    """The share of ``genome``'s operations with a negative (inhibitory) sign."""
    return float(np.mean([o.sign < 0 for c in genome.cells for o in c.ops]))


def rdm_panels(evaluator, ranked: Sequence, seed: int) -> dict:
    """The pictures of the fitness's matrix (numpy arrays, titled): of the best and the poorest
    of ``ranked`` (``(genome, fitness)`` best first) and the evaluator's target panels."""
    (best, best_f), (poor, poor_f) = ranked[0], ranked[-1]
    return {
        f"best candidate (fitness {best_f:.4g})": evaluator.matrix(best, seed).numpy(),
        f"poor candidate (fitness {poor_f:.4g})": evaluator.matrix(poor, seed).numpy(),
        **{k: v.numpy() for k, v in evaluator.target_panels().items()},
    }


def search_metrics(result, wall: float, evolution, probe_size: int, silent_gen0: float) -> dict:
    """The result file's metrics of a search: fitness at generation 0, at the end and of the
    poorest candidate, evaluations and time, the evolution's sizes, the probe's size, the best
    genome's inhibitory share and the share of generation 0 with a silent output layer."""
    gen0, last = generation(result.history, 0), result.history[-1]
    return {
        "best_fitness": result.best_fitness,
        "gen0_best_fitness": gen0["best"],
        "gen0_mean_fitness": gen0["mean"],
        "final_mean_fitness": last["mean"],
        "final_diversity": last["diversity"],
        "evaluations": result.evaluations,
        "search_seconds": result.seconds,
        "wall_seconds": wall,
        "seconds_per_evaluation": result.seconds / max(result.evaluations, 1),
        "population": evolution.population,
        "generations": evolution.generations,
        "probe_size": probe_size,
        "inhibitory_fraction": inhibitory_fraction(result.best),
        "poor_fitness": result.ranked()[-1][1],
        "silent_fraction_gen0": silent_gen0,
    }


def search_line(metrics: dict) -> str:
    """:func:`search_metrics` as the notebook prints them."""
    m = metrics
    return (
        f"best fitness {m['best_fitness']:.4f} after {m['evaluations']} evaluations "
        f"in {m['wall_seconds']:.1f} s (search time {m['search_seconds']:.1f} s); "
        f"generation-0 best {m['gen0_best_fitness']:.4f}, mean {m['gen0_mean_fitness']:.4f}; "
        f"{100 * m['silent_fraction_gen0']:.0f} % of the random genomes of generation 0 have a "
        f"silent output layer"
    )


def top_records(ranked: Sequence, n: int = 5) -> list[dict]:
    """The best ``n`` of ``ranked`` (``(genome, fitness)``, best first) as the result file
    keeps them: hash, fitness and genome."""
    return [{"hash": g.hash(), "fitness": f, "genome": g.to_dict()} for g, f in ranked[:n]]


def space_record(space) -> dict:
    """The searched space's size as the result file records it."""
    return {"n_cells": space.n_cells, "scales": space.scales}
