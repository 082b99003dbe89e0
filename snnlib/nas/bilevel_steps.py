r"""The steps of a bilevel (DARTS) search, for any supernet: one step on the weights, one on the
architecture parameters (first or second order), and DARTS' optimizers.

A differentiable search solves

.. math::

    \min_{\alpha}\; \mathcal{L}_{\text{val}}\bigl(w^*(\alpha), \alpha\bigr)
    \quad\text{s.t.}\quad w^*(\alpha) = \arg\min_w \mathcal{L}_{\text{train}}(w, \alpha),

where "train" and "val" are two disjoint parts of the training data (the weight part and the
architecture part). A search loop alternates one architecture step (on an architecture batch)
and one weight step (on a weight batch), as DARTS does; the loops live with their methods
(:mod:`snnlib.darts.bilevel`, :mod:`snnlib.spikenas.darts_search`), the steps here.

**First order** takes :math:`w^*(\alpha) \approx w`:
:math:`\nabla_\alpha \mathcal{L}_{\text{val}}(w, \alpha)`.

**Second order** unrolls one virtual SGD step
:math:`w' = w - \xi \nabla_w \mathcal{L}_{\text{train}}(w, \alpha)`:

.. math::

    \nabla_\alpha \mathcal{L}_{\text{val}}(w', \alpha)
    - \xi\, \nabla^2_{\alpha, w} \mathcal{L}_{\text{train}}(w, \alpha)\,
      \nabla_{w'} \mathcal{L}_{\text{val}}(w', \alpha),

with the Hessian-vector product by central finite differences,

.. math::

    \nabla^2_{\alpha,w}\mathcal{L}\,v \approx \frac{
        \nabla_\alpha \mathcal{L}(w^+, \alpha) - \nabla_\alpha \mathcal{L}(w^-, \alpha)
    }{2\epsilon},

:math:`w^\pm = w \pm \epsilon v`, :math:`\epsilon = 0.01 / \lVert v \rVert_2` (DARTS'
choice); DARTS sets :math:`\xi` to the current weight learning rate.

The architecture step changes only architecture parameters: it runs with batch-norm batch
statistics and restores every buffer afterwards
(:func:`snnlib.layers.batch_norm_statistics`), so running statistics always describe the
weight data.

**The model protocol.** A supernet is an ``nn.Module`` called as ``model(x) -> logits`` with
``arch_parameters()`` (list of the architecture tensors), ``weight_parameters()`` (every other
parameter) and ``named_weight_parameters()`` (the same with their names, for
:func:`torch.func.functional_call`). Nothing else is assumed.

Defaults are DARTS': weights SGD (lr 0.025, cosine to 0.001 over the epochs, momentum 0.9,
weight decay 3e-4, gradient clip 5) or AdamW; architecture Adam (lr 3e-4, betas (0.5, 0.999),
weight decay 1e-3) (:func:`make_search_optimizers`). They live once, in
:class:`BilevelConfig`, which every method's search configuration extends
(:class:`snnlib.darts.bilevel.SearchConfig`, :class:`snnlib.spikenas.darts_search.DartsConfig`).

**Divergence.** A search loop passes every step's loss to :func:`check_finite`: a NaN or
infinite loss stops the search with a :class:`BilevelDiverged` (each method raises its own
subclass) that says where it happened, which checkpoint is kept and what to change.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from ..layers import batch_norm_statistics
from ..validation import ConfigError, check_choice, check_range

ORDERS = ("first", "second")
W_OPTIMIZERS = ("sgd", "adamw")


@dataclass(frozen=True)
class BilevelConfig:
    """The optimizers of a bilevel search (DARTS' defaults, see the module docstring): the
    weights' optimizer ``w_optimizer`` (``sgd`` or ``adamw``) with ``w_lr`` (cosine to
    ``w_lr_min`` over the epochs), ``w_momentum``, ``w_weight_decay`` and gradient clip
    ``grad_clip`` (None: none); the architecture's Adam with ``arch_lr``, ``arch_betas`` and
    ``arch_weight_decay``; the ``order`` of the architecture gradient and, for the second
    order, the virtual step ``xi`` (None: the current weight lr) and ``fd_eps`` (epsilon =
    fd_eps / ||v||). Invalid values are a :class:`ConfigError` naming the field.

    >>> BilevelConfig().w_lr, BilevelConfig(arch_betas=[0.9, 0.99]).arch_betas
    (0.025, (0.9, 0.99))
    >>> BilevelConfig(order="third")
    Traceback (most recent call last):
    ...
    snnlib.validation.ConfigError: order='third' is not allowed; choose one of ['first', 'second']
    """

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
    xi: float | None = None
    fd_eps: float = 0.01

    def __post_init__(self):
        check_choice("w_optimizer", self.w_optimizer, W_OPTIMIZERS)
        check_range("w_lr", self.w_lr, 0.0, None)
        check_range("w_lr_min", self.w_lr_min, 0.0, self.w_lr)
        check_range("w_momentum", self.w_momentum, 0.0, 1.0)
        check_range("w_weight_decay", self.w_weight_decay, 0.0, None)
        if self.grad_clip is not None:
            check_range("grad_clip", self.grad_clip, 0.0, None)
        check_range("arch_lr", self.arch_lr, 0.0, None)
        if len(tuple(self.arch_betas)) != 2:
            raise ConfigError(f"arch_betas must be two numbers, got {self.arch_betas!r}")
        for b in self.arch_betas:
            check_range("arch_betas", b, 0.0, 0.999999)
        object.__setattr__(self, "arch_betas", tuple(float(b) for b in self.arch_betas))
        check_range("arch_weight_decay", self.arch_weight_decay, 0.0, None)
        check_choice("order", self.order, ORDERS)
        if self.xi is not None:
            check_range("xi", self.xi, 0.0, None)
        check_range("fd_eps", self.fd_eps, 1e-12, None)


class BilevelDiverged(FloatingPointError):
    """A bilevel search's loss became NaN or infinite (each method raises a subclass)."""


