"""Training runs over seeds: the fixed budget a network is trained with, what one run at one
seed measures, and the runs over seeds with their means, spread and 95 % interval.

:func:`train_and_test` trains a built network at a :class:`RetrainBudget` and measures it on
the test split (accuracy, loss, NoS, firing rate, SOPs, MACs, energy): one :class:`RetrainRun`;
:class:`RetrainResult` holds the runs of one network over seeds. The NAS core's retraining
path (:mod:`snnlib.nas.retrain`: seed rules, architectures that build their networks) produces
them for searched architectures; a substrate experiment that trains a fixed network over seeds
(:mod:`snnlib.transfer`) produces the same type. Everything here is re-exported by
:mod:`snnlib.nas.retrain`, where it was first defined.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from .encoding import Encoder
from .models import count_parameters
from .train import TrainConfig, evaluate, fit
from .validation import ConfigError


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
    # a method's own per-run measures beyond the common ones (e.g. the accuracy on every test
    # set of a transfer run); read with :meth:`measure` or :meth:`RetrainResult.values`
    extra: dict = field(default_factory=dict)

    def measure(self, key: str):
        """A per-run measure by name: a field of the run, else ``extra[key]``; an unknown name
        is a :class:`ConfigError` naming the measures there are.

        >>> run = _example_run(0, 0.9)
        >>> run.extra["train_acc"] = 0.95
        >>> run.measure("test_acc"), run.measure("train_acc")
        (0.9, 0.95)
        """
        if key in self.extra:
            return self.extra[key]
        if key != "extra" and key in self.__dataclass_fields__:
            return getattr(self, key)
        known = sorted(set(self.__dataclass_fields__) - {"extra"} | set(self.extra))
        raise ConfigError(f"a retraining run has no measure {key!r}; there are {known}")

    @property
    def total_seconds(self) -> float:
        """Training and test wall time of the run."""
        return self.seconds + self.test_seconds

    def to_dict(self) -> dict:
        out = asdict(self)
        if out["predictions"] is None:  # result files of runs without them stay as they were
            del out["predictions"]
        if not out["extra"]:  # nor those of runs without measures of their own
            del out["extra"]
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

    def values(self, key: str) -> list:
        """A per-run measure (:meth:`RetrainRun.measure`: a field or an ``extra`` key) of every
        run, in seed order."""
        return [r.measure(key) for r in self.runs]

    def mean(self, key: str) -> float | None:
        """The mean of a per-run number over seeds (``None`` if any run lacks it)."""
        values = self.values(key)
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


def _items(loader) -> int | None:
    """How many items a loader holds (``None`` when it cannot tell)."""
    try:
        return len(loader.dataset)
    except (AttributeError, TypeError):
        try:
            return len(loader)
        except TypeError:
            return None
