"""The proxy study of MSE-NAS: every training-free score of a set of genomes, and the rule that
turns the rank statistics into a recommendation for the search's RDM fitness.

:class:`ProxyScorer` scores each genome's *untrained* network with

- every score of the NAS core's registry (:data:`snnlib.nas.proxies.PROXIES`) that
  :func:`study_proxies` lists: every registered score but those of :data:`LEFT_OUT`, so a score
  registered with one :func:`~snnlib.nas.proxies.register_proxy` call is scored here with no
  other edit. Among them are the RDM variants (:data:`snnlib.nas.rdm.RDM_VARIANTS`, registered
  under their names), SNASNet's SAHD, the parameter count, the mean firing rate and a random
  score. All scores but those given batches of their own (``own_batches``: SAHD on its two
  mini-batches of training images, as SNASNet scores) read one recording of the genome on the
  class-balanced probe (:class:`~snnlib.nas.proxies.ProbeRun`: one forward pass shared by all);
- the default RDM fitness on smaller probes (``probe_evaluators``: images per class ->
  evaluator), each the search's own evaluator timed per call (build + forward + RDM); the
  evaluator of the default probe is timed the same way and must agree with the registry's
  default RDM variant on the shared recording.

Scores keep the names the study's tables and result file have always shown
(:func:`shown_name`: the registry name, except :data:`SHOWN_NAMES`).

:func:`recommend_rdm` picks the RDM variant with the largest Kendall tau in a
:func:`snnlib.nas.ranking.study_table` and recommends switching the search default to it only
when the paired bootstrap interval of its tau minus the default's lies above 0.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .. import dryrun
from ..nas.lsp import SCALARS as LSP_SCALARS
from ..nas.proxies import PROXIES, ProbeRun, check_proxies, get_proxy, score_proxies
from ..nas.ranking import kendall_tau, paired_difference
from ..nas.rdm import RDM_VARIANTS, RDMConfig
from ..validation import ConfigError
from .fitness import RDMEvaluator, class_balanced
from .genome import Genome

RDM_PREFIX = "rdm "  # the names of the RDM variants start with it
LEFT_OUT = (
    "naswot",
    *(f"{s}{v}" for s in LSP_SCALARS for v in ("", "/corrected")),
    "grad_norm",
    "synflow",
)
"""Registered scores this study leaves out: the SpikeNAS-Bench ledger (notebook 60), which took
over this study's question in the book, scores them; the study's result files were computed
without them. Every other registered score, one registered later included, is scored here."""
SHOWN_NAMES = {"params": "parameters", "firing_rate": "firing rate"}
"""Registry name -> the name this study's tables and result files show (older than the
registry); every other score is shown under its registry name."""


def study_proxies(left_out: Sequence[str] = LEFT_OUT) -> tuple[str, ...]:
    """The registry names the study scores, now: every registered score not ``left_out``, the
    RDM variants first, each group in the registry's order.

    >>> study_proxies()  # doctest: +NORMALIZE_WHITESPACE
    ('rdm correlation/spearman/mean', 'rdm correlation/kendall/mean',
     'rdm correlation/pearson/mean', 'rdm euclidean/spearman/mean', 'rdm hamming/spearman/mean',
     'rdm correlation/spearman/last', 'rdm correlation/spearman/concat',
     'rdm correlation/spearman/max', 'rdm correlation/spearman/mean/unguarded',
     'sahd', 'params', 'firing_rate', 'random')
    """
    names = [n for n in PROXIES if n not in set(left_out)]
    rdm = [n for n in names if n.startswith(RDM_PREFIX)]
    return (*rdm, *(n for n in names if n not in rdm))


def shown_name(name: str) -> str:
    """The name the study shows for the registry's ``name``.

    >>> shown_name("params"), shown_name("sahd")
    ('parameters', 'sahd')
    """
    return SHOWN_NAMES.get(name, name)


def probe_label(n_per_class: int, num_classes: int) -> str:
    """The score name of the default RDM fitness on a probe of ``n_per_class`` images per class.

    >>> probe_label(2, 10)
    'default RDM, probe 20 (2 per class)'
    """
    return f"default RDM, probe {n_per_class * num_classes} ({n_per_class} per class)"


def default_variant(variants: dict[str, RDMConfig]) -> str:
    """The name of the variant that is the search default, ``RDMConfig()``."""
    for name, cfg in variants.items():
        if cfg == RDMConfig():
            return name
    raise ConfigError("the RDM variants must include the search default RDMConfig()")


@dataclass
class ProxyScores:
    """What :meth:`ProxyScorer.score` returns: ``scores`` (shown name -> one value per genome,
    in the order of :meth:`ProxyScorer.names`), ``probe_seconds`` (images per class -> mean
    seconds per RDM fitness call) and ``seconds`` (the whole scoring loop)."""

    scores: dict[str, list[float]]
    probe_seconds: dict[int, float]
    seconds: float

    def non_finite(self) -> dict[str, int]:
        """How many values of each score are not finite (e.g. SAHD's log 0)."""
        return {k: int((~np.isfinite(np.asarray(v))).sum()) for k, v in self.scores.items()}


@dataclass
class ProxyScorer:
    """Every training-free score of a genome (see the module docstring).

    ``probe_evaluators``: images per class -> the search's default RDM fitness
    (:class:`~snnlib.mse.fitness.RDMEvaluator` of ``RDMConfig()``) on a class-balanced probe of
    that size; the one of ``default_probe`` gives the probe every registry score reads and the
    network of each genome (its data, width and device). ``own_batches``: registry name ->
    raw mini-batches that score reads instead (label-free scores only). ``proxies``: the
    registry names to score (``None``: :func:`study_proxies` when scoring, so every score
    registered by then).
    """

    probe_evaluators: dict[int, RDMEvaluator]
    default_probe: int
    num_classes: int
    own_batches: dict[str, list[torch.Tensor]] = field(default_factory=dict)
    proxies: Sequence[str] | None = None

    def __post_init__(self):
        if self.default_probe not in self.probe_evaluators:
            raise ConfigError(f"probe_evaluators lacks the default probe {self.default_probe}")
        for n, ev in self.probe_evaluators.items():
            if ev.cfg != RDMConfig(n_per_class=ev.cfg.n_per_class):
                raise ConfigError(
                    f"probe_evaluators[{n}] must be an RDMEvaluator of the default "
                    f"configuration RDMConfig(), got {ev.cfg}"
                )
        for name in check_proxies(list(self.own_batches)):
            if "labels" in get_proxy(name).needs or not self.own_batches[name]:
                raise ConfigError(
                    f"own_batches[{name!r}]: only a label-free score can read batches of its "
                    "own, and it needs at least one batch"
                )
        if self.proxies is not None:
            self.proxies = check_proxies(self.proxies)

    @classmethod
    def of_probes(
        cls,
        x: torch.Tensor,
        y: torch.Tensor,
        data,
        net,
        probes: Sequence[int],
        default_probe: int,
        num_classes: int,
        sahd_x: torch.Tensor,
        seed: int = 0,
        device: str = "cpu",
    ) -> ProxyScorer:
        """The study's scorer: class-balanced probes of ``probes`` (and ``default_probe``)
        images per class drawn from ``(x, y)`` by ``seed``, each with its default RDM
        fitness; SAHD on ``sahd_x`` split into two mini-batches (SNASNet's two repeats)."""
        evaluators = {}
        for n in (default_probe, *probes):
            px, py = class_balanced(x, y, n, seed=seed, num_classes=num_classes)
            evaluators[n] = RDMEvaluator(
                px, py, data, cfg=RDMConfig(n_per_class=n), net=net, device=device
            )
        half = len(sahd_x) // 2
        sahd = [sahd_x[:half], sahd_x[half : 2 * half]]
        return cls(evaluators, default_probe, num_classes, own_batches={"sahd": sahd})

    @property
    def evaluator(self) -> RDMEvaluator:
        """The default RDM fitness on the default probe."""
        return self.probe_evaluators[self.default_probe]

    @property
    def default_name(self) -> str:
        return default_variant(RDM_VARIANTS)

    def registry_names(self) -> tuple[str, ...]:
        """The registry names scored (``proxies``, or :func:`study_proxies` now)."""
        return tuple(self.proxies) if self.proxies is not None else study_proxies()

    def probe_names(self) -> list[str]:
        """Score names of the smaller probes (the default probe is the default variant)."""
        return [
            probe_label(n, self.num_classes)
            for n in self.probe_evaluators
            if n != self.default_probe
        ]

    def names(self) -> list[str]:
        """Every score, in table order: RDM variants, smaller probes, the other scores."""
        names = self.registry_names()
        rdm = [shown_name(n) for n in names if n.startswith(RDM_PREFIX)]
        others = [shown_name(n) for n in names if not n.startswith(RDM_PREFIX)]
        return [*rdm, *self.probe_names(), *others]

    def score(self, genomes: Sequence[Genome], seed: int, progress: bool = True) -> ProxyScores:
        """Score every genome (weights of each seeded by ``(seed, genome hash)``)."""
        scores: dict[str, list[float]] = {k: [] for k in self.names()}
        probe_seconds = {n: 0.0 for n in self.probe_evaluators}
        ev = self.evaluator
        probe = ev.data.encoder()(ev.x).to(ev.device)
        own = {
            k: [ev.data.encoder()(b).to(ev.device) for b in v] for k, v in self.own_batches.items()
        }
        names = self.registry_names()
        t0 = time.perf_counter()
        meter = dryrun.loop("proxy scores", len(genomes))  # a dry run: a step per genome
        for g in tqdm(genomes, desc="scores", disable=not progress):
            with meter.step():
                values = self.registry_scores(g, seed, names, probe, own)
                for name, value in values.items():
                    scores[shown_name(name)].append(value)
                self._probe_scores(g, seed, values, scores, probe_seconds)
        seconds = time.perf_counter() - t0
        n = max(len(genomes), 1)
        return ProxyScores(scores, {k: s / n for k, s in probe_seconds.items()}, seconds)

    def registry_scores(
        self, g: Genome, seed: int, names: Sequence[str], probe: torch.Tensor, own: dict
    ) -> dict[str, float]:
        """Genome ``g``'s value of every registry score of ``names``: one recording of the
        probe (``[T, B, ...]``) for all but those with batches of their own (``own``, encoded),
        each on a network of the same seeded weights."""
        ev = self.evaluator
        shared = [n for n in names if n not in own]
        run = ProbeRun(ev.build(g, seed), probe, ev.y, key=g.hash(), seed=seed, batch_dim=1)
        values, _ = score_proxies(run, shared)
        for name in (n for n in names if n in own):
            proxy = get_proxy(name)
            values[name] = proxy(ev.build(g, seed), own[name], key=g.hash(), seed=seed, batch_dim=1)
        return {n: float(values[n]) for n in names}

    def _probe_scores(self, g, seed, values, scores, probe_seconds) -> None:
        """Time the RDM fitness of every probe on ``g``; append the smaller probes' values to
        ``scores``; check the default probe's against the registry's default variant."""
        default = self.default_name
        for n, ev in self.probe_evaluators.items():
            t1 = time.perf_counter()
            value = ev(g, seed)
            probe_seconds[n] += time.perf_counter() - t1
            if n != self.default_probe:
                scores[probe_label(n, self.num_classes)].append(value)
            elif default in values and not np.isclose(
                value, values[default], rtol=1e-9, atol=1e-12
            ):
                raise AssertionError(
                    f"RDMEvaluator gave {value}, the registry's {default!r} {values[default]}"
                )


@dataclass
class RDMRecommendation:
    """The best RDM variant by Kendall tau, its tau minus the default's (``difference``: ``diff``,
    ``lo``, ``hi``, paired bootstrap) and the advice for the search default."""

    best: str
    config: RDMConfig
    default: str
    difference: dict
    advice: str


def recommend_rdm(
    table: pd.DataFrame,
    variants: dict[str, RDMConfig],
    scores: dict[str, np.ndarray],
    acc,
    n_boot: int,
    seed: int = 0,
) -> RDMRecommendation:
    """The rule of the proxy study: the RDM row of ``table`` (sorted by tau, as
    :func:`~snnlib.nas.ranking.study_table` returns it) with the largest finite tau is the best
    variant; switch the default to it only if the paired bootstrap interval of
    ``tau(best) - tau(default)`` (over ``scores``, the ranked scores, and ``acc``) excludes 0.
    Without any finite tau (every architecture at the same accuracy, as after a dry run's two
    training steps) there is nothing to rank by: keep the default, difference NaN."""
    default = default_variant(variants)
    rdm_rows = table[table.index.isin(list(variants)) & np.isfinite(table["tau"])]
    if rdm_rows.empty:
        nan = float("nan")
        return RDMRecommendation(
            default,
            variants[default],
            default,
            {"diff": nan, "lo": nan, "hi": nan},
            "keep the default RDMConfig(): no RDM variant has a finite Kendall tau",
        )
    best = rdm_rows.index[0]
    cfg = variants[best]
    d = paired_difference(kendall_tau, scores[best], scores[default], acc, n_boot=n_boot, seed=seed)
    if best == default:
        advice = "keep the default RDMConfig()"
    elif d["lo"] > 0:
        advice = (
            f"switch the MSE-NAS default to RDMConfig(metric='{cfg.metric}', "
            f"comparison='{cfg.comparison}', aggregation='{cfg.aggregation}'"
            + ("" if cfg.require_output_spikes else ", require_output_spikes=False")
            + ")"
        )
    else:
        advice = "keep the default RDMConfig(): the paired interval of the difference contains 0"
    return RDMRecommendation(best, cfg, default, d, advice)


def format_interval(value: float, lo: float, hi: float) -> str:
    """A statistic with its interval, for the book's tables.

    >>> format_interval(0.25, 0.1, 0.4)
    '+0.250 [+0.100, +0.400]'
    >>> format_interval(float("nan"), float("nan"), float("nan"))
    'NaN (constant score)'
    """
    if not math.isfinite(value):
        return "NaN (constant score)"
    return f"{value:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def interval_table(table: pd.DataFrame, index_name: str, top: float | None = None) -> pd.DataFrame:
    """The shown form of a study table: Kendall tau and Spearman rho with their intervals and,
    if ``top`` is given, the top-``top`` hit rate."""
    rows = list(table.itertuples())
    columns = {
        "Kendall tau [95% CI]": [format_interval(r.tau, r.tau_lo, r.tau_hi) for r in rows],
        "Spearman rho [95% CI]": [format_interval(r.rho, r.rho_lo, r.rho_hi) for r in rows],
    }
    if top is not None:
        columns[f"top-{100 * top:.0f}% hit rate"] = [f"{r.hit_rate:.2f}" for r in rows]
    return pd.DataFrame(columns, index=pd.Index(table.index, name=index_name))