def check_finite(
    loss: torch.Tensor, what: str, where: str, kept: str, error: type = BilevelDiverged
) -> None:
    """Nothing when ``loss`` is finite; else ``error`` (a :class:`BilevelDiverged`) saying
    that the ``what`` loss became NaN or infinite at ``where``, that the search was stopped,
    what ``kept`` (the checkpoint left), and what to change.

    >>> check_finite(torch.tensor(0.5), "weight", "epoch 1, step 1", "no checkpoint")
    >>> try:
    ...     check_finite(torch.tensor(float("inf")), "weight", "epoch 1, step 2", "no file kept")
    ... except BilevelDiverged as err:
    ...     print(str(err)[:72])
    weight loss became inf at epoch 1, step 2; the search was stopped and no
    """
    if torch.isfinite(loss):
        return
    raise error(
        f"{what} loss became {float(loss)} at {where}; the search was stopped and {kept}. "
        "Lower the weight or architecture learning rate, or check the input data."
    )


def weight_step(
    model, optimizer: torch.optim.Optimizer, criterion, x, y, grad_clip: float | None = None
):
    """One step on the weights; architecture parameters receive no gradient.

    Returns (loss, logits), detached; a non-finite loss is returned without stepping."""
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
    """``grads`` with every ``None`` (a parameter the loss does not reach) as zeros."""
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

    ``order="second"`` needs the weight batch ``x_train, y_train`` and the virtual step
    ``xi``. Returns (loss, logits). A non-finite loss is returned without stepping.
    """
    with batch_norm_statistics(model, "batch"):
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


def make_search_optimizers(model, cfg):
    """(weight optimizer, cosine scheduler over ``cfg.epochs``, architecture optimizer).

    ``cfg`` is any config with ``epochs``, ``w_optimizer`` (``"sgd"`` or ``"adamw"``), ``w_lr``,
    ``w_lr_min``, ``w_momentum``, ``w_weight_decay``, ``arch_lr``, ``arch_betas`` and
    ``arch_weight_decay`` (DARTS' defaults: see the module docstring); the scheduler steps once
    per epoch."""
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
        betas=tuple(cfg.arch_betas),
        weight_decay=cfg.arch_weight_decay,
    )
    return w_opt, sched, a_opt
