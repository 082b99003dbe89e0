"""Book glue of the proxy study (notebook ``30_proxy_study``): its data, ground truth, rank
tables, glue values, figures and result records, so that the notebook only calls.

The study (:mod:`snnlib.mse.proxy_scores`) scores random MSE-NAS genomes with every score of
the NAS core's registry it lists and ranks the scores by how well they order the accuracies the
genomes reach after a short training. This module holds what turns those numbers into the
notebook's tables, figures, glue keys and result files:

- :func:`study_data`: the training, test and SAHD tensors of one dataset;
- :func:`ground_truth`: the short training of every genome (:class:`GroundTruth`);
- :func:`rank_proxies`: the rank table of every score and the RDM recommendation
  (:class:`Ranking`); :func:`learned_ranking`: the same among the genomes that learned;
- :func:`study_glue_values`: every number the notebook glues, under :func:`glue_key` names;
- :func:`scatter_figure`, :func:`tau_figure`: score against accuracy, tau with its interval;
- :func:`study_metrics`, :func:`bench_record`: the result file's metrics and the ground-truth
  bench's record.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import dryrun
from ..data import make_loaders
from ..mse import loader_tensors
from ..mse.proxy_scores import (
    RDM_PREFIX,
    ProxyScorer,
    ProxyScores,
    RDMRecommendation,
    interval_table,
    probe_label,
    recommend_rdm,
)
from ..nas.ranking import finite_floor, study_table
from ..nas.rdm import RDM_VARIANTS
from .glue import glue_key
from .tables import book_table

STAT_COLUMNS = ("tau", "tau_lo", "tau_hi", "rho", "rho_lo", "rho_hi", "hit_rate")
"""The rank statistics of each score that the study glues and writes."""


@dataclass
class StudyData:
    """The study's tensors: the whole (seeded, shuffled) training split ``all_x``/``all_y``
    (the probes are drawn from it), its first ``train_limit`` items that train every genome,
    the test split, and ``sahd_x``, the training items SAHD reads (two mini-batches)."""

    all_x: object
    all_y: object
    train_x: object
    train_y: object
    test_x: object
    test_y: object
    sahd_x: object


def study_data(dataset: str, cfg: dict, seed: int) -> StudyData:
    """The tensors of ``dataset`` for the settings ``cfg`` (``time_steps``, ``test_limit``:
    ``None`` for the whole test split, ``train_limit``, ``sahd_batch``), loaders seeded by
    ``seed``."""
    loaders = make_loaders(
        dataset,
        batch_size=256,
        time_steps=cfg["time_steps"],
        limit={"test": cfg["test_limit"]} if cfg["test_limit"] else None,
        seed=seed,
        splits=("train", "test"),
    )
    all_x, all_y = loader_tensors(loaders["train"])
    n = cfg["train_limit"]
    train_x, train_y = all_x[:n], all_y[:n]
    test_x, test_y = loader_tensors(loaders["test"])
    return StudyData(
        all_x, all_y, train_x, train_y, test_x, test_y, train_x[: 2 * cfg["sahd_batch"]]
    )


def study_budget(data: StudyData, cfg: dict, scorer: ProxyScorer) -> dict:
    """What every genome gets (images, batch, time steps, width, cells, training, probes), as
    the bench records it."""
    return dict(
        train_images=len(data.train_x),
        test_images=len(data.test_x),
        batch_size=cfg["batch_size"],
        time_steps=cfg["time_steps"],
        width=cfg["width"],
        n_cells=cfg["n_cells"],
        stem_stride=2,
        train=cfg["train"].to_dict(),
        probe_images=len(scorer.evaluator.x),
        sahd_images=len(data.sahd_x),
    )


@dataclass
class GroundTruth:
    """Every genome's short-training record (``acc``, ``nos``, ``diverged``, ...: the
    evaluator's ``details``) and the seconds of the whole loop."""

    details: list[dict]
    seconds: float

    @property
    def acc(self) -> np.ndarray:
        return np.array([d["acc"] for d in self.details])

    def summary(self) -> str:
        """One line: how many, how long, the accuracy range and how many diverged."""
        acc = self.acc
        return (
            f"trained {len(self.details)} architectures in {self.seconds:.0f} s; "
            f"accuracy {acc.min():.3f} .. {acc.max():.3f} (mean {acc.mean():.3f}); "
            f"diverged {sum(d['diverged'] for d in self.details)}"
        )


