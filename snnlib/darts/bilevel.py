r"""The bilevel search loop of (MA-)DARTS: weights on one half of the training data,
architecture parameters on the other.

The search solves

.. math::

    \min_{\alpha}\; \mathcal{L}_{\text{val}}\bigl(w^*(\alpha), \alpha\bigr)
    \quad\text{s.t.}\quad w^*(\alpha) = \arg\min_w \mathcal{L}_{\text{train}}(w, \alpha),

where "train" and "val" are the two halves of the training split (a seeded, deterministic
partition: :func:`split_indices`). It alternates one architecture step (on an architecture
batch) and one weight step (on a weight batch), as DARTS does.

**First order** (default) takes :math:`w^*(\alpha) \approx w`:
:math:`\nabla_\alpha \mathcal{L}_{\text{val}}(w, \alpha)`.

**Second order** unrolls one virtual SGD step :math:`w' = w - \xi \nabla_w \mathcal{L}_{\text{train}}(w, \alpha)`:

.. math::

    \nabla_\alpha \mathcal{L}_{\text{val}}(w', \alpha)
    - \xi\, \nabla^2_{\alpha, w} \mathcal{L}_{\text{train}}(w, \alpha)\, \nabla_{w'} \mathcal{L}_{\text{val}}(w', \alpha),

with the Hessian-vector product by central finite differences,
:math:`\nabla^2_{\alpha,w}\mathcal{L}\,v \approx \frac{\nabla_\alpha \mathcal{L}(w^+, \alpha) - \nabla_\alpha \mathcal{L}(w^-, \alpha)}{2\epsilon}`,
:math:`w^\pm = w \pm \epsilon v`, :math:`\epsilon = 0.01 / \lVert v \rVert_2` (DARTS' choice). ``xi``
defaults to the current weight learning rate, as in DARTS.

Defaults are DARTS': weights SGD (lr 0.025, cosine to 0.001 per epoch, momentum 0.9,
weight decay 3e-4, gradient clip 5) or AdamW; architecture Adam (lr 3e-4, betas
(0.5, 0.999), weight decay 1e-3). The architecture step changes only architecture
parameters: batch-norm running statistics it would update are restored, so they always
describe the weight data.

The supernet is evaluated after every epoch (accuracy, NoS per cell, SOPs, energy on training
and validation data) with batch-norm *batch* statistics by default (``eval_bn="batch"``; the
running statistics are left untouched): after a few hundred weight steps they trail the
weights far behind (see :mod:`snnlib.darts.cell_spikes`).

Robustness: a non-finite loss stops the search with :class:`SearchDiverged` (the last
good checkpoint is left untouched); a checkpoint (model, both optimizers, scheduler, RNG
states, history) is written atomically after every epoch, and ``resume=True`` continues
from it with the same result as an uninterrupted run (the data order is a function of
(seed, epoch), see :class:`EpochShuffle`).
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.func import functional_call
from torch.utils.data import DataLoader, Dataset, Sampler, Subset
from tqdm.auto import tqdm

from ..encoding import Encoder
from ..validation import ConfigError, check_choice, check_range
from .cell_spikes import spike_summary
from .genotype import Genotype, genotype_to_dict
from .layout import Layout, layout_to_dict

CHECKPOINT_FORMAT = "snnlib.darts.search/1"
ORDERS = ("first", "second")
W_OPTIMIZERS = ("sgd", "adamw")


class SearchDiverged(FloatingPointError):
    """A search loss became NaN or infinite."""


@dataclass(frozen=True)
class SearchConfig:
    """Hyper-parameters of a search (defaults: DARTS)."""

    epochs: int = 50
    w_optimizer: str = "sgd"
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    grad_clip: float | None = 5.0
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    order: str = "first"
    xi: float | None = None  # unrolled step size; None: the current weight lr
    fd_eps: float = 0.01  # epsilon = fd_eps / ||v||
    arch_start_epoch: int = 0  # epochs of weight-only warm-up before arch steps
    label_smoothing: float = 0.0
    max_batches: int | None = None  # cap on search steps per epoch
    spike_batches: int | None = 2  # batches per split for the per-epoch NoS (None: all)
    eval_batches: int | None = None  # batches of validation data per epoch (None: all)
    eval_bn: str = "batch"  # supernet evaluation: BN batch or running statistics

    def __post_init__(self):
        check_range("epochs", self.epochs, 0, None, integer=True)
        check_choice("w_optimizer", self.w_optimizer, W_OPTIMIZERS)
        check_range("w_lr", self.w_lr, 0.0, None)
        check_range("w_lr_min", self.w_lr_min, 0.0, self.w_lr)
        check_range("arch_lr", self.arch_lr, 0.0, None)
        check_choice("order", self.order, ORDERS)
        check_range("fd_eps", self.fd_eps, 1e-12, None)
        check_range("arch_start_epoch", self.arch_start_epoch, 0, None, integer=True)
        check_choice("eval_bn", self.eval_bn, ("batch", "running"))
        if len(tuple(self.arch_betas)) != 2:
            raise ConfigError(f"arch_betas must be two numbers, got {self.arch_betas!r}")
        object.__setattr__(self, "arch_betas", tuple(float(b) for b in self.arch_betas))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["arch_betas"] = list(self.arch_betas)
        return d


# -- data --------------------------------------------------------------------------------------


def split_indices(n: int, seed: int = 0, fraction: float = 0.5) -> tuple[list[int], list[int]]:
    """Partition ``range(n)`` into weight / architecture indices by a seeded permutation."""
    check_range("fraction", fraction, 0.0, 1.0)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    k = int(round(n * fraction))
    if k == 0 or k == n:
        raise ConfigError(f"splitting {n} items with fraction={fraction} leaves one half empty")
    return sorted(perm[:k]), sorted(perm[k:])


class EpochShuffle(Sampler[int]):
    """A shuffling sampler whose order is a function of ``(seed, epoch)`` only, so that a
    resumed search sees exactly the batches an uninterrupted one would. Call
    :meth:`set_epoch` before each epoch (the search loop does)."""

    def __init__(self, n: int, seed: int = 0):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())


def search_loaders(
    train_set: Dataset, batch_size: int, seed: int = 0, fraction: float = 0.5, num_workers: int = 0
) -> tuple[DataLoader, DataLoader]:
    """Halve a training set into a weight loader and an architecture loader (shuffled per epoch)."""
    w_idx, a_idx = split_indices(len(train_set), seed, fraction)
    loaders = []
    for k, idx in enumerate((w_idx, a_idx)):
        subset = Subset(train_set, idx)
        loaders.append(
            DataLoader(
                subset,
                batch_size=batch_size,
                sampler=EpochShuffle(len(idx), seed + k),
                num_workers=num_workers,
                drop_last=len(idx) % batch_size == 1,
            )
        )
    return loaders[0], loaders[1]


# -- one step of each level ----------------------------------------------------------------------


def _check_finite(
    loss: torch.Tensor, what: str, where: str, checkpoint: Path | None, last_epoch: int
) -> None:
    if torch.isfinite(loss):
        return
    if checkpoint is None:
        kept = "no checkpoint file was given"
    elif last_epoch > 0:
        kept = f"the last good checkpoint (after epoch {last_epoch}) is kept at {checkpoint}"
    else:
        kept = "no checkpoint had been written yet"
    raise SearchDiverged(
        f"{what} loss became {float(loss)} at {where}; the search was stopped and {kept}. "
        "Lower the weight or architecture learning rate, or check the input data."
    )


@contextmanager
def buffers_restored(model: nn.Module):
    """Run a block, then put every buffer (batch-norm running statistics) back as it was."""
    saved = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for b, v in saved:
                b.copy_(v)


def weight_step(
    model, optimizer: torch.optim.Optimizer, criterion, x, y, grad_clip: float | None = None
):
    """One step on the weights; architecture parameters receive no gradient. Returns (loss, logits)."""
    weights = model.weight_parameters()
    out = model(x)
    loss = criterion(out, y)
    if not torch.isfinite(loss):
        return loss.detach(), out.detach()
    optimizer.zero_grad(set_to_none=True)
    loss.backward(inputs=weights)
    if grad_clip:
        nn.utils.clip_grad_norm_(weights, grad_clip)
    optimizer.step()
    return loss.detach(), out.detach()


def first_order_arch_gradients(model, criterion, x, y):
    """:math:`\\nabla_\\alpha \\mathcal{L}_{val}(w, \\alpha)`; returns (loss, logits, grads)."""
    out = model(x)
    loss = criterion(out, y)
    grads = torch.autograd.grad(loss, model.arch_parameters(), allow_unused=True)
    return loss.detach(), out.detach(), grads


def _grads_or_zeros(grads, like):
    return [torch.zeros_like(p) if g is None else g for g, p in zip(grads, like)]


def unrolled_arch_gradients(
    model, criterion, x_train, y_train, x_val, y_val, xi: float, fd_eps: float = 0.01
):
    """Second-order DARTS gradient of the architecture parameters (see the module docstring).

    The model's own parameters are never modified: the unrolled and perturbed weights are
    substituted with :func:`torch.func.functional_call`. Returns (val loss at ``w'``,
    logits, grads).
    """
    named = model.named_weight_parameters()
    names = [n for n, _ in named]
    w = [p for _, p in named]
    arch = model.arch_parameters()

    g_train = _grads_or_zeros(
        torch.autograd.grad(criterion(model(x_train), y_train), w, allow_unused=True), w
    )
    w_unrolled = [(p - xi * g).detach().requires_grad_(True) for p, g in zip(w, g_train)]
    out = functional_call(model, dict(zip(names, w_unrolled)), (x_val,))
    loss_val = criterion(out, y_val)
    grads = torch.autograd.grad(loss_val, arch + w_unrolled, allow_unused=True)
    d_arch = _grads_or_zeros(grads[: len(arch)], arch)
    v = _grads_or_zeros(grads[len(arch) :], w_unrolled)

    norm = torch.sqrt(sum((t.detach() ** 2).sum() for t in v))
    eps = fd_eps / float(norm) if float(norm) > 0 else 0.0
    if eps == 0.0:
        return loss_val.detach(), out.detach(), d_arch

    def arch_grad_at(sign: float):
        params = {n: (p.detach() + sign * eps * vi) for n, p, vi in zip(names, w, v)}
        loss = criterion(functional_call(model, params, (x_train,)), y_train)
        return _grads_or_zeros(torch.autograd.grad(loss, arch, allow_unused=True), arch)

    g_plus, g_minus = arch_grad_at(+1.0), arch_grad_at(-1.0)
    hvp = [(gp - gm) / (2 * eps) for gp, gm in zip(g_plus, g_minus)]
    return loss_val.detach(), out.detach(), [da - xi * h for da, h in zip(d_arch, hvp)]


def arch_step(
    model,
    optimizer: torch.optim.Optimizer,
    criterion,
    x_val,
    y_val,
    *,
    order: str = "first",
    x_train=None,
    y_train=None,
    xi: float = 0.0,
    fd_eps: float = 0.01,
):
    """One step on the architecture parameters; weights and buffers are left as they were.

    Returns (loss, logits). A non-finite loss is returned without stepping.
    """
    with buffers_restored(model):
        if order == "first":
            loss, out, grads = first_order_arch_gradients(model, criterion, x_val, y_val)
        else:
            loss, out, grads = unrolled_arch_gradients(
                model, criterion, x_train, y_train, x_val, y_val, xi, fd_eps
            )
    if not torch.isfinite(loss):
        return loss, out
    optimizer.zero_grad(set_to_none=True)
    for p, g in zip(model.arch_parameters(), grads):
        p.grad = g.detach()
    optimizer.step()
    return loss, out


def make_search_optimizers(model, cfg: SearchConfig):
    """(weight optimizer, cosine scheduler over epochs, architecture optimizer)."""
    weights = model.weight_parameters()
    if cfg.w_optimizer == "sgd":
        w_opt = torch.optim.SGD(
            weights, lr=cfg.w_lr, momentum=cfg.w_momentum, weight_decay=cfg.w_weight_decay
        )
    else:
        w_opt = torch.optim.AdamW(weights, lr=cfg.w_lr, weight_decay=cfg.w_weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        w_opt, T_max=max(cfg.epochs, 1), eta_min=cfg.w_lr_min
    )
    a_opt = torch.optim.Adam(
        model.arch_parameters(),
        lr=cfg.arch_lr,
        betas=cfg.arch_betas,
        weight_decay=cfg.arch_weight_decay,
    )
    return w_opt, sched, a_opt


# -- checkpoints -----------------------------------------------------------------------------------


def rng_state() -> dict:
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, state: dict) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename (atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_checkpoint(path: str | Path) -> dict:
    """Read a search checkpoint (our own file: full unpickling is needed for RNG states)."""
    path = Path(path)
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(f"{path} is not a search checkpoint of format {CHECKPOINT_FORMAT}")
    return state


# -- the loop ----------------------------------------------------------------------------------------


@dataclass
class SearchResult:
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


def _arch_record(model) -> dict:
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


def _to(batch, device, encoder):
    x, y = batch
    return encoder(x.to(device)), y.to(device)


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
    resume: bool = False,
    callbacks: Sequence[Callable[[int, dict], None]] = (),
    progress: bool = True,
    desc: str = "search",
) -> SearchResult:
    """Run the bilevel search for ``cfg.epochs`` epochs.

    Args:
        model: a supernet with ``arch_parameters()``, ``weight_parameters()``,
            ``named_weight_parameters()``, ``arch_weights()``, ``genotype()``, ``layout()``.
        weight_loader, arch_loader: the two halves of the training data (:func:`search_loaders`).
        encoder: batch -> ``[T, B, ...]``.
        val_loader: held-out data for the per-epoch validation accuracy and NoS (default: the
            architecture half).
        checkpoint: file written after every epoch; ``resume=True`` continues from it.
        callbacks: ``f(epoch, record)`` called after each epoch's checkpoint (epoch counts from 1).

    History (one dict per epoch): ``lr``, ``train_loss/acc`` (weight steps, running),
    ``arch_loss/acc`` (architecture steps, running), ``val_loss/acc``, softmax ``alphas_normal``
    / ``alphas_reduce`` (and ``depth_weights``), ``genotype``, ``layout``, NoS total and per
    cell, SOPs and energy per image on training (``*_train``) and validation (``*_val``)
    data, and wall times (``step_seconds``, ``epoch_seconds``).
    """
    if not isinstance(cfg, SearchConfig):
        raise ConfigError("cfg must be a SearchConfig")
    device = torch.device(device)
    model.to(device)
    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    w_opt, sched, a_opt = make_search_optimizers(model, cfg)
    history: list[dict] = []
    start_epoch, elapsed_before = 0, 0.0

    if resume and ckpt_path is not None and ckpt_path.exists():
        state = load_checkpoint(ckpt_path)
        if state["config"] != cfg.to_dict():
            diff = sorted(k for k in cfg.to_dict() if state["config"].get(k) != cfg.to_dict()[k])
            raise ConfigError(
                f"checkpoint {ckpt_path} was written with a different search config "
                f"(differs in {diff}); pass resume=False to start afresh"
            )
        try:
            model.load_state_dict(state["model"])
        except RuntimeError as exc:
            raise ConfigError(f"checkpoint {ckpt_path} does not fit this supernet: {exc}") from exc
        w_opt.load_state_dict(state["w_opt"])
        a_opt.load_state_dict(state["a_opt"])
        sched.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        history = list(state["history"])
        start_epoch = int(state["epoch"])
        elapsed_before = float(state.get("seconds", 0.0))

    n_steps = min(len(weight_loader), len(arch_loader))
    if cfg.max_batches is not None:
        n_steps = min(n_steps, cfg.max_batches)
    if n_steps == 0:
        raise ConfigError("the weight or architecture loader is empty")
    eval_loader = val_loader if val_loader is not None else arch_loader
    t_start = time.perf_counter()
    bar = tqdm(
        total=n_steps * cfg.epochs,
        initial=n_steps * start_epoch,
        desc=desc,
        disable=not progress,
        leave=False,
    )
    try:
        for epoch in range(start_epoch, cfg.epochs):
            t_epoch = time.perf_counter()
            for loader in (weight_loader, arch_loader):
                if hasattr(loader.sampler, "set_epoch"):
                    loader.sampler.set_epoch(epoch)
            lr = float(w_opt.param_groups[0]["lr"])
            xi = cfg.xi if cfg.xi is not None else lr
            do_arch = epoch >= cfg.arch_start_epoch
            sums = dict(
                train_loss=0.0, train_correct=0, train_n=0, arch_loss=0.0, arch_correct=0, arch_n=0
            )
            step_times = []
            model.train()
            for step, (wb, ab) in enumerate(zip(weight_loader, arch_loader)):
                if step >= n_steps:
                    break
                where = f"epoch {epoch + 1}, step {step + 1}"
                xw, yw = _to(wb, device, encoder)
                t0 = time.perf_counter()
                if do_arch:
                    xa, ya = _to(ab, device, encoder)
                    a_loss, a_out = arch_step(
                        model,
                        a_opt,
                        criterion,
                        xa,
                        ya,
                        order=cfg.order,
                        x_train=xw,
                        y_train=yw,
                        xi=xi,
                        fd_eps=cfg.fd_eps,
                    )
                    _check_finite(a_loss, "architecture", where, ckpt_path, len(history))
                    sums["arch_loss"] += float(a_loss) * len(ya)
                    sums["arch_correct"] += int((a_out.argmax(1) == ya).sum())
                    sums["arch_n"] += len(ya)
                w_loss, w_out = weight_step(model, w_opt, criterion, xw, yw, cfg.grad_clip)
                _check_finite(w_loss, "weight", where, ckpt_path, len(history))
                step_times.append(time.perf_counter() - t0)
                sums["train_loss"] += float(w_loss) * len(yw)
                sums["train_correct"] += int((w_out.argmax(1) == yw).sum())
                sums["train_n"] += len(yw)
                bar.update(1)
            sched.step()

            train_spk = spike_summary(
                model, weight_loader, encoder, device, cfg.spike_batches, bn=cfg.eval_bn
            )
            val_spk = spike_summary(
                model, eval_loader, encoder, device, cfg.eval_batches, bn=cfg.eval_bn
            )
            rec = {
                "epoch": epoch + 1,
                "lr": lr,
                "train_loss": sums["train_loss"] / max(sums["train_n"], 1),
                "train_acc": sums["train_correct"] / max(sums["train_n"], 1),
                "arch_loss": sums["arch_loss"] / sums["arch_n"] if sums["arch_n"] else None,
                "arch_acc": sums["arch_correct"] / sums["arch_n"] if sums["arch_n"] else None,
                "val_loss": val_spk["loss"],
                "val_acc": val_spk["acc"],
                **_arch_record(model),
            }
            for tag, s in (("train", train_spk), ("val", val_spk)):
                rec[f"nos_{tag}"] = s["nos"]
                rec[f"nos_per_cell_{tag}"] = s["nos_per_cell"]
                rec[f"firing_rate_{tag}"] = s["firing_rate"]
                rec[f"sops_{tag}"] = s["sops"]
                rec[f"energy_uj_{tag}"] = s["energy_uj"]
            rec["arch_steps"] = len(step_times) if do_arch else 0
            rec["step_seconds"] = float(np.mean(step_times)) if step_times else None
            rec["epoch_seconds"] = time.perf_counter() - t_epoch
            history.append(rec)
            bar.set_postfix(train=f"{rec['train_acc']:.3f}", val=f"{rec['val_acc']:.3f}")

            if ckpt_path is not None:
                save_checkpoint(
                    ckpt_path,
                    {
                        "format": CHECKPOINT_FORMAT,
                        "epoch": epoch + 1,
                        "config": cfg.to_dict(),
                        "model": model.state_dict(),
                        "w_opt": w_opt.state_dict(),
                        "a_opt": a_opt.state_dict(),
                        "scheduler": sched.state_dict(),
                        "rng": rng_state(),
                        "history": history,
                        "seconds": elapsed_before + time.perf_counter() - t_start,
                    },
                )
            for cb in callbacks:
                cb(epoch + 1, rec)
    finally:
        bar.close()
    return SearchResult(
        genotype=model.genotype(),
        layout=model.layout(),
        history=history,
        seconds=elapsed_before + time.perf_counter() - t_start,
        checkpoint=ckpt_path,
        resumed_from_epoch=start_epoch,
        arch_weights={k: v.cpu().tolist() for k, v in model.arch_weights().items()},
    )
