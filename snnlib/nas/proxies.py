r"""Training-free architecture scores ("proxies") that need only an untrained network.

- :func:`sahd_score`: SNASNet's *sparsity-aware Hamming distance* (Kim et al., ECCV 2022).
  For every LIF layer and time step, the binary spike patterns of a mini-batch
  :math:`x_i \in \{0,1\}^N` give Hamming distances :math:`H_{ij}`; with firing rates
  :math:`r_i = |x_i| / N`, the distance expected by chance is
  :math:`E_{ij} = N\,[r_i(1-r_j) + (1-r_i)r_j]`, and the kernel accumulates

  .. math:: K_{ij} \mathrel{+}= N - \frac{0.5}{E_{ij} + 10^{-3}}\, H_{ij},

  averaged over (layer, step) calls. Score :math:`\log|\det K|`, averaged over mini-batches.
  Networks that map different inputs to distinguishable, non-degenerate spike patterns
  score high.
- :func:`mean_firing_rate`, :func:`parameter_count` and :func:`random_score`: the simple
  baselines a proxy must beat.
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn

from ..models import count_parameters
from ..recording import record_spikes


def sahd_kernel(spikes: dict[str, torch.Tensor]) -> torch.Tensor:
    """The SAHD kernel ``[B, B]`` from recorded spikes (layer -> ``[T, B, N]``)."""
    K = None
    calls = 0
    for s in spikes.values():
        x = (s > 0).to(torch.float64)  # [T, B, N]
        n = x.shape[-1]
        ones = x.sum(-1)  # [T, B]
        # Hamming distance: |x_i| + |x_j| - 2 x_i.x_j, batched over time steps
        H = ones[:, :, None] + ones[:, None, :] - 2 * x @ x.transpose(1, 2)
        r = ones / n
        E = n * (r[:, :, None] * (1 - r[:, None, :]) + (1 - r[:, :, None]) * r[:, None, :])
        k = (n - 0.5 / (E + 1e-3) * H).sum(0)
        K = k if K is None else K + k
        calls += x.shape[0]
    if K is None:
        raise ValueError("the model has no LIF layer: SAHD needs spikes")
    return K / calls


def sahd_score(model: nn.Module, batches: list[torch.Tensor]) -> float:
    """Mean over mini-batches (each ``[T, B, ...]``) of log|det K_SAHD|; higher is better."""
    scores = []
    for x in batches:
        K = sahd_kernel(record_spikes(model, x))
        _, logdet = torch.linalg.slogdet(K)
        scores.append(float(logdet))
    return sum(scores) / len(scores)


@torch.no_grad()
def mean_firing_rate(model: nn.Module, x: torch.Tensor) -> float:
    """Spikes / (neurons x T x images) over all LIF layers of an untrained net."""
    spikes = record_spikes(model, x)
    total = sum(float(s.sum()) for s in spikes.values())
    count = sum(s.numel() for s in spikes.values())
    return total / max(count, 1)


def parameter_count(model: nn.Module) -> float:
    """Number of trainable parameters (the 'bigger is better' baseline)."""
    return float(count_parameters(model))


def random_score(key: str, seed: int = 0) -> float:
    """A deterministic pseudo-random score in [0, 1) for an architecture key (the null proxy)."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