def ground_truth(evaluator, genomes: Sequence, seed: int, per_genome_run: float = 1) -> GroundTruth:
    """``evaluator.details(genome, seed)`` of every genome (a dry run plans each for all,
    :func:`snnlib.dryrun.repeated`)."""
    t0 = time.perf_counter()
    with dryrun.repeated(per_genome_run):
        details = [evaluator.details(g, seed) for g in tqdm(genomes, desc="train")]
    return GroundTruth(details, time.perf_counter() - t0)


@dataclass
class Ranking:
    """The rank statistics of every score (``table``, sorted by tau), the scores as ranked
    (``ranked``: non-finite values at a floor below the finite ones) and the RDM
    recommendation (``choice``)."""

    table: pd.DataFrame
    ranked: dict[str, np.ndarray]
    choice: RDMRecommendation

    @property
    def best(self) -> str:
        return self.choice.best

    @property
    def default(self) -> str:
        return self.choice.default

    def tau(self, name: str) -> float:
        return float(self.table.loc[name, "tau"])

    def summary(self) -> str:
        """One line: the best and the default RDM variant, their difference and the advice."""
        d = self.choice.difference
        return (
            f"best RDM configuration by Kendall tau: {self.best} (tau {self.tau(self.best):.3f}); "
            f"default {self.default} (tau {self.tau(self.default):.3f}); difference "
            f"{d['diff']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}] -> {self.choice.advice}"
        )


def rank_proxies(
    scores: dict[str, Sequence[float]], acc, n_boot: int, seed: int, top: float
) -> Ranking:
    """:func:`~snnlib.nas.ranking.study_table` of ``scores`` against ``acc`` (non-finite
    scores, e.g. log 0, rank last) and :func:`~snnlib.mse.proxy_scores.recommend_rdm`."""
    ranked = {k: finite_floor(v) for k, v in scores.items()}
    table = study_table(ranked, acc, n_boot=n_boot, seed=seed, top=top)
    choice = recommend_rdm(table, RDM_VARIANTS, ranked, acc, n_boot=n_boot, seed=seed)
    return Ranking(table, ranked, choice)


@dataclass
class LearnedRanking:
    """The rank table among the genomes that learned (``alive``: above 1.5x chance accuracy):
    ``shown`` for the page (a note when fewer than ``min_alive`` learned) and the taus of the
    best and the default RDM variant (NaN then)."""

    alive: np.ndarray
    shown: pd.DataFrame
    best_tau: float
    default_tau: float

    @property
    def n_alive(self) -> int:
        return int(self.alive.sum())


def shown_table(ranking: Ranking, label: str, top: float) -> pd.DataFrame:
    """The page's form of the rank table (tau and rho with intervals, the top hit rate), its
    index named ``score (<label>, n = <genomes>)``."""
    n = len(next(iter(ranking.ranked.values()), ()))
    return interval_table(ranking.table, f"score ({label}, n = {n})", top=top)


def learned_ranking(
    ranking: Ranking,
    acc,
    num_classes: int,
    label: str,
    n_boot: int,
    seed: int,
    top: float,
    min_alive: int = 5,
) -> LearnedRanking:
    """:func:`rank_proxies`' table restricted to the genomes above 1.5x chance accuracy (a
    score that only tells dead networks from the rest earns tau there; here it must rank the
    networks that learn). The shown table's index is ``score (<label>, learned: n = <n>)``."""
    acc = np.asarray(acc)
    alive = acc > 1.5 / num_classes
    if alive.sum() < min_alive:
        note = pd.DataFrame({"note": [f"only {int(alive.sum())} architectures above 1.5x chance"]})
        return LearnedRanking(alive, note, float("nan"), float("nan"))
    table = study_table(
        {k: v[alive] for k, v in ranking.ranked.items()},
        acc[alive],
        n_boot=n_boot,
        seed=seed,
        top=top,
    )
    return LearnedRanking(
        alive,
        interval_table(table, f"score ({label}, learned: n = {int(alive.sum())})"),
        float(table.loc[ranking.best, "tau"]),
        float(table.loc[ranking.default, "tau"]),
    )


