r"""The bilevel search loop of (MA-)DARTS: weights on one half of the training data,
architecture parameters on the other.

The search solves

.. math::

    \min_{\alpha}\; \mathcal{L}_{\text{val}}\bigl(w^*(\alpha), \alpha\bigr)
    \quad\text{s.t.}\quad w^*(\alpha) = \arg\min_w \mathcal{L}_{\text{train}}(w, \alpha),

where "train" and "val" are the two halves of the training split (a seeded, deterministic
partition: :func:`~snnlib.darts.search_data.split_weight_arch_indices`). It alternates one
architecture step (on an architecture batch) and one weight step (on a weight batch), as
DARTS does. The steps, first order (default) and second order (``order="second"``, the
unrolled hypergradient with a finite-difference Hessian-vector product; ``xi`` defaults to the
current weight learning rate, as in DARTS), and DARTS' optimizers are the NAS core's
(:mod:`snnlib.nas.bilevel_steps`, with the math), shared with the SpikeNAS-Bench search
(:mod:`snnlib.spikenas.darts_search`); they stay importable from here.

Defaults are DARTS': weights SGD (lr 0.025, cosine to 0.001 per epoch, momentum 0.9,
weight decay 3e-4, gradient clip 5) or AdamW; architecture Adam (lr 3e-4, betas
(0.5, 0.999), weight decay 1e-3). The architecture step changes only architecture
parameters: batch-norm running statistics it would update are restored, so they always
describe the weight data.

The supernet is evaluated after every epoch (accuracy, NoS per cell, SOPs, energy on training
and validation data) with batch-norm *batch* statistics by default (``eval_bn="batch"``; the
running statistics are left untouched): after a few hundred weight steps they trail the
weights far behind (see :func:`snnlib.layers.batch_norm_statistics`).

Robustness: a non-finite loss stops the search with :class:`SearchDiverged` (the last
good checkpoint is left untouched); a checkpoint (model, both optimizers, scheduler, RNG
states, history, and the record of the settings) is written atomically after every epoch, and
a search finding a compatible checkpoint continues from it with the same result as an
uninterrupted run (the data order is a function of (seed, epoch), see
:class:`~snnlib.darts.search_data.EpochShuffle`; the checkpoint and ``resume``:
:mod:`snnlib.darts.search_state`). A finished checkpoint returns its result without a step.

The loop is four parts, each a function: resume (:func:`~snnlib.darts.search_state.resume_search`),
the steps of an epoch (:func:`run_epoch_steps`), the per-epoch evaluation (passed in as
``evaluate``; default :func:`spike_evaluation`) and record (:func:`epoch_record`), and the
checkpoint (:func:`~snnlib.darts.search_state.checkpoint_state`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .. import dryrun
from ..encoding import Encoder
from ..nas.bilevel_steps import (  # noqa: F401  (the steps, importable from here as before)
    ORDERS,
    W_OPTIMIZERS,
    BilevelConfig,
    BilevelDiverged,
    _grads_or_zeros,
    arch_step,
    check_finite,
    first_order_arch_gradients,
    make_search_optimizers,
    unrolled_arch_gradients,
    weight_step,
)
from ..nas.identity import check_resume
from ..train import spike_summary
from ..validation import ConfigError, check_choice, check_range
from .cell_spikes import nos_per_cell
from .genotype import Genotype, genotype_to_dict
from .layout import Layout, layout_to_dict
from .search_state import (
    Resumed,
    checkpoint_state,
    open_checkpoint,
    restore,
    save_bilevel_checkpoint,
    search_identity,
)


class SearchDiverged(BilevelDiverged):
    """A search loss became NaN or infinite."""


@dataclass(frozen=True)
class SearchConfig(BilevelConfig):
    """Hyper-parameters of a search (defaults: DARTS): the optimizers of
    :class:`~snnlib.nas.bilevel_steps.BilevelConfig` (``w_*``, ``grad_clip``, ``arch_*``,
    ``order``, ``xi``, ``fd_eps``) and the loop's ``epochs``, weight-only warm-up
    ``arch_start_epoch``, ``label_smoothing``, step cap ``max_batches``, the per-epoch
    evaluation's ``spike_batches``, ``eval_batches`` and ``eval_bn``."""

    epochs: int = 50
    arch_start_epoch: int = 0  # epochs of weight-only warm-up before arch steps
    label_smoothing: float = 0.0
    max_batches: int | None = None  # cap on search steps per epoch
    spike_batches: int | None = 2  # batches per split for the per-epoch NoS (None: all)
    eval_batches: int | None = None  # batches of validation data per epoch (None: all)
    eval_bn: str = "batch"  # supernet evaluation: BN batch or running statistics

    def __post_init__(self):
        check_range("epochs", self.epochs, 0, None, integer=True)
        super().__post_init__()
        check_range("arch_start_epoch", self.arch_start_epoch, 0, None, integer=True)
        check_choice("eval_bn", self.eval_bn, ("batch", "running"))

    def to_dict(self) -> dict:
        """The config as plain JSON data, ``epochs`` first (the order of the result files)."""
        d = asdict(self)
        d["arch_betas"] = list(self.arch_betas)
        return {"epochs": d.pop("epochs"), **d}


