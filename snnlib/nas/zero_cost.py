r"""Established zero-cost proxies of ANN NAS, carried over to spiking networks.

Each scores an *untrained* network from one mini-batch (or none); higher is better.

- :func:`grad_norm` (Abdelfattah et al., ICLR 2021): the sum over weight tensors of the L2
  norm of the cross-entropy gradient on one mini-batch,
  :math:`\sum_\ell \lVert \partial L / \partial W_\ell \rVert_2`. In a spiking network the
  gradient passes through the neurons' surrogate derivative, so the score measures how much
  gradient the surrogate lets through at initialisation.
- :func:`synflow` (Tanaka et al., NeurIPS 2020; as a proxy, Abdelfattah et al.): data-free.
  With every parameter replaced by its absolute value, an all-ones input and
  :math:`R = \mathbf{1}^\top f(\mathbf{1})`, the score is
  :math:`\sum_\theta \lvert \theta \odot \partial R / \partial \theta \rvert`, computed in
  float64 with batch norm in evaluation mode (at initialisation an identity map). Spiking
  layers pass the ones-driven currents through their step function, the gradient through
  the surrogate.
- :func:`naswot_score` (Mellor et al., ICML 2021, "NAS without training"): the binary codes
  of a mini-batch are, in a spiking network, the spike patterns of every LIF layer at every
  time step; the kernel :math:`K_{ij} = \sum_{\ell, t} (N_\ell - H^{\ell t}_{ij})` counts the
  units on which two inputs agree, and the score is :math:`\log\lvert\det K\rvert`. SNASNet's
  SAHD (:func:`snnlib.nas.proxies.sahd_score`) is this kernel with a sparsity-aware weight on
  the Hamming distance; NASWOT is the unweighted original.

>>> import torch
>>> from torch import nn
>>> from snnlib.neurons import LIF, NeuronConfig
>>> from snnlib.layers import TimeDistributed
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> net = nn.Sequential(TimeDistributed(nn.Linear(8, 16)), LIF(NeuronConfig(threshold=0.2)),
...                     TimeDistributed(nn.Linear(16, 3)))
>>> class Mean(nn.Module):
...     def __init__(self, body): super().__init__(); self.body = body
...     def forward(self, x): return self.body(x).mean(0)
>>> model = Mean(net)
>>> x = torch.randn(4, 6, 8)  # [T, B, features]
>>> grad_norm(model, x, torch.tensor([0, 1, 2, 0, 1, 2])) > 0
True
>>> synflow(model, (4, 1, 8)) > 0
True
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ..spikes import record_spikes
from .spike_gram import SpikeGram, naswot_from_grams


def grad_norm(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Sum of the L2 norms of the weight gradients of the cross-entropy loss on ``(x, y)``.

    The model runs in training mode (batch statistics, as at the start of training); its
    running statistics and gradients are restored/cleared afterwards.
    """
    net = copy.deepcopy(model)
    net.train()
    net.zero_grad(set_to_none=True)
    loss = F.cross_entropy(net(x), torch.as_tensor(y))
    loss.backward()
    total = 0.0
    for p in net.parameters():
        if p.grad is not None and p.dim() > 1:  # weights of convolutions and linear layers
            total += float(p.grad.detach().norm(2))
    return total


def synflow(model: nn.Module, input_shape: tuple[int, ...]) -> float:
    r"""SynFlow of ``model`` for one all-ones input of ``input_shape`` (batch size included)."""
    net = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad(set_to_none=True)
    out = net(torch.ones(input_shape, dtype=torch.float64))
    out.sum().backward()
    score = 0.0
    for p in net.parameters():
        if p.grad is not None:
            score += float((p.detach() * p.grad).abs().sum())
    return score


def naswot_kernel(spikes: dict[str, torch.Tensor]) -> torch.Tensor:
    """``K_ij = sum over layers and steps of (N - Hamming(s_i, s_j))`` from recorded spikes
    (layer -> ``[T, B, N]``), through each layer's Gram matrix
    (:func:`snnlib.nas.spike_gram.naswot_from_grams`)."""
    return naswot_from_grams(SpikeGram.of(s) for s in spikes.values())


def naswot_score(model: nn.Module, x: torch.Tensor, spikes: dict | None = None) -> float:
    """``log|det K|`` of :func:`naswot_kernel` on the mini-batch ``x`` (or on ``spikes``
    already recorded from it)."""
    if spikes is None:
        spikes = record_spikes(model, x)
    _, logdet = torch.linalg.slogdet(naswot_kernel(spikes))
    return float(logdet)
