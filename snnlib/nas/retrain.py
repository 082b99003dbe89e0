"""One retraining path for every kind of architecture: build, train at a fixed budget, measure.

A search ends with an architecture; what it is worth is the test accuracy, spikes and energy of
the network it describes after a fixed training budget, over a few seeds. :func:`retrain` does
that for any architecture that can build its network (the :class:`Retrainable` protocol) or
whose type a method registered (:func:`register_architecture`: :mod:`snnlib.mse` registers its
``Genome``, :mod:`snnlib.darts` its ``Genotype``). The core imports no method.

One run at ``seed`` (:func:`retrain_run`):

1. the architecture's :class:`SeedRule` seeds the weights and the training data order;
2. ``architecture.build(in_channels, num_classes)`` builds the network;
3. :func:`train_and_test` trains it with :func:`snnlib.train.fit` on ``loaders["train"]``
   (validating on ``loaders["val"]`` if given) and measures it on ``loaders["test"]`` with a
   spike monitor (:func:`snnlib.train.evaluate`): accuracy, loss, NoS, firing rate, SOPs, MACs,
   energy, and the architecture's own spike groups (e.g. NoS per DARTS cell).

Seeding is part of the architecture's kind, because the methods seed differently and their
numbers must stay reproducible: DARTS seeds everything with the seed and re-seeds the train
loader; MSE-NAS seeds the weights from (seed, genome hash), so every genome has its own
initialisation under one seed (:mod:`snnlib.nas.seeding`).

The budget, one run's measures and the runs over seeds (:class:`RetrainBudget`,
:class:`RetrainRun`, :class:`RetrainResult`, :func:`train_and_test`) are defined in the
substrate (:mod:`snnlib.seed_runs`), so that a fixed network trained over seeds outside any
search (:mod:`snnlib.transfer`) has the same result type; this module re-exports them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from ..encoding import Encoder
from ..runtime import seed_everything
from ..seed_runs import (  # defined in the substrate, part of this module's interface
    SEED_AVERAGED,
    RetrainBudget,
    RetrainResult,
    RetrainRun,
    train_and_test,
)
from ..train import TrainConfig
from ..validation import ConfigError, check_choice
from .seeding import derive_seed

__all__ = [
    "ARCHITECTURES",
    "DATA_ORDER",
    "SEED_AVERAGED",
    "WEIGHT_SEEDING",
    "Retrainable",
    "RetrainBudget",
    "RetrainResult",
    "RetrainRun",
    "SeedRule",
    "as_retrainable",
    "check_seeds",
    "register_architecture",
    "retrain",
    "retrain_run",
    "train_and_test",
]

WEIGHT_SEEDING = ("seed", "identity")
DATA_ORDER = ("seed", "as_given")


@dataclass(frozen=True)
class SeedRule:
    """How one retraining run at ``seed`` is seeded.

    ``weights``: ``"seed"`` calls :func:`snnlib.runtime.seed_everything` ``(seed)`` (Python,
    NumPy, torch); ``"identity"`` calls ``torch.manual_seed(derive_seed(seed,
    architecture.identity(), salt))`` (a seed of its own per architecture).
    ``data_order``: ``"seed"`` re-seeds the train loader's generator with ``seed`` (the same
    batch order for every architecture); ``"as_given"`` leaves the loader as it is (its
    generator goes on from wherever earlier runs left it).

    >>> SeedRule(weights="identity", salt=7)
    SeedRule(weights='identity', salt=7, data_order='seed')
    >>> SeedRule(weights="hash")
    Traceback (most recent call last):
    ...
    snnlib.validation.ConfigError: weights='hash' is not allowed; choose one of ['seed', 'identity']
    """

    weights: str = "seed"
    salt: int = 0
    data_order: str = "seed"

    def __post_init__(self):
        check_choice("weights", self.weights, WEIGHT_SEEDING)
        check_choice("data_order", self.data_order, DATA_ORDER)

    def seed_weights(self, architecture, seed: int) -> None:
        """Seed the random state the network is built from."""
        if self.weights == "seed":
            seed_everything(seed)
        else:
            torch.manual_seed(derive_seed(seed, architecture.identity(), self.salt))

    def seed_data(self, loader, seed: int) -> None:
        """Seed the order in which ``loader`` serves the training data."""
        generator = getattr(loader, "generator", None)
        if self.data_order == "seed" and generator is not None:
            generator.manual_seed(seed)


@runtime_checkable
class Retrainable(Protocol):
    """What :func:`retrain` needs of an architecture: its seed rule and its network.

    Optional: ``identity() -> str`` (needed by ``SeedRule(weights="identity")``), ``label() ->
    str`` (progress bars) and ``spike_groups(report) -> dict`` (NoS per part of the network,
    from a :class:`snnlib.spikes.SpikeReport`).
    """

    seeding: SeedRule

    def build(self, in_channels: int, num_classes: int) -> nn.Module: ...


ARCHITECTURES: dict[type, Callable[[Any], Retrainable]] = {}


def register_architecture(kind: type, wrap: Callable[[Any], Retrainable]) -> None:
    """Let :func:`retrain` take a bare ``kind`` object: ``wrap(obj)`` makes it retrainable
    (with the method's default network options). Methods call this from their own package.

    >>> class Box:
    ...     pass
    >>> register_architecture(Box, lambda box: box)
    >>> Box in ARCHITECTURES
    True
    >>> del ARCHITECTURES[Box]
    """
    if not isinstance(kind, type):
        raise ConfigError(f"register_architecture: kind must be a type, got {kind!r}")
    ARCHITECTURES[kind] = wrap


def as_retrainable(architecture) -> Retrainable:
    """``architecture`` itself if it is :class:`Retrainable`, else its registered wrapper."""
    for kind, wrap in ARCHITECTURES.items():
        if isinstance(architecture, kind):
            return wrap(architecture)
    if isinstance(architecture, Retrainable):
        return architecture
    names = sorted(k.__name__ for k in ARCHITECTURES)
    raise ConfigError(
        f"cannot retrain a {type(architecture).__name__}: give an object with .seeding and "
        f".build(in_channels, num_classes), or one of the registered kinds {names}"
    )


def _label(arch) -> str:
    label = getattr(arch, "label", None)
    return label() if callable(label) else "retrain"


def retrain_run(
    architecture, budget: RetrainBudget, seed: int, desc: str | None = None
) -> tuple[RetrainRun, nn.Module]:
    """One retraining at ``seed``: seed (the architecture's rule), build, train, test. Returns
    the run and the trained network."""
    arch = as_retrainable(architecture)
    arch.seeding.seed_weights(arch, seed)
    arch.seeding.seed_data(budget.loaders["train"], seed)
    model = arch.build(budget.in_channels, budget.num_classes)
    groups = getattr(arch, "spike_groups", None)
    run = train_and_test(model, budget, seed, groups, desc or _label(arch))
    return run, model


def check_seeds(seeds) -> list[int]:
    """``seeds`` as a list of distinct integers; a string (``"01"`` is not seeds 0 and 1), a
    float (1.7 is not seed 1), a repeat (an interval over copies is no interval) or an empty
    list is a :class:`ConfigError` naming what is wrong.

    >>> check_seeds([0, 1, 2])
    [0, 1, 2]
    >>> check_seeds([0, 0])
    Traceback (most recent call last):
    ...
    snnlib.validation.ConfigError: seeds=[0, 0] repeat a seed; give distinct seeds
    """
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ConfigError(f"seeds={seeds!r} must be a list of integers, e.g. [0, 1, 2]")
    seeds = list(seeds)
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer))]
    if bad:
        raise ConfigError(f"seeds={seeds!r}: {bad} are not integers")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("seeds: give at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds={seeds!r} repeat a seed; give distinct seeds")
    return seeds


def retrain(
    architecture, budget: RetrainBudget, seeds: Sequence[int], desc: str | None = None
) -> RetrainResult:
    """Retrain ``architecture`` at ``budget`` once per seed (in order); see the module text.

    >>> class Tiny:
    ...     seeding = SeedRule()
    ...     def build(self, in_channels, num_classes):
    ...         return _TinySNN(in_channels, num_classes)
    >>> budget = _example_budget()
    >>> r = retrain(Tiny(), budget, seeds=[0, 1])
    >>> r.seeds, len(r.runs), 0 <= r.test_acc <= 1, r.params
    ([0, 1], 2, True, 66)
    >>> retrain(Tiny(), budget, [0]).test_accs == retrain(Tiny(), budget, [0]).test_accs
    True
    """
    seeds = check_seeds(seeds)
    arch = as_retrainable(architecture)
    runs = [retrain_run(arch, budget, s, desc)[0] for s in seeds]
    return RetrainResult(desc or _label(arch), runs)


class _TinySNN(nn.Module):
    """A one-layer spiking network on ``[T, B, C, 4, 4]`` (docstring examples)."""

    def __init__(self, in_channels: int, num_classes: int):
        from ..neurons import LIF

        super().__init__()
        self.fc = nn.Linear(in_channels * 16, num_classes)
        self.lif = LIF()

    def forward(self, x):
        return self.lif(self.fc(x.flatten(2))).mean(0)


def _example_budget() -> RetrainBudget:
    """Two classes of random 4x4 images, one epoch (docstring examples)."""
    from torch.utils.data import DataLoader, TensorDataset

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(16, 2, 4, 4, generator=g), torch.arange(16) % 2
    shuffled = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=g)
    plain = DataLoader(TensorDataset(x, y), batch_size=8)
    return RetrainBudget(
        TrainConfig(epochs=1),
        {"train": shuffled, "test": plain},
        Encoder("direct", 2),
        in_channels=2,
        num_classes=2,
        progress=False,
    )