# -- divergence --------------------------------------------------------------------------------


def _check_finite(
    loss: torch.Tensor, what: str, where: str, checkpoint: Path | None, last_epoch: int
) -> None:
    if checkpoint is None:
        kept = "no checkpoint file was given"
    elif last_epoch > 0:
        kept = f"the last good checkpoint (after epoch {last_epoch}) is kept at {checkpoint}"
    else:
        kept = "no checkpoint had been written yet"
    check_finite(loss, what, where, kept, SearchDiverged)


# -- one epoch: steps, evaluation, record ----------------------------------------------------


@dataclass
class EpochSteps:
    """What the search steps of one epoch measured: running losses and accuracies of the
    weight steps (``train``) and the architecture steps (``arch``), and each step's time."""

    lr: float
    arch: bool  # architecture steps were taken (not a warm-up epoch)
    train_loss: float = 0.0
    train_correct: int = 0
    train_n: int = 0
    arch_loss: float = 0.0
    arch_correct: int = 0
    arch_n: int = 0
    step_times: list[float] = field(default_factory=list)

    def record(self) -> dict:
        """The running means (``arch_*`` None in a warm-up epoch)."""
        return {
            "train_loss": self.train_loss / max(self.train_n, 1),
            "train_acc": self.train_correct / max(self.train_n, 1),
            "arch_loss": self.arch_loss / self.arch_n if self.arch_n else None,
            "arch_acc": self.arch_correct / self.arch_n if self.arch_n else None,
        }


def _to(batch, device, encoder):
    x, y = batch
    return encoder(x.to(device)), y.to(device)


@dataclass
class SearchRun:
    """Everything a search epoch works on: the supernet, its data, optimizers and loss."""

    model: nn.Module
    weight_loader: DataLoader
    arch_loader: DataLoader
    encoder: Encoder
    cfg: SearchConfig
    device: torch.device
    criterion: nn.Module
    w_opt: torch.optim.Optimizer
    a_opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler
    n_steps: int
    checkpoint: Path | None = None
    meter: object = None  # the dry run's loop (:func:`snnlib.dryrun.loop`); None without


