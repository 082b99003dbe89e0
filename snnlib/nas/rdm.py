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

import numpy as np
import torch
from torch import nn

from ..spikes import ResponseRecorder
from ..validation import ConfigError, check_choice

METRICS = ("correlation", "euclidean", "hamming")
COMPARISONS = ("spearman", "kendall", "pearson")
AGGREGATIONS = ("mean", "last", "max", "concat")
TARGETS = ("categorical",)


@dataclass(frozen=True)
class RDMConfig:
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
        if (
            not isinstance(self.n_per_class, int)
            or isinstance(self.n_per_class, bool)
            or self.n_per_class < 2
        ):
            raise ConfigError(f"rdm.n_per_class={self.n_per_class!r} must be an integer >= 2")

    @property
    def temporal(self) -> bool:
        """Whether responses keep the time axis (binary patterns for ``hamming``)."""
        return self.metric == "hamming"

    def to_dict(self) -> dict:
        return asdict(self)


# -- responses -----------------------------------------------------------------------------
@torch.no_grad()
def record_responses(
    model: nn.Module, x: torch.Tensor, temporal: bool = False, batch_stats: bool = True
) -> dict[str, torch.Tensor]:
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
    """The ``[n, n]`` RDM of ``responses`` (``[n, d]``), computed in float64.

    Correlation centres and normalises each pattern before one product, the order of
    operations of rsatoolbox (so equal distances stay exactly equal, which matters to rank
    comparisons); euclidean and hamming go through the Gram matrix :math:`G = r r^\top`:
    :math:`(G_{ii} + G_{jj} - 2 G_{ij}) / d` and, for binary patterns with row sums
    :math:`s`, :math:`(s_i + s_j - 2 G_{ij}) / d`.
    """
    check_choice("rdm.metric", metric, METRICS)
    r = responses.to(torch.float64).flatten(1)
    d = r.shape[1]
    if metric == "correlation":
        c = r - r.mean(1, keepdim=True)
        norm = c.norm(dim=1, keepdim=True)
        c = torch.where(norm > 0, c / norm.clamp_min(1e-300), torch.zeros_like(c))
        D = 1.0 - c @ c.T
    else:
        if metric == "hamming":
            r = (r > 0).to(torch.float64)
        gram = r @ r.T
        # euclidean: squared norms; hamming: the number of ones (b . b = sum b)
        sq = gram.diagonal().unsqueeze(1)
        D = ((sq + sq.T - 2.0 * gram) / d).clamp_min(0.0)
    D.fill_diagonal_(0.0)
    return D


def upper_stack(responses: dict[str, torch.Tensor], metric: str = "correlation") -> torch.Tensor:
    """The upper triangles of every layer's RDM, ``[layers, n (n - 1) / 2]``, in the dict's
    order."""
    items = list(responses.values())
    n = items[0].shape[0]
    i, j = torch.triu_indices(n, n, offset=1)
    return torch.stack([rdm(v, metric)[i, j] for v in items])


def categorical_rdm(labels: torch.Tensor) -> torch.Tensor:
    """The ideal categorical RDM: 0 for pairs of the same class, 1 across classes."""
    y = torch.as_tensor(labels).flatten()
    return (y[:, None] != y[None, :]).to(torch.float64)


def upper(D: torch.Tensor) -> torch.Tensor:
    """The upper triangle (above the diagonal) as a vector, row by row (rsatoolbox's order)."""
    n = D.shape[0]
    i, j = torch.triu_indices(n, n, offset=1)
    return D[i, j]


def average_ranks(v: torch.Tensor) -> torch.Tensor:
    """1-based ranks with ties given their average rank (``scipy.stats.rankdata``)."""
    return rank_rows(v.flatten()[None])[0]