def score_glue_values(
    ranking: Ranking, probes: Sequence[int], default_probe: int, num_classes: int
) -> dict:
    """Every score's statistics under ``glue_key(score, statistic)`` and the probe-size rows
    under ``probe<n>_<tau|tau_lo|tau_hi>`` (the default probe is the default RDM row)."""
    values = {
        glue_key(name, col): float(r[col])
        for name, r in ranking.table.iterrows()
        for col in STAT_COLUMNS
    }
    for n in probes:
        row = ranking.table.loc[
            ranking.default if n == default_probe else probe_label(n, num_classes)
        ]
        values.update({f"probe{n}_{col}": float(row[col]) for col in ("tau", "tau_lo", "tau_hi")})
    return values


def study_glue_values(
    ranking: Ranking,
    learned: LearnedRanking,
    proxy: ProxyScores,
    truth: GroundTruth,
    scorer: ProxyScorer,
    data: StudyData,
    cfg: dict,
    shown: pd.DataFrame,
) -> dict:
    """Every number and table the notebook glues (the page of an earlier edition read them):
    the tables, the best and default RDM variant, each score's statistics
    (:func:`score_glue_values`), the probe sizes and their seconds, the ground truth's range
    and the sizes of the study."""
    best, cfg_best, d = ranking.best, ranking.choice.config, ranking.choice.difference
    acc = truth.acc
    return {
        **{f"probe{n}_seconds_ms": 1000 * s for n, s in proxy.probe_seconds.items()},
        **{f"probe{n}_images": n * scorer.num_classes for n in proxy.probe_seconds},
        "proxy_table": book_table(shown),
        "best_rdm_config": best.removeprefix(RDM_PREFIX),
        "best_rdm_metric": cfg_best.metric,
        "best_rdm_comparison": cfg_best.comparison,
        "best_rdm_aggregation": cfg_best.aggregation,
        "best_rdm_tau": ranking.tau(best),
        "default_rdm_config": ranking.default.removeprefix(RDM_PREFIX),
        "default_rdm_tau": ranking.tau(ranking.default),
        "default_is_best": "is" if best == ranking.default else "is not",
        **score_glue_values(
            ranking, list(scorer.probe_evaluators), scorer.default_probe, scorer.num_classes
        ),
        "chance_hit_rate": float(ranking.table["chance"].iloc[0]),
        "n_arch": len(acc),
        "n_boot": int(cfg["n_boot"]),
        "train_images": len(data.train_x),
        "test_images": len(data.test_x),
        "train_epochs": cfg["train"].epochs,
        "acc_min": 100 * float(acc.min()),
        "acc_max": 100 * float(acc.max()),
        "acc_mean": 100 * float(acc.mean()),
        "train_seconds": truth.seconds,
        "score_seconds": proxy.seconds,
        "tau_diff": d["diff"],
        "tau_diff_lo": d["lo"],
        "tau_diff_hi": d["hi"],
        "rdm_advice": ranking.choice.advice,
        "n_alive": learned.n_alive,
        "alive_best_rdm_tau": learned.best_tau,
        "alive_default_rdm_tau": learned.default_tau,
        "proxy_table_alive": book_table(learned.shown),
    }


