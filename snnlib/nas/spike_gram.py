r"""Scores of binary spike patterns that all derive from one Gram matrix per layer and step.

For the binary patterns :math:`x_i \in \{0,1\}^N` of a probe batch at one layer and time
step, the Gram matrix :math:`G = x x^\top` (:math:`G_{ij}` = units where both fire) and the
counts :math:`a_i = |x_i|` give every pairwise quantity the project's spike-pattern scores use:

.. math::

   K_{11} = G,\quad K_{10} = a_i - G,\quad K_{01} = a_j - G,\quad
   K_{00} = N - a_i - a_j + G,\quad H = a_i + a_j - 2G .

So one float32 matrix product per layer (exact: counts below :math:`2^{24}`), batched over
the time steps, serves

- SNASNet's **SAHD** kernel (:func:`sahd_from_grams`, as :func:`snnlib.nas.proxies.sahd_score`
  defines it) and **NASWOT**'s agreement kernel (:func:`naswot_from_grams`);
- the **Hamming RDM** of a layer over all steps, :math:`\sum_t H_t / (T N)`
  (:meth:`SpikeGram.hamming_rdm`, exactly :func:`snnlib.nas.rdm.rdm` of the patterns);
- the MSE-NAS authors' released scorer (:func:`snnlib.nas.lsp.lsp_matrices_from_grams`; its
  test compares it with a plain loop over stimuli, layers and steps).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

EXACT_FLOAT32 = 2**24  # counts up to this are exact in float32 matrix products


@dataclass(frozen=True)
class SpikeGram:
    """One layer's spike patterns reduced to ``gram`` ``[T, B, B]`` (:math:`x x^\\top` per
    step, float64), ``ones`` ``[T, B]`` (spikes per pattern, float64) and ``n`` (units)."""

    gram: torch.Tensor
    ones: torch.Tensor
    n: int

    @classmethod
    def of(cls, spikes: torch.Tensor) -> SpikeGram:
        """From one layer's spikes ``[T, B, ...]`` (binarised: ``> 0``)."""
        b = (spikes.detach() > 0).flatten(2)  # [T, B, N]
        b = b.to(torch.float32 if b.shape[-1] < EXACT_FLOAT32 else torch.float64)
        ones = b.sum(-1).to(torch.float64)
        with torch.autocast(b.device.type, enabled=False):
            gram = b @ b.transpose(1, 2)
        return cls(gram.to(torch.float64), ones, b.shape[-1])

    @property
    def steps(self) -> int:
        return self.gram.shape[0]

    def hamming(self) -> torch.Tensor:
        """``[T, B, B]`` Hamming distances of every pair at every step."""
        return self.ones[:, :, None] + self.ones[:, None, :] - 2 * self.gram

    def hamming_rdm(self) -> torch.Tensor:
        """``[B, B]`` mean Hamming distance per unit and step (zero diagonal)."""
        D = self.hamming().sum(0) / (self.steps * self.n)
        D.fill_diagonal_(0.0)
        return D


def sahd_from_grams(grams: Iterable[SpikeGram]) -> torch.Tensor:
    """SNASNet's SAHD kernel ``[B, B]``, averaged over (layer, step) calls."""
    K, calls = None, 0
    for g in grams:
        H, n = g.hamming(), g.n
        r = g.ones / n
        E = n * (r[:, :, None] * (1 - r[:, None, :]) + (1 - r[:, :, None]) * r[:, None, :])
        k = (n - 0.5 / (E + 1e-3) * H).sum(0)
        K = k if K is None else K + k
        calls += g.steps
    if K is None:
        raise ValueError("the model has no LIF layer: SAHD needs spikes")
    return K / calls


def naswot_from_grams(grams: Iterable[SpikeGram]) -> torch.Tensor:
    """NASWOT's kernel ``[B, B]``: units on which two patterns agree, summed over layers and
    steps, :math:`\\sum_{\\ell,t} (N_\\ell - H^{\\ell t})`."""
    K = None
    for g in grams:
        k = (g.n - g.hamming()).sum(0)
        K = k if K is None else K + k
    if K is None:
        raise ValueError("the model has no LIF layer: NASWOT needs spikes")
    return K
