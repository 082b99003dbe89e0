"""Training by backpropagation through time (BPTT), evaluation, and the learning curves.

One loop serves every chapter: the substrate network, retraining of found architectures,
proxy-study ground truth and the comparison; one evaluation loop (:func:`evaluate`, and
:func:`spike_summary` on top of it) measures them all. AdamW or SGD, cosine schedule with linear
warm-up, label smoothing. The loss is cross-entropy on logits averaged over time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import dryrun
from .encoding import Encoder
from .layers import batch_norm_statistics
from .spikes import SpikeMonitor, SpikeReport
from .validation import ConfigError, check_choice, check_range

OPTIMIZERS = ("adamw", "sgd")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run (defaults: MSE-NAS's recipe, scaled down)."""

    epochs: int = 10
    lr: float = 5e-3
    optimizer: str = "adamw"
    weight_decay: float = 0.01
    momentum: float = 0.9
    label_smoothing: float = 0.1
    warmup_epochs: int = 0
    grad_clip: float | None = 5.0
    max_batches: int | None = None  # cap batches per epoch (smoke runs)

    def __post_init__(self):
        check_range("epochs", self.epochs, 0, None, integer=True)
        for name in ("lr", "weight_decay", "momentum", "label_smoothing"):
            value = getattr(self, name)
            if isinstance(value, float) and not math.isfinite(value):  # NaN passes any range
                raise ConfigError(f"{name}={value!r} must be a finite number")
        check_range("lr", self.lr, 0.0, None)
        check_range("weight_decay", self.weight_decay, 0.0, None)
        check_range("momentum", self.momentum, 0.0, 1.0)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_range("label_smoothing", self.label_smoothing, 0.0, 1.0)
        check_range("warmup_epochs", self.warmup_epochs, 0, None, integer=True)
        if self.grad_clip is not None:
            check_range("grad_clip", self.grad_clip, 0.0, math.inf)  # inf rejects NaN too
        if self.max_batches is not None:
            check_range("max_batches", self.max_batches, 1, None, integer=True)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class History:
    """Per-epoch learning curves."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(
        params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=True
    )


def cosine_with_warmup(optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 0):
    """LambdaLR: linear warm-up over ``warmup_steps``, then cosine decay to 0 at ``total_steps``."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _batches(loader, max_batches):
    for i, batch in enumerate(loader):
        if max_batches is not None and i >= max_batches:
            return
        yield batch


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader,
    encoder: Encoder,
    device: torch.device | str = "cpu",
    spikes: bool = False,
    max_batches: int | None = None,
    bn: str = "running",
    predictions: bool = False,
) -> dict:
    """Accuracy and mean loss on a loader; with ``spikes=True`` also the spike report.

    The one evaluation loop of snnlib. ``bn`` chooses the batch-norm statistics
    (:func:`snnlib.layers.batch_norm_statistics`): ``"running"`` (eval mode, the default for
    trained networks) or ``"batch"`` (each batch's own statistics; running statistics left
    untouched). The model's training flag is restored afterwards. Returns ``acc``, ``loss``
    (mean cross-entropy), ``n`` (images) and, with ``spikes=True``, ``spikes``
    (a :class:`~snnlib.spikes.SpikeReport`, per image); with ``predictions=True`` also
    ``predictions`` (the predicted class of every image, in loader order: for paired tests
    on the same test items).

    Example:
        >>> import torch
        >>> from torch.utils.data import DataLoader, TensorDataset
        >>> from snnlib.models import SpikingCNN
        >>> _ = torch.manual_seed(0)
        >>> data = TensorDataset(torch.rand(6, 1, 8, 8), torch.tensor([0, 1, 2, 0, 1, 2]))
        >>> ev = evaluate(SpikingCNN(1, 3, width=4), DataLoader(data, batch_size=4),
        ...               Encoder("direct", 2), spikes=True)
        >>> ev["n"], 0.0 <= ev["acc"] <= 1.0, ev["spikes"].images
        (6, True, 6)
    """
    device = torch.device(device)
    correct = total = 0
    loss_sum = 0.0
    predicted = []
    monitor = SpikeMonitor(model) if spikes else None
    # a dry run stops after its cap of batches
    meter = dryrun.loop("evaluate", dryrun.planned_batches(loader, max_batches))
    with batch_norm_statistics(model, bn), monitor or nullcontext():
        for x, y in _batches(loader, max_batches):
            if meter.done():
                break
            with meter.step():
                x, y = x.to(device), y.to(device)
                out = model(encoder(x))
            loss_sum += float(nn.functional.cross_entropy(out, y, reduction="sum"))
            correct += int((out.argmax(1) == y).sum())
            total += int(y.numel())
            if predictions:
                predicted.append(out.argmax(1).cpu())
    result = {"acc": correct / max(total, 1), "loss": loss_sum / max(total, 1), "n": total}
    if predictions:
        result["predictions"] = torch.cat(predicted).numpy() if predicted else np.zeros(0, int)
    if monitor:
        result["spikes"] = monitor.report()
    return result


