"""What a fitness costs: wall seconds per candidate of several fitnesses on the same genomes.

A search pays for its fitness once per candidate, so the cost that matters is seconds per
``fitness(genome, seed)`` call, the call the search makes. :func:`time_fitnesses` times
several fitnesses *interleaved* on each genome (for every genome, ``repeats`` rounds in which
each fitness runs once, the order rotating from round to round), so that a machine that slows
down or speeds up during the measurement affects all of them alike, and ratios can be paired
round by round. Before each timed call the garbage collector runs and queued GPU work is
waited for, so a call pays neither for the previous one's garbage nor for its kernels.

Benchmark B2 (``benchmarks/b2_fitness.py``) and the ablation notebook (``12_mse_ablations``)
both measure the RDM fitness against the accuracy fitness with it.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..validation import ConfigError
from .genome import Genome


@dataclass
class FitnessCosts:
    """Seconds and values of every fitness on every genome (from :func:`time_fitnesses`).

    ``seconds[name]`` lists the timed calls genome by genome (``repeats`` per genome, in round
    order); ``values[name]`` the fitness of each genome (its last timed call); ``genomes`` the
    genomes' short hashes.
    """

    genomes: list[str]
    seconds: dict[str, list[float]]
    values: dict[str, list[float]]
    repeats: int

    def median_seconds(self) -> dict[str, float]:
        """Median seconds per call of each fitness, over all genomes and rounds."""
        return {name: float(np.median(s)) for name, s in self.seconds.items()}

    def rows(self) -> list[dict]:
        """One row per genome: ``genome`` (short hash), then per fitness ``<name>_fitness``
        and ``<name>_seconds`` (the median of that genome's rounds)."""
        rows = []
        for i, label in enumerate(self.genomes):
            row: dict = {"genome": label}
            for name, secs in self.seconds.items():
                row[f"{name}_fitness"] = self.values[name][i]
                row[f"{name}_seconds"] = float(
                    np.median(secs[i * self.repeats : (i + 1) * self.repeats])
                )
            rows.append(row)
        return rows


def synchronize(device: torch.device | str | None = None) -> None:
    """Wait for queued CUDA work (``device`` None: the current CUDA device, if there is one)."""
    dev = torch.device(device) if device is not None else None
    if (dev is None or dev.type == "cuda") and torch.cuda.is_available():
        torch.cuda.synchronize(dev if dev is not None and dev.type == "cuda" else None)


def time_fitnesses(
    fitnesses: Mapping[str, Callable[[Genome, int], float]],
    genomes: Sequence[Genome],
    seed: int,
    *,
    repeats: int = 1,
    warmup: int = 0,
    device: torch.device | str | None = None,
) -> FitnessCosts:
    """Time ``fitness(genome, seed)`` of every fitness on every genome, interleaved.

    For each genome, ``repeats`` timed rounds; round ``r`` calls the fitnesses in their order
    rotated by ``r``. ``warmup`` untimed rounds (every fitness once) come before the first
    genome's timed rounds (first-call allocations, oneDNN primitive caches).
    """
    if not fitnesses:
        raise ConfigError("time_fitnesses needs at least one fitness")
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise ConfigError(f"repeats={repeats!r} must be a positive integer")
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 0:
        raise ConfigError(f"warmup={warmup!r} must be a non-negative integer")
    names = list(fitnesses)
    seconds: dict[str, list[float]] = {n: [] for n in names}
    values: dict[str, list[float]] = {n: [] for n in names}
    for i, genome in enumerate(genomes):
        for _ in range(warmup if i == 0 else 0):
            for name in names:
                fitnesses[name](genome, seed)
        synchronize(device)
        last: dict[str, float] = {}
        for r in range(repeats):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                gc.collect()
                synchronize(device)
                t0 = time.perf_counter()
                last[name] = fitnesses[name](genome, seed)
                synchronize(device)
                seconds[name].append(time.perf_counter() - t0)
        for name in names:
            values[name].append(last[name])
    return FitnessCosts([g.short for g in genomes], seconds, values, repeats)
