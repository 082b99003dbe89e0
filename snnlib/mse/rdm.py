r"""Training-free fitness from representational dissimilarity matrices (RDMs).

Representational similarity analysis (RSA) asks whether a network's responses to a set of
stimuli are organised like a target. For :math:`n` probe stimuli with labels :math:`y` and
responses :math:`r_i \in \mathbb{R}^d` (spike counts of one LIF layer, summed over the
:math:`T` steps; or the binary spike pattern over time for ``hamming``):

.. math::

    D^{\mathrm{corr}}_{ij} = 1 - \frac{(r_i - \bar r_i)^\top (r_j - \bar r_j)}
                                      {\lVert r_i - \bar r_i \rVert \, \lVert r_j - \bar r_j \rVert}
    \qquad
    D^{\mathrm{euc}}_{ij} = \frac{1}{d} \lVert r_i - r_j \rVert^2
    \qquad
    D^{\mathrm{ham}}_{ij} = \frac{1}{d} \sum_k \lvert b_{ik} - b_{jk} \rvert

(:math:`\bar r_i` is the mean of pattern :math:`i` over its :math:`d` features;
:math:`b \in \{0,1\}` the spikes). ``euclidean`` is rsatoolbox's definition, the *squared*
distance divided by the number of channels, so the two libraries agree to float precision;
rank-based comparisons are unaffected by the square. A pattern with zero variance (a silent
sample) has correlation 0 with every other one, :math:`D^{\mathrm{corr}} = 1`.

The target is the ideal categorical RDM :math:`D^{*}_{ij} = [y_i \ne y_j]`. The fitness of
a layer compares the upper triangles :math:`u = \mathrm{vec}_{i<j}(D)`,
:math:`u^{*} = \mathrm{vec}_{i<j}(D^{*})`:

.. math::

    \rho_S = \mathrm{corr}\big(\mathrm{rank}(u), \mathrm{rank}(u^{*})\big), \qquad
    \tau_a = \frac{\sum_{p<q} \mathrm{sgn}(u_p - u_q)\,\mathrm{sgn}(u^{*}_p - u^{*}_q)}{m(m-1)/2},
    \qquad \rho_P = \mathrm{corr}(u, u^{*})

with average ranks for ties (scipy's ``rankdata``, as rsatoolbox) and :math:`m` the
length of :math:`u`. A constant RDM carries no information and scores 0. Layer scores are
aggregated by their ``mean`` (default), the ``last`` spiking layer (the classifier's
input), their ``max``, or one RDM of all layers' responses concatenated (``concat``), and
averaged over ``n_inits`` random initialisations of the same architecture.

**Silent output.** With searched E/I signs, a cell whose nodes receive only inhibitory
currents never fires, and if such a cell cuts the path to the classifier no spike reaches it:
the network cannot learn (the inhibitory filter passes no gradient either), yet its earlier
layers still mirror the input's class structure and the layer mean would rank it like a
working network. With ``require_output_spikes=True`` (default) such a network scores 0, the
score of an uninformative RDM.

The network is untrained; by default batch norm uses the probe batch's statistics
(``batch_stats=True``, training mode), so that every layer's input current is normalised
whatever the random weights, as at the start of training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..recording import LIFTap
from ..validation import ConfigError, check_choice

METRICS = ("correlation", "euclidean", "hamming")
COMPARISONS = ("spearman", "kendall", "pearson")
AGGREGATIONS = ("mean", "last", "max", "concat")
TARGETS = ("categorical",)


@dataclass(frozen=True)
class RDMFitness:
    """Settings of the RDM fitness (see the module docstring for the math).

    ``n_per_class`` is the number of probe stimuli per class (the probe batch has
    ``n_per_class * num_classes`` stimuli). ``require_output_spikes``: a network whose last
    spiking layer (the classifier's input) stays silent on the whole probe batch scores 0,
    whatever its other layers do (see the module docstring).
    """

    metric: str = "correlation"
    comparison: str = "spearman"
    aggregation: str = "mean"
    target: str = "categorical"
    n_inits: int = 1
    n_per_class: int = 10
    batch_stats: bool = True
    require_output_spikes: bool = True

    def __post_init__(self):
        check_choice("rdm.metric", self.metric, METRICS)
        check_choice("rdm.comparison", self.comparison, COMPARISONS)
        check_choice("rdm.aggregation", self.aggregation, AGGREGATIONS)
        check_choice("rdm.target", self.target, TARGETS)
        if not isinstance(self.n_inits, int) or isinstance(self.n_inits, bool) or self.n_inits < 1:
            raise ConfigError(f"rdm.n_inits={self.n_inits!r} must be a positive integer")
        if not isinstance(self.n_per_class, int) or isinstance(self.n_per_class, bool) or self.n_per_class < 2:
            raise ConfigError(f"rdm.n_per_class={self.n_per_class!r} must be an integer >= 2")

    @property
    def temporal(self) -> bool:
        """Whether responses keep the time axis (binary patterns for ``hamming``)."""
        return self.metric == "hamming"

    def to_dict(self) -> dict:
        return asdict(self)


# -- responses -----------------------------------------------------------------------------
class ResponseRecorder(LIFTap):
    """Record every :class:`LIF` layer's spikes per sample during forward passes.

    ``counts()`` gives ``{layer: [B, N]}`` spike counts summed over time; with
    ``temporal=True``, ``patterns()`` gives ``{layer: [B, T * N]}`` binary spike patterns.
    Layers appear in the order they first fired during the forward pass, so the last entry
    is the last spiking layer (the head's). Works for the whole-sequence and the step-by-step
    (:meth:`LIF.step`) paths alike.
    """

    def __init__(self, model: nn.Module, temporal: bool = False):
        super().__init__(model)
        self.temporal = temporal
        self._counts: dict[str, torch.Tensor] = {}
        self._steps: dict[str, list[torch.Tensor]] = {}

    def _record(self, module: nn.Module, spikes: torch.Tensor) -> None:
        name = self._layer_name(module, len(self._counts))
        s = spikes.detach().flatten(2)          # [t, B, N]
        c = s.sum(0)
        self._counts[name] = self._counts[name] + c if name in self._counts else c
        if self.temporal:
            self._steps.setdefault(name, []).append(s.to(torch.uint8))

    def counts(self) -> dict[str, torch.Tensor]:
        return dict(self._counts)

    def patterns(self) -> dict[str, torch.Tensor]:
        if not self.temporal:
            raise ConfigError("patterns() needs ResponseRecorder(temporal=True)")
        return {k: torch.cat(v, 0).transpose(0, 1).flatten(1) for k, v in self._steps.items()}


@torch.no_grad()
def record_responses(model: nn.Module, x: torch.Tensor, temporal: bool = False,
                     batch_stats: bool = True) -> dict[str, torch.Tensor]:
    """Forward ``x`` ([T, B, ...]) once; per-layer responses ``[B, features]`` (float64).

    Spike counts, or binary spike patterns over time with ``temporal=True``.
    """
    model.train(batch_stats)
    with ResponseRecorder(model, temporal) as rec:
        model(x)
    out = rec.patterns() if temporal else rec.counts()
    return {k: v.to(torch.float64) for k, v in out.items()}


# -- RDMs ----------------------------------------------------------------------------------
def rdm(responses: torch.Tensor, metric: str = "correlation") -> torch.Tensor:
    """The ``[n, n]`` RDM of ``responses`` (``[n, d]``), computed in float64."""
    check_choice("rdm.metric", metric, METRICS)
    r = responses.to(torch.float64).flatten(1)
    d = r.shape[1]
    if metric == "correlation":
        c = r - r.mean(1, keepdim=True)
        norm = c.norm(dim=1, keepdim=True)
        c = torch.where(norm > 0, c / norm.clamp_min(1e-300), torch.zeros_like(c))
        D = 1.0 - c @ c.T
    elif metric == "euclidean":
        sq = (r * r).sum(1, keepdim=True)
        D = (sq + sq.T - 2.0 * r @ r.T) / d
    else:  # hamming on binary patterns
        b = (r > 0).to(torch.float64)
        D = (b @ (1.0 - b).T + (1.0 - b) @ b.T) / d
    D = D.clamp_min(0.0) if metric != "correlation" else D
    D.fill_diagonal_(0.0)
    return D


def categorical_rdm(labels: torch.Tensor) -> torch.Tensor:
    """The ideal categorical RDM: 0 for pairs of the same class, 1 across classes."""
    y = torch.as_tensor(labels).flatten()
    return (y[:, None] != y[None, :]).to(torch.float64)


def upper(D: torch.Tensor) -> torch.Tensor:
    """The upper triangle (above the diagonal) as a vector, row by row (rsatoolbox's order)."""
    n = D.shape[0]
    i, j = torch.triu_indices(n, n, offset=1)
    return D[i, j]


def rankdata(v: torch.Tensor) -> torch.Tensor:
    """1-based ranks with ties given their average rank (``scipy.stats.rankdata``)."""
    v = v.flatten()
    _, inverse, counts = torch.unique(v, return_inverse=True, return_counts=True)
    ends = counts.cumsum(0).to(torch.float64)
    avg = ends - (counts.to(torch.float64) - 1.0) / 2.0
    return avg[inverse]


def _pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    a = a.to(torch.float64) - a.to(torch.float64).mean()
    b = b.to(torch.float64) - b.to(torch.float64).mean()
    den = a.norm() * b.norm()
    if not torch.isfinite(den) or den <= 0:
        return 0.0
    return float((a @ b) / den)


def _sign_sum_between(a_hi: torch.Tensor, a_lo: torch.Tensor) -> torch.Tensor:
    r""":math:`\sum_{p \in hi, q \in lo} \mathrm{sgn}(a_p - a_q)` from average ranks (Mann-Whitney):
    with :math:`U = R_{hi} - n_{hi}(n_{hi}+1)/2 = \#\{>\} + \tfrac12 \#\{=\}`, the sum is
    :math:`2U - n_{hi} n_{lo}`. O(m log m) instead of O(m^2)."""
    n1, n0 = a_hi.numel(), a_lo.numel()
    ranks = rankdata(torch.cat([a_hi, a_lo]))
    u = ranks[:n1].sum() - n1 * (n1 + 1) / 2.0
    return 2.0 * u - n1 * n0


def _kendall_tau_a(a: torch.Tensor, b: torch.Tensor, chunk: int = 512, max_levels: int = 16) -> float:
    r"""Kendall's :math:`\tau_a`. When one vector has few distinct values (a categorical target
    RDM has two), the pair sum is a sum of Mann-Whitney statistics between its levels;
    otherwise all pairs are compared in chunks."""
    a = a.to(torch.float64)
    b = b.to(torch.float64)
    m = a.numel()
    if m < 2:
        return 0.0
    pairs = m * (m - 1) / 2.0
    la, lb = torch.unique(a), torch.unique(b)
    if min(la.numel(), lb.numel()) <= max_levels:
        if la.numel() < lb.numel():
            a, b, lb = b, a, la
        groups = [a[b == v] for v in lb]           # ascending levels of b
        total = torch.zeros((), dtype=torch.float64)
        for hi in range(1, len(groups)):
            for lo in range(hi):
                total += _sign_sum_between(groups[hi], groups[lo])
        return float(total / pairs)
    total = torch.zeros((), dtype=torch.float64)
    for s in range(0, m, chunk):
        da = torch.sign(a[s:s + chunk, None] - a[None, :])
        db = torch.sign(b[s:s + chunk, None] - b[None, :])
        total += (da * db).sum()
    return float(total / 2.0 / pairs)     # each pair counted twice


def compare(a: torch.Tensor, b: torch.Tensor, method: str = "spearman") -> float:
    """Similarity of two RDM vectors (upper triangles); 0 when either is constant."""
    check_choice("rdm.comparison", method, COMPARISONS)
    a, b = a.flatten(), b.flatten()
    if a.numel() != b.numel():
        raise ConfigError(f"RDM vectors differ in length: {a.numel()} vs {b.numel()}")
    if bool((a == a[0]).all()) or bool((b == b[0]).all()):
        return 0.0
    if method == "spearman":
        return _pearson(rankdata(a), rankdata(b))
    if method == "pearson":
        return _pearson(a, b)
    return _kendall_tau_a(a, b)


def layer_scores(responses: dict[str, torch.Tensor], target: torch.Tensor, cfg: RDMFitness) -> dict[str, float]:
    """The comparison score of every layer's RDM with the target RDM."""
    t = upper(target)
    return {k: compare(upper(rdm(r, cfg.metric)), t, cfg.comparison) for k, r in responses.items()}


def aggregate(responses: dict[str, torch.Tensor], target: torch.Tensor, cfg: RDMFitness) -> float:
    """One score for a network's responses, by ``cfg.aggregation`` (0 for a silent output
    layer when ``cfg.require_output_spikes``)."""
    if not responses:
        return 0.0
    if cfg.require_output_spikes and not bool((list(responses.values())[-1] != 0).any()):
        return 0.0
    if cfg.aggregation == "concat":
        r = torch.cat([v.flatten(1) for v in responses.values()], dim=1)
        return compare(upper(rdm(r, cfg.metric)), upper(target), cfg.comparison)
    if cfg.aggregation == "last":
        last = list(responses)[-1]
        return layer_scores({last: responses[last]}, target, cfg)[last]
    scores = list(layer_scores(responses, target, cfg).values())
    if cfg.aggregation == "max":
        return max(scores)
    return sum(scores) / len(scores)


def mean_rdm(responses: dict[str, torch.Tensor], metric: str = "correlation") -> torch.Tensor:
    """The mean of the per-layer RDMs (for pictures of a whole network's geometry)."""
    return torch.stack([rdm(r, metric) for r in responses.values()]).mean(0)


def rdm_score(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, cfg: RDMFitness) -> float:
    """The RDM fitness of one (untrained) model on an encoded probe batch ``x`` ([T, B, ...])."""
    responses = record_responses(model, x, cfg.temporal, cfg.batch_stats)
    return aggregate(responses, categorical_rdm(labels), cfg)
