r"""Fitness functions of the search: callables ``(genome, seed) -> float``, higher is better.

Two interchangeable evaluators:

- :class:`RDMEvaluator`: the training-free RDM fitness (:mod:`snnlib.nas.rdm`) of the
  untrained network on a fixed, class-balanced probe batch. One forward pass per
  initialisation.
- :class:`AccuracyEvaluator`: validation accuracy after a short training run with
  :func:`snnlib.train.fit` (the fitness of the authors' released script, which trains each
  candidate for 10 epochs). Used by the ablation that prices the RDM fitness.

Both are *deterministic given (genome, seed)*: all randomness inside an evaluation (weight
initialisation, batch order) is seeded from :func:`derive_seed` ``(seed, genome.hash())``,
so a fitness does not depend on the order in which candidates are evaluated or on the
process that evaluates them. Both hold their data as tensors and are plain picklable
objects, so they can be shipped to ``dask.distributed`` workers. A torch thread count can be
pinned per evaluation (``threads``) so that results do not depend on the worker's settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch.utils.data import DataLoader, TensorDataset

from .. import dryrun
from ..data.splits import class_balanced_positions
from ..encoding import Encoder, default_encoding
from ..nas.rdm import RDMConfig, aggregate, categorical_rdm, record_responses
from ..nas.seeding import derive_seed
from ..runtime import torch_threads
from ..train import TrainConfig, evaluate, fit
from .decode import MSENet, NetConfig, build_network
from .genome import Genome


# -- data helpers --------------------------------------------------------------------------
def loader_tensors(loader, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenate a loader's batches into ``(x, y)`` tensors (at most ``limit`` items)."""
    xs, ys, n = [], [], 0
    for x, y in loader:
        xs.append(x)
        ys.append(torch.as_tensor(y))
        n += len(y)
        if limit is not None and n >= limit:
            break
    x, y = torch.cat(xs), torch.cat(ys)
    return (x[:limit], y[:limit]) if limit is not None else (x, y)


def class_balanced(
    x: torch.Tensor,
    y: torch.Tensor,
    n_per_class: int,
    seed: int = 0,
    num_classes: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_per_class`` items of every class, drawn by ``seed``, ordered by class.

    Ordering by class makes RDM pictures show the categorical block structure.
    """
    y = torch.as_tensor(y)
    classes = range(num_classes) if num_classes is not None else None
    idx = class_balanced_positions(y.numpy(), n_per_class, seed=seed, classes=classes)
    idx_t = torch.as_tensor(idx)
    return x[idx_t], y[idx_t]


@dataclass
class DataSpec:
    """What a network needs to know of the data: channels, classes, encoding, time steps."""

    in_channels: int
    num_classes: int
    encoding: str = "direct"
    time_steps: int = 4

    @classmethod
    def from_info(cls, info, time_steps: int) -> DataSpec:
        """From a :class:`snnlib.data.DatasetInfo`."""
        return cls(info.in_channels, info.num_classes, default_encoding(info.kind), time_steps)

    def encoder(self) -> Encoder:
        return Encoder(self.encoding, self.time_steps)


# -- RDM fitness ---------------------------------------------------------------------------
@dataclass
class RDMEvaluator:
    """Training-free fitness: :func:`snnlib.nas.rdm.aggregate` of an untrained network's
    responses to the probe batch ``(x, y)`` (raw items, encoded here), averaged over
    ``cfg.n_inits`` initialisations seeded by ``derive_seed(seed, hash, init)``."""

    x: torch.Tensor
    y: torch.Tensor
    data: DataSpec
    cfg: RDMConfig = field(default_factory=RDMConfig)
    net: NetConfig = field(default_factory=NetConfig)
    device: str = "cpu"
    threads: int | None = None

    def build(self, genome: Genome, seed: int, init: int = 0) -> MSENet:
        """The candidate network with the weights of initialisation ``init``."""
        torch.manual_seed(derive_seed(seed, genome.hash(), init))
        return build_network(genome, self.data.in_channels, self.data.num_classes, self.net).to(
            self.device
        )

    def responses(self, genome: Genome, seed: int, init: int = 0) -> dict[str, torch.Tensor]:
        """Per-layer responses ``{layer: [n, features]}`` of initialisation ``init``."""
        with torch_threads(self.threads):
            model = self.build(genome, seed, init)
            x = self.data.encoder()(self.x).to(self.device)
            return {
                k: v.cpu()
                for k, v in record_responses(
                    model, x, self.cfg.temporal, self.cfg.batch_stats
                ).items()
            }

    def target(self) -> torch.Tensor:
        return categorical_rdm(self.y)

    def __call__(self, genome: Genome, seed: int) -> float:
        target = self.target()
        scores = [
            aggregate(self.responses(genome, seed, k), target, self.cfg)
            for k in range(self.cfg.n_inits)
        ]
        return float(sum(scores) / len(scores))


# -- accuracy after short training -----------------------------------------------------------
@dataclass
class AccuracyEvaluator:
    """Fitness = validation accuracy after training with ``train`` (a short budget).

    A run whose loss diverges scores 0 (it would not be selected either way).
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    data: DataSpec
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=1))
    batch_size: int = 64
    net: NetConfig = field(default_factory=NetConfig)
    device: str = "cpu"
    threads: int | None = None

    def trained(self, genome: Genome, seed: int) -> torch.nn.Module | None:
        """The candidate after the short training (``None`` if its loss diverged); the
        initialisation and the batch order are seeded by ``(seed, genome hash)``."""
        s = derive_seed(seed, genome.hash())
        with torch_threads(self.threads):
            torch.manual_seed(s)
            model = build_network(genome, self.data.in_channels, self.data.num_classes, self.net)
            gen = torch.Generator().manual_seed(s)
            train = DataLoader(
                TensorDataset(self.train_x, self.train_y),
                batch_size=dryrun.batch_size(self.batch_size),
                shuffle=True,
                generator=gen,
            )
            try:
                fit(
                    model,
                    train,
                    None,
                    self.data.encoder(),
                    self.train,
                    device=self.device,
                    progress=False,
                )
            except FloatingPointError:
                return None
            return model

    def __call__(self, genome: Genome, seed: int) -> float:
        model = self.trained(genome, seed)
        if model is None:
            return 0.0
        with torch_threads(self.threads):
            val = DataLoader(TensorDataset(self.val_x, self.val_y), batch_size=256)
            return float(evaluate(model, val, self.data.encoder(), self.device)["acc"])