def run_epoch_steps(run: SearchRun, epoch: int, epochs_done: int, on_step=None) -> EpochSteps:
    """The search steps of epoch ``epoch`` (from 0): per step one architecture step (from
    ``cfg.arch_start_epoch`` on) and one weight step, then one scheduler step.

    ``epochs_done`` (epochs already in the history) names the last good checkpoint in the
    :class:`SearchDiverged` message; ``on_step()`` is called after every step (progress).
    """
    cfg = run.cfg
    for loader in (run.weight_loader, run.arch_loader):
        if hasattr(loader.sampler, "set_epoch"):
            loader.sampler.set_epoch(epoch)
    lr = float(run.w_opt.param_groups[0]["lr"])
    xi = cfg.xi if cfg.xi is not None else lr
    stats = EpochSteps(lr=lr, arch=epoch >= cfg.arch_start_epoch)
    run.model.train()
    for step, (wb, ab) in enumerate(zip(run.weight_loader, run.arch_loader)):
        if step >= run.n_steps or (run.meter is not None and run.meter.done()):
            break
        where = f"epoch {epoch + 1}, step {step + 1}"
        with run.meter.step() if run.meter is not None else nullcontext():
            xw, yw = _to(wb, run.device, run.encoder)
            t0 = time.perf_counter()
            if stats.arch:
                xa, ya = _to(ab, run.device, run.encoder)
                a_loss, a_out = arch_step(
                    run.model,
                    run.a_opt,
                    run.criterion,
                    xa,
                    ya,
                    order=cfg.order,
                    x_train=xw,
                    y_train=yw,
                    xi=xi,
                    fd_eps=cfg.fd_eps,
                )
                _check_finite(a_loss, "architecture", where, run.checkpoint, epochs_done)
                stats.arch_loss += float(a_loss) * len(ya)
                stats.arch_correct += int((a_out.argmax(1) == ya).sum())
                stats.arch_n += len(ya)
            w_loss, w_out = weight_step(run.model, run.w_opt, run.criterion, xw, yw, cfg.grad_clip)
            _check_finite(w_loss, "weight", where, run.checkpoint, epochs_done)
        stats.step_times.append(time.perf_counter() - t0)
        stats.train_loss += float(w_loss) * len(yw)
        stats.train_correct += int((w_out.argmax(1) == yw).sum())
        stats.train_n += len(yw)
        if on_step is not None:
            on_step()
    run.sched.step()
    return stats


#: ``evaluate(run, eval_loader) -> dict`` of per-epoch entries, called after each epoch's steps.
EpochEvaluation = Callable[[SearchRun, DataLoader], dict]

#: Entries of an evaluation listed with the losses, before the architecture record.
_LEADING = ("val_loss", "val_acc")


def spike_evaluation(run: SearchRun, eval_loader: DataLoader) -> dict:
    """The default per-epoch evaluation: accuracy, NoS (total and per cell), firing rate,
    SOPs and energy per image, on the first ``cfg.spike_batches`` batches of the weight half
    (``*_train``) and ``cfg.eval_batches`` batches of ``eval_loader`` (``*_val``, with
    ``val_loss`` and ``val_acc``), with batch-norm statistics ``cfg.eval_bn``."""
    cfg = run.cfg
    train_spk = spike_summary(
        run.model,
        run.weight_loader,
        run.encoder,
        run.device,
        cfg.spike_batches,
        bn=cfg.eval_bn,
        per_cell=nos_per_cell,
    )
    val_spk = spike_summary(
        run.model,
        eval_loader,
        run.encoder,
        run.device,
        cfg.eval_batches,
        bn=cfg.eval_bn,
        per_cell=nos_per_cell,
    )
    rec = {"val_loss": val_spk["loss"], "val_acc": val_spk["acc"]}
    for tag, s in (("train", train_spk), ("val", val_spk)):
        rec[f"nos_{tag}"] = s["nos"]
        rec[f"nos_per_cell_{tag}"] = s["nos_per_cell"]
        rec[f"firing_rate_{tag}"] = s["firing_rate"]
        rec[f"sops_{tag}"] = s["sops"]
        rec[f"energy_uj_{tag}"] = s["energy_uj"]
    return rec


