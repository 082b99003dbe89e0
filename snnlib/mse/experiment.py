"""Experiment helpers shared by the MSE-NAS notebooks: data as tensors, building evaluators,
training a genome (or any model) and measuring it, and robustness to input noise.

The notebooks hold parameters, calls and plots; these functions hold the logic once.

Noise models for the robustness study (applied to the raw batch, before encoding):

- static images: additive Gaussian noise :math:`x + \\sigma \\epsilon`, :math:`\\epsilon \\sim
  \\mathcal{N}(0, 1)` (inputs are normalised, so :math:`\\sigma` is in units of the data's std);
- events: *drop*, every event removed independently with probability :math:`p` (binomial
  thinning of the per-bin event counts); *jitter*, every time bin of every sample shifted by
  an independent random offset of up to :math:`k` pixels in x and y (sensor shake; framed
  counts carry no per-event coordinates, so this is the closest spatial jitter).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ..encoding import Encoder
from ..models import count_parameters
from ..nas.seeding import derive_seed
from ..train import TrainConfig, evaluate, fit
from ..validation import ConfigError, check_choice
from .decode import NetConfig, build_network
from .fitness import AccuracyEvaluator, DataSpec, RDMEvaluator, class_balanced, loader_tensors
from .genome import Genome, random_genome
from .rdm import RDMFitness


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
    cfg: RDMFitness,
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


def train_and_measure(
    model: nn.Module,
    data: TensorData,
    train: TrainConfig,
    batch_size: int,
    seed: int,
    device: str | torch.device = "cpu",
    desc: str = "train",
    progress: bool = True,
) -> dict:
    """Train ``model`` (train split, validation per epoch), then test accuracy, NoS, energy."""
    enc = data.spec.encoder()
    t0 = time.perf_counter()
    hist = fit(
        model,
        data.loader("train", batch_size, seed),
        data.loader("val", 256),
        enc,
        train,
        device=device,
        progress=progress,
        desc=desc,
    )
    test = evaluate(model, data.loader("test", 256), enc, device, spikes=True)
    rep = test["spikes"]
    return {
        "test_acc": test["acc"],
        "best_val_acc": max(hist.val_acc) if hist.val_acc else None,
        "nos": rep.nos,
        "energy_uj": rep.energy_uj,
        "sops": rep.sops,
        "params": count_parameters(model),
        "train_seconds": time.perf_counter() - t0,
        "val_acc": list(hist.val_acc),
    }


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
):
    """Decode ``genome`` (weights seeded from (seed, hash)), train it and measure it."""
    torch.manual_seed(derive_seed(seed, genome.hash(), 1_000_003))
    model = build_network(genome, data.spec.in_channels, data.spec.num_classes, net).to(device)
    out = train_and_measure(
        model,
        data,
        train,
        batch_size,
        seed,
        device,
        desc=f"train {genome.short}",
        progress=progress,
    )
    return (out, model) if return_model else out


def output_spikes(evaluator: RDMEvaluator, genome: Genome, seed: int) -> bool:
    """Whether the untrained network's last spiking layer fires on the evaluator's probe batch."""
    responses = evaluator.responses(genome, seed)
    return bool((list(responses.values())[-1] != 0).any())


def live_random_genome(
    rng, space, evaluator: RDMEvaluator, seed: int, max_tries: int = 100
) -> Genome:
    """The first random genome (drawn from ``rng``) whose untrained output layer fires on the
    probe batch: a random baseline that can learn at all (see :mod:`snnlib.mse.rdm`, silent output)."""
    for _ in range(max_tries):
        g = random_genome(rng, space)
        if output_spikes(evaluator, g, seed):
            return g
    raise ConfigError(f"no random genome with a spiking output layer in {max_tries} draws")


def learned(acc: float, num_classes: int, margin: float = 1.5) -> bool:
    """Whether a test accuracy is clearly above chance (``> margin / num_classes``)."""
    return acc > margin / num_classes


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
