"""The proxy study of MSE-NAS: every training-free score of a set of genomes, and the rule that
turns the rank statistics into a recommendation for the search's RDM fitness.

:class:`ProxyScorer` scores each genome's *untrained* network with

- every RDM configuration of ``variants`` (name -> :class:`~snnlib.nas.rdm.RDMConfig`). All
  variants share the genome's responses: one forward pass for spike counts (``counts``, an
  :class:`~snnlib.mse.fitness.RDMEvaluator` of the default configuration) and one for binary
  spike patterns (``patterns``, a ``hamming`` evaluator), which gives exactly what an
  evaluator of that configuration returns;
- the default RDM fitness on smaller probes (``probe_evaluators``: images per class ->
  evaluator), each the search's own evaluator timed per call (build + forward + RDM); the
  evaluator of the default probe is timed the same way and must agree with the shared
  responses;
- SNASNet's SAHD, the parameter count, the mean firing rate on the probe and a random score,
  computed by the NAS core's registry (:data:`BASELINES`: the study's names -> registry
  entries of :mod:`snnlib.nas.proxies`).

:func:`recommend_rdm` picks the RDM variant with the largest Kendall tau in a
:func:`snnlib.nas.ranking.study_table` and recommends switching the search default to it only
when the paired bootstrap interval of its tau minus the default's lies above 0.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .. import dryrun
from ..nas.proxies import ProbeRun, score_proxies
from ..nas.ranking import kendall_tau, paired_difference
from ..nas.rdm import RDMConfig, aggregate
from ..validation import ConfigError
from .baselines import SAHDEvaluator
from .fitness import RDMEvaluator
from .genome import Genome

RDM_PREFIX = "rdm "  # the names of the RDM variants start with it
BASELINES = {
    "sahd": "sahd",
    "parameters": "params",
    "firing rate": "firing_rate",
    "random": "random",
}
"""The study's baseline scores: the name its tables show -> the NAS core's registry entry
(:data:`snnlib.nas.proxies.PROXIES`) that computes it."""
BASELINE_SCORES = tuple(BASELINES)


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
    """What :meth:`ProxyScorer.score` returns: ``scores`` (name -> one value per genome, in the
    order of :meth:`ProxyScorer.names`), ``probe_seconds`` (images per class -> mean seconds
    per RDM fitness call) and ``seconds`` (the whole scoring loop)."""

    scores: dict[str, list[float]]
    probe_seconds: dict[int, float]
    seconds: float

    def non_finite(self) -> dict[str, int]:
        """How many values of each score are not finite (e.g. SAHD's log 0)."""
        return {k: int((~np.isfinite(np.asarray(v))).sum()) for k, v in self.scores.items()}


@dataclass
class ProxyScorer:
    """Every training-free score of a genome (see the module docstring)."""

    variants: dict[str, RDMConfig]
    counts: RDMEvaluator
    patterns: RDMEvaluator
    sahd: SAHDEvaluator
    probe_encoded: torch.Tensor
    probe_evaluators: dict[int, RDMEvaluator]
    default_probe: int
    num_classes: int

    def __post_init__(self):
        if self.counts.cfg != RDMConfig(n_per_class=self.counts.cfg.n_per_class):
            raise ConfigError("counts must be an RDMEvaluator of the default configuration")
        if not self.patterns.cfg.temporal:
            raise ConfigError("patterns must be an RDMEvaluator with metric='hamming'")
        if self.default_probe not in self.probe_evaluators:
            raise ConfigError(f"probe_evaluators lacks the default probe {self.default_probe}")

    @property
    def default_name(self) -> str:
        return default_variant(self.variants)

    def probe_names(self) -> list[str]:
        """Score names of the smaller probes (the default probe is the default variant)."""
        return [
            probe_label(n, self.num_classes)
            for n in self.probe_evaluators
            if n != self.default_probe
        ]

    def names(self) -> list[str]:
        """Every score, in table order: RDM variants, smaller probes, the baselines."""
        return [*self.variants, *self.probe_names(), *BASELINE_SCORES]

    def score(self, genomes: Sequence[Genome], seed: int, progress: bool = True) -> ProxyScores:
        """Score every genome (weights of each seeded by ``(seed, genome hash)``)."""
        scores: dict[str, list[float]] = {k: [] for k in self.names()}
        probe_seconds = {n: 0.0 for n in self.probe_evaluators}
        target = self.counts.target()
        default = self.default_name
        t0 = time.perf_counter()
        meter = dryrun.loop("proxy scores", len(genomes))  # a dry run: a step per genome
        for g in tqdm(genomes, desc="scores", disable=not progress):
            with meter.step():
                self._score_one(g, seed, target, default, scores, probe_seconds)
        seconds = time.perf_counter() - t0
        n = max(len(genomes), 1)
        return ProxyScores(scores, {k: s / n for k, s in probe_seconds.items()}, seconds)

    def _score_one(self, g, seed, target, default, scores, probe_seconds) -> None:
        """Append genome ``g``'s score of every name to ``scores`` (see :meth:`score`)."""
        resp = {False: self.counts.responses(g, seed), True: self.patterns.responses(g, seed)}
        for name, c in self.variants.items():
            scores[name].append(aggregate(resp[c.temporal], target, c))
        scores["sahd"].append(self.sahd(g, seed))  # its own probe batches and seeding rule
        run = ProbeRun(
            self.counts.build(g, seed), self.probe_encoded, key=g.hash(), seed=seed, batch_dim=1
        )
        others = {k: v for k, v in BASELINES.items() if k != "sahd"}
        values, _ = score_proxies(run, list(others.values()))
        for shown, name in others.items():
            scores[shown].append(values[name])
        for n, ev in self.probe_evaluators.items():
            t1 = time.perf_counter()
            value = ev(g, seed)
            probe_seconds[n] += time.perf_counter() - t1
            if n != self.default_probe:
                scores[probe_label(n, self.num_classes)].append(value)
            elif not np.isclose(value, scores[default][-1], rtol=1e-9, atol=1e-12):
                raise AssertionError(
                    f"RDMEvaluator gave {value}, the shared responses {scores[default][-1]}"
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
    rdm_rows = table[table.index.str.startswith(RDM_PREFIX) & np.isfinite(table["tau"])]
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


def glue_name(score: str) -> str:
    """A score name as a glue key (no spaces or slashes).

    >>> glue_name("rdm correlation/spearman/mean")
    'rdm_correlation_spearman_mean'
    """
    return score.replace("rdm ", "rdm_").replace("/", "_").replace(" ", "_")
