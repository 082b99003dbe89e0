"""The MSE-NAS experiments' method logic: data as tensors, building evaluators, retraining a
genome (or the hand-designed CNN) over seeds into a :class:`~snnlib.nas.retrain.RetrainResult`,
and robustness to input noise. What only a page needs (rows, tables, glued numbers) is in
:mod:`snnlib.book` (``mse_*`` modules).

Noise models for the robustness study (applied to the raw batch, before encoding):

- static images: additive Gaussian noise :math:`x + \\sigma \\epsilon`, :math:`\\epsilon \\sim
  \\mathcal{N}(0, 1)` (inputs are normalised, so :math:`\\sigma` is in units of the data's std);
- events: *drop*, every event removed independently with probability :math:`p` (binomial
  thinning of the per-bin event counts); *jitter*, every time bin of every sample shifted by
  an independent random offset of up to :math:`k` pixels in x and y (sensor shake; framed
  counts carry no per-event coordinates, so this is the closest spatial jitter).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from .. import dryrun
from ..encoding import Encoder
from ..nas.rdm import RDMConfig
from ..nas.retrain import (
    RetrainBudget,
    RetrainResult,
    RetrainRun,
    SeedRule,
    as_retrainable,
    check_seeds,
    register_architecture,
    retrain_run,
    train_and_test,
)
from ..train import TrainConfig, evaluate
from ..validation import ConfigError, check_choice, check_range
from .decode import NetConfig, build_network
from .fitness import (
    AccuracyEvaluator,
    DataSpec,
    ProxyEvaluator,
    RDMEvaluator,
    class_balanced,
    loader_tensors,
)
from .genome import Genome
from .sampling import first_genome

# The salt of ``derive_seed(seed, genome hash, salt)`` for the weights of a retrained genome.
# The fitness evaluators use the initialisation index as salt (0 .. n_inits - 1), so a salt far
# above them gives retraining a weight draw of its own, never one that the search scored.
RETRAIN_WEIGHT_SALT = 1_000_003


@dataclass
class TensorData:
    """All splits of a dataset as tensors, with what a network needs to know of it."""

    name: str
    spec: DataSpec
    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]
    kind: str = "static"

    def loader(self, split: str, batch_size: int, seed: int | None = None) -> DataLoader:
        """A loader over a split; ``seed`` given: shuffled with a generator seeded by it."""
        x, y = getattr(self, split)
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        batch_size = dryrun.batch_size(batch_size)  # a dry run may measure a smaller batch
        return DataLoader(
            TensorDataset(x, y), batch_size=batch_size, shuffle=seed is not None, generator=gen
        )


def load_tensors(dataset: str, time_steps: int, seed: int = 0, limit=None) -> TensorData:
    """Every split of ``dataset`` (:mod:`snnlib.data`) as tensors; ``limit`` as in make_loaders."""
    from ..data import dataset_info, make_loaders

    info = dataset_info(dataset)
    loaders = make_loaders(dataset, batch_size=512, time_steps=time_steps, limit=limit, seed=seed)
    # the train loader shuffles with ``seed``: the tensors' order is fixed by the seed
    splits = {k: loader_tensors(v) for k, v in loaders.items()}
    return TensorData(
        dataset,
        DataSpec.from_info(info, time_steps),
        splits["train"],
        splits["val"],
        splits["test"],
        info.kind,
    )


def rdm_evaluator(
    data: TensorData,
    cfg: RDMConfig,
    net: NetConfig,
    seed: int = 0,
    device: str = "cpu",
    threads: int | None = None,
) -> RDMEvaluator:
    """The RDM fitness on a class-balanced probe from the train split (drawn by ``seed``)."""
    x, y = class_balanced(
        *data.train, cfg.n_per_class, seed=seed, num_classes=data.spec.num_classes
    )
    return RDMEvaluator(x, y, data.spec, cfg, net, device=device, threads=threads)


def probe_batches(
    data: TensorData, n_per_class: int, repeats: int, seed: int = 0
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """``repeats`` disjoint class-balanced mini-batches of the train split, ``n_per_class``
    items of every class each, ordered by class (one class-balanced draw of
    ``n_per_class * repeats`` per class by ``seed``, dealt out in order)."""
    k = data.spec.num_classes
    x, y = class_balanced(*data.train, n_per_class * repeats, seed=seed, num_classes=k)
    slot = (torch.arange(len(y)) % (n_per_class * repeats)) // n_per_class
    return [x[slot == r] for r in range(repeats)], [y[slot == r] for r in range(repeats)]


def proxy_evaluator(
    data: TensorData,
    proxy: str,
    net: NetConfig,
    n_per_class: int,
    repeats: int = 2,
    seed: int = 0,
    device: str = "cpu",
    threads: int | None = None,
) -> ProxyEvaluator:
    """A registered proxy as the search's fitness, the mean over ``repeats`` disjoint probe
    mini-batches of the train split (the released scorer's 2; :func:`probe_batches`)."""
    xs, ys = probe_batches(data, n_per_class, repeats, seed)
    return ProxyEvaluator(xs, ys, data.spec, proxy, net, device=device, threads=threads)


def fitness_choices() -> tuple[str, ...]:
    """The search's fitness names: ``rdm`` (this book's label-target RDM, configured by an
    :class:`~snnlib.nas.rdm.RDMConfig`) and every score of the NAS core's proxy registry."""
    from ..nas.proxies import PROXIES

    return ("rdm", *sorted(PROXIES))


def search_fitness(
    data: TensorData,
    fitness: str,
    net: NetConfig,
    n_per_class: int,
    rdm: RDMConfig | None = None,
    repeats: int = 2,
    seed: int = 0,
    device: str = "cpu",
    threads: int | None = None,
) -> tuple[ProxyEvaluator | RDMEvaluator, dict]:
    """The search's fitness ``fitness`` (:func:`fitness_choices`; default of the notebooks:
    :data:`~snnlib.mse.fitness.DEFAULT_FITNESS`, the authors' scorer) and the record of every
    setting that determines its values (for result files and checkpoint identities).

    ``rdm`` configures the ``rdm`` fitness (its probe: ``n_per_class`` items of every class;
    default :class:`~snnlib.nas.rdm.RDMConfig`); a registry score averages ``repeats``
    mini-batches of ``n_per_class`` items per class.
    """
    check_choice("fitness", fitness, fitness_choices())
    check_range("n_per_class", n_per_class, 1, None, integer=True)
    check_range("repeats", repeats, 1, None, integer=True)
    if fitness == "rdm":
        cfg = replace(rdm or RDMConfig(), n_per_class=n_per_class)
        ev = rdm_evaluator(data, cfg, net, seed=seed, device=device, threads=threads)
        return ev, {"fitness": "rdm", **cfg.to_dict()}
    ev = proxy_evaluator(data, fitness, net, n_per_class, repeats, seed, device, threads)
    return ev, {"fitness": fitness, "n_per_class": n_per_class, "repeats": repeats}


def accuracy_evaluator(
    data: TensorData,
    train: TrainConfig,
    net: NetConfig,
    batch_size: int = 64,
    device: str = "cpu",
    threads: int | None = None,
) -> AccuracyEvaluator:
    """Validation accuracy after ``train`` (short) on the train split."""
    return AccuracyEvaluator(
        *data.train, *data.val, data.spec, train, batch_size, net, device, threads
    )


@dataclass(frozen=True)
class RetrainableGenome:
    """A genome and the network it is decoded into, as :func:`snnlib.nas.retrain.retrain`
    takes it. MSE-NAS's seed rule (``seeding``, default): weights from
    ``derive_seed(seed, genome hash, RETRAIN_WEIGHT_SALT)``, data order from ``seed``."""

    genome: Genome
    net: NetConfig = field(default_factory=NetConfig)
    seeding: SeedRule = SeedRule(weights="identity", salt=RETRAIN_WEIGHT_SALT)

    def build(self, in_channels: int, num_classes: int) -> nn.Module:
        return build_network(self.genome, in_channels, num_classes, self.net)

    def identity(self) -> str:
        return self.genome.hash()

    def label(self) -> str:
        return f"train {self.genome.short}"


register_architecture(Genome, RetrainableGenome)


def tensor_budget(
    data: TensorData,
    train: TrainConfig,
    batch_size: int,
    seed: int,
    device: str | torch.device = "cpu",
    progress: bool = True,
    keep_predictions: bool = False,
) -> RetrainBudget:
    """The retraining budget on tensor data: train split shuffled by ``seed``, validation and
    test in order (batches of 256); ``keep_predictions``: each run keeps its test predictions
    (for tests paired over test items)."""
    loaders = {
        "train": data.loader("train", batch_size, seed),
        "val": data.loader("val", 256),
        "test": data.loader("test", 256),
    }
    spec = data.spec
    return RetrainBudget(
        train,
        loaders,
        spec.encoder(),
        spec.in_channels,
        spec.num_classes,
        device,
        progress,
        keep_predictions=keep_predictions,
    )


def train_once(
    architecture,
    data: TensorData,
    train: TrainConfig,
    batch_size: int,
    seed: int,
    device: str | torch.device = "cpu",
    progress: bool = True,
    keep_predictions: bool = False,
    desc: str | None = None,
) -> tuple[RetrainRun, nn.Module]:
    """One :func:`snnlib.nas.retrain.retrain_run` of ``architecture`` (a :class:`Genome`
    wrapped with the default network, a :class:`RetrainableGenome`, the hand-designed
    :class:`~snnlib.nas.reference.ReferenceCNN`, ...) at :func:`tensor_budget` of ``seed``:
    the run and the trained network."""
    budget = tensor_budget(data, train, batch_size, seed, device, progress, keep_predictions)
    return retrain_run(architecture, budget, seed, desc)


def retrain_on(
    architecture,
    data: TensorData,
    seeds,
    train: TrainConfig,
    batch_size: int,
    device: str | torch.device = "cpu",
    progress: bool = True,
    keep_predictions: bool = False,
    name: str | None = None,
) -> RetrainResult:
    """``architecture`` trained and tested once per seed of ``seeds`` (in order; each run
    :func:`train_once`), as one :class:`~snnlib.nas.retrain.RetrainResult` named ``name``
    (default: the architecture's label)."""
    seeds = check_seeds(seeds)
    runs = [
        train_once(architecture, data, train, batch_size, s, device, progress, keep_predictions)[0]
        for s in seeds
    ]
    return RetrainResult(name or as_retrainable(architecture).label(), runs)


def train_and_measure(
    model: nn.Module,
    data: TensorData,
    train: TrainConfig,
    batch_size: int,
    seed: int,
    device: str | torch.device = "cpu",
    desc: str = "train",
    progress: bool = True,
    keep_predictions: bool = False,
) -> RetrainRun:
    """Train a built ``model`` (train split, validation per epoch), then test accuracy, NoS,
    energy (:func:`snnlib.nas.retrain.train_and_test` at :func:`tensor_budget`)."""
    budget = tensor_budget(data, train, batch_size, seed, device, progress, keep_predictions)
    return train_and_test(model, budget, seed, desc=desc)


def train_genome(
    genome: Genome,
    data: TensorData,
    net: NetConfig,
    train: TrainConfig,
    batch_size: int,
    seed: int,
    device: str | torch.device = "cpu",
    progress: bool = True,
    return_model: bool = False,
    keep_predictions: bool = False,
):
    """Decode ``genome`` (weights seeded from (seed, hash)), train it and measure it: one
    :func:`train_once` of a :class:`RetrainableGenome`. Returns the
    :class:`~snnlib.nas.retrain.RetrainRun` (and the trained network, with ``return_model``)."""
    run, model = train_once(
        RetrainableGenome(genome, net),
        data,
        train,
        batch_size,
        seed,
        device,
        progress,
        keep_predictions,
    )
    return (run, model) if return_model else run


def silent_share(evaluator: ProxyEvaluator | RDMEvaluator, genomes, seed: int) -> float:
    """The share of ``genomes`` whose untrained output layer stays silent on the probe (such a
    network cannot learn: see :mod:`snnlib.nas.rdm`, silent output)."""
    genomes = list(genomes)
    if not genomes:
        raise ConfigError("silent_share needs at least one genome")
    return sum(not evaluator.output_fires(g, seed) for g in genomes) / len(genomes)


def live_random_genome(
    rng, space, evaluator: ProxyEvaluator | RDMEvaluator, seed: int, max_tries: int = 100
) -> Genome:
    """The first random genome (drawn from ``rng``) whose untrained output layer fires on the
    probe batch: a random baseline that can learn at all (see :mod:`snnlib.nas.rdm`, silent
    output)."""
    try:
        return first_genome(rng, space, lambda g: evaluator.output_fires(g, seed), max_tries)
    except ConfigError:
        raise ConfigError(
            f"no random genome with a spiking output layer in {max_tries} draws"
        ) from None


# -- robustness ----------------------------------------------------------------------------
NOISES = ("gaussian", "drop", "jitter")


def corrupt(x: torch.Tensor, noise: str, level: float, generator: torch.Generator) -> torch.Tensor:
    """Apply one noise model (see the module docstring) to a raw batch ``x``."""
    check_choice("noise", noise, NOISES)
    if level == 0:
        return x
    if noise == "gaussian":
        return x + level * torch.randn(x.shape, generator=generator)
    if x.dim() != 5:
        raise ConfigError(
            f"noise {noise!r} is for event frames [B, T, P, H, W], got {tuple(x.shape)}"
        )
    if noise == "drop":
        if not 0 <= level <= 1:
            raise ConfigError(f"drop probability {level} not in [0, 1]")
        counts = x.clamp_min(0).round()
        return torch.binomial(counts, torch.full_like(counts, 1.0 - level), generator=generator)
    k = int(level)
    B, T = x.shape[:2]
    out = torch.empty_like(x)
    shifts = torch.randint(-k, k + 1, (B, T, 2), generator=generator)
    for b in range(B):
        for t in range(T):
            dy, dx = int(shifts[b, t, 0]), int(shifts[b, t, 1])
            out[b, t] = _shift(x[b, t], dy, dx)
    return out


def _shift(frame: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Translate ``[..., H, W]`` by (dy, dx) pixels, filling with zeros."""
    out = torch.zeros_like(frame)
    H, W = frame.shape[-2:]
    ys, yd = (slice(0, H - dy), slice(dy, H)) if dy >= 0 else (slice(-dy, H), slice(0, H + dy))
    xs, xd = (slice(0, W - dx), slice(dx, W)) if dx >= 0 else (slice(-dx, W), slice(0, W + dx))
    out[..., yd, xd] = frame[..., ys, xs]
    return out


class NoisyEncoder:
    """An :class:`Encoder` that corrupts each raw batch first (seeded, so reproducible)."""

    def __init__(self, encoder: Encoder, noise: str, level: float, seed: int = 0):
        self.encoder, self.noise, self.level = encoder, noise, level
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(corrupt(x, self.noise, self.level, self.generator))


@torch.no_grad()
def robustness(
    model: nn.Module,
    data: TensorData,
    noise: str,
    levels,
    seed: int = 0,
    device: str | torch.device = "cpu",
    batch_size: int = 256,
) -> list[float]:
    """Test accuracy of a trained model at each noise level (same noise draws for every model)."""
    accs = []
    for level in levels:
        enc = NoisyEncoder(data.spec.encoder(), noise, level, seed)
        accs.append(evaluate(model, data.loader("test", batch_size), enc, device)["acc"])
    return accs