def scatter_figure(ranking: Ranking, acc, title: str, ncol: int = 4):
    """One panel per score (in table order): the score as ranked against the trained accuracy,
    titled with Kendall's tau; the best RDM variant in red, the other RDM variants in blue."""
    import matplotlib.pyplot as plt

    names = list(ranking.table.index)
    nrow = int(np.ceil(len(names) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.6 * nrow), squeeze=False)
    for ax, name in zip(axes.flat, names):
        rdm = name.startswith(RDM_PREFIX)
        color = "tab:red" if name == ranking.best else ("tab:blue" if rdm else "tab:gray")
        ax.scatter(ranking.ranked[name], 100 * np.asarray(acc), s=12, alpha=0.7, color=color)
        tau = ranking.table.loc[name, "tau"]
        label = f"{name.removeprefix(RDM_PREFIX)}\ntau = {tau:+.2f}"
        ax.set_title(label if np.isfinite(tau) else f"{name}\ntau = NaN", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("trained acc. (%)", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def tau_figure(ranking: Ranking, title: str):
    """Kendall tau of every score with its 95 % bootstrap interval (NaN drawn at 0)."""
    import matplotlib.pyplot as plt

    table = ranking.table
    names = list(table.index)
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(names) + 1))
    y = np.arange(len(names))[::-1]
    tau = table["tau"].to_numpy()
    err = np.vstack([tau - table["tau_lo"].to_numpy(), table["tau_hi"].to_numpy() - tau])
    err = np.clip(err, 0, None)
    ax.errorbar(
        np.nan_to_num(tau), y, xerr=np.nan_to_num(err), fmt="o", color="tab:blue", capsize=3
    )
    ax.axvline(0, color="gray", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([n.removeprefix(RDM_PREFIX) for n in names], fontsize=8)
    ax.set(xlabel="Kendall tau with trained accuracy (95% bootstrap CI)", title=title)
    fig.tight_layout()
    return fig


def study_metrics(
    ranking: Ranking, learned: LearnedRanking, proxy: ProxyScores, truth: GroundTruth, wall: float
) -> dict:
    """The result file's metrics: every score's statistics (under its shown name), the best
    and default RDM variant, the advice, sizes and seconds."""
    table = ranking.table
    return {
        "stats": {name: {c: table.loc[name, c] for c in STAT_COLUMNS} for name in table.index},
        "best_rdm_config": ranking.best,
        "default_rdm_config": ranking.default,
        "best_rdm": ranking.choice.config.to_dict(),
        "chance_hit_rate": float(table["chance"].iloc[0]),
        "n_arch": len(truth.details),
        "train_seconds": truth.seconds,
        "score_seconds": proxy.seconds,
        "wall_seconds": wall,
        "non_finite_scores": proxy.non_finite(),
        "tau_best_minus_default": ranking.choice.difference,
        "advice": ranking.choice.advice,
        "n_alive": learned.n_alive,
        "rdm_seconds_per_candidate_by_probe": {str(n): s for n, s in proxy.probe_seconds.items()},
    }


def bench_record(
    genomes: Sequence, truth: GroundTruth, proxy: ProxyScores, budget: dict, net, space
) -> tuple[dict, dict]:
    """``(metrics, artifacts)`` of the reusable ground truth (``proxy_bench``): the genomes,
    their accuracies, spikes and scores, the budget, the RDM variants and the network."""
    metrics = {
        "n_arch": len(genomes),
        "acc_mean": float(truth.acc.mean()),
        "train_seconds": truth.seconds,
        "score_seconds": proxy.seconds,
    }
    artifacts = {
        "genomes": [g.to_dict() for g in genomes],
        "hashes": [g.hash() for g in genomes],
        "accuracy": truth.acc.tolist(),
        "nos_trained": [d["nos"] for d in truth.details],
        "scores": {k: list(map(float, v)) for k, v in proxy.scores.items()},
        "budget": budget,
        "rdm_variants": {k: v.to_dict() for k, v in RDM_VARIANTS.items()},
        "net": net.to_dict(),
        "space": {"n_cells": space.n_cells},
    }
    return metrics, artifacts


def write_bench(bench, genomes, truth, proxy, budget, net, space, dry_run: bool) -> str | None:
    """Write the ground-truth bench (``bench``, a :class:`~snnlib.book.results.ResultRun`)
    unless ``dry_run`` (a dry run writes only its own record); the written file's name (the
    study's result file records it) or ``None``."""
    if dry_run:
        return None
    metrics, artifacts = bench_record(genomes, truth, proxy, budget, net, space)
    return bench.write(metrics, artifacts=artifacts).name
