r"""Fitness functions of the search: callables ``(genome, seed) -> float``, higher is better.

Three interchangeable evaluators:

- :class:`ProxyEvaluator`: any training-free score of the NAS core's proxy registry
  (:mod:`snnlib.nas.proxies`) of the untrained network, averaged over probe mini-batches. The
  search default is the authors' released scorer (BrainCog's ``LSP``, :mod:`snnlib.nas.lsp`):
  ``lsp_hamming_sum``, the summed Hamming dissimilarity of the binary spike patterns of every
  spiking layer at every time step, label-free, mean of 2 mini-batches.
- :class:`RDMEvaluator`: this book's label-target RDM fitness (:mod:`snnlib.nas.rdm`) of the
  untrained network on a fixed, class-balanced probe batch, a named variant of the search
  (``fitness="rdm"``). One forward pass per initialisation.
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
from ..nas.lsp import lsp_matrices
from ..nas.proxies import check_proxies, get_proxy
from ..nas.rdm import RDMConfig, aggregate, categorical_rdm, mean_rdm, record_responses
from ..nas.seeding import derive_seed
from ..runtime import torch_threads
from ..spikes import record_spikes
from ..train import TrainConfig, evaluate, fit
from ..validation import ConfigError
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


def build_candidate(
    genome: Genome, seed: int, data: DataSpec, net: NetConfig, init: int = 0, device: str = "cpu"
) -> MSENet:
    """The untrained network of ``genome``, weights seeded by ``derive_seed(seed, hash, init)``
    (the rule every training-free evaluator shares, so two fitnesses of a genome score the
    same network)."""
    torch.manual_seed(derive_seed(seed, genome.hash(), init))
    return build_network(genome, data.in_channels, data.num_classes, net).to(device)


# -- a score of the NAS core's proxy registry -----------------------------------------------
DEFAULT_FITNESS = "lsp_hamming_sum"
"""The search's default fitness: the score the authors' released code ships (commented out)
as its training-free fitness, the summed Hamming matrix of BrainCog's ``LSP``."""


@dataclass
class ProxyEvaluator:
    """Training-free fitness: the registered proxy ``proxy`` of the untrained network, the mean
    over the probe mini-batches ``batches`` (raw items, encoded here; ``labels`` only for the
    scores that read them). One initialisation, ``derive_seed(seed, genome hash, 0)``, scores
    every batch, as the released scorer runs one network on its 2 mini-batches.

    A score that is not finite (e.g. a log-determinant of a singular matrix) is returned as
    it is: the evolution ranks it below every finite fitness.
    """

    batches: list[torch.Tensor]
    labels: list[torch.Tensor]
    data: DataSpec
    proxy: str = DEFAULT_FITNESS
    net: NetConfig = field(default_factory=NetConfig)
    device: str = "cpu"
    threads: int | None = None

    def __post_init__(self):
        (self.proxy,) = check_proxies([self.proxy])
        if not self.batches or len(self.batches) != len(self.labels):
            raise ConfigError(
                f"batches ({len(self.batches)}) and labels ({len(self.labels)}) must be "
                "non-empty lists of the same length"
            )

    @property
    def y(self) -> torch.Tensor:
        """The labels of every probe item (for pictures ordered by class)."""
        return torch.cat(self.labels)

    def build(self, genome: Genome, seed: int) -> MSENet:
        return build_candidate(genome, seed, self.data, self.net, 0, self.device)

    def __call__(self, genome: Genome, seed: int) -> float:
        proxy = get_proxy(self.proxy)
        # scores that read no gradient run without building the autograd graph
        grad = bool({"gradients", "model"} & set(proxy.needs))
        with torch_threads(self.threads), torch.set_grad_enabled(grad):
            encode = self.data.encoder()
            return proxy(
                self.build(genome, seed),
                [encode(x).to(self.device) for x in self.batches],
                key=genome.hash(),
                seed=seed,
                labels=self.labels,
                batch_dim=1,
            )

    @property
    def label(self) -> str:
        """The fitness's name for tables and titles."""
        return f"{self.proxy} (label-free)" if self.label_free else self.proxy

    @property
    def label_free(self) -> bool:
        """Whether the score reads no labels (the authors' scorer does not)."""
        return "labels" not in get_proxy(self.proxy).needs

    @property
    def picture_labels(self) -> torch.Tensor:
        """The labels of the stimuli of :meth:`matrix` (the first mini-batch)."""
        return self.labels[0]

    def target_panels(self) -> dict[str, torch.Tensor]:
        """No target: the score compares stimuli with each other, not with the labels."""
        return {}

    def output_fires(self, genome: Genome, seed: int) -> bool:
        """Whether the untrained network's last spiking layer fires on the first mini-batch."""
        with torch_threads(self.threads), torch.no_grad():
            model = self.build(genome, seed)
            spikes = record_spikes(model, self.data.encoder()(self.batches[0]).to(self.device))
            return bool(list(spikes.values())[-1].any())

    def matrix(self, genome: Genome, seed: int) -> torch.Tensor:
        """The ``[B, B]`` Hamming matrix of the first mini-batch, averaged over every spiking
        layer and time step (the matrix whose sum is the default fitness; as released), for
        pictures."""
        with torch_threads(self.threads), torch.no_grad():
            model = self.build(genome, seed)
            spikes = record_spikes(model, self.data.encoder()(self.batches[0]).to(self.device))
            return lsp_matrices(spikes, "as_released")["hamming"].cpu()


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
        return build_candidate(genome, seed, self.data, self.net, init, self.device)

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

    @property
    def label(self) -> str:
        """The fitness's name for tables and titles."""
        return f"RDM, label target ({self.cfg.metric}, {self.cfg.comparison})"

    @property
    def picture_labels(self) -> torch.Tensor:
        """The labels of the stimuli of :meth:`matrix` (the whole probe)."""
        return self.y

    def target_panels(self) -> dict[str, torch.Tensor]:
        """The target the responses' RDMs are compared with, for pictures."""
        return {"target: ideal categorical RDM": self.target()}

    def output_fires(self, genome: Genome, seed: int) -> bool:
        """Whether the untrained network's last spiking layer fires on the probe batch."""
        return bool((list(self.responses(genome, seed).values())[-1] != 0).any())

    def matrix(self, genome: Genome, seed: int) -> torch.Tensor:
        """The mean over spiking layers of each layer's RDM (of ``cfg.metric``), for pictures."""
        return mean_rdm(self.responses(genome, seed), self.cfg.metric)

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
