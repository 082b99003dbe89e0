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

:data:`PROXIES` names them all with one signature (:func:`get_proxy`); a new score is one
:func:`register_proxy` call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import torch
from torch import nn

from ..models import count_parameters
from ..spikes import record_spikes
from ..validation import ConfigError, check_choice


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


# -- registry -------------------------------------------------------------------------------------
ProxyFn = Callable[..., float]


def _sahd(model: nn.Module, batches: list[torch.Tensor], key: str = "", seed: int = 0) -> float:
    return sahd_score(model, batches)


def _firing_rate(
    model: nn.Module, batches: list[torch.Tensor], key: str = "", seed: int = 0
) -> float:
    return sum(mean_firing_rate(model, x) for x in batches) / len(batches)


def _params(model: nn.Module, batches: list[torch.Tensor], key: str = "", seed: int = 0) -> float:
    return parameter_count(model)


def _random(model: nn.Module, batches: list[torch.Tensor], key: str = "", seed: int = 0) -> float:
    return random_score(key, seed)


PROXIES: dict[str, ProxyFn] = {
    "sahd": _sahd,
    "firing_rate": _firing_rate,
    "params": _params,
    "random": _random,
}
"""Proxy name -> ``score(model, batches, key="", seed=0) -> float`` (higher is better):
``model`` untrained, ``batches`` encoded mini-batches ``[T, B, ...]``, ``key`` the
architecture's identity and ``seed`` the search seed (used by ``random`` only)."""


def register_proxy(name: str, score: ProxyFn) -> None:
    """Add a proxy to :data:`PROXIES` (a name may be registered once).

    >>> register_proxy("zero", lambda model, batches, key="", seed=0: 0.0)
    >>> get_proxy("zero")(None, [])
    0.0
    >>> del PROXIES["zero"]
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"proxy name must be a non-empty string, got {name!r}")
    if name in PROXIES:
        raise ConfigError(f"proxy {name!r} is already registered")
    if not callable(score):
        raise ConfigError(f"proxy {name!r}: score must be callable")
    PROXIES[name] = score


def get_proxy(name: str) -> ProxyFn:
    """The score function of a registered proxy.

    >>> get_proxy("random")(None, [], key="abc") == random_score("abc")
    True
    >>> get_proxy("snip")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snnlib.validation.ConfigError: proxy='snip' is not allowed; choose one of ['firing_rate', ...]
    """
    check_choice("proxy", name, sorted(PROXIES))
    return PROXIES[name]
