r"""Peer methods in the same harness as MSE-NAS: SNASNet's SAHD fitness, AutoSNN's
spike-aware fitness and random search at an equal budget.

Every evaluator is a callable ``(genome, seed) -> float`` (higher is better), deterministic
given ``(genome, seed)`` because all randomness inside it is seeded by
:func:`snnlib.mse.derive_seed` ``(seed, genome.hash())``; so each is a drop-in fitness of
:func:`snnlib.mse.evolve` and of :func:`random_search`.

- :class:`SAHDEvaluator`: the *sparsity-aware Hamming distance* score of SNASNet (Kim et al.,
  ECCV 2022), the registry's ``sahd`` (:mod:`snnlib.nas.proxies`) of the untrained network,
  the mean over ``n_batches`` (default 2) mini-batches. Training-free, like the RDM fitness.
- :class:`SpikeAwareAccuracyEvaluator`: AutoSNN's fitness (Na et al., ICML 2022)

  .. math:: F = \mathrm{acc} \times \left(\frac{\mathrm{NoS}}{\mathrm{NoS}_{ref}}\right)^{-0.08},

  the validation accuracy after the short training of :class:`snnlib.mse.AccuracyEvaluator`
  times a mild penalty on the number of spikes per image (NoS, :mod:`snnlib.spikes`)
  measured on the validation data. AutoSNN uses :math:`\mathrm{NoS}_{ref} = 110\,000`
  (CIFAR10, 32x32, wide networks). At the ``digits`` scale a network emits about
  :math:`10^4` spikes per image, so the factor is about :math:`(10^4/1.1\cdot10^5)^{-0.08}
  \approx 1.21` for every candidate: the reference only rescales the fitness (a constant
  factor :math:`\mathrm{NoS}_{ref}^{0.08}`) and never changes the *ranking* of candidates,
  which depends on the exponent alone. We keep AutoSNN's value as the default so that the
  numbers read the same as theirs; pass the substrate network's NoS to make
  :math:`F \approx \mathrm{acc}` for a network as active as the reference.
- :func:`random_search`: ``n_candidates`` distinct random genomes, each evaluated once by
  the same fitness; returns a :class:`snnlib.mse.EvolutionResult` like :func:`~snnlib.mse.evolve`.
  Equal budget = the same number of fitness evaluations as an evolution
  (``EvolutionResult.evaluations``).

Plain spiking DARTS is not here: it is :mod:`snnlib.darts` with ``attention="none"``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from ..nas.executors import SyncExecutor
from ..nas.proxies import get_proxy
from ..nas.seeding import derive_seed
from ..runtime import torch_threads
from ..train import evaluate
from ..validation import ConfigError
from .decode import NetConfig, build_network
from .evolution import EvolutionResult
from .fitness import AccuracyEvaluator, DataSpec
from .genome import Genome, SearchSpace
from .sampling import sample_genomes

AUTOSNN_REFERENCE_SPIKES = 110_000.0
AUTOSNN_EXPONENT = -0.08


# -- SNASNet: SAHD ------------------------------------------------------------------------------
@dataclass
class SAHDEvaluator:
    """Training-free fitness: SNASNet's SAHD score (log|det K|) of the untrained network.

    ``x`` holds the raw probe items (encoded here); they are split into ``n_batches``
    consecutive mini-batches of ``len(x) // n_batches`` items, and the score is the mean
    over them (SNASNet: 2 mini-batches). Weights are seeded by ``derive_seed(seed, hash)``.
    """

    x: torch.Tensor
    data: DataSpec
    net: NetConfig = field(default_factory=NetConfig)
    n_batches: int = 2
    device: str = "cpu"
    threads: int | None = None

    def __post_init__(self):
        if not isinstance(self.n_batches, int) or self.n_batches < 1:
            raise ConfigError(f"n_batches={self.n_batches!r} must be a positive integer")
        if len(self.x) // self.n_batches < 2:
            raise ConfigError(
                f"SAHD needs at least 2 items per mini-batch; got {len(self.x)} items "
                f"for {self.n_batches} mini-batches"
            )

    def batches(self) -> list[torch.Tensor]:
        """The encoded mini-batches ``[T, b, ...]``."""
        b = len(self.x) // self.n_batches
        enc = self.data.encoder()
        return [enc(self.x[i * b : (i + 1) * b]).to(self.device) for i in range(self.n_batches)]

    def __call__(self, genome: Genome, seed: int) -> float:
        with torch_threads(self.threads):
            torch.manual_seed(derive_seed(seed, genome.hash()))
            model = build_network(
                genome, self.data.in_channels, self.data.num_classes, self.net
            ).to(self.device)
            return float(get_proxy("sahd")(model, self.batches()))


# -- AutoSNN: spike-aware accuracy ---------------------------------------------------------------
def spike_aware_fitness(
    acc: float,
    nos: float,
    reference: float = AUTOSNN_REFERENCE_SPIKES,
    exponent: float = AUTOSNN_EXPONENT,
) -> float:
    """AutoSNN's ``acc * (nos / reference) ** exponent``; a silent network (NoS 0) is treated
    as having one spike per image (the factor stays finite)."""
    if reference <= 0:
        raise ConfigError(f"reference spikes must be positive, got {reference}")
    return float(acc) * (max(float(nos), 1.0) / reference) ** exponent


@dataclass
class SpikeAwareAccuracyEvaluator(AccuracyEvaluator):
    """AutoSNN-style fitness on top of :class:`snnlib.mse.AccuracyEvaluator`: the same
    seeded short training, then validation accuracy and NoS (a :class:`~snnlib.spikes.SpikeMonitor`
    over the validation pass), combined by :func:`spike_aware_fitness`.

    ``details(genome, seed)`` returns all three numbers (and the parameter count), which the
    proxy study and the comparison use as ground truth. ``__call__`` with
    ``exponent=0`` equals ``AccuracyEvaluator.__call__``.
    """

    reference_spikes: float = AUTOSNN_REFERENCE_SPIKES
    exponent: float = AUTOSNN_EXPONENT

    def details(self, genome: Genome, seed: int) -> dict:
        """``acc``, ``nos`` (per validation image), ``fitness``, ``params``, ``seconds``."""
        t0 = time.perf_counter()
        model = self.trained(genome, seed)
        if model is None:
            return {
                "acc": 0.0,
                "nos": 0.0,
                "fitness": 0.0,
                "params": None,
                "diverged": True,
                "seconds": time.perf_counter() - t0,
            }
        with torch_threads(self.threads):
            val = DataLoader(TensorDataset(self.val_x, self.val_y), batch_size=256)
            ev = evaluate(model, val, self.data.encoder(), self.device, spikes=True)
        nos = ev["spikes"].nos
        return {
            "acc": float(ev["acc"]),
            "nos": float(nos),
            "fitness": spike_aware_fitness(ev["acc"], nos, self.reference_spikes, self.exponent),
            "params": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
            "diverged": False,
            "seconds": time.perf_counter() - t0,
        }

    def __call__(self, genome: Genome, seed: int) -> float:
        return float(self.details(genome, seed)["fitness"])


# -- random search --------------------------------------------------------------------------------
def _key(f: float) -> float:
    return f if math.isfinite(f) else -math.inf


def random_search(
    fitness_fn: Callable[[Genome, int], float],
    space: SearchSpace,
    n_candidates: int,
    seed: int,
    executor: Executor | None = None,
) -> EvolutionResult:
    """Evaluate ``n_candidates`` distinct random genomes (:func:`snnlib.mse.sample_genomes`
    from ``numpy.random.default_rng(seed)``) with ``fitness_fn(genome, seed)``; keep the best.

    Returns a :class:`snnlib.mse.EvolutionResult` (``best``, ``best_fitness``, ``evaluations``,
    ``seconds``, the fitness ``cache`` and ``archive`` by hash); its ``history`` has one
    record per candidate (``evaluations``, ``fitness``, ``best_so_far``, ``seconds``).
    Non-finite fitness counts as ``-inf``. If the space has fewer distinct genomes than
    asked, duplicates are skipped after 100 tries each, so ``evaluations`` may be smaller.
    """
    if not isinstance(n_candidates, int) or isinstance(n_candidates, bool) or n_candidates < 1:
        raise ConfigError(f"n_candidates={n_candidates!r} must be a positive integer")
    executor = executor or SyncExecutor()
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    sampled = sample_genomes(rng, space, n_candidates, max_tries=100, on_exhausted="skip")
    genomes: dict[str, Genome] = {g.hash(): g for g in sampled}
    futures = [(h, executor.submit(fitness_fn, g, seed)) for h, g in genomes.items()]
    cache: dict[str, float] = {}
    history: list[dict] = []
    best = -math.inf
    for i, (h, fut) in enumerate(futures):
        f = _key(float(fut.result()))
        cache[h] = f
        best = max(best, f)
        history.append(
            {
                "evaluations": i + 1,
                "fitness": f,
                "best_so_far": best,
                "seconds": time.perf_counter() - t0,
            }
        )
    best_h = max(cache, key=lambda h: cache[h])  # first of equal best (dicts keep order)
    pop = list(genomes.values())
    return EvolutionResult(
        best=genomes[best_h],
        best_fitness=cache[best_h],
        history=history,
        population=pop,
        fitness=[cache[g.hash()] for g in pop],
        cache=cache,
        archive=dict(genomes),
        evaluations=len(cache),
        seconds=time.perf_counter() - t0,
    )
