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

**The registry.** :data:`PROXIES` holds every training-free score of the project, each a
:class:`Proxy`: a function of one :class:`ProbeRun` (an untrained model on one probe batch)
returning a float, *higher is better*, with the list of what it reads (``needs``). A
:class:`ProbeRun` computes each shared quantity once and times it: the spikes of every LIF
layer and step (one forward pass), their spike counts, and one Gram matrix of binary spike
patterns per layer and step from which SAHD, NASWOT, the Hamming RDM and the MSE-NAS
authors' scorer are all derived (:mod:`snnlib.nas.spike_gram`). The studies loop over registry
names: the MSE-NAS proxy study (:mod:`snnlib.mse.proxy_scores`) scores every registered score but
the few it leaves out, so a new score reaches it with no other edit; the MSE-NAS search takes any
registered name as its fitness (:class:`snnlib.mse.fitness.ProxyEvaluator`); the SpikeNAS-Bench
ledger and the searches' guides score the names they list. A new score is one
:func:`register_proxy` call.

>>> sorted(PROXIES)[:4]
['firing_rate', 'grad_norm', 'lsp_cosine_sum', 'lsp_cosine_sum/corrected']
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..models import count_parameters
from ..spikes import record_spikes
from ..validation import ConfigError, check_choice
from .lsp import SCALARS as LSP_SCALARS
from .lsp import VARIANTS as LSP_VARIANTS
from .lsp import lsp_matrices_from_grams, lsp_scalars_of
from .rdm import (
    METRICS,
    RDM_VARIANTS,
    RDMConfig,
    aggregate,
    categorical_rdm,
    rdm,
    rdm_from_layer_rdms,
)
from .spike_gram import SpikeGram, naswot_from_grams, sahd_from_grams
from .zero_cost import grad_norm, synflow


def sahd_kernel(spikes: dict[str, torch.Tensor]) -> torch.Tensor:
    """The SAHD kernel ``[B, B]`` from recorded spikes (layer -> ``[T, B, N]``), through each
    layer's Gram matrix (:func:`snnlib.nas.spike_gram.sahd_from_grams`)."""
    return sahd_from_grams(SpikeGram.of(s) for s in spikes.values())


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
    return firing_rate(record_spikes(model, x))


def firing_rate(spikes: dict[str, torch.Tensor]) -> float:
    """Spikes / (neurons x T x images) over the recorded layers (layer -> ``[T, B, N]``)."""
    total = sum(float(s.sum()) for s in spikes.values())
    return total / max(sum(s.numel() for s in spikes.values()), 1)


def parameter_count(model: nn.Module) -> float:
    """Number of trainable parameters (the 'bigger is better' baseline)."""
    return float(count_parameters(model))


