r"""LSP: the training-free spike-pattern scorer in MSE-NAS's released code, as pure functions.

The only public definition of MSE-NAS's label-free fitness is the function ``LSP`` of BrainCog's
``examples/Structure_Evolution/MSE-NAS/obj.py``. This module computes the same six numbers from
recorded spikes (:func:`snnlib.spikes.record_spikes`), vectorised over time steps, in two
variants: ``"as_released"`` reproduces the released code, bugs included; ``"corrected"`` fixes
them.

**What the released code does.** The candidate network is built untrained and run under
``no_grad`` *without* ``eval()``: batch norm normalises with each probe batch's own statistics.
A forward hook on every spiking layer fires once per layer and time step; each call binarises
the layer's output per stimulus, :math:`x = [\mathrm{out} > 0] \in \{0, 1\}^{B \times N}`
(:math:`B` stimuli, e.g. 128 unlabelled training images; :math:`N` neurons of that layer), and
adds five :math:`B \times B` matrices to running sums. With the counts (exact integers)

.. math::

    n_i = \sum_k x_{ik}, \quad K^{11} = x x^\top, \quad K^{10} = x (1 - x)^\top, \quad
    K^{01} = (1 - x) x^\top, \quad K^{00} = (1 - x)(1 - x)^\top

(:math:`K^{10}_{ij} = n_i - K^{11}_{ij}`, :math:`K^{01}_{ij} = n_j - K^{11}_{ij}`,
:math:`K^{00}_{ij} = N - n_i - n_j + K^{11}_{ij}`), one call contributes:

- **Manhattan / Hamming** (``hamming``), ``nn.PairwiseDistance(p=1)`` whose
  :math:`\varepsilon = 10^{-6}` is added to every difference; row :math:`i` of the released
  matrix is the distance of every stimulus :math:`j` to stimulus :math:`i`:

  .. math::

      M_{ij} = \sum_k \lvert x_{jk} - x_{ik} + \varepsilon \rvert
             = K^{01}_{ij} + K^{10}_{ij} + \varepsilon\,(N - 2 K^{10}_{ij})

  (a difference of :math:`+1, -1, 0` contributes :math:`1 + \varepsilon, 1 - \varepsilon,
  \varepsilon`). For binary spikes this is the Hamming distance plus at most
  :math:`N\varepsilon`; the matrix is not exactly symmetric, its sum is that of its transpose.
- **Cosine similarity** (``cosine``), ``nn.CosineSimilarity(eps=1e-6)``: torch clamps each norm
  to at least :math:`\varepsilon`, so a silent stimulus has cosine 0 (not 0/0) with every
  stimulus, itself included:

  .. math::

      C_{ij} = \frac{K^{11}_{ij}}{\sqrt{n_i n_j}} \ \text{if } n_i n_j > 0, \text{ else } 0.

- **Pearson correlation** (``pearson``), released as ``torch.corrcoef(x / ||x||)``: the Pearson
  correlation between the rows of the L2-normalised patterns. Pearson's correlation is
  invariant to a positive rescaling of either row, so the normalisation changes nothing except
  that a silent row becomes 0/0; a row of zero variance (a silent stimulus, or one that fires at
  every neuron) has an undefined correlation, NaN, with every stimulus. Computed here exactly
  from the counts: centring row :math:`i` gives :math:`x_{ik} - n_i / N`, and the dot product of
  two centred rows divided by their norms is

  .. math::

      P_{ij} = \frac{N K^{11}_{ij} - n_i n_j}{\sqrt{n_i (N - n_i)\, n_j (N - n_j)}}, \qquad
      \text{NaN if } n_i \in \{0, N\} \text{ or } n_j \in \{0, N\},

  clamped to :math:`[-1, 1]` as ``torch.corrcoef`` does (the centred dot product is
  :math:`K^{11}_{ij} - n_i n_j / N`, the squared norm :math:`n_i - n_i^2 / N`). In float32 the
  released code can return a rounding artefact instead of NaN for a row that fires at every
  neuron (its normalised entries minus their computed mean need not be exactly 0); the exact
  arithmetic here always gives NaN.
- **Jaccard-like matrix** (``jaccard``) :math:`J = (K^{11} + K^{00}) / (K^{01} + K^{10} +
  K^{11})`. *Bug:* the released code computes its :math:`K^{11}` as :math:`(1 - x)(1 - x)^\top`,
  i.e. :math:`K^{00}`, so it adds :math:`J = 2 K^{00} / (K^{01} + K^{10} + K^{00})`, which is
  0/0 = NaN only where both stimuli fire at every neuron.
- **SNASNet's kernel with an extra factor N** (``kernel``), :math:`s_i = n_i / N`:

  .. math::

      K_{ij} = N - \frac{0.5\,(K^{01}_{ij} + K^{10}_{ij})}
                        {N\,(s_i (1 - s_j) + (1 - s_i) s_j) + 10^{-3}}
             = N - \frac{0.5\,(K^{01}_{ij} + K^{10}_{ij})}
                        {(n_i (N - n_j) + (N - n_i) n_j) / N + 10^{-3}}.

After the forward pass each sum is divided by the number :math:`c` of hook calls (all layers,
all time steps; with ``spikes`` as returned by :func:`~snnlib.spikes.record_spikes`,
:math:`c = \sum_\ell T_\ell`). *Bug:* the released counter that divides :math:`J` and
:math:`K` is incremented twice per call, so those two are divided by :math:`2c`. *NaN rule:* a
sum is NaN wherever one call was NaN, and the released code then sets the NaN entries of the
Manhattan, cosine and Pearson averages to 0 (only NaN; only Pearson can be NaN of those three);
it does **not** clean :math:`J` or :math:`K` (:math:`K` is never NaN).

Six scalars are returned, each the mean over ``repeats`` = 2 mini-batches:
``lsp_jaccard_sum`` :math:`\sum_{ij} J_{ij}`, ``lsp_jaccard_logdet`` :math:`\log\lvert\det
J\rvert`, ``lsp_hamming_sum`` :math:`\sum_{ij} M_{ij}`, ``lsp_cosine_sum``, ``lsp_pearson_sum``
and ``lsp_kernel_logdet`` :math:`\log\lvert\det K\rvert`. Log-determinants are the ``logabsdet``
of ``torch.linalg.slogdet`` (the sign is dropped, as the released code does; a singular matrix
gives ``-inf``, a NaN entry NaN). The released fitness line that is commented out minimises
``1000 - sum(M)``: **higher** ``lsp_hamming_sum`` **is better** (:data:`LSP_FITNESS`), the more
the spike patterns evoked by different images differ, the fitter.

**Variants.**

- ``"as_released"``: exactly the above, both bugs included; a stimulus that fires at every
  neuron of some layer at some step makes :math:`J` NaN and both Jaccard scalars NaN.
- ``"corrected"``: :math:`K^{11} = x x^\top` in :math:`J`; :math:`J` and :math:`K` divided by
  :math:`c`; :math:`J` is undefined (NaN) where its denominator is 0 (both stimuli silent,
  where the formula would give :math:`N / 0`), and the NaN rule (NaN entries set to 0 at the
  end) applies to all five matrices. Everything else is as released.

Every other difference from the released code is float precision: counts are exact, the
matrices are float64 here, float32 there.

Example:
    >>> import torch
    >>> x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])      # 2 stimuli, N = 3
    >>> spikes = {"lif": x.unsqueeze(0)}                           # one layer, T = 1
    >>> m = lsp_matrices(spikes, variant="corrected")
    >>> m["hamming"].round(decimals=4).tolist()                    # Hamming 2 off the diagonal
    [[0.0, 2.0], [2.0, 0.0]]
    >>> m["cosine"][0, 1].item(), m["jaccard"][0, 1].item()        # 1 / 2; (1 + 0) / (1 + 1 + 1)
    (0.5, 0.3333333333333333)
    >>> s = lsp_scalars([spikes, spikes])                          # as_released, 2 repeats
    >>> round(s[LSP_FITNESS], 4), round(s["lsp_cosine_sum"], 4)
    (4.0, 3.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import torch
from torch import nn

from ..spikes import record_spikes
from ..validation import ConfigError, check_choice
from .spike_gram import SpikeGram

VARIANTS = ("as_released", "corrected")
MATRICES = ("jaccard", "hamming", "cosine", "pearson", "kernel")
SCALARS = (
    "lsp_jaccard_sum",
    "lsp_jaccard_logdet",
    "lsp_hamming_sum",
    "lsp_cosine_sum",
    "lsp_pearson_sum",
    "lsp_kernel_logdet",
)
LSP_FITNESS = "lsp_hamming_sum"
"""The scalar the released (commented-out) fitness uses; higher is better."""
REPEATS = 2
"""Mini-batches per score in the released code (each scalar is their mean)."""
PAIRWISE_EPS = 1e-6  # nn.PairwiseDistance's eps, added to every difference
KERNEL_EPS = 1e-3  # added to the kernel's normaliser


def _check_variant(variant: str) -> str:
    return check_choice("variant", variant, VARIANTS)


def _grams(spikes: Mapping[str, torch.Tensor]) -> list[SpikeGram]:
    """Binarise every layer's ``[T, B, ...]`` output into its Gram matrices (one batched
    product per layer, exact), checking shapes and that every layer saw the same stimuli."""
    grams, batch = [], None
    for name, s in spikes.items():
        if s.dim() < 3:
            raise ConfigError(
                f"spikes[{name!r}] must be [T, B, ...] with at least one neuron dimension, "
                f"got shape {tuple(s.shape)}"
            )
        if batch is not None and s.shape[1] != batch:
            raise ConfigError(
                f"spikes[{name!r}] has {s.shape[1]} stimuli, earlier layers have {batch}"
            )
        batch = s.shape[1]
        grams.append(SpikeGram.of(s))
    return grams


def _call_matrices(
    n: torch.Tensor, k11: torch.Tensor, N: int, variant: str
) -> dict[str, torch.Tensor]:
    """The five matrices of each hook call of one layer, ``[T, B, B]`` each, before averaging."""
    ni, nj = n.unsqueeze(-1), n.unsqueeze(-2)  # [T, B, 1], [T, 1, B]
    k10 = ni - k11  # x_i fires, x_j does not
    k01 = nj - k11
    k00 = N - ni - nj + k11
    nan = torch.tensor(float("nan"), dtype=k11.dtype, device=k11.device)

    hamming = k01 + k10 + PAIRWISE_EPS * (N - 2 * k10)
    norms = ni * nj
    cosine = torch.where(norms > 0, k11 / norms.clamp_min(1).sqrt(), torch.zeros_like(k11))
    variance = ni * (N - ni) * nj * (N - nj)
    pearson = torch.where(
        variance > 0,
        ((N * k11 - ni * nj) / variance.clamp_min(1).sqrt()).clamp(-1.0, 1.0),
        nan,
    )
    if variant == "as_released":
        jaccard = 2 * k00 / (k01 + k10 + k00)  # K11 computed as K00: 0/0 = NaN only
    else:
        denominator = k01 + k10 + k11
        jaccard = torch.where(
            denominator > 0, (k11 + k00) / denominator.clamp_min(1), nan
        )  # both silent: N / 0, undefined
    expected = (ni * (N - nj) + (N - ni) * nj) / N + KERNEL_EPS
    kernel = N - 0.5 * (k01 + k10) / expected
    return {
        "jaccard": jaccard,
        "hamming": hamming,
        "cosine": cosine,
        "pearson": pearson,
        "kernel": kernel,
    }


def _nan_to_zero(m: torch.Tensor) -> torch.Tensor:
    return torch.where(torch.isnan(m), torch.zeros_like(m), m)


def lsp_matrices(
    spikes: Mapping[str, torch.Tensor], variant: str = "as_released"
) -> dict[str, torch.Tensor]:
    """The five averaged ``B x B`` matrices of one mini-batch, after the NaN rule (float64).

    ``spikes`` maps layer name -> ``[T, B, ...]`` output (as :func:`~snnlib.spikes.record_spikes`
    returns, ``[T, B, N]``); values ``> 0`` count as spikes. Every layer and every time step is
    one hook call of the released code. Returns ``{"jaccard", "hamming", "cosine", "pearson",
    "kernel"}``; see the module docstring for the formulas and what ``variant`` changes.
    """
    _check_variant(variant)
    return lsp_matrices_from_grams(_grams(spikes), variant)


def lsp_matrices_from_grams(
    grams: Iterable[SpikeGram], variant: str = "as_released"
) -> dict[str, torch.Tensor]:
    """:func:`lsp_matrices` from the layers' Gram matrices
    (:class:`~snnlib.nas.spike_gram.SpikeGram`), which SAHD, NASWOT and the Hamming RDM of
    the same recording share: one matrix product per layer serves every spike-pattern score."""
    _check_variant(variant)
    sums: dict[str, torch.Tensor] = {}
    calls = 0
    for g in grams:
        if g.steps == 0:
            continue
        for key, m in _call_matrices(g.ones, g.gram, g.n, variant).items():
            total = m.sum(0)  # NaN at any call stays NaN
            sums[key] = sums[key] + total if key in sums else total
        calls += g.steps
    if calls == 0:
        raise ConfigError("spikes must hold at least one layer with at least one time step")
    halved = 2 * calls if variant == "as_released" else calls  # the doubled counter
    out = {}
    for key in MATRICES:
        m = sums[key] / (halved if key in ("jaccard", "kernel") else calls)
        if variant == "corrected" or key not in ("jaccard", "kernel"):
            m = _nan_to_zero(m)
        out[key] = m
    return out


def _logabsdet(m: torch.Tensor) -> float:
    if torch.isnan(m).any():
        return float("nan")
    return float(torch.linalg.slogdet(m).logabsdet)


def lsp_scalars_of(matrices: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """The six scalars of one mini-batch's matrices (:func:`lsp_matrices`)."""
    return {
        "lsp_jaccard_sum": float(matrices["jaccard"].sum()),
        "lsp_jaccard_logdet": _logabsdet(matrices["jaccard"]),
        "lsp_hamming_sum": float(matrices["hamming"].sum()),
        "lsp_cosine_sum": float(matrices["cosine"].sum()),
        "lsp_pearson_sum": float(matrices["pearson"].sum()),
        "lsp_kernel_logdet": _logabsdet(matrices["kernel"]),
    }