def rank_rows(v: torch.Tensor) -> torch.Tensor:
    """Average ranks (1-based, ties averaged) of every row of ``v`` (``[rows, m]``), in float64.

    One sort for all rows: a tied run that occupies sorted positions ``a..b`` gets ``(a + b) / 2``,
    the value ``scipy.stats.rankdata`` gives it. NumPy's introsort is used because it is about
    7x faster than ``torch.sort`` on CPU for these sizes (the order within a tie is irrelevant).
    """
    a = v.detach().cpu().to(torch.float64).numpy()
    rows, m = a.shape
    order = np.argsort(a, axis=1)
    s = np.take_along_axis(a, order, axis=1)
    pos = np.broadcast_to(np.arange(1, m + 1, dtype=np.float64), (rows, m))
    starts = np.ones((rows, m), dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    ends = np.ones((rows, m), dtype=bool)
    ends[:, :-1] = starts[:, 1:]
    first = np.maximum.accumulate(np.where(starts, pos, 0.0), axis=1)
    last = np.minimum.accumulate(np.where(ends, pos, m + 1.0)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty_like(first)
    np.put_along_axis(ranks, order, (first + last) / 2.0, axis=1)
    return torch.from_numpy(ranks).to(v.device)


def _pearson_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of every row of ``a`` (``[rows, m]``) with ``b`` (``[m]``); 0 where a
    row or ``b`` is constant."""
    a = a.to(torch.float64)
    b = b.to(torch.float64)
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean()
    den = a.norm(dim=1) * b.norm()
    ok = torch.isfinite(den) & (den > 0)
    return torch.where(ok, (a @ b) / torch.where(ok, den, 1.0), 0.0)


def compare_rows(u: torch.Tensor, target: torch.Tensor, method: str = "spearman") -> torch.Tensor:
    """:func:`compare` of every row of ``u`` (``[rows, m]``) with ``target`` (``[m]``) at once."""
    check_choice("rdm.comparison", method, COMPARISONS)
    target = target.flatten()
    if u.shape[1] != target.numel():
        raise ConfigError(f"RDM vectors differ in length: {u.shape[1]} vs {target.numel()}")
    if method == "kendall":
        return torch.tensor([compare(row, target, method) for row in u], dtype=torch.float64)
    constant = (u == u[:, :1]).all(1) | bool((target == target[0]).all())
    if method == "spearman":
        u, target = rank_rows(u), average_ranks(target)
    return torch.where(constant, 0.0, _pearson_rows(u, target))


def _sign_sum_between(a_hi: torch.Tensor, a_lo: torch.Tensor) -> torch.Tensor:
    r""":math:`\sum_{p \in hi, q \in lo} \mathrm{sgn}(a_p - a_q)` from average ranks (Mann-Whitney):
    with :math:`U = R_{hi} - n_{hi}(n_{hi}+1)/2 = \#\{>\} + \tfrac12 \#\{=\}`, the sum is
    :math:`2U - n_{hi} n_{lo}`. O(m log m) instead of O(m^2)."""
    n1, n0 = a_hi.numel(), a_lo.numel()
    ranks = average_ranks(torch.cat([a_hi, a_lo]))
    u = ranks[:n1].sum() - n1 * (n1 + 1) / 2.0
    return 2.0 * u - n1 * n0


def _kendall_tau_a(
    a: torch.Tensor, b: torch.Tensor, chunk: int = 512, max_levels: int = 16
) -> float:
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
        groups = [a[b == v] for v in lb]  # ascending levels of b
        total = torch.zeros((), dtype=torch.float64)
        for hi in range(1, len(groups)):
            for lo in range(hi):
                total += _sign_sum_between(groups[hi], groups[lo])
        return float(total / pairs)
    total = torch.zeros((), dtype=torch.float64)
    for s in range(0, m, chunk):
        da = torch.sign(a[s : s + chunk, None] - a[None, :])
        db = torch.sign(b[s : s + chunk, None] - b[None, :])
        total += (da * db).sum()
    return float(total / 2.0 / pairs)  # each pair counted twice


def compare(a: torch.Tensor, b: torch.Tensor, method: str = "spearman") -> float:
    """Similarity of two RDM vectors (upper triangles); 0 when either is constant."""
    check_choice("rdm.comparison", method, COMPARISONS)
    a, b = a.flatten(), b.flatten()
    if a.numel() != b.numel():
        raise ConfigError(f"RDM vectors differ in length: {a.numel()} vs {b.numel()}")
    if method != "kendall":
        return float(compare_rows(a[None], b, method)[0])
    if bool((a == a[0]).all()) or bool((b == b[0]).all()):
        return 0.0
    return _kendall_tau_a(a, b)


def layer_scores(
    responses: dict[str, torch.Tensor], target: torch.Tensor, cfg: RDMConfig
) -> dict[str, float]:
    """The comparison score of every layer's RDM with the target RDM (all layers at once)."""
    scores = compare_rows(upper_stack(responses, cfg.metric), upper(target), cfg.comparison)
    return dict(zip(responses, scores.tolist()))


def aggregate(responses: dict[str, torch.Tensor], target: torch.Tensor, cfg: RDMConfig) -> float:
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


def rdm_from_layer_rdms(
    rdms: dict[str, torch.Tensor], target: torch.Tensor, cfg: RDMConfig, output_spikes: bool
) -> float:
    """:func:`aggregate` for per-layer RDMs already computed (``mean``, ``last``, ``max``;
    0 under ``require_output_spikes`` when the last spiking layer emitted no spike): the
    Hamming RDMs of :class:`snnlib.nas.spike_gram.SpikeGram` reach the RDM fitness this way."""
    if cfg.aggregation not in ("mean", "last", "max"):
        raise ConfigError(f"rdm.aggregation={cfg.aggregation!r} needs the responses themselves")
    if not rdms:
        return 0.0
    names = list(rdms)
    if cfg.require_output_spikes and not output_spikes:
        return 0.0
    if cfg.aggregation == "last":
        names = names[-1:]
    n = target.shape[0]
    i, j = torch.triu_indices(n, n, offset=1)
    uppers = torch.stack([rdms[k][i, j] for k in names])
    scores = compare_rows(uppers, upper(target), cfg.comparison).tolist()
    return float(max(scores)) if cfg.aggregation == "max" else float(sum(scores) / len(scores))


def mean_rdm(responses: dict[str, torch.Tensor], metric: str = "correlation") -> torch.Tensor:
    """The mean of the per-layer RDMs (for pictures of a whole network's geometry)."""
    return torch.stack([rdm(r, metric) for r in responses.values()]).mean(0)


def rdm_score(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, cfg: RDMConfig) -> float:
    """The RDM fitness of one (untrained) model on an encoded probe batch ``x`` ([T, B, ...])."""
    responses = record_responses(model, x, cfg.temporal, cfg.batch_stats)
    return aggregate(responses, categorical_rdm(labels), cfg)


RDM_VARIANTS = {
    "rdm correlation/spearman/mean": RDMConfig(),
    "rdm correlation/kendall/mean": RDMConfig(comparison="kendall"),
    "rdm correlation/pearson/mean": RDMConfig(comparison="pearson"),
    "rdm euclidean/spearman/mean": RDMConfig(metric="euclidean"),
    "rdm hamming/spearman/mean": RDMConfig(metric="hamming"),
    "rdm correlation/spearman/last": RDMConfig(aggregation="last"),
    "rdm correlation/spearman/concat": RDMConfig(aggregation="concat"),
    "rdm correlation/spearman/max": RDMConfig(aggregation="max"),
    # without the guard that scores a network with a silent output layer 0
    "rdm correlation/spearman/mean/unguarded": RDMConfig(require_output_spikes=False),
}
"""The RDM fitness configurations the proxy studies compare, by name; the first is the
default of the MSE-NAS search (correlation distance, Spearman comparison, mean over layers)."""
