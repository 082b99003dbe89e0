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
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from ..encoding import Encoder
from ..models import count_parameters
from ..runtime import seed_everything
from ..train import TrainConfig, evaluate, fit
from ..validation import ConfigError, check_choice
from .seeding import derive_seed

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


@dataclass
class RetrainBudget:
    """The fixed budget every architecture is retrained with: training configuration, data
    (loaders ``train``, ``test`` and optionally ``val``; their batch size is the budget's),
    encoder, the data's channels and classes, and where to train."""

    train: TrainConfig
    loaders: Mapping[str, Any]
    encoder: Encoder
    in_channels: int
    num_classes: int
    device: str | torch.device = "cpu"
    progress: bool = True
    keep_predictions: bool = False  # each run keeps its test predictions (paired item tests)

    def __post_init__(self):
        if not isinstance(self.train, TrainConfig):
            raise ConfigError(f"train must be a TrainConfig, got {type(self.train).__name__}")
        missing = [k for k in ("train", "test") if k not in self.loaders]
        if missing:
            raise ConfigError(f"loaders need 'train' and 'test'; missing {missing}")
        for name, loader in self.loaders.items():
            n = _items(loader)
            if n == 0:  # an accuracy on no item would read 0.0; no training, an untrained net
                raise ConfigError(f"loaders[{name!r}] holds no item: nothing to train or test on")
        if self.train.epochs < 1:
            raise ConfigError(f"train.epochs={self.train.epochs!r}: retraining needs >= 1 epoch")

    @property
    def batch_size(self) -> int | None:
        """The training batch size."""
        return getattr(self.loaders["train"], "batch_size", None)


@dataclass
class RetrainRun:
    """One retraining at one seed. ``seconds``: training wall time; ``test_seconds``: the test
    pass; ``spike_groups``: NoS per part of the network (or ``None``)."""

    seed: int
    test_acc: float
    test_loss: float
    val_acc: float | None
    best_val_acc: float | None
    nos: float
    firing_rate: float
    sops: float
    macs: float
    energy_uj: float
    params: int
    seconds: float
    test_seconds: float
    history: dict
    spike_groups: dict | None = None
    predictions: list[int] | None = None  # test predictions, with budget.keep_predictions

    def to_dict(self) -> dict:
        out = asdict(self)
        if out["predictions"] is None:  # result files of runs without them stay as they were
            del out["predictions"]
        return out


SEED_AVERAGED = (
    "test_acc",
    "test_loss",
    "val_acc",
    "nos",
    "firing_rate",
    "sops",
    "macs",
    "energy_uj",
)


def _t975(df: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.975, df))