def spike_summary(
    model: nn.Module,
    loader,
    encoder: Encoder,
    device: torch.device | str = "cpu",
    max_batches: int | None = None,
    bn: str = "running",
    per_cell: Callable[[SpikeReport], dict[str, float]] | None = None,
) -> dict:
    """:func:`evaluate` with a spike monitor, flattened to numbers: ``acc``, ``loss``, ``n``,
    ``nos``, ``firing_rate`` (mean), ``sops``, ``macs`` and ``energy_uj`` per image, and
    ``nos_per_cell`` when ``per_cell`` (a grouping of the report's layers, e.g.
    :func:`snnlib.darts.cell_spikes.nos_per_cell`) is given. ``bn`` as in :func:`evaluate`.

    Example:
        >>> import torch
        >>> from torch.utils.data import DataLoader, TensorDataset
        >>> from snnlib.models import SpikingCNN
        >>> from snnlib.spikes import group_by_prefix
        >>> data = TensorDataset(torch.rand(4, 1, 8, 8), torch.tensor([0, 1, 0, 1]))
        >>> s = spike_summary(SpikingCNN(1, 2, width=4), DataLoader(data, batch_size=2),
        ...                   Encoder("direct", 2), bn="batch",
        ...                   per_cell=lambda r: group_by_prefix(r.spikes_per_layer, 1))
        >>> sorted(s["nos_per_cell"]), s["n"]
        (['features', 'head'], 4)
    """
    ev = evaluate(model, loader, encoder, device, spikes=True, max_batches=max_batches, bn=bn)
    rep: SpikeReport = ev["spikes"]
    out = {"acc": ev["acc"], "loss": ev["loss"], "n": ev["n"], "nos": rep.nos}
    if per_cell is not None:
        out["nos_per_cell"] = per_cell(rep)
    out.update(
        firing_rate=rep.mean_firing_rate,
        sops=rep.sops,
        macs=rep.macs,
        energy_uj=rep.energy_uj,
    )
    return out


def train_epoch(
    model,
    loader,
    encoder,
    optimizer,
    scheduler,
    criterion,
    device,
    cfg: TrainConfig,
    progress=None,
    meter=None,
) -> tuple[float, float]:
    """One epoch of BPTT; returns (mean loss, accuracy). Raises on a non-finite loss.

    ``meter``: the :func:`snnlib.dryrun.loop` of the training (a dry run stops at its cap)."""
    model.train()
    meter = meter if meter is not None else dryrun.loop("train", dryrun.planned_batches(loader))
    correct = total = 0
    loss_sum = 0.0
    for x, y in _batches(loader, cfg.max_batches):
        if meter.done():
            break
        with meter.step():
            x, y = x.to(device), y.to(device)
            out = model(encoder(x))
            loss = criterion(out, y)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"training loss became {float(loss)}; lower the learning rate (lr={cfg.lr})"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        loss_sum += float(loss.detach()) * y.numel()
        correct += int((out.argmax(1) == y).sum())
        total += int(y.numel())
        if progress is not None:
            progress.update(1)
    return loss_sum / max(total, 1), correct / max(total, 1)


def fit(
    model: nn.Module,
    train_loader,
    val_loader,
    encoder: Encoder,
    cfg: TrainConfig,
    device: torch.device | str = "cpu",
    progress: bool = True,
    desc: str = "train",
) -> History:
    """Train ``model`` for ``cfg.epochs`` epochs; evaluate on ``val_loader`` after each epoch."""
    if not isinstance(cfg, TrainConfig):
        raise ConfigError("cfg must be a TrainConfig")
    device = torch.device(device)
    model.to(device)
    optimizer = make_optimizer(model.parameters(), cfg)
    per_epoch = (
        len(train_loader) if cfg.max_batches is None else min(len(train_loader), cfg.max_batches)
    )
    scheduler = cosine_with_warmup(optimizer, per_epoch * cfg.epochs, per_epoch * cfg.warmup_epochs)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    hist = History()
    start = time.perf_counter()
    bar = tqdm(total=per_epoch * cfg.epochs, desc=desc, disable=not progress, leave=False)
    planned = dryrun.planned_batches(train_loader, cfg.max_batches)
    meter = dryrun.loop("train", planned * cfg.epochs)  # a dry run: its first steps only
    try:
        for _ in range(cfg.epochs):
            if meter.done():
                break
            hist.lr.append(optimizer.param_groups[0]["lr"])
            loss, acc = train_epoch(
                model,
                train_loader,
                encoder,
                optimizer,
                scheduler,
                criterion,
                device,
                cfg,
                bar,
                meter,
            )
            hist.train_loss.append(loss)
            hist.train_acc.append(acc)
            if val_loader is not None:
                with dryrun.repeated(cfg.epochs):  # a dry run: one of the epochs' passes
                    ev = evaluate(model, val_loader, encoder, device, max_batches=cfg.max_batches)
                hist.val_loss.append(ev["loss"])
                hist.val_acc.append(ev["acc"])
            bar.set_postfix(
                loss=f"{loss:.3f}", val=f"{hist.val_acc[-1]:.3f}" if hist.val_acc else "-"
            )
    finally:
        bar.close()
    hist.seconds = time.perf_counter() - start
    return hist