def arch_record(model) -> dict:
    """The architecture after an epoch: softmax ``alphas_normal`` / ``alphas_reduce`` (and
    ``depth_weights`` of a macro search), the derived ``genotype`` and ``layout``."""
    rec = {
        f"alphas_{k}": v.cpu().tolist()
        for k, v in model.arch_weights().items()
        if k in ("normal", "reduce")
    }
    depth = model.arch_weights().get("depth")
    if depth is not None:
        rec["depth_weights"] = depth.cpu().tolist()
    rec["genotype"] = genotype_to_dict(model.genotype())
    rec["layout"] = layout_to_dict(model.layout())
    return rec


def epoch_record(
    epoch: int, stats: EpochSteps, evaluation: dict, arch: dict, seconds: float
) -> dict:
    """One history entry: ``epoch`` (from 1), ``lr``, the steps' running means, the
    evaluation's ``val_loss`` / ``val_acc``, the architecture record, the rest of the
    evaluation, ``arch_steps`` and the wall times (``step_seconds``, ``epoch_seconds``)."""
    rec = {"epoch": epoch, "lr": stats.lr, **stats.record()}
    rec.update({k: evaluation[k] for k in _LEADING if k in evaluation})
    rec.update(arch)
    rec.update({k: v for k, v in evaluation.items() if k not in _LEADING})
    rec["arch_steps"] = len(stats.step_times) if stats.arch else 0
    rec["step_seconds"] = float(np.mean(stats.step_times)) if stats.step_times else None
    rec["epoch_seconds"] = seconds
    return rec


# -- the search ------------------------------------------------------------------------------


@dataclass
class BilevelResult:
    """What a search returns: the final genotype and layout, the per-epoch history, times."""

    genotype: Genotype
    layout: Layout
    history: list[dict]
    seconds: float
    checkpoint: Path | None = None
    resumed_from_epoch: int = 0
    arch_weights: dict = field(default_factory=dict)

    @property
    def arch_steps(self) -> int:
        """Architecture steps taken over all epochs (none in weight-only warm-up epochs)."""
        return int(sum(h["arch_steps"] for h in self.history))

    @property
    def step_seconds(self) -> float:
        """Mean wall time of one search step (architecture + weight step) over all epochs."""
        vals = [h["step_seconds"] for h in self.history if h.get("step_seconds") is not None]
        return float(np.mean(vals)) if vals else float("nan")


def _steps_per_epoch(weight_loader, arch_loader, cfg: SearchConfig) -> int:
    n_steps = min(len(weight_loader), len(arch_loader))
    if cfg.max_batches is not None:
        n_steps = min(n_steps, cfg.max_batches)
    if n_steps == 0:
        raise ConfigError("the weight or architecture loader is empty")
    return n_steps