def lsp_scalars(
    spike_batches: Sequence[Mapping[str, torch.Tensor]], variant: str = "as_released"
) -> dict[str, float]:
    """The six LSP scalars, each the mean over the mini-batches (the released code uses 2).

    ``spike_batches`` holds one ``{layer: [T, B, ...]}`` recording per mini-batch. Higher
    ``lsp_hamming_sum`` (:data:`LSP_FITNESS`) is fitter. A NaN or ``-inf`` of one mini-batch
    carries into the mean, as with ``np.mean`` in the released code.
    """
    _check_variant(variant)
    if len(spike_batches) == 0:
        raise ConfigError("spike_batches must hold at least one mini-batch of spikes")
    return _mean([lsp_scalars_of(lsp_matrices(s, variant)) for s in spike_batches])


def _mean(per_batch: list[dict[str, float]]) -> dict[str, float]:
    return {k: sum(p[k] for p in per_batch) / len(per_batch) for k in SCALARS}


def lsp_score(
    model: nn.Module, batches: Sequence[torch.Tensor], variant: str = "as_released"
) -> dict[str, float]:
    """Score an (untrained) ``model`` on probe ``batches`` (each ``[T, B, ...]``, unlabelled).

    Spikes are recorded one batch at a time with :func:`~snnlib.spikes.record_spikes` under
    ``torch.no_grad()``, with batch norm on each batch's own statistics (training mode, never
    ``eval()``, as the released code runs the candidate); the model's training flag and buffers
    are left as they were. Returns :func:`lsp_scalars` of the recordings; each batch's spikes
    are reduced to its scalars before the next batch runs, so only one recording is held.
    """
    _check_variant(variant)
    if len(batches) == 0:
        raise ConfigError("batches must hold at least one probe batch")
    device = next((p.device for p in model.parameters()), None)
    per_batch = []
    with torch.no_grad():
        for x in batches:
            x = x.to(device) if device is not None else x
            spikes = record_spikes(model, x, batch_stats=True)
            per_batch.append(lsp_scalars_of(lsp_matrices(spikes, variant)))
            del spikes
    return _mean(per_batch)