@dataclass
class RetrainResult:
    """Retraining over seeds: the runs, and their means, spread and 95 % interval.

    >>> runs = [_example_run(0, 0.90), _example_run(1, 0.94)]
    >>> r = RetrainResult("toy", runs)
    >>> r.test_accs, round(r.test_acc, 2), round(r.test_acc_sd, 4)
    ([0.9, 0.94], 0.92, 0.0283)
    >>> [round(v, 3) for v in r.test_acc_ci95]
    [0.666, 1.174]
    >>> r.to_dict()["seeds"], r.to_dict()["params"]
    ([0, 1], 10)
    """

    architecture: str
    runs: list[RetrainRun] = field(default_factory=list)

    def __post_init__(self):
        if not self.runs:
            raise ConfigError("RetrainResult needs at least one run (give at least one seed)")

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.runs]

    @property
    def test_accs(self) -> list[float]:
        return [r.test_acc for r in self.runs]

    def mean(self, key: str) -> float | None:
        """The mean of a per-run number over seeds (``None`` if any run lacks it)."""
        values = [getattr(r, key) for r in self.runs]
        if any(v is None for v in values):
            return None
        return sum(values) / len(values)

    @property
    def test_acc(self) -> float:
        return self.mean("test_acc")

    @property
    def test_acc_sd(self) -> float:
        """Sample standard deviation of the test accuracy over seeds (0 for one seed)."""
        accs, mean = self.test_accs, self.test_acc
        if len(accs) < 2:
            return 0.0
        return (sum((a - mean) ** 2 for a in accs) / (len(accs) - 1)) ** 0.5

    @property
    def test_acc_ci95(self) -> tuple[float, float] | None:
        """Student-t 95 % interval of the mean test accuracy (``None`` for one seed)."""
        n = len(self.runs)
        if n < 2:
            return None
        half = _t975(n - 1) * self.test_acc_sd / math.sqrt(n)
        return (self.test_acc - half, self.test_acc + half)

    @property
    def nos(self) -> float:
        return self.mean("nos")

    @property
    def energy_uj(self) -> float:
        return self.mean("energy_uj")

    @property
    def params(self) -> int:
        return self.runs[0].params

    @property
    def seconds(self) -> float:
        """Training wall time, summed over seeds."""
        return sum(r.seconds for r in self.runs)

    @property
    def histories(self) -> list[dict]:
        return [r.history for r in self.runs]

    @property
    def spike_groups(self) -> dict | None:
        """NoS per part of the network, averaged over seeds (``None`` if the kind has none)."""
        first = self.runs[0].spike_groups
        if first is None:
            return None
        n = len(self.runs)
        return {k: sum(r.spike_groups[k] for r in self.runs) / n for k in first}

    def to_dict(self) -> dict:
        """Means over seeds (``SEED_AVERAGED``), spread, interval, and every run."""
        out = {k: self.mean(k) for k in SEED_AVERAGED}
        ci = self.test_acc_ci95
        out.update(
            architecture=self.architecture,
            test_acc_sd=self.test_acc_sd,
            test_acc_ci95=list(ci) if ci else None,
            spike_groups=self.spike_groups,
            params=self.params,
            seconds=self.seconds,
            seeds=self.seeds,
            test_accs=self.test_accs,
            histories=self.histories,
            runs=[r.to_dict() for r in self.runs],
        )
        return out


def _example_run(seed: int, acc: float) -> RetrainRun:
    """A made-up run (docstring examples)."""
    return RetrainRun(seed, acc, 0.3, None, None, 100.0, 0.1, 1e4, 0.0, 0.01, 10, 1.0, 0.1, {})


def train_and_test(
    model: nn.Module,
    budget: RetrainBudget,
    seed: int,
    spike_groups: Callable | None = None,
    desc: str = "retrain",
) -> RetrainRun:
    """Train a built ``model`` at ``budget`` (loaders as they are) and measure it on the test
    split; ``spike_groups(report)`` adds NoS per part of the network."""
    t0 = time.perf_counter()
    hist = fit(
        model,
        budget.loaders["train"],
        budget.loaders.get("val"),
        budget.encoder,
        budget.train,
        device=budget.device,
        progress=budget.progress,
        desc=desc,
    )
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    ev = evaluate(
        model,
        budget.loaders["test"],
        budget.encoder,
        budget.device,
        spikes=True,
        predictions=budget.keep_predictions,
    )
    rep = ev["spikes"]
    return RetrainRun(
        seed=int(seed),
        test_acc=ev["acc"],
        test_loss=ev["loss"],
        val_acc=hist.val_acc[-1] if hist.val_acc else None,
        best_val_acc=max(hist.val_acc) if hist.val_acc else None,
        nos=rep.nos,
        firing_rate=rep.mean_firing_rate,
        sops=rep.sops,
        macs=rep.macs,
        energy_uj=rep.energy_uj,
        params=count_parameters(model),
        seconds=seconds,
        test_seconds=time.perf_counter() - t1,
        history=hist.to_dict(),
        spike_groups=spike_groups(rep) if spike_groups else None,
        predictions=ev["predictions"].tolist() if budget.keep_predictions else None,
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


def _items(loader) -> int | None:
    """How many items a loader holds (``None`` when it cannot tell)."""
    try:
        return len(loader.dataset)
    except (AttributeError, TypeError):
        try:
            return len(loader)
        except TypeError:
            return None


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