def search(
    model,
    weight_loader,
    arch_loader,
    encoder: Encoder,
    cfg: SearchConfig,
    *,
    val_loader=None,
    device: str | torch.device = "cpu",
    checkpoint: str | Path | None = None,
    resume: bool | str = "auto",
    identity: dict | None = None,
    callbacks: Sequence[Callable[[int, dict], None]] = (),
    evaluate: EpochEvaluation = spike_evaluation,
    progress: bool = True,
    desc: str = "search",
) -> BilevelResult:
    """Run the bilevel search for ``cfg.epochs`` epochs.

    Args:
        model: a supernet with ``arch_parameters()``, ``weight_parameters()``,
            ``named_weight_parameters()``, ``arch_weights()``, ``genotype()``, ``layout()``.
        weight_loader, arch_loader: the two halves of the training data (:func:`search_loaders`).
        encoder: batch -> ``[T, B, ...]``.
        val_loader: held-out data for the per-epoch validation accuracy and NoS (default: the
            architecture half).
        checkpoint: file written after every epoch (with the record of the settings).
        resume: ``"auto"`` (default) continues from a compatible checkpoint and moves an
            incompatible one aside; ``True`` refuses an incompatible one (a ConfigError
            listing the differing fields); ``False`` starts afresh, moving an existing one
            aside (:func:`~snnlib.darts.search_state.open_checkpoint`).
        identity: the settings beyond ``cfg`` that determine the search (supernet, seed,
            data, scale), recorded in the checkpoint and compared on resume.
        callbacks: ``f(epoch, record)`` called after each epoch's checkpoint (epoch counts from 1).
        evaluate: the per-epoch evaluation, ``evaluate(run, eval_loader) -> dict`` of history
            entries (default :func:`spike_evaluation`).

    History (one dict per epoch, :func:`epoch_record`): ``lr``, ``train_loss/acc`` (weight
    steps, running), ``arch_loss/acc`` (architecture steps, running), softmax
    ``alphas_normal`` / ``alphas_reduce`` (and ``depth_weights``), ``genotype``, ``layout``,
    what ``evaluate`` returns (by default ``val_loss/acc``, NoS total and per cell, SOPs and
    energy per image on training (``*_train``) and validation (``*_val``) data), and wall
    times (``step_seconds``, ``epoch_seconds``).
    """
    if not isinstance(cfg, SearchConfig):
        raise ConfigError("cfg must be a SearchConfig")
    check_resume(resume)
    record = search_identity(cfg, identity)
    device = torch.device(device)
    model.to(device)
    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    w_opt, sched, a_opt = make_search_optimizers(model, cfg)
    start = Resumed()
    found = open_checkpoint(ckpt_path, resume, record, model)
    if found is not None:
        start = restore(ckpt_path, found, model, w_opt, a_opt, sched)
    history = start.history
    seconds = start.seconds  # a finished search resumed returns its own time

    run = SearchRun(
        model=model,
        weight_loader=weight_loader,
        arch_loader=arch_loader,
        encoder=encoder,
        cfg=cfg,
        device=device,
        criterion=criterion,
        w_opt=w_opt,
        a_opt=a_opt,
        sched=sched,
        n_steps=_steps_per_epoch(weight_loader, arch_loader, cfg),
        checkpoint=ckpt_path,
    )
    if dryrun.active():  # a dry run: its first steps, measured
        run.meter = dryrun.loop("search", run.n_steps * (cfg.epochs - start.epoch))
    eval_loader = val_loader if val_loader is not None else arch_loader
    t_start = time.perf_counter()
    bar = tqdm(
        total=run.n_steps * cfg.epochs,
        initial=run.n_steps * start.epoch,
        desc=desc,
        disable=not progress,
        leave=False,
    )
    try:
        for epoch in range(start.epoch, cfg.epochs):
            if run.meter is not None and run.meter.done():
                break
            t_epoch = time.perf_counter()
            stats = run_epoch_steps(run, epoch, len(history), on_step=lambda: bar.update(1))
            with dryrun.repeated(cfg.epochs - start.epoch):  # a dry run: one of the epochs'
                evaluation = evaluate(run, eval_loader)
            rec = epoch_record(
                epoch + 1, stats, evaluation, arch_record(model), time.perf_counter() - t_epoch
            )
            history.append(rec)
            seconds = start.seconds + time.perf_counter() - t_start
            bar.set_postfix(
                train=f"{rec['train_acc']:.3f}", val=f"{rec.get('val_acc', float('nan')):.3f}"
            )
            if ckpt_path is not None:
                state = checkpoint_state(
                    epoch=epoch + 1,
                    cfg=cfg,
                    model=model,
                    w_opt=w_opt,
                    a_opt=a_opt,
                    sched=sched,
                    history=history,
                    seconds=seconds,
                    identity=record,
                )
                save_bilevel_checkpoint(ckpt_path, state)
            for cb in callbacks:
                cb(epoch + 1, rec)
    finally:
        bar.close()
    return BilevelResult(
        genotype=model.genotype(),
        layout=model.layout(),
        history=history,
        seconds=seconds,
        checkpoint=ckpt_path,
        resumed_from_epoch=start.epoch,
        arch_weights={k: v.cpu().tolist() for k, v in model.arch_weights().items()},
    )