def random_score(key: str, seed: int = 0) -> float:
    """A deterministic pseudo-random score in [0, 1) for an architecture key (the null proxy)."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# -- registry -------------------------------------------------------------------------------------
NEEDS = ("spikes", "gram", "counts", "lsp", "labels", "gradients", "model", "key")
"""What a proxy may read from a :class:`ProbeRun`: ``spikes`` (every LIF layer's binary spikes
per step, one forward pass), ``gram`` (one Gram matrix of spike patterns per layer and step),
``counts`` (spike counts per layer), ``lsp`` (the matrices of the authors' scorer, both
variants, from the Gram matrices), ``labels`` (the probe's labels), ``gradients`` (its own
backward pass), ``model`` (the parameters only) and ``key`` (the architecture's identity)."""

SHARED = {
    "spikes": ("forward",),
    "gram": ("forward", "gram"),
    "counts": ("forward", "counts"),
    "lsp": ("forward", "gram", "lsp"),
    **{f"rdm:{m}": ("forward", "counts", f"rdm:{m}") for m in METRICS if m != "hamming"},
    "rdm:hamming": ("forward", "gram", "rdm:hamming"),
}
"""Shared work behind each need: its seconds are charged to every proxy that needs it
(``rdm:<metric>``: every layer's RDM of that metric, shared by the RDM variants using it)."""


class ProbeRun:
    """One untrained ``model`` on one probe batch ``x``, and what proxies read from it, each
    computed once on first use and timed (:attr:`seconds`).

    ``x`` is what the model takes (images ``[B, ...]`` or time-major ``[T, B, ...]``: give
    ``batch_dim``); ``y`` the probe's labels (only label-based scores read them); ``key`` the
    architecture's identity and ``seed`` the study's seed (the ``random`` score reads both);
    ``grad_batch`` how many probe items the gradient scores use (evenly spaced over the batch,
    so a class-ordered probe keeps every class; ``None``: all). The model stays in training
    mode with batch statistics, as an untrained network is scored.
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor | None = None,
        key: str = "",
        seed: int = 0,
        batch_dim: int = 0,
        grad_batch: int | None = None,
    ):
        self.model, self.x, self.y, self.key, self.seed = model, x, y, key, seed
        self.batch_dim, self.grad_batch = batch_dim, grad_batch
        self.seconds: dict[str, float] = {}
        self._cache: dict[str, object] = {}

    def _get(self, name: str, compute: Callable[[], object]):
        if name not in self._cache:
            t0 = time.perf_counter()
            self._cache[name] = compute()
            self.seconds[name] = time.perf_counter() - t0
        return self._cache[name]

    @property
    def spikes(self) -> dict[str, torch.Tensor]:
        """Layer -> ``[T, B, N]`` 0/1 spikes (:func:`snnlib.spikes.record_spikes`)."""
        return self._get("forward", lambda: record_spikes(self.model, self.x))

    @property
    def gram(self) -> dict[str, SpikeGram]:
        """Layer -> :class:`~snnlib.nas.spike_gram.SpikeGram` of its binary spike patterns."""
        return self._get("gram", lambda: {k: SpikeGram.of(v) for k, v in self.spikes.items()})

    @property
    def counts(self) -> dict[str, torch.Tensor]:
        """Layer -> ``[B, N]`` spike counts over time (float64)."""
        return self._get(
            "counts",
            lambda: {k: v.sum(0).flatten(1).to(torch.float64) for k, v in self.spikes.items()},
        )

    @property
    def lsp(self) -> dict[str, dict[str, float]]:
        """Variant -> the six scalars of the authors' scorer (:mod:`snnlib.nas.lsp`)."""
        return self._get(
            "lsp",
            lambda: {
                v: lsp_scalars_of(lsp_matrices_from_grams(self.gram.values(), v))
                for v in LSP_VARIANTS
            },
        )

    def layer_rdms(self, metric: str) -> dict[str, torch.Tensor]:
        """Layer -> its ``[B, B]`` RDM of ``metric`` (:func:`snnlib.nas.rdm.rdm` of the spike
        counts; ``hamming`` from the Gram matrices of the patterns over all steps), computed
        once for every RDM variant that uses the metric."""
        if metric == "hamming":
            return self._get(
                "rdm:hamming", lambda: {k: g.hamming_rdm() for k, g in self.gram.items()}
            )
        return self._get(
            f"rdm:{metric}", lambda: {k: rdm(v, metric) for k, v in self.counts.items()}
        )

    @property
    def labels(self) -> torch.Tensor:
        if self.y is None:
            raise ConfigError("this score needs the probe's labels: ProbeRun(..., y=labels)")
        return self.y

    def grad_subset(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The probe items the gradient scores use (see the class docstring)."""
        n_all = self.x.shape[self.batch_dim]
        n = n_all if self.grad_batch is None else min(self.grad_batch, n_all)
        sel = torch.linspace(0, n_all - 1, n).round().long()
        return self.x.index_select(self.batch_dim, sel), self.labels[sel]

    def input_shape(self) -> tuple[int, ...]:
        """The shape of one input item (batch of 1), for data-free scores."""
        shape = list(self.x.shape)
        shape[self.batch_dim] = 1
        return tuple(shape)

    def release(self) -> None:
        """Drop the recorded spikes and kernels (memory: at full width they are large)."""
        self._cache.clear()


@dataclass(frozen=True)
class Proxy:
    """One training-free score: ``fn(run: ProbeRun) -> float`` (higher is better), what it
    ``needs`` of the run (:data:`NEEDS`) and a one-line ``summary``.

    Calling it on a model and mini-batches gives the mean over the batches (SNASNet's two
    repeats): ``proxy(model, [x1, x2], labels=[y1, y2], key=..., seed=...)``.
    """

    name: str
    fn: Callable[[ProbeRun], float]
    needs: tuple[str, ...] = ()
    summary: str = ""

    def __call__(
        self, model, batches, key: str = "", seed: int = 0, labels=None, **run_kw
    ) -> float:
        if not batches:
            return float(self.fn(ProbeRun(model, torch.empty(0), key=key, seed=seed, **run_kw)))
        labels = labels if labels is not None else [None] * len(batches)
        values = [
            float(self.fn(ProbeRun(model, x, y, key=key, seed=seed, **run_kw)))
            for x, y in zip(batches, labels)
        ]
        return sum(values) / len(values)


PROXIES: dict[str, Proxy] = {}
"""Every registered score by name (see the module docstring)."""


def register_proxy(
    name: str, fn: Callable[[ProbeRun], float], needs: Sequence[str] = (), summary: str = ""
) -> Proxy:
    """Add a score to :data:`PROXIES` (a name may be registered once).

    >>> p = register_proxy("zero", lambda run: 0.0, summary="always 0")
    >>> get_proxy("zero")(None, [])
    0.0
    >>> del PROXIES["zero"]
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"proxy name must be a non-empty string, got {name!r}")
    if name in PROXIES:
        raise ConfigError(f"proxy {name!r} is already registered")
    if not callable(fn):
        raise ConfigError(f"proxy {name!r}: fn must be callable")
    unknown = [n for n in needs if n not in NEEDS and n not in SHARED]
    if unknown:
        raise ConfigError(f"proxy {name!r}: needs {unknown} are unknown; choose from {list(NEEDS)}")
    proxy = Proxy(name, fn, tuple(needs), summary)
    PROXIES[name] = proxy
    return proxy


def get_proxy(name: str) -> Proxy:
    """A registered score; the error lists the registered names.

    >>> get_proxy("random")(None, [], key="abc") == random_score("abc")
    True
    >>> get_proxy("snip")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snnlib.validation.ConfigError: proxy='snip' is not allowed; choose one of ['firing_rate', ...]
    """
    check_choice("proxy", name, sorted(PROXIES))
    return PROXIES[name]


def check_proxies(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as a tuple if every one is registered and none repeats; a clear error if not."""
    names = tuple(names)
    for n in names:
        get_proxy(n)
    if len(set(names)) != len(names):
        raise ConfigError(f"proxies repeat a name: {list(names)}")
    return names


def score_proxies(run: ProbeRun, names: Sequence[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Every score of ``names`` on one :class:`ProbeRun`, and the seconds of each: its own time
    plus the shared work (:data:`SHARED`) it needs, which every proxy needing it is charged in
    full (so each score's seconds are what it would cost alone). The run's recordings are
    released at the end."""
    values: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for name in names:
        proxy = get_proxy(name)
        t0 = time.perf_counter()
        shared_before = dict(run.seconds)
        values[name] = float(proxy.fn(run))
        own = (
            time.perf_counter()
            - t0
            - sum(v for k, v in run.seconds.items() if k not in shared_before)
        )
        parts = {part for need in proxy.needs for part in SHARED.get(need, ())}
        seconds[name] = own + sum(run.seconds.get(p, 0.0) for p in parts)
    run.release()
    return values, seconds


# -- the built-in scores ------------------------------------------------------------------------


def _grad_norm(run: ProbeRun) -> float:
    x, y = run.grad_subset()
    return grad_norm(run.model, x, y)


def _rdm_proxy(name: str, cfg: RDMConfig) -> Callable[[ProbeRun], float]:
    def score(run: ProbeRun) -> float:
        target = categorical_rdm(run.labels)
        if cfg.aggregation == "concat":  # one RDM of all layers' responses together
            return float(aggregate(run.counts, target, cfg))
        rdms = run.layer_rdms(cfg.metric)
        return rdm_from_layer_rdms(rdms, target, cfg, output_spikes(run.counts) > 0)

    score.__name__ = score.__qualname__ = f"rdm_proxy[{name}]"
    return score


def output_spikes(counts: dict[str, torch.Tensor]) -> float:
    """Spikes of the last spiking layer over the probe (0: the network's output is silent)."""
    return float(counts[list(counts)[-1]].sum()) if counts else 0.0


register_proxy(
    "sahd",
    lambda run: float(torch.linalg.slogdet(sahd_from_grams(run.gram.values()))[1]),
    ("gram",),
    "SNASNet's sparsity-aware Hamming distance kernel, log|det| (Kim et al., 2022)",
)
register_proxy(
    "naswot",
    lambda run: float(torch.linalg.slogdet(naswot_from_grams(run.gram.values()))[1]),
    ("gram",),
    "NAS without training on spike patterns, log|det| of the agreement kernel (Mellor 2021)",
)
for _name, _cfg in RDM_VARIANTS.items():
    register_proxy(
        _name,
        _rdm_proxy(_name, _cfg),
        ("counts", "labels") if _cfg.aggregation == "concat" else ("labels", f"rdm:{_cfg.metric}"),
        f"RDM of spike responses against the label RDM: {_cfg.metric}/{_cfg.comparison}/"
        f"{_cfg.aggregation} (this book's label-target design)",
    )
for _name in LSP_SCALARS:
    for _variant, _suffix in (("as_released", ""), ("corrected", "/corrected")):
        register_proxy(
            _name + _suffix,
            (lambda n, v: lambda run: run.lsp[v][n])(_name, _variant),
            ("lsp",),
            f"MSE-NAS authors' released scorer (BrainCog LSP), {_name}, {_variant}",
        )
register_proxy("params", lambda run: parameter_count(run.model), ("model",), "trainable parameters")
register_proxy(
    "firing_rate",
    lambda run: firing_rate(run.spikes),
    ("spikes",),
    "mean firing rate of all LIF layers",
)
register_proxy(
    "grad_norm", _grad_norm, ("gradients", "labels"), "sum of gradient norms (Abdelfattah 2021)"
)
register_proxy(
    "synflow",
    lambda run: synflow(run.model, run.input_shape()),
    ("model",),
    "SynFlow, data-free (Tanaka et al., 2020)",
)
register_proxy(
    "random",
    lambda run: random_score(run.key, run.seed),
    ("key",),
    "a hash of the key: no information",
)
