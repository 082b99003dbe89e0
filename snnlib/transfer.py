"""Transfer accuracy: the fixed spiking CNN trained on one set of event frames and tested on
others (e.g. trained on simulated recordings, tested on real ones), over training seeds.

:func:`train_on_frames` is one run: seed everything, build
:class:`~snnlib.models.SpikingCNN`, train it with :func:`snnlib.train.fit` on in-memory frames
``[N, T, P, H, W]`` (event counts, fed by the ``events`` encoder) and evaluate it with
:func:`snnlib.train.evaluate` on every test set. :func:`transfer_over_seeds` repeats it over
seeds; ``snnlib.nas.statistics`` (``t_interval``, ``paired_by_seed``) summarises them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch.utils.data import DataLoader, TensorDataset

from .encoding import Encoder
from .models import SpikingCNN
from .runtime import seed_everything
from .train import TrainConfig, evaluate, fit
from .validation import ConfigError


@dataclass
class TransferRun:
    """One training seed: accuracy on each test set, the last training accuracy, seconds."""

    seed: int
    test_acc: dict[str, float] = field(default_factory=dict)
    train_acc: float = math.nan
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def train_on_frames(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    tests: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    *,
    seed: int,
    width: int = 16,
    train: TrainConfig | None = None,
    batch_size: int = 32,
    device: torch.device | str = "cpu",
    num_classes: int | None = None,
    progress: bool = False,
    desc: str = "transfer",
) -> TransferRun:
    """Train a :class:`~snnlib.models.SpikingCNN` of ``width`` on frames ``train_x``
    ``[N, T, P, H, W]`` with labels ``train_y`` and test it on each ``tests[name] = (x, y)``.

    ``seed_everything(seed)`` comes first, so the weights and the shuffling (a generator
    seeded by ``seed``) are fixed by ``seed`` alone. No validation set: the epochs are part of
    ``train`` (default :class:`~snnlib.train.TrainConfig`).
    """
    if train_x.dim() != 5 or len(train_x) != len(train_y):
        raise ConfigError(
            f"train_x must be frames [N, T, P, H, W] with one label each: {tuple(train_x.shape)}"
            f" for {len(train_y)} labels"
        )
    train = train or TrainConfig()
    T, P = int(train_x.shape[1]), int(train_x.shape[2])
    classes = num_classes or int(
        max(int(train_y.max()), *(int(y.max()) for _, y in tests.values())) + 1
    )
    seed_everything(seed)
    model = SpikingCNN(P, classes, width=width)
    encoder = Encoder("events", T)
    loader = DataLoader(
        TensorDataset(train_x.float(), train_y.long()),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    hist = fit(model, loader, None, encoder, train, device=device, progress=progress, desc=desc)
    run = TransferRun(seed=int(seed), seconds=hist.seconds)
    run.train_acc = float(hist.train_acc[-1]) if hist.train_acc else math.nan
    for name, (x, y) in tests.items():
        test_loader = DataLoader(TensorDataset(x.float(), y.long()), batch_size=256)
        run.test_acc[name] = float(evaluate(model, test_loader, encoder, device)["acc"])
    return run


def transfer_over_seeds(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    tests: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    seeds: Sequence[int],
    **options,
) -> list[TransferRun]:
    """:func:`train_on_frames` once per seed (``options`` passed on)."""
    if not len(seeds):
        raise ConfigError("transfer_over_seeds needs at least one seed")
    return [train_on_frames(train_x, train_y, tests, seed=int(s), **options) for s in seeds]
